// Moves announced ahead: an intent naming the port (from the hypervisor's tap in OVSDB or the API)
// stages the receive side before the VM resumes, so its first frame needs only the send side.

import { expect } from 'chai';
import { intentForAttachment, type AttachmentSignal } from '../../../controller/fabric/index.js';
import { OFPP_CONTROLLER } from '../../../controller/openflow/index.js';
import { RULE_KINDS } from '../../../controller/pipeline/index.js';
import { FabricLab } from '../../lib/fabric-lab.js';
import { VM } from '../mobility/fixtures.js';

const deliverRules = (lab: FabricLab, dpid: bigint) => lab.table(dpid).flows(2).filter((f) => f.priority === RULE_KINDS.deliverLocator.priority);
const probes = (lab: FabricLab) => lab.switches.list().flatMap((sw) => sw.received.filter((m) => m.type === 'PACKET_OUT' && m.inPort === OFPP_CONTROLLER));

describe('fabric: moves staged ahead from intents', function () {
  this.timeout(20_000);

  async function staged(): Promise<FabricLab> {
    const lab = await FabricLab.create();
    const registered = lab.intents.register({ eid: VM.eid, toDpid: 2n, toPort: 3, expiresAt: lab.clock.now() + 10_000, source: 'ovsdb' }, lab.clock.now());
    if (!registered.ok) throw new Error(registered.error);
    const announced = lab.fabric.phases.announce(registered.intent); // resolves once the switches confirmed (on the test clock)
    await lab.settle();
    expect(await announced).to.equal(true);
    return lab;
  }

  it('stages the receive side with the locator the move will get, and nothing of the send side', async () => {
    const lab = await staged();
    expect(deliverRules(lab, 2n).map((f) => f.match.ipv4_dst)).to.deep.equal(['10.0.2.200']);
    expect(lab.table(2n).flows(0).filter((f) => f.priority === RULE_KINDS.vmGate.priority), 'no gate yet').to.deep.equal([]);
    expect(lab.events.map((e) => e.type)).to.include('MOVE_STAGED');
    expect(lab.binding.locator).to.deep.include({ subnet: 'A' });
    expect(await lab.allExchanges('staged-but-home'), 'nothing changes for anyone before the VM moves').to.deep.equal([]);
    lab.stop();
  });

  it('the VM then resumes there: a move on the intent, no probe, one barrier round, the staged locator', async () => {
    const lab = await staged();
    await lab.migrate({ dpid: 2n, port: 3 });
    await lab.settle();
    const [m] = lab.fabric.migrations.list();
    expect(m).to.deep.include({ reason: 'intent', rounds: 1, plannedAhead: true });
    expect(m!.to.address).to.equal('10.0.2.200');
    expect(probes(lab)).to.deep.equal([]);
    expect(await lab.allExchanges('moved')).to.deep.equal([]);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  it('the same move announced twice (the tap in OVSDB, then the hypervisor\'s signal): staged once, with the later expiry', async () => {
    const lab = await staged();
    const mods = () => lab.sw(2n).received.filter((m) => m.type === 'FLOW_MOD').length;
    const before = mods();
    const again = lab.intents.register({ eid: VM.eid, toDpid: 2n, toPort: 3, expiresAt: lab.clock.now() + 20_000, source: 'api' }, lab.clock.now());
    if (!again.ok) throw new Error(again.error);
    const restaged = lab.fabric.phases.announce(again.intent);
    await lab.settle();
    expect(await restaged).to.equal(true);
    expect(mods(), 'no flow-mod for the same staging').to.equal(before);
    expect(lab.events.filter((e) => e.type === 'MOVE_STAGED')).to.have.length(1);
    await lab.advance(15_000); // past the first intent's expiry, within the second's
    expect(deliverRules(lab, 2n).map((f) => f.match.ipv4_dst), 'still staged').to.deep.equal(['10.0.2.200']);
    await lab.migrate({ dpid: 2n, port: 3 });
    await lab.settle();
    const [m] = lab.fabric.migrations.list();
    expect(m).to.deep.include({ reason: 'intent', rounds: 1 });
    expect(m!.to.address).to.equal('10.0.2.200');
    expect(await lab.allExchanges('moved')).to.deep.equal([]);
    lab.stop();
  });

  it('withdrawn and staged again within the grace period: the rules both stagings share stay, also after the first one\'s cleanup', async () => {
    const lab = await staged();
    const arpRules = (l: FabricLab) => l.table(2n).flows(0).filter((f) => f.match.in_port === 3 && f.match.eth_type === 0x0806).map((f) => f.priority).sort();
    expect(arpRules(lab), 'the VM\'s ARP is answered at its new port').to.deep.equal([940, 950, 960]);
    await lab.fabric.phases.withdraw(VM.eid); // the migration called off, then announced again
    await lab.settle();
    const again = lab.intents.register({ eid: VM.eid, toDpid: 2n, toPort: 3, expiresAt: lab.clock.now() + 10_000, source: 'api' }, lab.clock.now());
    if (!again.ok) throw new Error(again.error);
    const restaged = lab.fabric.phases.announce(again.intent);
    await lab.settle();
    expect(await restaged).to.equal(true);
    await lab.advance(1000); // past the grace period of the first staging's withdrawal
    expect(arpRules(lab), 'still there: the withdrawal\'s cleanup must not take what the second staging needs').to.deep.equal([940, 950, 960]);
    await lab.migrate({ dpid: 2n, port: 3 });
    await lab.settle();
    await lab.advance(1000);
    expect(arpRules(lab)).to.deep.equal([940, 950, 960]);
    const homeGw = lab.fabric.gatewayMac('A');
    expect(homeGw).to.be.a('string');
    lab.vm.arp.delete('10.0.1.1');
    const m = VM.mac;
    lab.net.inject(lab.vm, { eth_src: m, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: m, arp_spa: VM.eid, arp_tha: '00:00:00:00:00:00', arp_tpa: '10.0.1.1' });
    await lab.settle();
    expect(lab.vm.arp.get('10.0.1.1'), 'the VM\'s gateway is the home gateway').to.equal(homeGw);
    expect(await lab.allExchanges('moved')).to.deep.equal([]);
    lab.stop();
  });

  it('the intent expires without a move: the staged rules go and the address is given back', async () => {
    const lab = await staged();
    await lab.advance(10_100);
    await lab.advance(600); // receive-side rules go after the grace period, as after any move
    expect(deliverRules(lab, 2n)).to.deep.equal([]);
    expect(lab.perBindingFlows()).to.deep.equal([]);
    expect(lab.registry.pool('B')!.isInUse('10.0.2.200')).to.equal(false);
    lab.stop();
  });

  it('the VM goes elsewhere: it moves there (verified), and the rules staged for B are removed', async () => {
    const lab = await staged();
    await lab.migrate({ dpid: 3n, port: 4 });
    await lab.settle();
    await lab.advance(600);
    expect(lab.binding.locator).to.deep.include({ subnet: 'C' });
    expect(deliverRules(lab, 2n), 'nothing left of the staged move').to.deep.equal([]);
    expect(await lab.allExchanges('in-C')).to.deep.equal([]);
    lab.stop();
  });

  it('the hypervisor\'s tap: an attachment of a known MAC at another edge port is an intent; start-up snapshots and the current place are not', async () => {
    const lab = await FabricLab.create();
    const now = lab.clock.now();
    const tap = (over: Partial<AttachmentSignal>): AttachmentSignal => ({ state: 'added', mac: VM.mac, dpid: 2n, ofport: 3, initial: false, ...over });
    expect(intentForAttachment(tap({}), lab.registry.bindings, lab.map, now)).to.deep.include({ eid: VM.eid, toDpid: 2n, toPort: 3, source: 'ovsdb' });
    expect(intentForAttachment(tap({ initial: true }), lab.registry.bindings, lab.map, now)).to.equal(undefined);
    expect(intentForAttachment(tap({ dpid: 1n, ofport: 3 }), lab.registry.bindings, lab.map, now), 'where it already is').to.equal(undefined);
    expect(intentForAttachment(tap({ mac: '02:00:00:00:09:09' }), lab.registry.bindings, lab.map, now), 'unknown MAC').to.equal(undefined);
    expect(intentForAttachment(tap({ dpid: 9n }), lab.registry.bindings, lab.map, now), 'unmanaged switch').to.equal(undefined);
    lab.stop();
  });
});
