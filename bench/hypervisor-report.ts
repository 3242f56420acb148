// What bench/hypervisors.ts prints: issue 8's targets judged against the figures of one run, the
// readable tables and one JSON line per section. Pure: text in, text out.

import type { AnnounceFigures, GatewayFigures, HijackFigures, IdleFigures, LearnedFigures } from './hypervisor-checks.js';
import { ratio, type MovesFigures, type Stats } from './hypervisor-figures.js';

/** The moves scenarios, in the order they are printed. */
export const MOVE_SCENARIOS = ['l2', 'intra', 'cross', 'linger', 'no-ovsdb'] as const;
export type MoveScenario = (typeof MOVE_SCENARIOS)[number];
export const CHECKS = ['idle', 'hijack', 'ipv6', 'gateways'] as const;
export type Check = (typeof CHECKS)[number];
export type Section = MoveScenario | Check;
export const SECTIONS: readonly Section[] = [...MOVE_SCENARIOS, ...CHECKS];

export interface HypervisorResults {
  readonly moves: Partial<Record<MoveScenario, MovesFigures>>;
  readonly idle?: IdleFigures & { readonly vmAt: string };
  readonly hijack?: HijackFigures;
  readonly ipv6?: { readonly learned: LearnedFigures; readonly announce: AnnounceFigures };
  readonly gateways?: GatewayFigures;
  /** The QEMU guest (IPv6 on, as it boots) learned in the Seamless lab. */
  readonly qemuLearned?: LearnedFigures;
  /** A section that failed: its error; the others ran on. */
  readonly errors: Partial<Record<Section, string>>;
}

export interface Target {
  readonly figure: string;
  readonly target: string;
  readonly measured: string;
  /** null: not measured in this run. */
  readonly met: boolean | null;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v * 10) / 10} ms`);
const x = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);

export function targets(r: HypervisorResults): Target[] {
  const out: Target[] = [];
  const l2 = r.moves.l2;
  for (const key of ['cross', 'linger', 'no-ovsdb'] as const) {
    const f = r.moves[key];
    if (!f) continue;
    const label = { cross: 'cross-subnet', linger: 'cross-subnet, paused source attached', 'no-ovsdb': 'cross-subnet, OVSDB off (ARP probe)' }[key];
    const gap = f.gapRatioToL2?.median ?? null;
    out.push({ figure: `${label}: gap / plain-L2 intra-subnet gap (medians)`, target: '<= 1.1', measured: `${x(gap)} (${ms(f.gapMs.median)} / ${ms(l2?.gapMs.median)}; p99 ${x(f.gapRatioToL2?.p99)}; beyond the pause ${x(f.gapRatioToL2?.beyondPauseMedian)})`, met: gap === null ? null : gap <= 1.1 });
    out.push({ figure: `${label}: conflicts on legitimate moves`, target: '0', measured: String(f.conflicts ?? '-'), met: f.conflicts === null ? null : f.conflicts === 0 });
    out.push({ figure: `${label}: resets, bytes in order`, target: '0 resets, every byte in order', measured: `${f.resets} resets, ${f.bytesInOrder ? 'every byte in order' : 'BYTES MISSING OR OUT OF ORDER'}`, met: f.resets === 0 && f.bytesInOrder });
    out.push({ figure: `${label}: probes from old, new, third subnet and outside after every move`, target: 'all pass', measured: `${f.probes.total - f.probes.failed}/${f.probes.total} passed (${f.probes.retried} after a retry)`, met: f.probes.total > 0 && f.probes.failed === 0 });
  }
  const intra = r.moves.intra;
  if (intra) {
    const gap = ratio(intra.gapMs.median, l2?.gapMs.median ?? null);
    out.push({ figure: 'intra-subnet with Seamless / without a controller (gap medians)', target: '<= 1 (no slower)', measured: `${x(gap)} (${ms(intra.gapMs.median)} / ${ms(l2?.gapMs.median)}; p99 ${x(ratio(intra.gapMs.p99, l2?.gapMs.p99 ?? null))}; beyond the pause ${x(intra.gapRatioToL2?.beyondPauseMedian)})`, met: gap === null ? null : gap <= 1 });
  }
  if (r.idle) out.push({ figure: 'packet-ins per second while the VM is away and idle', target: '< 5', measured: `${r.idle.perSecond}/s (${r.idle.packetIns} in ${r.idle.seconds} s)`, met: r.idle.perSecond < 5 });
  if (r.hijack) {
    const h = r.hijack;
    out.push({ figure: 'hijack (RARP with the VM\'s MAC, GARP for its EID) while it answers at home', target: 'refused: conflicts, binding unchanged, no move', measured: `${h.conflicts} conflicts (${[...new Set(h.conflictReasons)].join(', ') || 'none logged'}), binding ${h.bindingUnchanged ? 'unchanged' : 'CHANGED'}, ${h.movesRecorded} moves`, met: h.conflicts >= 1 && h.bindingUnchanged && h.movesRecorded === 0 });
  }
  if (r.ipv6) {
    const { learned, announce } = r.ipv6;
    const hosts = Object.entries(learned.learned);
    out.push({ figure: 'IPv6-on hosts learned (GET /api/bindings)', target: 'cnA, cnB, cnC, the VM', measured: hosts.map(([h, b]) => `${h} ${b ? 'yes' : 'NO'}${learned.ipv6On[h] === false ? ' (IPv6 off!)' : ''}`).join(', '), met: learned.allLearned && Object.values(learned.ipv6On).every(Boolean) });
    const g = announce.garpDelayMs.median;
    const rr = announce.rarpDelayMs.median;
    // "As fast as": within 10 ms or 10% of the RARP median, whichever is larger (these are single-digit-sample medians).
    const met = g === null || rr === null ? null : g <= rr + Math.max(10, Math.abs(rr) * 0.1) && announce.missed === 0;
    out.push({ figure: 'return home detected from the announce: GARP vs RARP (medians)', target: 'GARP as fast as RARP', measured: `GARP ${ms(g)} (n ${announce.garpDelayMs.n}, max ${ms(announce.garpDelayMs.max)}), RARP ${ms(rr)} (n ${announce.rarpDelayMs.n}, max ${ms(announce.rarpDelayMs.max)}), ${announce.missed} missed`, met });
  }
  if (r.gateways) {
    const failed = r.gateways.probes.filter((p) => !p.ok);
    out.push({ figure: `ping and TCP between the moved VM (${r.gateways.vmAt}) and every gateway address, both ways`, target: 'all pass, router at default sysctls', measured: failed.length === 0 ? `${r.gateways.probes.length}/${r.gateways.probes.length} passed` : `failed: ${failed.map((p) => `${p.kind} ${p.direction} ${p.address}`).join(', ')}`, met: r.gateways.allPassed });
  }
  return out;
}

function statCells(s: Stats | null): string[] {
  return s === null ? ['-', '-', '-'] : [ms(s.median), ms(s.p99), ms(s.max)];
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

const short = (t: Readonly<Record<string, number>>) => Object.entries(t).map(([k, v]) => `${k} ${v}`).join(', ') || '-';

/** The moves scenarios side by side, as a Markdown table. */
export function movesTable(r: HypervisorResults): string[] {
  if (MOVE_SCENARIOS.every((k) => r.moves[k] === undefined)) return [];
  const lines = [
    row(['scenario', 'moves', 'gap median', 'gap p99', 'gap max', 'gap / plain L2', 'gap beyond the pause, median (/ plain L2)', 'QEMU downtime median (max)', 'streams deliver after resume, median', 'gaps after the outage', 'decided after resume, median', 'reconvergence median / p99', 'release median / p99', 'reasons', 'conflicts', 'resets', 'bytes in order', 'probes ok']),
    row(Array.from({ length: 18 }, (_, i) => (i === 0 || i === 13 ? '---' : '---:'))),
  ];
  for (const key of MOVE_SCENARIOS) {
    const f = r.moves[key];
    if (!f) continue;
    lines.push(row([
      f.scenario, String(f.moves), ...statCells(f.gapMs),
      key === 'l2' ? '1' : x(f.gapRatioToL2?.median),
      `${ms(f.gapBeyondPauseMs.median)} (${key === 'l2' ? '1' : x(f.gapRatioToL2?.beyondPauseMedian)})`,
      `${ms(f.qemuDowntimeMs.median)} (${ms(f.qemuDowntimeMs.max)})`,
      ms(f.deliveredAfterResumeMs.median),
      `${f.laterStalls}/${f.gapMs.n}`,
      f.detectedAfterResumeMs ? ms(f.detectedAfterResumeMs.median) : 'n/a',
      f.reconvergenceMs ? `${ms(f.reconvergenceMs.median)} / ${ms(f.reconvergenceMs.p99)}` : 'n/a',
      f.releaseMs ? `${ms(f.releaseMs.median)} / ${ms(f.releaseMs.p99)}` : 'n/a',
      key === 'l2' ? 'n/a' : short(f.reasons),
      f.conflicts === null ? 'n/a' : String(f.conflicts),
      String(f.resets), f.bytesInOrder ? 'yes' : 'NO',
      f.probes.total === 0 ? '-' : `${f.probes.total - f.probes.failed}/${f.probes.total}`,
    ]));
  }
  return lines;
}

/** Per move of one scenario: where the time goes. */
export function perMoveTable(f: MovesFigures): string[] {
  const streams = [...new Set(f.perMove.flatMap((m) => Object.keys(m.gapMs)))];
  const lines = [
    row(['move', ...streams.map((s) => `gap ${s}`), 'QEMU downtime', 'paused', 'decided after resume', ...streams.map((s) => `${s} delivers after resume`), ...streams.map((s) => `${s} gap begins after resume`), 'source quit after resume', 'reason', 'trigger', 'reconvergence', 'release', 'confirm', 'rounds']),
    row(Array.from({ length: 11 + 3 * streams.length }, (_, i) => (i === 0 ? '---' : '---:'))),
  ];
  for (const m of f.perMove) {
    lines.push(row([
      `${m.from} -> ${m.to}`, ...streams.map((s) => ms(m.gapMs[s])), ms(m.qemuDowntimeMs), ms(m.pausedMs), ms(m.detectedAfterResumeMs),
      ...streams.map((s) => ms(m.deliveredAfterResumeMs[s])),
      ...streams.map((s) => ms(m.stallStartAfterResumeMs[s])),
      ms(m.sourceQuitAfterResumeMs),
      m.reason ?? '-', m.trigger ?? '-', ms(m.reconvergenceMs), ms(m.releaseMs), ms(m.confirmMs), m.rounds === null ? '-' : String(m.rounds),
    ]));
  }
  return lines;
}

/** The checks that are not moves, one readable line each. */
export function checkLines(r: HypervisorResults): string[] {
  const out: string[] = [];
  if (r.idle) {
    const i = r.idle;
    out.push(`idle packet-ins (VM away at ${i.vmAt}, no traffic): ${i.packetIns} in ${i.seconds} s = ${i.perSecond}/s (per dpid: ${short(i.perDpid)}); re-injected ${i.reinjected}, looped ${i.looped}`);
  }
  if (r.hijack) {
    const h = r.hijack;
    out.push(`hijack from cnB while the VM answers at home: ${h.conflicts} conflicts counted (${h.conflictReasons.join(', ') || 'none logged'}), binding ${h.bindingUnchanged ? 'unchanged' : 'CHANGED'} (${h.bindingAfter.locator.subnet}/${h.bindingAfter.locator.dpid}:${h.bindingAfter.locator.port}, version ${h.bindingAfter.version}), moves recorded ${h.movesRecorded}, VM still reachable: ${h.vmReachable ? 'yes' : 'NO'}`);
  }
  if (r.qemuLearned) out.push(`QEMU lab, learned with IPv6 on: ${Object.entries(r.qemuLearned.learned).map(([h, b]) => `${h} ${b ? `${b.dpid.replace(/^0+/, '')}:${b.port}` : 'NOT LEARNED'}`).join(', ')}`);
  if (r.ipv6) {
    const { learned, announce } = r.ipv6;
    out.push(`Mininet lab, IPv6 on (${Object.entries(learned.ipv6On).map(([h, on]) => `${h} ${on ? 'on' : 'OFF'}`).join(', ')}), IPv6 sent first, learned: ${Object.entries(learned.learned).map(([h, b]) => `${h} ${b ? `${b.dpid.replace(/^0+/, '')}:${b.port}` : 'NOT LEARNED'}`).join(', ')}`);
    for (const kind of ['garp', 'rarp'] as const) {
      const s = kind === 'garp' ? announce.garpDelayMs : announce.rarpDelayMs;
      const samples = announce.samples.filter((a) => a.announce === kind);
      out.push(`return home announced by ${kind.toUpperCase()} only: detected median ${ms(s.median)}, max ${ms(s.max)} after the first announce (${samples.map((a) => `${ms(a.delayMs)} via ${a.trigger ?? '-'}`).join('; ')})`);
    }
  }
  if (r.gateways) {
    const g = r.gateways;
    out.push(`gateways, VM at ${g.vmAt}, router sysctls ${short(Object.fromEntries(Object.entries(g.routerSysctls).map(([k, v]) => [k.replace('net.ipv4.', ''), Number(v)])))}:`);
    for (const address of [...new Set(g.probes.map((p) => p.address))]) {
      const cells = g.probes.filter((p) => p.address === address).map((p) => `${p.kind} ${p.direction} ${p.ok ? 'pass' : 'FAIL'}${p.attempts > 1 ? ` (try ${p.attempts})` : ''}`);
      out.push(`  ${address}: ${cells.join(', ')}`);
    }
  }
  for (const [section, error] of Object.entries(r.errors)) out.push(`${section}: FAILED: ${error}`);
  return out;
}

export function targetTable(ts: readonly Target[]): string[] {
  return [row(['figure', 'target', 'measured', '']), row(['---', '---', '---', '---']),
    ...ts.map((t) => row([t.figure, t.target, t.measured, t.met === null ? 'not measured' : t.met ? 'met' : '**missed**']))];
}

/** One JSON line per section (the moves without their per-move rows, which are in the results file). */
export function jsonLines(r: HypervisorResults): string[] {
  const lines: string[] = [];
  for (const key of MOVE_SCENARIOS) {
    const f = r.moves[key];
    if (!f) continue;
    const { perMove: _perMove, description: _d, ...summary } = f;
    lines.push(JSON.stringify({ bench: 'hypervisors', section: key, ...summary }));
  }
  if (r.idle) lines.push(JSON.stringify({ bench: 'hypervisors', section: 'idle', ...r.idle }));
  if (r.hijack) lines.push(JSON.stringify({ bench: 'hypervisors', section: 'hijack', conflicts: r.hijack.conflicts, conflictReasons: r.hijack.conflictReasons, bindingUnchanged: r.hijack.bindingUnchanged, movesRecorded: r.hijack.movesRecorded, vmReachable: r.hijack.vmReachable }));
  if (r.ipv6) lines.push(JSON.stringify({ bench: 'hypervisors', section: 'ipv6', ...r.ipv6.learned, garpDelayMs: r.ipv6.announce.garpDelayMs, rarpDelayMs: r.ipv6.announce.rarpDelayMs, missed: r.ipv6.announce.missed }));
  if (r.gateways) lines.push(JSON.stringify({ bench: 'hypervisors', section: 'gateways', ...r.gateways }));
  return lines;
}
