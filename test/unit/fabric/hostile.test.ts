// Hostile hosts against the real runtime (issue 9): gateway impersonation, address squatting from
// one port, claim floods, MAC flooding, static endpoints, MACs that identify nobody.

import { expect } from 'chai';
import { parseSubnets } from '../../../controller/mobility/index.js';
import { SYNC_RETRIES } from '../../../controller/fabric/switch-sync.js';
import { MultipartLimitError } from '../../../controller/switch/index.js';
import { FabricLab } from '../../lib/fabric-lab.js';
import type { Headers } from '../../lib/fake-flow-table.js';
import { RAW_SUBNETS } from '../mobility/fixtures.js';

const garp = (mac: string, ip: string): Headers => ({ eth_src: mac, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: mac, arp_spa: ip, arp_tha: '00:00:00:00:00:00', arp_tpa: ip });
const conflicts = (lab: FabricLab) => lab.events.filter((e) => e.type === 'CONFLICT').map((e) => (e as { reason: string }).reason);
const hex = (i: number) => i.toString(16).padStart(2, '0');

describe('fabric: hostile hosts', function () {
  this.timeout(30_000);

  it('a host that ARPs with a configured gateway\'s address is a conflict, and nothing is recompiled', async () => {
    const lab = await FabricLab.create();
    const evil = lab.plug('evil', '02:00:00:00:02:66', '10.0.2.66/24', '10.0.2.1', { dpid: 2n, port: 5 });
    const updates = lab.events.filter((e) => e.type === 'RULES_UPDATED').length;
    for (let i = 0; i < 20; i++) lab.net.inject(evil, garp(evil.mac, '10.0.2.1'));
    await lab.settle();
    expect(conflicts(lab).every((r) => r === 'gateway-claim') && conflicts(lab).length > 0).to.equal(true);
    expect(lab.events.filter((e) => e.type === 'RULES_UPDATED').length).to.equal(updates);
    expect(lab.fabric.gatewayMac('B')).to.equal('02:00:00:00:02:01');
    lab.stop();
  });

  it('a learned gateway is locked: another MAC or port claiming it is refused; an operator can unlock it', async () => {
    const raw = RAW_SUBNETS.map((s) => ({ ...s, gateway: { ip: s.gateway.ip } }));
    const lab = await FabricLab.create({ subnets: parseSubnets(raw) });
    lab.net.routerSend('10.0.2.20', 'teach'); // the router ARPs for cnB: its MAC is learned
    await lab.settle();
    expect(lab.fabric.gatewayMac('B')).to.equal('02:00:00:00:02:01');
    const evil = lab.plug('evil', '02:00:00:00:02:66', '10.0.2.66/24', '10.0.2.1', { dpid: 2n, port: 5 });
    lab.net.inject(evil, garp(evil.mac, '10.0.2.1'));
    await lab.settle();
    expect(lab.fabric.gatewayMac('B'), 'still the router').to.equal('02:00:00:00:02:01');
    expect(conflicts(lab)).to.include('gateway-claim');
    const unlocked = lab.fabric.forgetGateway('B');
    await lab.settle();
    expect(await unlocked).to.equal(true);
    expect(lab.fabric.gatewayMac('B')).to.equal(undefined);
    lab.stop();
  });

  it('a port that holds an endpoint cannot claim another while the first answers; once it is gone, it can', async () => {
    const lab = await FabricLab.create();
    const first = lab.plug('first', '02:00:00:00:02:30', '10.0.2.30/24', '10.0.2.1', { dpid: 2n, port: 5 });
    lab.net.inject(first, garp(first.mac, first.ip));
    await lab.settle();
    expect(lab.registry.bindings.byEid('10.0.2.30')).to.not.equal(undefined);
    lab.net.inject(first, garp('02:00:00:00:02:31', '10.0.2.31')); // the same port claims a second identity
    await lab.settle();
    expect(lab.registry.bindings.byEid('10.0.2.31')).to.equal(undefined);
    expect(conflicts(lab)).to.deep.equal(['port-holds-endpoint']);
    // The first VM is gone and a new one sits on its port (its tap reused): the claim is verified and learned.
    const second = lab.plug('second', '02:00:00:00:02:31', '10.0.2.31/24', '10.0.2.1', { dpid: 2n, port: 5 });
    lab.net.inject(second, garp(second.mac, second.ip));
    await lab.settle();
    expect(lab.registry.bindings.byEid('10.0.2.31')?.locator).to.deep.include({ dpid: 2n, port: 5 });
    lab.stop();
  });

  it('a port flooding claims is held to its claim rate: most of them are dropped and counted', async () => {
    const lab = await FabricLab.create({ fabric: { maxEndpointsPerPort: 10_000, claims: { ratePerSec: 20, burst: 40 } } });
    const flood = lab.plug('flood', '02:00:00:00:02:77', '10.0.2.77/24', '10.0.2.1', { dpid: 2n, port: 5 });
    for (let i = 0; i < 200; i++) {
      lab.net.inject(flood, garp(`02:00:00:00:7${Math.floor(i / 256)}:${hex(i % 256)}`, `10.0.2.${10 + (i % 180)}`));
      if (i % 20 === 0) await lab.advance(10);
    }
    await lab.settle();
    const learnedThere = lab.registry.bindings.atAttachment(2n, 5).length;
    expect(learnedThere).to.be.within(40, 60);
    expect(lab.fabric.counters.claimsLimited).to.be.greaterThan(100);
    lab.stop();
  });

  it('MAC flooding fills the learner only up to its per-port bound, and the switch gets no rules beyond it', async () => {
    const lab = await FabricLab.create({ fabric: { maxMacsPerPort: 50 } });
    const flood = lab.plug('flood', '02:00:00:00:02:78', '10.0.2.78/24', '10.0.2.1', { dpid: 2n, port: 5 });
    for (let i = 0; i < 500; i++) lab.net.inject(flood, { eth_src: `02:00:00:01:${hex(i >> 8)}:${hex(i & 0xff)}`, eth_dst: '33:33:00:00:00:01', eth_type: 0x86dd, tag: 'ns' });
    await lab.settle();
    expect(lab.fabric.learner.count(2n)).to.be.at.most(52);
    expect(lab.fabric.learner.refused).to.be.greaterThan(400);
    expect(lab.table(2n).flows(0).filter((f) => (f.cookie >> 48n) === 0x5ea1n).length).to.be.at.most(52);
    lab.stop();
  });

  it('a static endpoint cannot be squatted: its EID is refused to any other MAC, and learned for its own', async () => {
    const raw = RAW_SUBNETS.map((s) => (s.name === 'B' ? { ...s, staticEndpoints: [{ eid: '10.0.2.40', mac: '02:00:00:00:02:40' }] } : s));
    const lab = await FabricLab.create({ subnets: parseSubnets(raw) });
    const squatter = lab.plug('squatter', '02:00:00:00:02:99', '10.0.2.40/24', '10.0.2.1', { dpid: 2n, port: 5 });
    lab.net.inject(squatter, garp(squatter.mac, '10.0.2.40'));
    await lab.settle();
    expect(lab.registry.bindings.byEid('10.0.2.40')).to.equal(undefined);
    expect(conflicts(lab)).to.deep.equal(['static-endpoint']);
    const owner = lab.plug('owner', '02:00:00:00:02:40', '10.0.2.40/24', '10.0.2.1', { dpid: 2n, port: 6 });
    lab.net.inject(owner, garp(owner.mac, '10.0.2.40'));
    await lab.settle();
    expect(lab.registry.bindings.byEid('10.0.2.40')?.mac).to.equal('02:00:00:00:02:40');
    lab.stop();
  });

  it('the all-zero MAC is never an endpoint', async () => {
    const lab = await FabricLab.create();
    const zero = lab.plug('zero', '00:00:00:00:00:00', '10.0.2.50/24', '10.0.2.1', { dpid: 2n, port: 5 });
    lab.net.inject(zero, garp('00:00:00:00:00:00', '10.0.2.50'));
    await lab.settle();
    expect(lab.registry.bindings.byEid('10.0.2.50')).to.equal(undefined);
    lab.stop();
  });

  it('a switch whose flow table cannot be read while too many replies are in reassembly is synchronised later, and given up on after the retries', async () => {
    const lab = await FabricLab.create();
    const total = () => new MultipartLimitError({ type: 'MULTIPART_REQUEST', xid: 6, flags: 0, body: { kind: 'FLOW', tableId: 255, outPort: 0, outGroup: 0, cookie: 0n, cookieMask: 0n, match: {} } },
      '0000000000000002', 'total', 64 << 20, { parts: 3, bytes: 196608, ms: 5 });
    const rulesBefore = lab.table(2n).flows().length;
    lab.switches.disconnect(2n);
    lab.table(2n).apply({ type: 'FLOW_MOD', xid: 0, cookie: 0n, cookieMask: 0n, tableId: 255, command: 3, idleTimeout: 0, hardTimeout: 0, priority: 0, bufferId: 0xffffffff, outPort: 0xffffffff, outGroup: 0xffffffff, flags: 0, match: {}, instructions: [] });
    expect(lab.table(2n).flows(), 'the switch restarted empty').to.have.length(0);
    const sw = lab.switches.connect(2n, [total(), total()]);
    await lab.settle(500, 50);
    expect(sw.received.filter((m) => m.type === 'FLOW_MOD'), 'nothing written before its table was read').to.have.length(0);
    await lab.advance(1000 + 2000 + 200);
    expect(lab.table(2n).flows().length, 'synchronised at the third read').to.equal(rulesBefore);
    expect(lab.logLines.filter((l) => l.includes('trying again'))).to.have.length(2);
    // One that never gets a turn is given up on, said once.
    lab.switches.disconnect(3n);
    lab.switches.connect(3n, Array.from({ length: SYNC_RETRIES + 1 }, total));
    await lab.advance(1000 * 2 ** SYNC_RETRIES + 500);
    expect(lab.logLines.filter((l) => l.includes('could not synchronise a switch') && l.includes('0000000000000003'))).to.have.length(1);
    lab.stop();
  });

  it('a switch that never answers a barrier holds up its own updates only: a move on the other switches completes meanwhile', async () => {
    const lab = await FabricLab.create();
    // A peer that reached MAIN with a datapath id in no subnet, and never answers a barrier.
    lab.net.addSwitch(0x7ead00n);
    const silent = lab.switches.connect(0x7ead00n);
    silent.holdBarriers = true;
    await lab.advance(50);
    expect(silent.heldBarrierCount, 'its first update waits on its barrier').to.be.greaterThan(0);
    await lab.migrate({ dpid: 2n, port: 3 }, { keepOldPort: false });
    await lab.settle(1000, 50);
    const [m] = lab.fabric.migrations.list();
    expect(m, 'the move completed while that barrier is still unanswered').to.not.equal(undefined);
    expect(m!.reconvergenceMs).to.be.below(100);
    expect(silent.heldBarrierCount).to.be.greaterThan(0);
    silent.releaseBarriers();
    lab.stop();
  });
});
