// Open vSwitch's own share of a barrier round: a bridge of its own (userspace datapath, no ports,
// created and deleted here) takes 5 FLOW_MODs and a BARRIER_REQUEST, N times, 5 ms apart; the
// round trip is timed from the write to the reply. Run it beside a lab run to see what the lab's
// load does to Open vSwitch's main thread (docs/benchmarks.md, reconvergence).
//
//   N=4000 npx tsx bench/barrier-rtt.ts
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import { applyActions, barrierRequest, encodeMessage, flowMod, Framer, hello, OFPFC_ADD, OFPT_BARRIER_REPLY, outputPort } from '../controller/openflow/index.js';
const N = Number(process.env.N ?? 300);
const server = createServer();
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as { port: number }).port;
const br = `brtt${process.pid % 100000}`;
execFileSync('ovs-vsctl', ['add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail_mode=secure', '--', 'set-controller', br, `tcp:127.0.0.1:${port}`]);
try {
  const sock = await new Promise<import('node:net').Socket>((r) => server.once('connection', r));
  sock.setNoDelay(true);
  sock.write(encodeMessage(hello(1)));
  let pending: ((b: Buffer) => void) | undefined;
  const framer = new Framer();
  sock.on('data', (d: Buffer) => {
    for (const m of framer.push(d).frames) {
      if (m[1] === OFPT_BARRIER_REPLY && pending) { const p = pending; pending = undefined; p(m); }
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  const rtts: number[] = [];
  for (let i = 0; i < N; i++) {
    const parts = [];
    for (let k = 0; k < 5; k++) parts.push(encodeMessage({ ...flowMod({ command: OFPFC_ADD, tableId: 0, priority: 100 + k, match: { eth_type: 0x0800, ipv4_dst: `10.9.${i % 200}.${k}` }, instructions: [applyActions(outputPort(1))] }), xid: 1000 + i * 10 + k }));
    parts.push(encodeMessage({ ...barrierRequest(99999 + i) }));
    const t0 = performance.now();
    const got = new Promise<Buffer>((r) => { pending = r; });
    sock.write(Buffer.concat(parts));
    await got;
    rtts.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5));
  }
  rtts.sort((a, b) => a - b);
  const q = (p: number) => rtts[Math.min(rtts.length - 1, Math.ceil(p * rtts.length) - 1)]!.toFixed(2);
  console.log(`barrier rounds (5 flow-mods each) to a bridge of its own (${br}): n=${N} p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${q(1)} ms`);
  sock.destroy();
} finally {
  execFileSync('ovs-vsctl', ['--if-exists', 'del-br', br]);
  server.close();
}
process.exit(0);
