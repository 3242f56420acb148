// A SwitchListener alone in its own process, for tests that measure its memory while peers in
// the test process attack it. argv[2]: JSON SwitchListenerOptions (host/port default to
// 127.0.0.1:0); argv[3] `read-flows`: every switch that reaches MAIN has its flow table read, as
// the controller does at switch-up. Prints {"port": N} once listening; answers each line "stats"
// on stdin with one JSON line: RSS, open sockets, connections by state, and the counters.

import { createInterface } from 'node:readline';
import { silentLogger } from '../../controller/log.js';
import { SwitchListener, SwitchRegistry, type SwitchListenerOptions } from '../../controller/switch/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as Partial<SwitchListenerOptions>;
const registry = new SwitchRegistry(silentLogger);
const listener = new SwitchListener({
  host: '127.0.0.1', port: 0,
  ...options,
  connection: { echoIntervalMs: 5000, echoTimeoutMs: 15000, requestTimeoutMs: 10000, ...options.connection },
}, registry, silentLogger);
const flowReads = { ok: 0, failed: 0 };
if (process.argv[3] === 'read-flows') {
  registry.switchUp$.subscribe((sw) => { sw.flowStats().then(() => { flowReads.ok++; }, () => { flowReads.failed++; }); });
}
const address = await listener.listen();
process.stdout.write(JSON.stringify({ port: address.port }) + '\n');

const m = registry.metrics;
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'stats') continue;
  const states: Record<string, number> = {};
  for (const c of listener.list()) states[c.state] = (states[c.state] ?? 0) + 1;
  process.stdout.write(JSON.stringify({
    rss: process.memoryUsage().rss,
    open: listener.openSockets,
    states,
    handshakeTimeouts: await m.total(m.handshakeTimeouts),
    earlyMessagesDropped: await m.total(m.earlyMessagesDropped),
    refused: await m.total(m.connectionsRefused),
    outputOverflows: await m.total(m.outputOverflows),
    repliesWithheld: await m.total(m.repliesWithheld),
    multipartLimits: { bytes: await m.total(m.multipartLimits, { limit: 'bytes' }), total: await m.total(m.multipartLimits, { limit: 'total' }) },
    reassemblyBytes: listener.reassembly.used,
    flowReads,
  }) + '\n');
}
await listener.close();
