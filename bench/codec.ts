// Codec throughput: PACKET_IN decodes per second (real ARP and IPv4 packet-ins captured from
// Open vSwitch 3.1) and encodes per second of a typical rewrite FLOW_MOD (match + 3 set_field +
// output). Run: `npx tsx bench/codec.ts [--runs 7] [--ms 400]`. Prints figures, then one JSON line.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyActions, decodeMessage, encodeMessage, flowMod, Framer, OFPP_IN_PORT, outputPort, setField, type OfpMessage,
} from '../controller/openflow/index.js';

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), '../test/vectors/ovs-3.1');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const RUNS = arg('runs', 7);
const RUN_MS = arg('ms', 400);

function vectorBytes(name: string): Buffer {
  const v = JSON.parse(readFileSync(join(VECTORS, `${name}.json`), 'utf8')) as { hex: string };
  return Buffer.from(v.hex, 'hex');
}

/** Operations per second of `op`, as the median of RUNS timed runs of about RUN_MS each. */
function opsPerSecond(op: () => unknown): { median: number; runs: number[] } {
  for (let i = 0; i < 20_000; i++) op(); // warm up the JIT
  const runs: number[] = [];
  let sink: unknown;
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(RUN_MS) * 1_000_000n;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 1000; i++) sink = op();
      n += 1000;
      now = process.hrtime.bigint();
    }
    runs.push(n / (Number(now - start) / 1e9));
  }
  if (sink === Symbol.for('never')) console.log(sink);
  const sorted = [...runs].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] as number, runs };
}

const rewrite: OfpMessage = flowMod({
  xid: 0x210,
  cookie: 0x5eab1e55n,
  priority: 210,
  idleTimeout: 30,
  match: { in_port: 2, eth_type: 0x0800, ipv4_dst: '10.0.1.10' },
  instructions: [applyActions(
    setField('ipv4_dst', '10.0.2.200'),
    setField('eth_dst', '02:00:00:00:01:01'),
    setField('eth_src', '02:00:00:00:01:0a'),
    outputPort(OFPP_IN_PORT),
  )],
});

const arp = vectorBytes('packet-in-arp');
const ipv4 = vectorBytes('packet-in-ipv4');
const decodeOk = (b: Buffer) => {
  const r = decodeMessage(b);
  if (!r.ok || r.message.type !== 'PACKET_IN') throw new Error('bench input does not decode');
  return r;
};
decodeOk(arp);
decodeOk(ipv4);

// A TCP-like stream of 64 ARP packet-ins in 1460-byte segments, framed then decoded.
const stream = Buffer.concat(Array.from({ length: 64 }, () => arp));
const segments: Buffer[] = [];
for (let off = 0; off < stream.length; off += 1460) segments.push(stream.subarray(off, off + 1460));
const framer = new Framer();
const frameAndDecode = () => {
  let n = 0;
  for (const s of segments) for (const f of framer.push(s).frames) if (decodeMessage(f).ok) n++;
  return n;
};

const results = {
  decodePacketInArp: opsPerSecond(() => decodeMessage(arp)),
  decodePacketInIpv4: opsPerSecond(() => decodeMessage(ipv4)),
  encodeRewriteFlowMod: opsPerSecond(() => encodeMessage(rewrite)),
  frameAndDecode64ArpPacketIns: opsPerSecond(frameAndDecode),
};

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`openflow codec, node ${process.version}, median of ${RUNS} runs x ${RUN_MS} ms`);
console.log(`  PACKET_IN decode (ARP, ${arp.length} B):      ${fmt(results.decodePacketInArp.median)} msg/s`);
console.log(`  PACKET_IN decode (IPv4, ${ipv4.length} B):    ${fmt(results.decodePacketInIpv4.median)} msg/s`);
console.log(`  FLOW_MOD encode (rewrite, ${encodeMessage(rewrite).length} B):  ${fmt(results.encodeRewriteFlowMod.median)} msg/s`);
console.log(`  Framer + decode, 64 ARP PACKET_INs in 1460 B segments: ${fmt(results.frameAndDecode64ArpPacketIns.median * 64)} msg/s`);
console.log(JSON.stringify({
  bench: 'openflow-codec',
  node: process.version,
  runs: RUNS,
  runMs: RUN_MS,
  decodePacketInArpPerSec: Math.round(results.decodePacketInArp.median),
  decodePacketInIpv4PerSec: Math.round(results.decodePacketInIpv4.median),
  encodeRewriteFlowModPerSec: Math.round(results.encodeRewriteFlowMod.median),
  frameAndDecodeArpPacketInPerSec: Math.round(results.frameAndDecode64ArpPacketIns.median * 64),
}));
