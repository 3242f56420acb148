// `npm run case-study`: the paper's experiment in Mininet. Runs Seamless, Seamless with loss-free
// migration (a host agent's signals) and the two baselines in one harness, writes
// results/case-study-<time>.json and a PNG plot, prints a summary that ends with one JSON line per
// scenario. `--vm qemu` runs them with a real QEMU guest (topologies/qemu/)
// in place of the emulated VM host.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { topologyFile } from '../agent-channel.js';
import { runScenario, type ScenarioResult, type ScenarioSpec } from './experiment.js';
import { VM_KINDS, type VmKind } from './lab-vm.js';
import { median, percentile } from './measure.js';
import { selectScenarios } from './scenarios.js';

const REPO = dirname(dirname(topologyFile('seamless_topo.py')));

export function summaryLine(r: ScenarioResult): Record<string, unknown> {
  return {
    scenario: r.name,
    migrations: r.migrations.length,
    survived: r.survived,
    resets: r.resets,
    probesFailed: r.probesFailed,
    streams: r.streams.map((s) => ({ from: s.from, bytesSent: s.bytesSent, bytesReceivedInOrder: s.inOrder ? s.bytesReceived : 0, survived: s.survived })),
    ...(r.udp === null ? {} : { udp: { from: r.udp.from, sent: r.udp.sent, lost: r.udp.lost } }),
    perMigration: r.migrations.map((m) => ({ from: m.from, to: m.to, gapMs: m.gapMs, reconvergenceMs: m.reconvergenceMs === null ? null : Math.round(m.reconvergenceMs * 100) / 100, retransmissions: m.retransmissions })),
  };
}

/** `[scenario...] [--verbose] [--vm mininet|qemu]`; a bad flag, value or scenario name exits 2 with a message. */
function parseCommandLine(argv: string[]): { specs: readonly ScenarioSpec[]; verbose: boolean; vm: VmKind } {
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { verbose: { type: 'boolean' }, vm: { type: 'string' } } });
    const vm = (values.vm ?? 'mininet') as VmKind;
    if (!VM_KINDS.includes(vm)) throw new Error(`--vm must be one of ${VM_KINDS.join(', ')}, not ${JSON.stringify(values.vm)}`);
    return { specs: selectScenarios(positionals), verbose: values.verbose ?? false, vm };
  } catch (error) {
    process.stderr.write(`case study: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const { specs, verbose, vm } = parseCommandLine(process.argv.slice(2));
  const results: ScenarioResult[] = [];
  for (const spec of specs) {
    process.stdout.write(`\n== ${spec.name}${vm === 'qemu' ? ' (QEMU VM)' : ''}: ${spec.description}\n`);
    results.push(await runScenario(spec, { log: (t) => process.stdout.write(`   ${t}\n`), verboseController: verbose, vm }));
  }
  const dir = join(REPO, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const jsonPath = join(dir, `case-study-${stamp}.json`);
  const pngPath = join(dir, `case-study-${stamp}.png`);
  writeFileSync(jsonPath, JSON.stringify({ generatedAt: new Date().toISOString(), vm, scenarios: results }, null, 1));
  const plot = spawnSync('/usr/bin/python3', [topologyFile('case-study/plot.py'), jsonPath, pngPath], { encoding: 'utf8' });
  process.stdout.write('\n== summary\n');
  for (const r of results) {
    const gaps = r.migrations.flatMap((m) => Object.values(m.gapMs).filter((g): g is number => g !== null));
    const reconv = r.migrations.map((m) => m.reconvergenceMs).filter((v): v is number => v !== null);
    process.stdout.write(`${r.name}: ${r.migrations.length} migrations, connections ${r.survived ? 'survived' : 'BROKE'}, resets ${r.resets}, ` +
      `gap median ${fmt(median(gaps))} ms (max ${percentile(gaps, 100) ?? '-'} ms), reconvergence median ${fmt(median(reconv))} ms, probes failed ${r.probesFailed}` +
      `${r.udp === null ? '' : `, UDP lost ${r.udp.lost} of ${r.udp.sent}`}\n`);
  }
  process.stdout.write(`results: ${jsonPath}\nplot: ${plot.status === 0 ? pngPath : 'not drawn: ' + (plot.stderr || plot.error?.message)}\n`);
  for (const r of results) process.stdout.write(JSON.stringify(summaryLine(r)) + '\n');
}

function fmt(v: number | null): string {
  return v === null ? '-' : v.toFixed(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`case study failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
