// The migration bench's figures: per scenario, the controller's part of reconvergence (the send side
// written) next to the switches' confirmation, and how many moves reused the plan made at staging.

import { expect } from 'chai';
import { figuresOf } from '../../../bench/migration.js';
import type { ScenarioResult } from '../../../topologies/case-study/experiment.js';

const move = (reconvergenceMs: number, releaseMs: number, confirmMs: number, plannedAhead: boolean) =>
  ({ gapMs: { cnB: 120, ext: 110 }, reconvergenceMs, releaseMs, confirmMs, rounds: 1, reason: 'intent', plannedAhead, flowMods: 15 });

describe('bench/migration figures', () => {
  it('splits reconvergence into the controller\'s part and the switches\', and counts the moves planned when staged', () => {
    const result = {
      name: 'seamless-announced', survived: true, resets: 0,
      migrations: [move(5, 2, 3, true), move(7, 3, 4, true), move(20, 12, 8, false)],
    } as unknown as ScenarioResult;
    const f = figuresOf(result);
    expect(f.releaseMs).to.deep.include({ n: 3, median: 3, max: 12 });
    expect(f.confirmMs).to.deep.include({ n: 3, median: 4, max: 8 });
    expect(f.plannedAhead).to.equal(2);
    expect(f.gapMs.median).to.equal(120);
  });

  it('has no controller figures for a scenario without controller-side moves (plain L2)', () => {
    const result = { name: 'l2', survived: true, resets: 0, migrations: [{ gapMs: { cnB: 100 }, reconvergenceMs: null, releaseMs: null, confirmMs: null, rounds: null, reason: null, plannedAhead: null, flowMods: null }] } as unknown as ScenarioResult;
    const f = figuresOf(result);
    expect(f.releaseMs).to.equal(null);
    expect(f.reconvergenceMs).to.equal(null);
    expect(f.plannedAhead).to.equal(0);
  });
});
