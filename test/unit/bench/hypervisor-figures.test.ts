// The pure parts of bench/hypervisors.ts: the figures it derives from a scenario's raw results,
// the Prometheus text it reads, the targets it judges and the options it accepts.

import { expect } from 'chai';
import { hypervisorOptions } from '../../../bench/hypervisors.js';
import { longestStall, metricSum, movesFigures, stats } from '../../../bench/hypervisor-figures.js';
import { firstDeliveryAfter } from '../../../topologies/case-study/measure.js';
import { targets, type HypervisorResults } from '../../../bench/hypervisor-report.js';
import type { MigrationResult, ScenarioResult, StreamResult } from '../../../topologies/case-study/experiment.js';

const T0 = 1_800_000_000_000;

function migration(index: number, pausedAt: number, resumedAt: number, extra: Partial<MigrationResult> = {}): MigrationResult {
  return {
    index, from: 's1:10', to: 's2:10',
    times: {
      pauseRequestedAt: pausedAt - 500, pausedAt, movedAt: pausedAt - 1000, resumedAt, pauseMs: resumedAt - pausedAt, requestedPauseMs: 300,
      announcedAt: null, announcements: [], fromSwitch: 's1', fromBridge: 'b1', fromPort: 10, toSwitch: 's2', toBridge: 'b2', toPort: 10,
    },
    reconvergenceMs: 10, releaseMs: 5, confirmMs: 4, rounds: 1, plannedAhead: true, reason: 'intent', trigger: 'rarp', detectedAt: resumedAt + 3, flowMods: 20, controllerRecords: 1,
    gapMs: {}, reads: {}, retransmissions: {}, resets: { cnB: 0 }, udpLost: null, udpLostAtMs: [], drops: {}, probes: [{ from: 'cnA', to: 'vm', kind: 'tcp', ok: true, attempts: 1 }],
    ...extra,
  };
}

/** A stream delivering every 10 ms from T0 to T0 + 10 s, silent in each [from, to) window. */
function stream(from: string, silences: Array<[number, number]>, bytesReceived = 1000): StreamResult {
  const timeline: Array<[number, number]> = [];
  for (let t = T0; t < T0 + 10_000; t += 10) if (!silences.some(([a, b]) => t >= a && t < b)) timeline.push([t / 1000, t - T0]);
  return { from, bytesSent: 1000, bytesReceived, inOrder: true, senderError: null, receiverError: null, survived: bytesReceived === 1000, timeline };
}

function scenario(migrations: MigrationResult[], streams: StreamResult[], name = 'seamless-cross-subnet'): ScenarioResult {
  return {
    name, description: 'test', rewrite: true, startedAt: T0, migrations, streams, udp: null,
    survived: streams.every((s) => s.survived), resets: 0, probesFailed: migrations.reduce((n, m) => n + m.probes.filter((p) => !p.ok).length, 0), conflicts: 0, drops: {},
  };
}

describe('bench/hypervisors figures', () => {
  it('sums a counter over its label sets, and no other metric that shares its prefix', () => {
    const text = [
      '# HELP seamless_packet_ins_total PACKET_INs received',
      '# TYPE seamless_packet_ins_total counter',
      'seamless_packet_ins_total{dpid="0000000000000001"} 10',
      'seamless_packet_ins_total{dpid="0000000000000002"} 2.5 1795618811060',
      'seamless_packet_ins_total_other{dpid="0000000000000002"} 1000',
      'seamless_conflicts_total 3',
    ].join('\n');
    expect(metricSum(text, 'seamless_packet_ins_total')).to.equal(12.5);
    expect(metricSum(text, 'seamless_conflicts_total')).to.equal(3);
    expect(metricSum(text, 'seamless_moves_total')).to.equal(0);
  });

  it('nearest-rank statistics: with fewer than 100 samples p99 is the maximum', () => {
    expect(stats([300, 100, 200])).to.deep.equal({ n: 3, median: 200, p99: 300, max: 300 });
    expect(stats([])).to.deep.equal({ n: 0, median: null, p99: null, max: null });
  });

  it('finds the longest stall in a window and when it began', () => {
    const tl = [[1.0, 1], [1.1, 2], [1.5, 3], [1.6, 4]] as const;
    expect(longestStall(tl, 1050, 2000)).to.deep.equal({ ms: 400, startsAt: 1100 });
    expect(longestStall(tl, 1700, 2000)).to.equal(null);
  });

  it('finds a stream\'s first delivery after an instant, within a window', () => {
    const tl = [[1.0, 1], [1.2, 2], [1.5, 3]] as const;
    expect(firstDeliveryAfter(tl, 1100, 2000)).to.equal(1200);
    expect(firstDeliveryAfter(tl, 1300, 1400)).to.equal(null);
  });

  it('one gap sample per stream and move; the ratio to plain L2; where the gap goes after the resume', () => {
    const moves = [migration(1, T0 + 2000, T0 + 2050), migration(2, T0 + 6000, T0 + 6040, { reason: 'old-attachment-silent', trigger: 'garp', detectedAt: T0 + 6080 })];
    moves[0] = { ...moves[0]!, gapMs: { cnB: 300, ext: 100 } };
    moves[1] = { ...moves[1]!, gapMs: { cnB: 200, ext: null } };
    // ext's worst stall after move 1 comes later, at T0 + 3000 (not the migration's own outage).
    const r = scenario(moves, [stream('cnB', [[T0 + 1995, T0 + 2200], [T0 + 5995, T0 + 6100]]), stream('ext', [[T0 + 1995, T0 + 2100], [T0 + 3000, T0 + 3500]])]);
    const l2 = movesFigures(scenario(moves, [stream('cnB', [])], 'l2'), false, null, null);
    const f = movesFigures(r, true, 0, { ...l2, gapMs: stats([100, 125, 150]) });
    expect(f.gapMs).to.deep.equal({ n: 3, median: 200, p99: 300, max: 300 });
    expect(f.gapNeverResumed).to.equal(1);
    expect(f.gapRatioToL2).to.deep.include({ median: 1.6, p99: 2 });
    expect(f.gapBeyondPauseMs, "gaps minus the 50 and 40 ms pauses").to.deep.equal({ n: 3, median: 160, p99: 250, max: 250 });
    expect(f.reasons).to.deep.equal({ intent: 1, 'old-attachment-silent': 1 });
    expect(f.triggers).to.deep.equal({ rarp: 1, garp: 1 });
    expect(f.perMove[0]!.deliveredAfterResumeMs).to.deep.equal({ cnB: 150, ext: 50 });
    expect(f.perMove[1]!.deliveredAfterResumeMs).to.deep.equal({ cnB: 60, ext: 0 });
    expect(f.perMove.map((m) => m.detectedAfterResumeMs)).to.deep.equal([3, 40]);
    expect(f.perMove[0]!.stallStartAfterResumeMs).to.deep.equal({ cnB: -60, ext: 940 });
    expect(f.laterStalls).to.equal(1);
    expect(f.bytesInOrder).to.equal(true);
    expect(f.probes).to.deep.equal({ total: 2, failed: 0, retried: 0 });
    expect(l2.reconvergenceMs, 'no controller: no controller figures').to.equal(null);
  });

  it('a stream that lost bytes is not "every byte in order"', () => {
    const f = movesFigures(scenario([migration(1, T0 + 2000, T0 + 2050)], [stream('cnB', [], 999)]), true, 0, null);
    expect(f.bytesInOrder).to.equal(false);
  });
});

describe('bench/hypervisors targets', () => {
  const base = (): HypervisorResults => {
    const moves = [migration(1, T0 + 2000, T0 + 2050, { gapMs: { cnB: 220 } })];
    const l2 = movesFigures(scenario([migration(1, T0 + 2000, T0 + 2050, { gapMs: { cnB: 200 } })], [stream('cnB', [])], 'l2'), false, null, null);
    return { moves: { l2, cross: movesFigures(scenario(moves, [stream('cnB', [])]), true, 0, l2) }, errors: {} };
  };
  const verdict = (r: HypervisorResults, figure: RegExp) => targets(r).find((t) => figure.test(t.figure))?.met;

  it('the cross-subnet gap ratio is met up to 1.1 and missed above', () => {
    expect(verdict(base(), /^cross-subnet: gap/)).to.equal(true);
    const r = base();
    const slow = movesFigures(scenario([migration(1, T0 + 2000, T0 + 2050, { gapMs: { cnB: 230 } })], [stream('cnB', [])]), true, 0, r.moves.l2!);
    expect(verdict({ ...r, moves: { ...r.moves, cross: slow } }, /^cross-subnet: gap/)).to.equal(false);
  });

  it('a conflict on a legitimate move, or a failed probe, misses its target', () => {
    const r = base();
    const failedProbe = migration(1, T0 + 2000, T0 + 2050, { gapMs: { cnB: 200 }, probes: [{ from: 'ext', to: 'vm', kind: 'tcp', ok: false, attempts: 3 }] });
    const cross = movesFigures(scenario([failedProbe], [stream('cnB', [])]), true, 1, r.moves.l2!);
    const withIt = { ...r, moves: { ...r.moves, cross } };
    expect(verdict(withIt, /^cross-subnet: conflicts/)).to.equal(false);
    expect(verdict(withIt, /^cross-subnet: probes/)).to.equal(false);
  });

  it('idle packet-ins: below 5 per second', () => {
    const idle = (perSecond: number) => ({ ...base(), idle: { seconds: 10, packetIns: perSecond * 10, perSecond, perDpid: {}, reinjected: 0, looped: 0, vmAt: 's2:10' } });
    expect(verdict(idle(4.9), /packet-ins/)).to.equal(true);
    expect(verdict(idle(5), /packet-ins/)).to.equal(false);
  });

  it('a hijack that moved the binding, or was not counted, is not refused', () => {
    const binding = { eid: '10.0.1.10', mac: '02:00:00:00:01:0a', version: 3, away: false, locator: { subnet: 'A', dpid: '0000000000000001', port: 10, address: '10.0.1.10' } };
    const hijack = (over: object) => ({ ...base(), hijack: { conflicts: 2, conflictReasons: [], bindingBefore: binding, bindingAfter: binding, bindingUnchanged: true, movesRecorded: 0, vmReachable: true, ...over } });
    expect(verdict(hijack({}), /hijack/)).to.equal(true);
    expect(verdict(hijack({ movesRecorded: 1 }), /hijack/)).to.equal(false);
    expect(verdict(hijack({ conflicts: 0 }), /hijack/)).to.equal(false);
  });

  it('a GARP-announced return home must be detected within 10 ms (or 10%) of a RARP-announced one', () => {
    const ipv6 = (garp: number[], rarp: number[]) => ({
      ...base(),
      ipv6: {
        learned: { ipv6On: { cnA: true }, learned: { cnA: { eid: '10.0.1.20', mac: 'm', dpid: '1', port: 1 } }, allLearned: true },
        announce: { samples: [], garpDelayMs: stats(garp), rarpDelayMs: stats(rarp), missed: 0 },
      },
    });
    expect(verdict(ipv6([45, 48], [41, 44]), /GARP vs RARP/)).to.equal(true);
    expect(verdict(ipv6([3000, 3100], [41, 44]), /GARP vs RARP/)).to.equal(false);
  });
});

describe('bench/hypervisors options', () => {
  it('defaults to every section, and reads numbers within bounds', () => {
    const o = hypervisorOptions([]);
    expect(o.sections).to.include.members(['l2', 'intra', 'cross', 'linger', 'no-ovsdb', 'idle', 'hijack', 'ipv6', 'gateways']);
    expect(hypervisorOptions(['--rounds', '1', '--scenarios', 'l2,cross'])).to.deep.include({ rounds: 1, sections: ['l2', 'cross'] });
  });

  it('refuses an unknown scenario or a number out of bounds, with the flag named', () => {
    expect(() => hypervisorOptions(['--scenarios', 'l2,warp'])).to.throw(/--scenarios: unknown warp/);
    expect(() => hypervisorOptions(['--rounds', '0'])).to.throw(/--rounds must be a number from 1 to 30/);
    expect(() => hypervisorOptions(['--dwell-ms', 'soon'])).to.throw(/--dwell-ms/);
    expect(() => hypervisorOptions(['--runs', '5'])).to.throw();
  });

  it('through bench/run.ts: flags that are not its own are left alone', () => {
    expect(hypervisorOptions(['hypervisors', '--runs', '5', '--rounds', '3'], false)).to.deep.include({ rounds: 3 });
  });
});
