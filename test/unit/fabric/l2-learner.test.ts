import { expect } from 'chai';
import { L2Learner } from '../../../controller/fabric/l2-learner.js';
import { OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, type FlowStats } from '../../../controller/openflow/index.js';
import { COOKIE_BASE, COOKIE_LEARNER, LEARNER_PRIORITY, TABLE_INGRESS, TABLE_L2_FORWARD } from '../../../controller/pipeline/index.js';

const M = '02:00:00:00:01:0a';

describe('L2Learner', () => {
  it('installs a destination and a source rule for a new host, destination first', () => {
    const learner = new L2Learner({ idleTimeoutSec: 30, resendAfterMs: 1000 });
    const { mods, previousPort } = learner.learn(1n, 10, M);
    expect(previousPort).to.equal(undefined);
    expect(mods.map((m) => [m.command, m.tableId, m.priority, m.idleTimeout, m.cookie])).to.deep.equal([
      [OFPFC_ADD, TABLE_L2_FORWARD, LEARNER_PRIORITY, 30, COOKIE_LEARNER],
      [OFPFC_ADD, TABLE_INGRESS, LEARNER_PRIORITY, 30, COOKIE_LEARNER],
    ]);
    expect(mods[0]!.match).to.deep.equal({ eth_dst: M });
    expect(mods[1]!.match).to.deep.equal({ in_port: 10, eth_src: M });
    expect(learner.portOf(1n, M)).to.equal(10);
  });

  it('re-sends the rules of a known MAC only after resendAfterMs (misses while they are in flight cost nothing)', () => {
    const learner = new L2Learner({ idleTimeoutSec: 30, resendAfterMs: 1000 });
    expect(learner.learn(1n, 10, M, 0).mods).to.have.length(2);
    expect(learner.learn(1n, 10, M, 500).mods).to.deep.equal([]);
    expect(learner.learn(1n, 10, M, 1500).mods, 'rules that idled out are re-sent').to.have.length(2);
    expect(learner.learn(1n, 11, M, 1600).mods, 'a move is always sent').to.have.length(3);
    learner.forget(1n, M);
    expect(learner.learn(1n, 11, M, 1700).mods, 'forgotten, then seen again').to.have.length(2);
  });

  it('moves a MAC between ports of one switch: the old source rule is deleted exactly', () => {
    const learner = new L2Learner();
    learner.learn(1n, 10, M);
    const { mods, previousPort } = learner.learn(1n, 11, M);
    expect(previousPort).to.equal(10);
    expect(mods[0]).to.include({ command: OFPFC_DELETE_STRICT, tableId: TABLE_INGRESS });
    expect(mods[0]!.match).to.deep.equal({ in_port: 10, eth_src: M });
    expect(learner.portOf(1n, M)).to.equal(11);
  });

  it('forgets a MAC with deletes that only touch learner rules', () => {
    const learner = new L2Learner();
    learner.learn(1n, 10, M);
    const mods = learner.forget(1n, M);
    expect(learner.portOf(1n, M)).to.equal(undefined);
    expect(mods.every((m) => m.command === OFPFC_DELETE && m.cookie === COOKIE_LEARNER && m.cookieMask !== 0n)).to.equal(true);
  });

  it('forgets every MAC behind a port that went away, and keeps the others', () => {
    const learner = new L2Learner();
    learner.learn(1n, 10, M);
    learner.learn(1n, 1, '02:00:00:00:01:14');
    expect(learner.forgetPort(1n, 10)).to.have.length(2);
    expect(learner.portOf(1n, M)).to.equal(undefined);
    expect(learner.portOf(1n, '02:00:00:00:01:14')).to.equal(1);
  });

  it('rebuilds a switch from its learned source rules only (after a controller restart)', () => {
    const flow = (cookie: bigint, tableId: number, match: FlowStats['match']): FlowStats => ({
      tableId, durationSec: 1, durationNsec: 0, priority: 100, idleTimeout: 300, hardTimeout: 0, flags: 0, cookie,
      packetCount: 0n, byteCount: 0n, match, instructions: [],
    });
    const learner = new L2Learner();
    const restored = learner.restore(2n, [
      flow(COOKIE_LEARNER, TABLE_INGRESS, { in_port: 1, eth_src: '02:00:00:00:02:14' }),
      flow(COOKIE_LEARNER, TABLE_L2_FORWARD, { eth_dst: '02:00:00:00:02:14' }),
      flow(COOKIE_BASE, TABLE_INGRESS, { in_port: 9, eth_src: M }),
      flow((5n << 32n) | 2n, TABLE_INGRESS, { in_port: 10, eth_src: M }),
    ]);
    expect(restored).to.equal(1);
    expect(learner.portOf(2n, '02:00:00:00:02:14')).to.equal(1);
    expect(learner.portOf(2n, M)).to.equal(undefined);
  });
});
