// Issue 9 row 3 as measured: 500 event-stream clients that never read, then a storm of events.
// The server's memory must stay bounded and /api/health must keep answering promptly. Runs over
// real sockets against startApiServer, so the same file shows the old server failing (its RSS
// grew by gigabytes). The figures are printed.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../../../controller/api/index.js';
import { silentLogger } from '../../../controller/log.js';
import { fakeDeps, VM, type FakeDeps } from './fake-deps.js';

const CLIENTS = 500;
const EVENTS = 6000;
const DETAIL = 'x'.repeat(1000); // ~1.2 KB per frame
/** Growth at which the storm is stopped and the test fails (the old server passed it within seconds). */
const RSS_LIMIT_MB = 400;
const TOKEN = 'load-token';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

function health(port: number, agent: Agent): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/health', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('api under load: 500 event-stream clients that never read, and an event storm', function () {
  this.timeout(180_000);
  let deps: FakeDeps;
  let server: ApiServer;
  const sockets: Socket[] = [];

  before(async () => {
    deps = fakeDeps();
    server = await startApiServer(deps, { host: '127.0.0.1', port: 0, token: TOKEN, log: silentLogger, sseMaxClients: CLIENTS + 10 });
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await server?.close();
  });

  it('keeps memory bounded and /api/health prompt', async () => {
    const { port } = server.address;
    gc();
    const before = rssMb();
    for (let i = 0; i < CLIENTS; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
      socket.pause(); // and never read
      sockets.push(socket);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const connected = rssMb();

    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const latencies: number[] = [];
    let storming = true;
    const prober = (async () => {
      while (storming) {
        latencies.push(await health(port, agent));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let peak = connected;
    let sent = 0;
    const started = performance.now();
    while (sent < EVENTS) {
      for (let i = 0; i < 100; i++, sent++) {
        deps.fabricEvents.next({ type: 'CONFLICT', eid: VM.eid, mac: VM.mac, reason: 'storm', detail: DETAIL, dpid: '0000000000000001', port: 1, at: sent });
      }
      await new Promise((r) => setImmediate(r));
      peak = Math.max(peak, rssMb());
      if (peak - before > RSS_LIMIT_MB) break;
    }
    const stormMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1000));
    storming = false;
    await prober;
    loop.disable();
    agent.destroy();
    gc();
    const after = rssMb();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const dropped = /^seamless_sse_clients_dropped_total (\d+)$/m.exec(metrics)?.[1] ?? 'n/a';
    const sorted = [...latencies].sort((a, b) => a - b);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]?.toFixed(1);
    console.log(`      RSS ${before.toFixed(0)} MB before, ${connected.toFixed(0)} MB with ${CLIENTS} clients, peak ${peak.toFixed(0)} MB, `
      + `${after.toFixed(0)} MB after; ${sent} events in ${stormMs.toFixed(0)} ms; clients dropped ${dropped}; `
      + `/api/health p50 ${p(0.5)} ms, max ${p(1)} ms over ${latencies.length} probes; event loop delay max ${(loop.max / 1e6).toFixed(0)} ms`);

    expect(sent, 'the storm ran to its end without the memory limit stopping it').to.equal(EVENTS);
    expect(peak - before).to.be.lessThan(RSS_LIMIT_MB);
    expect(after - before).to.be.lessThan(150);
    // Health keeps answering through the storm (issue 9 measured 14 s for one answer). Not a timing
    // target (those are benchmarks, printed above): alone here the worst probe takes ~0.3 s, and the
    // bound only has to tell "answers" from "starved" on a machine busy with other work.
    expect(latencies.length, 'health probes completed during the storm').to.be.greaterThan(3);
    expect(sorted[sorted.length - 1]).to.be.lessThan(10_000);
    // Every client that fell more than the bound behind was dropped (how many did depends on how much the
    // kernel's socket buffers took first); the memory bound above is the property that matters.
    expect(Number(dropped)).to.be.greaterThan(0);
  });
});
