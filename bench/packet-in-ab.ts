// The packet-in latency of two checkouts of Seamless, side by side in one run: each controller in
// turn (alternating, so that the machine's load falls on both alike) under 16 emulated switches
// with one packet-in outstanding each (the latency mode of bench/controllers.ts), pinned to core 0.
// Prints p50 / p99 / responses per second of every run; the first run of each start is a warm-up
// (V8 has not compiled the hot path yet) and is left out of the medians.
//
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   npx tsx bench/packet-in-ab.ts /tmp/base . [--rounds 4] [--runs 3]

import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { latencyRun } from './controllers.js';
import { startPeer } from './peers.js';
import { connectSwitches, DEFAULT_EMULATOR, sleep } from './switch-emulator.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '4' }, runs: { type: 'string', default: '3' } } });
if (positionals.length !== 2) {
  process.stderr.write('usage: bench/packet-in-ab.ts TREE_A TREE_B [--rounds 4] [--runs 3]\n');
  process.exit(2);
}
const trees = positionals.map((t) => resolve(t));
const rounds = Number(values.rounds);
const runs = Number(values.runs);

interface Sample { p50: number; p99: number; rps: number }

async function measure(repo: string): Promise<Sample[]> {
  const proc = await startPeer('seamless', { core: 0, repo });
  const switches = await connectSwitches({ ...DEFAULT_EMULATOR, host: '127.0.0.1', port: proc.port, switches: 16, firstDpid: 0x100n, sourceMacs: 'cycle' });
  try {
    await sleep(500);
    const out: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await latencyRun(switches, { window: 1, runMs: 3000, warmupMs: 1000 });
      out.push({ p50: r.p50Ms ?? NaN, p99: r.p99Ms ?? NaN, rps: r.responsesPerSec });
    }
    return out;
  } finally {
    for (const s of switches) s.close();
    await proc.stop();
  }
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const warm = new Map<string, Sample[]>(trees.map((t) => [t, []]));
for (let round = 1; round <= rounds; round++) {
  for (const tree of trees) {
    const samples = await measure(tree);
    warm.get(tree)!.push(...samples.slice(1));
    console.log(`round ${round} ${tree}: ${samples.map((s) => `${s.p50.toFixed(2)}/${s.p99.toFixed(2)} ms ${Math.round(s.rps)}/s`).join('  ')}`);
  }
}
console.log('\nwarm runs (all but the first of each start), medians:');
for (const [tree, samples] of warm) {
  console.log(`  ${tree}: p50 ${median(samples.map((s) => s.p50)).toFixed(2)} ms, p99 ${median(samples.map((s) => s.p99)).toFixed(2)} ms, ${Math.round(median(samples.map((s) => s.rps)))} responses/s (${samples.length} runs)`);
}
