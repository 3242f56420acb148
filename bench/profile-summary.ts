// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, and the
// share of garbage collection and idle time. Run: `npx tsx bench/profile-summary.ts FILE [top]`.

import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile { readonly nodes: readonly ProfileNode[]; readonly samples: readonly number[]; readonly timeDeltas: readonly number[] }

export interface HotFunction { readonly name: string; readonly where: string; readonly selfMs: number; readonly share: number }

export function summarise(path: string, top = 15): { totalMs: number; idleShare: number; gcShare: number; hot: HotFunction[]; areas: Record<string, number> } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const totals = new Map<string, { name: string; where: string; us: number }>();
  let all = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const where = `${f.url.replace(/^.*\/work\/main\//, '').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;
    const key = `${f.functionName}@${where}`;
    const t = totals.get(key) ?? { name: f.functionName || '(anonymous)', where, us: 0 };
    t.us += us;
    totals.set(key, t);
    all += us;
  }
  const named = (n: string) => [...totals.values()].filter((t) => t.name === n).reduce((s, t) => s + t.us, 0);
  const busy = all - named('(idle)');
  const hot = [...totals.values()].filter((t) => t.name !== '(idle)').sort((a, b) => b.us - a.us).slice(0, top)
    .map((t) => ({ name: t.name, where: t.where, selfMs: t.us / 1000, share: t.us / busy }));
  // Share of busy time per area: a folder of the repo, node internals, native code, GC.
  const areas: Record<string, number> = {};
  for (const t of totals.values()) {
    if (t.name === '(idle)') continue;
    const area = t.name === '(garbage collector)' ? 'gc'
      : /^(controller|bench|topologies)\//.test(t.where) ? t.where.split(':')[0]!.split('/').slice(0, 2).join('/')
        : t.where.startsWith('node:') ? 'node internals' : t.where.includes('node_modules') ? 'node_modules' : 'native (syscalls, profiler, program)';
    areas[area] = (areas[area] ?? 0) + t.us / busy;
  }
  return { totalMs: all / 1000, idleShare: named('(idle)') / all, gcShare: named('(garbage collector)') / busy, hot, areas };
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const s = summarise(process.argv[2]!, Number(process.argv[3] ?? 15));
  console.log(`profile ${process.argv[2]}: ${s.totalMs.toFixed(0)} ms, idle ${(s.idleShare * 100).toFixed(1)}%, GC ${(s.gcShare * 100).toFixed(1)}% of busy time`);
  console.log('  by area: ' + Object.entries(s.areas).sort((a, b) => b[1] - a[1]).map(([a, v]) => `${a} ${(v * 100).toFixed(1)}%`).join(', '));
  for (const h of s.hot) console.log(`  ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(6)} ms  ${h.name}  ${h.where}`);
}
