import { expect } from 'chai';
import { bindingCookie, COOKIE_LEARNER, DEFAULT_LEARN_IDLE_TIMEOUT_SEC, forgetLearned, learnedDestination, learnedSource, toFlowMod, type Rule } from '../../../controller/pipeline/index.js';
import { gotoTable } from '../../../controller/openflow/index.js';
import { FakeFlowTable } from '../../lib/fake-flow-table.js';

const M = '02:00:00:00:01:0a';
const OTHER = '02:00:00:00:01:14';

describe('pipeline/learner-rules', () => {
  it('builds learned sources (table 0 -> 1) and destinations (table 3) under the learner cookie', () => {
    const src = learnedSource(3, '02:00:00:00:01:0A');
    expect([src.tableId, src.priority, src.cookie, src.idleTimeout]).to.deep.equal([0, 100, COOKIE_LEARNER, DEFAULT_LEARN_IDLE_TIMEOUT_SEC]);
    expect(src.match).to.deep.equal({ in_port: 3, eth_src: M });
    expect(src.instructions).to.deep.equal([gotoTable(1)]);
    const dst = learnedDestination(M, 3, 10);
    expect([dst.tableId, dst.priority, dst.idleTimeout, dst.match]).to.deep.equal([3, 100, 10, { eth_dst: M }]);
  });

  it("forgets a MAC's learned rules on every port, and nothing else", () => {
    const t = new FakeFlowTable(1n, [1, 2, 3, 4]);
    t.applyAll([learnedSource(3, M), learnedSource(4, M), learnedDestination(M, 4), learnedSource(2, OTHER), learnedDestination(OTHER, 2)]);
    const gate: Rule = { table: 0, priority: 100, phase: 'send', kind: 'vmGate', owner: 1, cookie: bindingCookie(1, 2), match: { in_port: 5, eth_src: M }, instructions: [gotoTable(1)] };
    t.apply(toFlowMod(gate));
    t.applyAll(forgetLearned(M));
    expect(t.flows().map((f) => [f.table, f.cookie === COOKIE_LEARNER ? 'learner' : 'binding', JSON.stringify(f.match)])).to.deep.equal([
      [0, 'learner', JSON.stringify({ in_port: 2, eth_src: OTHER })],
      [0, 'binding', JSON.stringify({ in_port: 5, eth_src: M })],
      [3, 'learner', JSON.stringify({ eth_dst: OTHER })],
    ]);
  });
});
