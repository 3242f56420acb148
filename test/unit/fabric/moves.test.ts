// Move detection with the real runtime: how a claim is judged when the source's port stays up
// (as it does under QEMU and libvirt), hijacks, moves during moves, damping, and switches that die
// at every step of a move.

import { expect } from 'chai';
import { OFPP_CONTROLLER, type PacketOut } from '../../../controller/openflow/index.js';
import { FabricLab } from '../../lib/fabric-lab.js';
import { decodeFrame } from '../../lib/frames.js';
import { VM } from '../mobility/fixtures.js';

const probesOut = (lab: FabricLab, dpid: bigint) =>
  lab.sw(dpid).received.filter((m): m is PacketOut => m.type === 'PACKET_OUT' && m.inPort === OFPP_CONTROLLER)
    .map((m) => ({ port: m.actions.map((a) => (a.type === 'OUTPUT' ? a.port : -1))[0], frame: decodeFrame(m.data) }));

describe('fabric: moves with the real runtime', function () {
  this.timeout(20_000);

  it('the source port stays up (paused QEMU): the old port is probed, nobody answers, the VM moves at once — no conflict', async () => {
    const lab = await FabricLab.create();
    await lab.migrate({ dpid: 2n, port: 3 }, { keepOldPort: true });
    await lab.settle();
    const probes = probesOut(lab, 1n);
    expect(probes.length).to.be.within(1, 2);
    expect(probes[0]).to.deep.include({ port: 3 });
    expect(probes[0]!.frame).to.deep.include({ eth_dst: VM.mac, eth_src: '02:5e:a0:00:00:01', arp_op: 1, arp_spa: '0.0.0.0', arp_tpa: VM.eid });
    const [m] = lab.fabric.migrations.list();
    expect(m).to.deep.include({ reason: 'old-attachment-silent' });
    expect(m!.reconvergenceMs, 'the probe window plus two barrier rounds, not a 1.1 s counter window').to.be.below(100);
    expect(lab.fabric.counters.conflicts).to.equal(0);
    lab.stop();
  });

  it('the old port goes away: the VM moves without a probe', async () => {
    const lab = await FabricLab.create();
    await lab.migrate({ dpid: 2n, port: 3 }, { keepOldPort: false });
    await lab.settle();
    expect(probesOut(lab, 1n)).to.deep.equal([]);
    expect(lab.fabric.migrations.list().map((m) => m.reason)).to.deep.equal(['old-port-down']);
    lab.stop();
  });

  it('a move between two ports of the home subnet (source port up) keeps the EID and L2 works', async () => {
    const lab = await FabricLab.create();
    await lab.migrate({ dpid: 1n, port: 4 });
    await lab.settle();
    expect(lab.binding.locator).to.deep.include({ subnet: 'A', dpid: 1n, port: 4, address: VM.eid });
    expect(lab.perBindingFlows()).to.deep.equal([]);
    expect(await lab.allExchanges('moved-in-A')).to.deep.equal([]);
    lab.stop();
  });

  it('hijack: a host that claims the VM\'s MAC and EID elsewhere while the VM answers at home is refused', async () => {
    const lab = await FabricLab.create();
    const imposter = lab.plug('imposter', VM.mac, `${VM.eid}/24`, '10.0.1.1', { dpid: 2n, port: 5 });
    lab.net.inject(imposter, { eth_src: VM.mac, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: VM.mac, arp_spa: VM.eid, arp_tha: '00:00:00:00:00:00', arp_tpa: VM.eid });
    await lab.settle();
    expect(lab.binding.locator).to.deep.include({ dpid: 1n, port: 3 });
    expect(lab.events.filter((e) => e.type === 'CONFLICT').map((e) => (e as { reason: string }).reason)).to.deep.equal(['old-attachment-active']);
    expect(lab.fabric.migrations.list()).to.deep.equal([]);
    expect(lab.net.received.filter((r) => r.host === 'cnB' && r.frame.arp_spa === VM.eid), 'the claim never reached B').to.deep.equal([]);
    expect(await lab.allExchanges('still-home')).to.deep.equal([]);
    lab.stop();
  });

  it('an unknown MAC claiming a bound EID is refused at once', async () => {
    const lab = await FabricLab.create();
    const squatter = lab.plug('squatter', '02:00:00:00:02:99', `${VM.eid}/24`, '10.0.1.1', { dpid: 2n, port: 5 });
    lab.net.inject(squatter, { eth_src: squatter.mac, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: squatter.mac, arp_spa: VM.eid, arp_tha: '00:00:00:00:00:00', arp_tpa: VM.eid });
    await lab.settle();
    expect(lab.events.filter((e) => e.type === 'CONFLICT').map((e) => (e as { reason: string }).reason)).to.deep.equal(['eid-bound-to-other-mac']);
    expect(probesOut(lab, 1n)).to.deep.equal([]);
    lab.stop();
  });

  it('the flow-counters check still works as a fallback (slower: a window longer than OVS\'s counter refresh)', async () => {
    const lab = await FabricLab.create({ fabric: { verification: 'flow-counters', activityWindowMs: 1100 } });
    await lab.migrate({ dpid: 2n, port: 3 });
    await lab.settle(3000, 1200);
    expect(lab.fabric.migrations.list().map((m) => m.reason)).to.deep.equal(['old-attachment-silent']);
    expect(probesOut(lab, 1n)).to.deep.equal([]);
    lab.stop();
  });

  it('a move during a move: the VM shows up in B, then in C before the first is done, and ends in C', async () => {
    const lab = await FabricLab.create();
    await lab.migrate({ dpid: 2n, port: 3 }, { pauseMs: 50 });
    await lab.advance(10); // B's claim is being verified
    await lab.migrate({ dpid: 3n, port: 4 }, { pauseMs: 20 });
    await lab.settle();
    await lab.advance(600);
    expect(lab.binding.locator).to.deep.include({ subnet: 'C', dpid: 3n, port: 4 });
    expect(await lab.allExchanges('in-C')).to.deep.equal([]);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  it('flap damping: a VM that bounces between two ports is suspended after the 6th move in 10 s, with an event', async () => {
    const lab = await FabricLab.create();
    const spots = [{ dpid: 2n, port: 3 }, { dpid: 1n, port: 3 }];
    for (let i = 0; i < 7; i++) {
      await lab.migrate(spots[i % 2]!, { pauseMs: 20, keepOldPort: false });
      await lab.settle(1000, 100);
    }
    expect(lab.fabric.migrations.list()).to.have.length(6);
    expect(lab.events.filter((e) => e.type === 'ENDPOINT_SUSPENDED')).to.have.length(1);
    const conflicts = lab.events.filter((e) => e.type === 'CONFLICT').map((e) => (e as { reason: string }).reason);
    expect(conflicts.length, 'each announce frame of the 7th move is refused').to.be.greaterThan(0);
    expect(conflicts.every((r) => r === 'flapping')).to.equal(true);
    expect(lab.binding.locator).to.deep.include({ dpid: 1n, port: 3 });
    lab.stop();
  });

  describe('a switch that dies at each step of a move', () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    before(() => process.on('unhandledRejection', onUnhandled));
    after(() => process.off('unhandledRejection', onUnhandled));

    const heldBarriers = (lab: FabricLab) => lab.switches.list().reduce((n, sw) => n + sw.heldBarrierCount, 0);
    const untilHeld = async (lab: FabricLab) => {
      for (let i = 0; i < 200 && heldBarriers(lab) === 0; i++) await lab.advance(1);
      expect(heldBarriers(lab), 'the step is in flight').to.be.greaterThan(0);
    };
    const cases: [string, bigint, 'probe' | 'step1' | 'step2'][] = [
      ['the old switch, while its port is probed', 1n, 'probe'], ['the new switch, before step 1 is confirmed', 2n, 'step1'],
      ['a correspondent switch, during step 1', 3n, 'step1'], ['the new switch, during step 2', 2n, 'step2'],
      ['the home switch, during step 2', 1n, 'step2'],
    ];
    for (const [when, dpid, step] of cases) {
      it(`${when}: no crash, the move is recorded (with the failure), the others are consistent`, async () => {
        const lab = await FabricLab.create();
        if (step !== 'probe') for (const sw of lab.switches.list()) sw.holdBarriers = true;
        await lab.migrate({ dpid: 2n, port: 3 }, { pauseMs: 10 });
        if (step === 'probe') await lab.advance(5);
        else await untilHeld(lab);
        if (step === 'step2') {
          for (const sw of lab.switches.list()) sw.releaseBarriers(true);
          await lab.advance(1);
          await untilHeld(lab);
        }
        lab.switches.disconnect(dpid);
        for (const sw of lab.switches.list()) sw.releaseBarriers(false);
        await lab.settle();
        await lab.advance(600);
        expect(unhandled).to.deep.equal([]);
        expect(lab.events.filter((e) => e.type === 'MIGRATION_FAILED'), 'a move that was applied is never reported as failed').to.deep.equal([]);
        expect(lab.binding.locator).to.deep.include({ dpid: 2n, port: 3 });
        const [m] = lab.fabric.migrations.list();
        expect(m, 'the move is recorded').to.not.equal(undefined);
        if (step !== 'probe') expect(m!.failures.join(' '), 'with the switch that failed').to.include(`000000000000000${dpid}`);
        // The switches still up hold exactly what the compiler wants for them.
        const desired = lab.fabric.desired().rules;
        for (const sw of lab.switches.list()) {
          const want = (desired.get(sw.dpidText) ?? []).length;
          const have = lab.table(sw.dpid).flows().filter((f) => (f.cookie >> 48n) !== 0x5ea1n).length;
          expect(have, `compiled rules on ${sw.dpidText}`).to.equal(want);
        }
        lab.stop();
      });
    }
  });
});
