// Pure measurements over a receiver's timeline ([epoch seconds, cumulative bytes], a point per ms
// with reads): where the reads stop and start again around a VM's pause.
import { expect } from 'chai';
import { readsAround, type Timeline } from '../../../topologies/case-study/measure.js';

const at = (...ms: number[]): Timeline => ms.map((t, i) => [t / 1000, (i + 1) * 100] as const);

describe('case-study measure: the reads around a pause', () => {
  it('gives the last read at or before the stop and the first after the resume, in ms', () => {
    expect(readsAround(at(1_000, 1_096, 1_204, 1_250), 1_100, 1_200)).to.deep.equal({ lastBeforeStopMs: 4, firstAfterResumeMs: 4 });
    // A read exactly at the stop is before it; one exactly at the resume is after it.
    expect(readsAround(at(1_100, 1_200, 1_203), 1_100, 1_200)).to.deep.equal({ lastBeforeStopMs: 0, firstAfterResumeMs: 0 });
  });

  it('ignores reads inside the pause (a VM that still read, or a clock slightly off) and from untilMs on', () => {
    expect(readsAround(at(1_090, 1_150, 1_240), 1_100, 1_200)).to.deep.equal({ lastBeforeStopMs: 10, firstAfterResumeMs: 40 });
    expect(readsAround(at(1_090, 1_800), 1_100, 1_200, 1_800)).to.deep.equal({ lastBeforeStopMs: 10, firstAfterResumeMs: null });
  });

  it('says null for a side with no read, and refuses a resume before the stop', () => {
    expect(readsAround(at(), 1_100, 1_200)).to.deep.equal({ lastBeforeStopMs: null, firstAfterResumeMs: null });
    expect(readsAround(at(1_300.04), 1_100, 1_200)).to.deep.equal({ lastBeforeStopMs: null, firstAfterResumeMs: 100 });
    expect(() => readsAround(at(1_000), 1_200, 1_100)).to.throw(RangeError, /before the stop/);
  });
});
