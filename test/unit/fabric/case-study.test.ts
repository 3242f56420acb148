// The case study with the real runtime (every module of controller/fabric) against FakeFlowTables:
// a QEMU-like migration (the source's port stays up), then what every peer can do.

import { expect } from 'chai';
import { RULE_KINDS, validateRules, COOKIE_LEARNER, classifyCookie } from '../../../controller/pipeline/index.js';
import { FabricLab, GW } from '../../lib/fabric-lab.js';
import { VM } from '../mobility/fixtures.js';

describe('fabric: the case study with the real runtime', function () {
  this.timeout(20_000);

  it('at home: plain L2 and routing work, the VM is an endpoint and there is no per-binding rule', async () => {
    const lab = await FabricLab.create();
    expect(lab.binding.locator).to.deep.include({ subnet: 'A', address: VM.eid, dpid: 1n, port: 3 });
    expect(await lab.allExchanges('home')).to.deep.equal([]);
    expect(lab.perBindingFlows()).to.deep.equal([]);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  describe('after a move A -> B, the source port left up', () => {
    let lab: FabricLab;
    let L: string;
    beforeEach(async () => {
      lab = await FabricLab.create();
      expect(await lab.allExchanges('warm-up')).to.deep.equal([]); // warm ARP caches everywhere, as in real life
      await lab.migrate({ dpid: 2n, port: 3 });
      await lab.settle();
      L = lab.binding.locator.address;
    });
    afterEach(() => {
      expect(lab.leaks()).to.deep.equal([]);
      expect(lab.fabric.counters.looped, 'no re-injected frame came back').to.equal(0);
      lab.stop();
    });

    it('moved on the probe\'s silence: one migration, reason old-attachment-silent, a locator in B, valid rules', () => {
      expect(L).to.equal('10.0.2.200');
      expect(lab.fabric.migrations.list().map((m) => [m.reason, m.trigger, m.to.subnet])).to.deep.equal([['old-attachment-silent', 'rarp', 'B']]);
      expect(lab.fabric.counters.conflicts).to.equal(0);
      expect(validateRules(lab.fabric.desired().rules)).to.deep.equal([]);
    });

    it('cnB (new subnet) reaches the VM at its EID and gets replies from the EID (hairpin via the router)', () => {
      const { there, back } = lab.exchange(lab.cnB, lab.vm, 'b');
      expect(there).to.deep.include({ ipv4_src: lab.cnB.ip, ipv4_dst: VM.eid, eth_dst: VM.mac });
      expect(back).to.deep.include({ ipv4_src: VM.eid, ipv4_dst: lab.cnB.ip, eth_dst: lab.cnB.mac });
      expect(there!.ip_ttl).to.equal(63); // routed once
    });

    it('cnA (old subnet) with warm caches: its frames to m are rewritten and routed', () => {
      expect(lab.cnA.arp.get(VM.eid)).to.equal(VM.mac);
      const { there, back } = lab.exchange(lab.cnA, lab.vm, 'a');
      expect(there).to.deep.include({ ipv4_src: lab.cnA.ip, ipv4_dst: VM.eid });
      expect(back).to.deep.include({ ipv4_src: VM.eid, ipv4_dst: lab.cnA.ip });
    });

    it('cnA (old subnet) with cold caches: its ARP for the EID is answered with m at the home edge', async () => {
      lab.cnA.arp.clear();
      lab.vm.arp.clear();
      const { there, back } = lab.exchange(lab.cnA, lab.vm, 'a-cold');
      expect(lab.cnA.arp.get(VM.eid)).to.equal(VM.mac);
      expect(lab.vm.arp.get(lab.cnA.ip)).to.equal(GW.A); // the VM's on-link neighbour answered with the home gateway MAC
      expect(there).to.deep.include({ ipv4_src: lab.cnA.ip, ipv4_dst: VM.eid });
      expect(back).to.deep.include({ ipv4_src: VM.eid, ipv4_dst: lab.cnA.ip });
    });

    it('cnC (third subnet) and the external host talk to the VM both ways; the external one through the home anchor', async () => {
      const anchor = () => lab.table(1n).flows(2).find((f) => f.priority === RULE_KINDS.homeAnchor.priority)!;
      const before = anchor().packets;
      expect(await lab.allExchanges('moved')).to.deep.equal([]);
      const { there } = lab.exchange(lab.ext, lab.vm, 'x');
      expect(there!.ip_ttl).to.equal(62); // router twice: in via A, redirected, out via B
      expect(anchor().packets).to.be.greaterThan(before);
    });

    it("answers the router's ARP for the locator with m, and the VM's ARP for its old gateway with gwMac(H)", () => {
      const r = lab.table(2n).process(1, {
        eth_src: GW.B, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: GW.B, arp_spa: '10.0.2.1', arp_tha: '00:00:00:00:00:00', arp_tpa: L,
      });
      expect(r.outputs).to.deep.equal([{ port: 1, headers: { eth_src: VM.mac, eth_dst: GW.B, eth_type: 0x0806, arp_op: 2, arp_sha: VM.mac, arp_spa: L, arp_tha: GW.B, arp_tpa: '10.0.2.1' } }]);
      const v = lab.table(2n).process(3, {
        eth_src: VM.mac, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: VM.mac, arp_spa: VM.eid, arp_tha: '00:00:00:00:00:00', arp_tpa: '10.0.1.1',
      });
      expect(v.outputs).to.deep.equal([{ port: 3, headers: { eth_src: GW.A, eth_dst: VM.mac, eth_type: 0x0806, arp_op: 2, arp_sha: GW.A, arp_spa: '10.0.1.1', arp_tha: VM.mac, arp_tpa: VM.eid } }]);
    });

    it("takes the guest's gratuitous ARPs and QEMU's RARPs after the move, never lets them into B, and never loops", async () => {
      const seen = lab.net.received.length;
      const pins = lab.net.packetIns.length;
      for (let round = 0; round < 5; round++) {
        lab.announce('both');
        await lab.advance(200);
      }
      expect(lab.net.received.slice(seen).filter((r) => r.host !== 'vm'), 'nothing reached B').to.deep.equal([]);
      // One packet-in per announce frame and no more: 10 frames in 1 s, none re-injected back to us.
      expect(lab.packetInsSince(pins)).to.have.length(10);
      expect(lab.fabric.counters.looped).to.equal(0);
      await lab.advance(1000);
      expect(lab.packetInsSince(pins), 'an idle moved VM costs no packet-in').to.have.length(10);
    });

    it("forgot the learner's rules for m, so the VM's return home shows up", () => {
      const learnedM = [...lab.net.switches.values()].flatMap((t) => t.flows()).filter((f) => f.cookie === COOKIE_LEARNER && JSON.stringify(f.match).includes(VM.mac));
      expect(learnedM).to.deep.equal([]);
      expect(lab.table(1n).flows().filter((f) => f.cookie === COOKIE_LEARNER).length).to.be.greaterThan(0); // the others stay
    });

    it('moving back home (RARP + GARP) leaves no per-binding rule anywhere and everything still works', async () => {
      await lab.migrate({ dpid: 1n, port: 3 });
      await lab.settle();
      await lab.advance(600); // the grace period of the old receive side
      expect(lab.binding.locator).to.deep.include({ subnet: 'A', address: VM.eid });
      expect(lab.perBindingFlows()).to.deep.equal([]);
      expect(await lab.allExchanges('back')).to.deep.equal([]);
    });

    it('a second move B -> C replaces exactly the old locator\'s rules', async () => {
      const old = lab.binding;
      await lab.migrate({ dpid: 3n, port: 4 });
      await lab.settle();
      await lab.advance(600);
      expect(lab.binding.locator).to.deep.include({ subnet: 'C', dpid: 3n, port: 4 });
      const mentionsOldL = lab.perBindingFlows().filter((f) => classifyCookie(f.cookie).kind === 'binding' && (f.cookie & 0xffffffffn) === BigInt(old.version));
      expect(mentionsOldL, 'no rule of the old version is left').to.deep.equal([]);
      expect(await lab.allExchanges('in-C')).to.deep.equal([]);
    });
  });
});
