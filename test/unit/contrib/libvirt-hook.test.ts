// contrib/libvirt/qemu, run as libvirt runs it (`qemu DOMAIN migrate begin -`, the domain XML on
// stdin) against a local HTTP server that plays the controller's API and a stand-in ovs-vsctl:
// it posts one intent per interface whose MAC the controller knows, with the bridge's datapath id
// and the token; prints nothing on stdout (libvirt would read it as a new domain XML); exits 0
// within its deadline whatever happens (controller down or hanging, bad XML, refused intent).

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HOOK = fileURLToPath(new URL('../../../contrib/libvirt/qemu', import.meta.url));
const DOMAIN_XML = readFileSync(new URL('../../vectors/libvirt/domain-migrate.xml', import.meta.url), 'utf8');

interface Captured { readonly method: string; readonly url: string; readonly headers: IncomingMessage['headers']; readonly body: string }
interface HookRun { readonly code: number | null; readonly stdout: string; readonly ms: number; readonly log: string }

const BINDINGS = [
  { id: 1, eid: '10.0.1.10', mac: '52:54:00:aa:00:01', homeSubnet: 'A', version: 1 },
  { id: 2, eid: '10.0.1.20', mac: '02:00:00:00:01:14', homeSubnet: 'A', version: 1 },
];

describe('libvirt hook (contrib/libvirt/qemu)', function () {
  this.timeout(30_000);
  let dir: string;
  let server: Server;
  let port: number;
  let requests: Captured[];
  let answer: (req: Captured, res: ServerResponse) => void;
  const sockets = new Set<Socket>();
  // A proxy in the environment must not be used: the hook talks to the configured address only.
  let proxy: Server;
  let proxied: string[];

  function writeEnv(extra: Record<string, string> = {}, apiPort = port): string {
    const lines = { SEAMLESS_API_URL: `"http://127.0.0.1:${apiPort}"`, SEAMLESS_API_TOKEN: 's3cret', SEAMLESS_HOOK_LOG: join(dir, 'hook.log'), SEAMLESS_HOOK_TIMEOUT_SEC: '1', SEAMLESS_HOOK_DEADLINE_SEC: '4', ...extra };
    const path = join(dir, 'hook.env');
    writeFileSync(path, '# test settings\n' + Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    return path;
  }

  function runHook(args: string[], stdin: string, envFile = writeEnv()): Promise<HookRun> {
    const started = Date.now();
    const child = spawn('sh', [HOOK, ...args], {
      // libvirt runs hooks with a plain PATH; ours has the stand-in ovs-vsctl first.
      env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, SEAMLESS_HOOK_ENV: envFile, http_proxy: proxyUrl(), HTTP_PROXY: proxyUrl() },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    return new Promise((resolve) => child.on('close', (code) => {
      let log = '';
      try { log = readFileSync(join(dir, 'hook.log'), 'utf8'); } catch { /* no log yet */ }
      resolve({ code, stdout, ms: Date.now() - started, log });
    }));
  }

  const proxyUrl = () => `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  before(async () => {
    proxied = [];
    proxy = createServer((req, res) => { proxied.push(`${req.method} ${req.url}`); res.writeHead(502); res.end(); });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    await new Promise((resolve) => proxy.close(resolve));
    expect(proxied, 'requests sent through the proxy').to.deep.equal([]);
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seamless-hook-'));
    mkdirSync(join(dir, 'bin'));
    // The stand-in ovs-vsctl knows one bridge, and records how it was called.
    writeFileSync(join(dir, 'bin', 'ovs-vsctl'), `#!/bin/sh\necho "$*" >> ${join(dir, 'vsctl.calls')}\n` +
      `if [ "$2 $3 $4 $5" = "get bridge br-b datapath_id" ]; then echo '"00000000000000b2"'; exit 0; fi\necho "ovs-vsctl: no bridge named $4" >&2; exit 1\n`);
    chmodSync(join(dir, 'bin', 'ovs-vsctl'), 0o755);
    requests = [];
    answer = (req, res) => {
      if (req.method === 'GET' && req.url === '/api/bindings') return json(res, 200, BINDINGS);
      if (req.method === 'POST' && req.url === '/api/intents') return json(res, 201, { ...JSON.parse(req.body), expiresAt: 1 });
      return json(res, 404, { error: 'not_found' });
    };
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        const captured = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        requests.push(captured);
        answer(captured, res);
      });
    });
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('posts an intent for the VM the controller knows, with the bridge dpid and the token', async () => {
    const run = await runHook(['vm1', 'migrate', 'begin', '-'], DOMAIN_XML);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.equal('');
    const posts = requests.filter((r) => r.method === 'POST');
    expect(posts).to.have.length(1);
    expect(posts[0]!.url).to.equal('/api/intents');
    expect(JSON.parse(posts[0]!.body)).to.deep.equal({ eid: '10.0.1.10', toDpid: '00000000000000b2', ttlMs: 120000 });
    expect(posts[0]!.headers.authorization).to.equal('Bearer s3cret');
    expect(posts[0]!.headers['content-type']).to.equal('application/json');
    expect(run.log).to.match(/vm1 migrate: intent posted: 10\.0\.1\.10 \(52:54:00:aa:00:01\) to br-b dpid 00000000000000b2/);
    expect(run.log).to.match(/52:54:00:aa:00:02 \(vnet4 on virbr0\): the controller has no binding for it/);
    expect(readFileSync(join(dir, 'vsctl.calls'), 'utf8')).to.match(/get bridge br-b datapath_id/);
    expect(proxied).to.deep.equal([]);
  });

  it('posts without toDpid when the bridge is not an OVS bridge it can read', async () => {
    const xml = DOMAIN_XML.replace("<source bridge='br-b'/>", "<source bridge='br-x'/>");
    await runHook(['vm1', 'migrate', 'begin', '-'], xml);
    const post = requests.find((r) => r.method === 'POST');
    expect(JSON.parse(post!.body)).to.deep.equal({ eid: '10.0.1.10', ttlMs: 120000 });
  });

  it('does nothing on operations it is not configured for, and honours the configured ones', async () => {
    for (const op of ['prepare', 'start', 'started', 'stopped', 'release']) {
      const run = await runHook(['vm1', op, 'begin', '-'], DOMAIN_XML);
      expect(run.code, op).to.equal(0);
      expect(run.stdout, op).to.equal('');
    }
    expect(requests).to.deep.equal([]);
    const run = await runHook(['vm1', 'prepare', 'begin', '-'], DOMAIN_XML, writeEnv({ SEAMLESS_HOOK_OPERATIONS: "'migrate prepare'", SEAMLESS_INTENT_TTL_MS: '5000' }));
    expect(run.code).to.equal(0);
    expect(JSON.parse(requests.find((r) => r.method === 'POST')!.body)).to.deep.include({ eid: '10.0.1.10', ttlMs: 5000 });
  });

  it('exits 0 at once with a log line when the controller is down', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const run = await runHook(['vm1', 'migrate', 'begin', '-'], DOMAIN_XML, writeEnv({}, deadPort));
    expect(run.code).to.equal(0);
    expect(run.stdout).to.equal('');
    expect(run.log).to.match(/unreachable .*the migration goes on without an intent/);
    expect(run.ms).to.be.below(3000);
  });

  it('gives up on a controller that never answers, within its timeouts, and exits 0', async () => {
    answer = () => undefined; // accept, read, never reply
    const run = await runHook(['vm1', 'migrate', 'begin', '-'], DOMAIN_XML);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.equal('');
    expect(run.log).to.match(/unreachable \(.*timed out.*\)/);
    expect(run.ms).to.be.below(4000 + 1500);
  });

  it('logs a refused intent and still exits 0', async () => {
    answer = (req, res) => (req.method === 'GET' ? json(res, 200, BINDINGS)
      : json(res, 409, { error: 'conflict', message: 'switch 00000000000000b2 is not an edge of any subnet' }));
    const run = await runHook(['vm1', 'migrate', 'begin', '-'], DOMAIN_XML);
    expect(run.code).to.equal(0);
    expect(run.log).to.match(/intent for 10\.0\.1\.10 \(52:54:00:aa:00:01\) refused: 409 .*not an edge/);
  });

  it('survives unreadable XML and an answer that is not JSON', async () => {
    let run = await runHook(['vm1', 'migrate', 'begin', '-'], '<domain><devices><interface>');
    expect(run.code).to.equal(0);
    expect(run.log).to.match(/domain XML unreadable/);
    expect(requests).to.deep.equal([]);
    answer = (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>proxy</html>'); };
    run = await runHook(['vm1', 'migrate', 'begin', '-'], DOMAIN_XML);
    expect(run.code).to.equal(0);
    expect(run.log).to.match(/unreadable answer/);
    expect(requests.filter((r) => r.method === 'POST')).to.deep.equal([]);
  });
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
