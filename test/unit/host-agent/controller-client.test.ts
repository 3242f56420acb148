import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ControllerClient } from '../../../controller/host-agent/controller-client.js';

describe('host-agent/controller-client', () => {
  let server: Server;
  let api: string;
  const received: unknown[] = [];
  const body = (req: IncomingMessage) => new Promise<string>((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => { text += c.toString(); });
    req.on('end', () => resolve(text));
  });

  before(async () => {
    // The first request of each VM answers slowly: a later signal sent at once would overtake it.
    let first = true;
    server = createServer((req, res) => {
      body(req).then((text) => {
        const delay = first ? 150 : 0;
        first = false;
        setTimeout(() => {
          received.push(JSON.parse(text));
          res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
        }, delay);
      }).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the signals of one VM in the order they happened, each with what its phase needs', async () => {
    const client = new ControllerClient({ api, timeoutMs: 2000 });
    const mac = '02:00:00:00:01:0A';
    await Promise.all([
      client.signal(mac, { kind: 'migrating', at: 1 }),
      client.signal(mac, { kind: 'converging', at: 2 }),
      client.signal(mac, { kind: 'stopping', at: 3 }),
      client.signal(mac, { kind: 'resumed', at: 4 }),
    ]);
    expect(received.map((b) => (b as { phase: string }).phase)).to.deep.equal(['migrating', 'migrating', 'stopping', 'resumed']);
    // The copies start with 'converging', not with the migration.
    expect(received[0]).to.include({ mac }).and.not.have.property('lossFree');
    expect(received[1]).to.include({ mac, lossFree: true });
    expect(received[2]).to.include({ stoppedAt: 3 });
    expect(received[3]).to.not.have.property('stoppedAt');
  });

  it('check(): the controller\'s version where it takes the token, an error naming the status where it does not', async () => {
    const asked: string[] = [];
    const versioned = createServer((req, res) => {
      asked.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      if (req.headers.authorization !== 'Bearer good') return res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"seamless","version":"1.2.3"}');
    });
    await new Promise<void>((resolve) => versioned.listen(0, '127.0.0.1', resolve));
    const at = `http://127.0.0.1:${(versioned.address() as AddressInfo).port}`;
    try {
      expect(await new ControllerClient({ api: at, token: 'good' }).check()).to.equal('1.2.3');
      const refused = await new ControllerClient({ api: at, token: 'bad' }).check().then(() => 'reached', (e: Error) => e.message);
      expect(refused).to.match(/GET \/api\/version: 401/);
      expect(asked).to.deep.equal(['GET /api/version Bearer good', 'GET /api/version Bearer bad']);
    } finally {
      await new Promise<void>((resolve) => versioned.close(() => resolve()));
    }
  });
});
