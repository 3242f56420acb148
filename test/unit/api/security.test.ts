// The holes issues 9 and 10 found in the HTTP API, each as a test over real sockets against
// startApiServer (or loadConfig), so that the same file runs against the old node:http server:
// there every one of these failed; here each passes.

import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../controller/api/index.js';
import { ConfigError, loadConfig } from '../../../controller/config.js';
import { silentLogger } from '../../../controller/log.js';
import { waitUntil } from '../../lib/wait.js';
import { fakeDeps, VM, type FakeDeps } from './fake-deps.js';

const TOKEN = 'lab-token-0123456789';
const BEARER = { authorization: `Bearer ${TOKEN}` };

/** A request with any Host header (fetch will not send a chosen one). */
function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('api security (issues 9 and 10): each test failed on the node:http server', function () {
  this.timeout(30_000);
  let deps: FakeDeps;
  let server: ApiServer;
  let base: string;
  const streams: AbortController[] = [];

  async function start(options: { token: string | null; sseMaxClients?: number; sseMaxBufferedBytes?: number; headersTimeoutMs?: number }): Promise<void> {
    deps = fakeDeps();
    server = await startApiServer(deps, { host: '127.0.0.1', port: 0, log: silentLogger, ...options });
    base = `http://127.0.0.1:${server.address.port}`;
  }

  /** Opens an event stream; resolves with its status (the body is left unread). */
  async function openStream(headers: Record<string, string> = {}): Promise<number> {
    const abort = new AbortController();
    streams.push(abort);
    const res = await fetch(`${base}/api/events`, { headers, signal: abort.signal });
    return res.status;
  }

  afterEach(async () => {
    for (const s of streams.splice(0)) s.abort();
    await server?.close();
  });

  it('an empty token is a configuration error, not a token that matches a missing header (issue 9 row 8)', () => {
    expect(() => loadConfig([], { SEAMLESS_HTTP_TOKEN: '' }, { stdoutIsTTY: false })).to.throw(ConfigError, /http\.token/);
    expect(() => loadConfig(['--http-token='], {}, { stdoutIsTTY: false })).to.throw(ConfigError, /http\.token/);
  });

  it('with a token, reads need it too; /api/health and /metrics stay public', async () => {
    await start({ token: TOKEN });
    for (const path of ['/api/version', '/api/openapi.json', '/api/switches', '/api/bindings', `/api/bindings/${VM.eid}`, '/api/subnets', '/api/migrations', '/api/intents']) {
      const res = await fetch(base + path);
      expect(res.status, path).to.equal(401);
      expect((await res.json()).error, path).to.equal('unauthorized');
      expect((await fetch(base + path, { headers: BEARER })).status, `${path} with the token`).to.equal(200);
    }
    expect((await fetch(`${base}/api/health`)).status).to.equal(200);
    expect((await fetch(`${base}/metrics`)).status).to.equal(200);
  });

  it('the event stream needs the token (issue 9 row 3)', async () => {
    await start({ token: TOKEN });
    expect(await openStream()).to.equal(401);
    expect(await openStream({ authorization: 'Bearer wrong' })).to.equal(401);
    expect(await openStream(BEARER)).to.equal(200);
  });

  it('a cross-site text/plain POST creates no intent: 415 (CSRF, issue 10)', async () => {
    await start({ token: null });
    const res = await fetch(`${base}/api/intents`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ eid: VM.eid, toSubnet: 'B' }) });
    expect(res.status).to.equal(415);
    expect((await res.json()).error).to.equal('unsupported_media_type');
    expect(deps.intents.list(Date.now())).to.deep.equal([]);
  });

  it('a Host header naming somebody else\'s domain is refused: 421 (DNS rebinding, issue 10)', async () => {
    await start({ token: null });
    const rebound = await get(server.address.port, '/api/bindings', { host: 'attacker.example:8080' });
    expect(rebound.status).to.equal(421);
    expect(rebound.body).to.not.contain(VM.eid);
    expect((await get(server.address.port, '/api/bindings', { host: `127.0.0.1:${server.address.port}` })).status).to.equal(200);
    expect((await get(server.address.port, '/api/bindings', { host: `localhost:${server.address.port}` })).status).to.equal(200);
  });

  it('a 500 does not show the error message (issue 10)', async () => {
    await start({ token: null });
    deps.failReads('EACCES: /var/lib/seamless/journal.jsonl');
    const res = await fetch(`${base}/api/bindings`);
    expect(res.status).to.equal(500);
    const body = await res.json();
    expect(body.error).to.equal('internal');
    expect(JSON.stringify(body)).to.not.contain('EACCES').and.to.not.contain('journal');
  });

  it('OPTIONS is answered with the allowed methods, not 405 (issue 10)', async () => {
    await start({ token: null });
    const res = await fetch(`${base}/api/intents`, { method: 'OPTIONS' });
    expect(res.status).to.equal(204);
    expect(res.headers.get('allow')).to.contain('POST').and.to.contain('GET');
  });

  it('a trailing slash means the same path everywhere (issue 10)', async () => {
    await start({ token: null });
    for (const path of ['/api/health', '/api/bindings', '/metrics', '/api/openapi.json']) {
      expect((await fetch(`${base}${path}/`)).status, `${path}/`).to.equal(200);
    }
    expect(await (async () => { const abort = new AbortController(); streams.push(abort); return (await fetch(`${base}/api/events/`, { signal: abort.signal })).status; })()).to.equal(200);
  });

  it('keys named like Object.prototype members and integers beyond 2^53 are refused (issue 10)', async () => {
    await start({ token: null });
    const post = (body: string) => fetch(`${base}/api/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    for (const key of ['constructor', 'toString', 'hasOwnProperty']) expect((await post(`{"eid":"${VM.eid}","${key}":1}`)).status, key).to.equal(400);
    expect((await post(`{"eid":"${VM.eid}","toDpid":36028797018963969}`)).status).to.equal(400); // 2^55+1, read as 2^55
    expect(deps.intents.list(Date.now())).to.deep.equal([]);
  });

  it('a client that sends its headers byte by byte is cut off (slowloris, issue 10)', async () => {
    await start({ token: null, headersTimeoutMs: 500 });
    const socket = connect(server.address.port, '127.0.0.1');
    let closed = false;
    let answer = '';
    socket.on('data', (d: Buffer) => { answer += d.toString(); });
    socket.on('close', () => { closed = true; });
    socket.on('error', () => undefined);
    socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const trickle = setInterval(() => { if (!socket.destroyed) socket.write('X-Slow: 1\r\n'); }, 200);
    try {
      await waitUntil(() => closed, { timeoutMs: 5_000, what: 'the server to close a client that never finishes its headers' });
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    expect(answer).to.match(/^HTTP\/1\.1 408 /);
    expect(answer).to.contain('"error":"request_timeout"');
  });

  it('a request Node cannot parse gets the JSON error shape too, then the connection closes', async () => {
    await start({ token: null });
    const socket = connect(server.address.port, '127.0.0.1');
    let answer = '';
    let closed = false;
    socket.on('data', (d: Buffer) => { answer += d.toString(); });
    socket.on('close', () => { closed = true; });
    socket.on('error', () => undefined);
    socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n');
    await waitUntil(() => closed, { what: 'the server to answer and close' });
    expect(answer).to.match(/^HTTP\/1\.1 400 /);
    expect(answer.split('\r\n\r\n')[1]).to.equal('{"error":"bad_request","message":"malformed HTTP request"}');
  });

  it('event-stream clients are capped: the one beyond gets 503 (issue 9 row 3)', async () => {
    await start({ token: null, sseMaxClients: 3 });
    for (let i = 0; i < 3; i++) expect(await openStream()).to.equal(200);
    expect(await openStream()).to.equal(503);
  });

  it('an event-stream client that does not read is dropped once it falls behind (issue 9 row 3)', async () => {
    await start({ token: null, sseMaxBufferedBytes: 256 * 1024 });
    const socket = connect(server.address.port, '127.0.0.1');
    let closed = false;
    socket.on('close', () => { closed = true; });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${server.address.port}\r\n\r\n`);
    socket.pause(); // and never read
    await new Promise((r) => setTimeout(r, 100));
    const detail = 'x'.repeat(1000);
    try {
      for (let round = 0; round < 200; round++) {
        for (let i = 0; i < 100; i++) deps.fabricEvents.next({ type: 'CONFLICT', eid: VM.eid, mac: VM.mac, reason: 'storm', detail, dpid: '0000000000000001', port: 1, at: i });
        await new Promise((r) => setImmediate(r));
      }
      // Read what reached us: a dropped stream then ends; a kept one goes on (heartbeats, the backlog).
      socket.resume();
      await waitUntil(() => closed, { timeoutMs: 5_000, what: 'the server to have dropped the client that did not read' });
    } finally {
      socket.destroy();
    }
  });
});
