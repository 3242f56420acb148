// Migration benchmark in Mininet (the case-study harness, longer move lists): reconvergence time
// and application gap over many migrations, Seamless across subnets (A -> B -> C -> A ...), with
// nothing announced (the old port stays up: each claim is verified) and with the destination port
// announced before the stop (libvirt's external_ids on it, read by the controller's OVSDB watcher:
// the move staged ahead), next to plain L2 learning inside one
// subnet (port 10 <-> 11 of s1), in one run. Two paced TCP streams
// of `rate` bytes/s to the VM, a pause of 100 ms per migration, no reachability probes (they
// would dominate the time; the case study runs them).

import { runScenario, type ScenarioResult, type ScenarioSpec } from '../topologies/case-study/experiment.js';
import { percentile } from '../topologies/case-study/measure.js';

export interface MigrationBenchOptions {
  readonly migrations: number;
  readonly dwellMs: number;
  readonly rate: number;
  readonly pauseMs: number;
  readonly log: (text: string) => void;
}

export interface ScenarioFigures {
  readonly scenario: string;
  readonly migrations: number;
  readonly survived: boolean;
  readonly resets: number;
  readonly gapMs: Stats;
  readonly reconvergenceMs: Stats | null;
  /** TableSync's part of it (steps 1 and 2 confirmed). */
  readonly confirmMs: Stats | null;
  /** The controller's part: from the VM's first frame to the send side written (releaseMs); the rest is the switches' barriers. */
  readonly releaseMs: Stats | null;
  /** How many moves took how many barrier rounds, and why each was made (`intent`, `old-attachment-silent`...). */
  readonly rounds: Readonly<Record<string, number>>;
  readonly reasons: Readonly<Record<string, number>>;
  /** Moves whose rules were planned when they were staged ahead. */
  readonly plannedAhead: number;
  readonly flowModsPerMigration: number | null;
}

export interface Stats { readonly n: number; readonly median: number | null; readonly p99: number | null; readonly max: number | null }

export function specs(o: MigrationBenchOptions): ScenarioSpec[] {
  const cross = ['s2', 's3', 's1'];
  const common = { senders: ['cnB', 'ext'], rate: o.rate, dwellMs: o.dwellMs, pauseMs: o.pauseMs, probes: false };
  return [
    {
      name: 'seamless-cross-subnet', rewrite: true,
      description: `Seamless rewriting; ${o.migrations} migrations A -> B -> C -> A ...`,
      moves: Array.from({ length: o.migrations }, (_, i) => ({ toSwitch: cross[i % 3]! })),
      ...common,
    },
    {
      name: 'seamless-announced', rewrite: true, announceDestination: true,
      description: `Seamless rewriting, the destination port announced before each stop (libvirt's external_ids, read by the OVSDB watcher); ${o.migrations} migrations A -> B -> C -> A ...`,
      moves: Array.from({ length: o.migrations }, (_, i) => ({ toSwitch: cross[i % 3]! })),
      ...common,
    },
    {
      name: 'l2-intra-subnet', rewrite: false,
      description: `plain L2 learning; ${o.migrations} migrations between ports 10 and 11 of s1`,
      moves: Array.from({ length: o.migrations }, (_, i) => ({ toSwitch: 's1', toPort: i % 2 === 0 ? 11 : 10 })),
      ...common,
    },
  ];
}

export async function benchMigrations(o: MigrationBenchOptions): Promise<{ figures: ScenarioFigures[]; raw: ScenarioResult[] }> {
  const raw: ScenarioResult[] = [];
  for (const spec of specs(o)) {
    o.log(`${spec.name}: ${spec.description}`);
    raw.push(await runScenario(spec, { log: (t) => o.log(`  ${t}`) }));
  }
  return { figures: raw.map(figuresOf), raw };
}

export function figuresOf(r: ScenarioResult): ScenarioFigures {
  // Both streams see every migration: the gap of a migration is the worse of the two.
  const gaps = r.migrations.map((m) => Math.max(...Object.values(m.gapMs).map((g) => g ?? Number.POSITIVE_INFINITY)));
  const reconv = r.migrations.map((m) => m.reconvergenceMs).filter((v): v is number => v !== null);
  const mods = r.migrations.map((m) => m.flowMods).filter((v): v is number => v !== null);
  const confirm = r.migrations.map((m) => m.confirmMs).filter((v): v is number => v !== null);
  const release = r.migrations.map((m) => m.releaseMs).filter((v): v is number => v !== null);
  const tally = (values: Array<string | number | null>) => {
    const out: Record<string, number> = {};
    for (const v of values) if (v !== null) out[String(v)] = (out[String(v)] ?? 0) + 1;
    return out;
  };
  return {
    scenario: r.name, migrations: r.migrations.length, survived: r.survived, resets: r.resets,
    gapMs: stats(gaps),
    reconvergenceMs: reconv.length === 0 ? null : stats(reconv),
    confirmMs: confirm.length === 0 ? null : stats(confirm),
    releaseMs: release.length === 0 ? null : stats(release),
    rounds: tally(r.migrations.map((m) => m.rounds)), reasons: tally(r.migrations.map((m) => m.reason)),
    plannedAhead: r.migrations.filter((m) => m.plannedAhead === true).length,
    flowModsPerMigration: mods.length === 0 ? null : percentile(mods, 50),
  };
}

function stats(values: number[]): Stats {
  return { n: values.length, median: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100) };
}

export function printMigration(f: ScenarioFigures): void {
  const r = f.reconvergenceMs;
  console.log(`  ${f.scenario.padEnd(24)} ${f.migrations} migrations, streams ${f.survived ? 'survived' : 'BROKE'} (resets ${f.resets}); `
    + `gap median ${f.gapMs.median} ms p99 ${f.gapMs.p99} ms; `
    + `reconvergence ${r === null ? 'n/a (no controller-side migration)' : `median ${r.median?.toFixed(2)} ms p99 ${r.p99?.toFixed(2)} ms`}`
    + `${f.flowModsPerMigration === null ? '' : `; flow-mods per migration ${f.flowModsPerMigration}`}`);
  if (r !== null) {
    const c = f.confirmMs;
    const list = (t: Readonly<Record<string, number>>) => Object.entries(t).map(([k, n]) => `${k} x${n}`).join(', ');
    const w = f.releaseMs;
    console.log(`  ${''.padEnd(24)} of which confirmed on the switches (TableSync) median ${c?.median?.toFixed(2)} ms p99 ${c?.p99?.toFixed(2)} ms; `
      + `send side written (the controller's part) median ${w?.median?.toFixed(2)} ms p99 ${w?.p99?.toFixed(2)} ms; barrier rounds ${list(f.rounds)}; reasons ${list(f.reasons)}; planned when staged ${f.plannedAhead}`);
  }
}
