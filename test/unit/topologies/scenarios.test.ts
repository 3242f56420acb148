// The case study's scenarios as `npm run case-study [scenario...]` picks them: all by default (the
// loss-free one among them), the named ones in the order given, and a clear error for a name that
// is none of them (it ran nothing and wrote an empty result before).
import { expect } from 'chai';
import { ALL_SCENARIOS, selectScenarios } from '../../../topologies/case-study/scenarios.js';

describe('case-study scenarios: what the main job runs', () => {
  it('runs every scenario by default, loss-free migration with a UDP count among them', () => {
    expect(selectScenarios([]).map((s) => s.name)).to.deep.equal(['seamless-cross-subnet', 'seamless-loss-free', 'baseline-no-rewrite', 'baseline-intra-subnet-l2']);
    const lossFree = ALL_SCENARIOS.find((s) => s.name === 'seamless-loss-free')!;
    expect(lossFree.lossFree).to.equal(true);
    expect(lossFree.rewrite).to.equal(true);
    expect(lossFree.udpPps).to.be.greaterThan(0);
    const counted = selectScenarios([]).filter((s) => s.udpPps !== undefined).map((s) => s.name);
    expect(counted, 'every scenario whose VM stays reachable counts its losses').to.deep.equal(['seamless-cross-subnet', 'seamless-loss-free', 'baseline-intra-subnet-l2']);
  });

  it('runs the named scenarios in the order given', () => {
    expect(selectScenarios(['baseline-intra-subnet-l2', 'seamless-loss-free']).map((s) => s.name)).to.deep.equal(['baseline-intra-subnet-l2', 'seamless-loss-free']);
  });

  it('refuses an unknown name, and says which names there are', () => {
    expect(() => selectScenarios(['seamless-cross-subnet', 'seamless-lossfree'])).to.throw(/unknown scenario "seamless-lossfree": the scenarios are seamless-cross-subnet, seamless-loss-free, baseline-no-rewrite, baseline-intra-subnet-l2/);
  });
});
