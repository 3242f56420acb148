import { expect } from 'chai';
import { DEFAULT_LEARNER_OPTIONS, L2Learner } from '../../../controller/fabric/l2-learner.js';
import { OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFF_SEND_FLOW_REM, type FlowStats } from '../../../controller/openflow/index.js';
import { COOKIE_BASE, COOKIE_LEARNER, LEARNER_PRIORITY, TABLE_INGRESS, TABLE_L2_FORWARD } from '../../../controller/pipeline/index.js';

const M = '02:00:00:00:01:0a';

describe('L2Learner', () => {
  it('installs a destination and a source rule for a new host, destination first', () => {
    const learner = new L2Learner({ ...DEFAULT_LEARNER_OPTIONS, idleTimeoutSec: 30, resendAfterMs: 1000 });
    const { mods, previousPort } = learner.learn(1n, 10, M, 0);
    expect(previousPort).to.equal(undefined);
    expect(mods.map((m) => [m.command, m.tableId, m.priority, m.idleTimeout, m.cookie])).to.deep.equal([
      [OFPFC_ADD, TABLE_L2_FORWARD, LEARNER_PRIORITY, 30, COOKIE_LEARNER],
      [OFPFC_ADD, TABLE_INGRESS, LEARNER_PRIORITY, 30, COOKIE_LEARNER],
    ]);
    expect(mods[0]!.match).to.deep.equal({ eth_dst: M });
    expect(mods[1]!.match).to.deep.equal({ in_port: 10, eth_src: M });
    expect(mods[1]!.flags & OFPFF_SEND_FLOW_REM, 'the switch tells us when the host idles out').to.not.equal(0);
    expect(learner.portOf(1n, M)).to.equal(10);
  });

  it('learns a host that is no endpoint yet for IPv6 only, and widens to full once it is one', () => {
    const learner = new L2Learner();
    const first = learner.learn(1n, 10, M, 0, 'ipv6');
    expect(first.mods.map((m) => m.match)).to.deep.equal([{ eth_dst: M }, { in_port: 10, eth_src: M, eth_type: 0x86dd }]);
    expect(learner.learn(1n, 10, M, 1, 'ipv6').mods, 'no resend inside the window').to.deep.equal([]);
    const widened = learner.learn(1n, 10, M, 2, 'full').mods;
    expect(widened.map((m) => [m.command, m.match])).to.deep.equal([
      [OFPFC_DELETE_STRICT, { in_port: 10, eth_src: M, eth_type: 0x86dd }],
      [OFPFC_ADD, { eth_dst: M }],
      [OFPFC_ADD, { in_port: 10, eth_src: M }],
    ]);
    expect(learner.learn(1n, 10, M, 5000, 'ipv6').mods.at(-1)!.match, 'never narrowed again').to.deep.equal({ in_port: 10, eth_src: M });
  });

  it('refuses new MACs beyond the per-port and per-switch bounds (MAC flooding), counting them', () => {
    const learner = new L2Learner({ ...DEFAULT_LEARNER_OPTIONS, maxMacsPerPort: 2, maxMacsPerSwitch: 3 });
    const mac = (i: number) => `02:00:00:00:99:${i.toString(16).padStart(2, '0')}`;
    expect(learner.learn(1n, 1, mac(1), 0).refused).to.equal(undefined);
    expect(learner.learn(1n, 1, mac(2), 0).refused).to.equal(undefined);
    expect(learner.learn(1n, 1, mac(3), 0)).to.deep.equal({ mods: [], refused: 'port-full' });
    expect(learner.learn(1n, 2, mac(3), 0).refused).to.equal(undefined);
    expect(learner.learn(1n, 3, mac(4), 0)).to.deep.equal({ mods: [], refused: 'switch-full' });
    expect(learner.learn(2n, 3, mac(4), 0).refused, 'bounds are per switch').to.equal(undefined);
    expect(learner.refused).to.equal(2);
    learner.sourceRemoved(1n, { in_port: 1, eth_src: mac(1) });
    expect(learner.learn(1n, 1, mac(5), 0).refused, 'an idled-out host frees its place').to.equal(undefined);
  });

  it('forgets a host when the switch removed its learned source rule (idle timeout), not when another port did', () => {
    const learner = new L2Learner();
    learner.learn(1n, 10, M, 0);
    learner.sourceRemoved(1n, { in_port: 11, eth_src: M });
    expect(learner.portOf(1n, M)).to.equal(10);
    learner.sourceRemoved(1n, { in_port: 10, eth_src: M });
    expect(learner.portOf(1n, M)).to.equal(undefined);
  });

  it('re-sends the rules of a known MAC only after resendAfterMs (misses while they are in flight cost nothing)', () => {
    const learner = new L2Learner({ ...DEFAULT_LEARNER_OPTIONS, idleTimeoutSec: 30, resendAfterMs: 1000 });
    expect(learner.learn(1n, 10, M, 0).mods).to.have.length(2);
    expect(learner.learn(1n, 10, M, 500).mods).to.deep.equal([]);
    expect(learner.learn(1n, 10, M, 1500).mods, 'rules that idled out are re-sent').to.have.length(2);
    expect(learner.learn(1n, 11, M, 1600).mods, 'a move is always sent').to.have.length(3);
    learner.forget(1n, M);
    expect(learner.learn(1n, 11, M, 1700).mods, 'forgotten, then seen again').to.have.length(2);
  });

  it('moves a MAC between ports of one switch: the old source rule is deleted exactly', () => {
    const learner = new L2Learner();
    learner.learn(1n, 10, M, 0);
    const { mods, previousPort } = learner.learn(1n, 11, M, 0);
    expect(previousPort).to.equal(10);
    expect(mods[0]).to.include({ command: OFPFC_DELETE_STRICT, tableId: TABLE_INGRESS });
    expect(mods[0]!.match).to.deep.equal({ in_port: 10, eth_src: M });
    expect(learner.portOf(1n, M)).to.equal(11);
  });

  it('forgets a MAC with deletes that only touch learner rules', () => {
    const learner = new L2Learner();
    learner.learn(1n, 10, M, 0);
    const mods = learner.forget(1n, M);
    expect(learner.portOf(1n, M)).to.equal(undefined);
    expect(mods.every((m) => m.command === OFPFC_DELETE && m.cookie === COOKIE_LEARNER && m.cookieMask !== 0n)).to.equal(true);
  });

  it('forgets every MAC behind a port that went away, and keeps the others', () => {
    const learner = new L2Learner();
    learner.learn(1n, 10, M, 0);
    learner.learn(1n, 1, '02:00:00:00:01:14', 0);
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
