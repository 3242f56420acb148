// The migration timeline plot's geometry: a point per move at its time and reconvergence, the
// release time beside it, staged moves and conflicts marked, round axes.

import { expect } from 'chai';
import type { TimelineMark } from '../../../controller/api/timeline.js';
import type { MigrationView } from '../../../controller/api/views.js';
import { MAX_MOVES, niceTicks, planTimeline, timeTicks } from '../../../controller/dashboard/timeline-plot.js';

const loc = (subnet: string, dpid: string, address: string) => ({ subnet, dpid, port: 10, address });
function move(id: number, detectedAt: number, reconvergenceMs: number, releaseMs: number, rounds = 2, eid = '10.0.1.10'): MigrationView {
  return {
    id, eid, mac: '02:00:00:00:01:0a', from: loc('A', '0000000000000001', eid), to: loc('B', '0000000000000002', '10.0.2.200'), version: id + 1,
    reason: 'intent', trigger: 'rarp', detectedAt, reconvergenceMs, confirmMs: 5, rounds, releaseMs, plannedAhead: false, flowMods: 20, switches: 3, failures: [],
  };
}
const mark = (type: TimelineMark['type'], at: number, eid = '10.0.1.10'): TimelineMark => ({ type, eid, at, detail: 'd', dpid: null });
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const fmt = (ms: number) => `t+${(ms - T0) / 1000}`;

describe('dashboard: timeline plot', () => {
  it('round ticks: 1-2-5 steps up to at least the maximum; time ticks on round seconds', () => {
    expect(niceTicks(37)).to.deep.equal([0, 10, 20, 30, 40]);
    expect(niceTicks(0.8)).to.deep.equal([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(1)).to.deep.equal([0, 0.5, 1]);
    expect(niceTicks(120).at(-1)).to.be.at.least(120);
    expect(timeTicks(T0 + 300, T0 + 10_300)).to.deep.equal([2, 4, 6, 8, 10].map((s) => T0 + s * 1000));
  });

  it('is empty without moves or marks', () => {
    expect(planTimeline({ migrations: [], marks: [] })).to.include({ empty: true });
  });

  it('puts one point per move, later moves to the right, higher reconvergence higher up, release below it', () => {
    const plot = planTimeline({ migrations: [move(1, T0, 20, 8), move(2, T0 + 4000, 40, 10), move(3, T0 + 8000, 10, 3)], marks: [] }, { width: 600, height: 200, format: fmt });
    expect(plot.empty).to.equal(false);
    expect(plot.moves.map((m) => m.id)).to.deep.equal([1, 2, 3]);
    const [a, b, c] = plot.moves;
    expect(a!.x).to.be.below(b!.x);
    expect(b!.x).to.be.below(c!.x);
    expect(b!.y, 'more reconvergence, higher (smaller y)').to.be.below(a!.y);
    for (const m of plot.moves) {
      expect(m.yRelease).to.be.above(m.y);
      expect(m.x).to.be.within(plot.box.left, plot.box.right);
      expect(m.y).to.be.within(plot.box.top, plot.box.bottom);
    }
    expect(plot.yTicks.map((t) => t.label)).to.deep.equal(['0 ms', '20 ms', '40 ms', '60 ms']);
    expect(plot.yTicks[2]!.y, 'the 40 ms move on the 40 ms line').to.be.closeTo(b!.y, 0.001);
    expect(b!.y - plot.box.top, 'headroom above the highest move').to.be.above(10);
    expect(plot.xTicks.length).to.be.within(3, 7);
    expect(a!.title).to.include('reconvergence 20.0 ms').and.include('released after 8.0 ms').and.include('2 barrier rounds');
  });

  it('marks a move staged ahead (a move-staged mark of its EID since its previous move) and places conflicts on the time axis', () => {
    const plot = planTimeline({
      migrations: [move(1, T0, 20, 8), move(2, T0 + 5000, 9, 2, 1)],
      marks: [mark('conflict', T0 + 2000), mark('move-staged', T0 + 4500), mark('move-staged', T0 + 4600, '10.0.1.99')],
    }, { format: fmt });
    expect(plot.moves.map((m) => m.staged)).to.deep.equal([false, true]);
    expect(plot.moves[1]!.title).to.include('staged ahead').and.include('1 barrier round,');
    expect(plot.marks.map((m) => m.type)).to.deep.equal(['conflict', 'move-staged', 'move-staged']);
    const conflict = plot.marks[0]!;
    expect(conflict.x).to.be.above(plot.moves[0]!.x).and.below(plot.moves[1]!.x);
    expect(new Set(plot.marks.map((m) => m.key)).size).to.equal(3);
  });

  it('a single move sits inside a 10 s window; only the newest moves are drawn', () => {
    const one = planTimeline({ migrations: [move(1, T0, 5, 2)], marks: [] }, { width: 600 });
    expect(one.moves[0]!.x).to.be.closeTo((one.box.left + one.box.right) / 2, 1);
    const many = Array.from({ length: MAX_MOVES + 5 }, (_, i) => move(i + 1, T0 + i * 100, 5, 2));
    const plot = planTimeline({ migrations: many, marks: [] });
    expect(plot.moves).to.have.length(MAX_MOVES);
    expect(plot.moves[0]!.id).to.equal(6);
  });
});
