import { expect } from 'chai';
import { classifyCookie, COOKIE_LEARNER, RULE_KINDS, validateRules } from '../../../controller/pipeline/index.js';
import { FakeNetwork } from './fake-network.js';
import { CaseStudy, GW } from './case-study.js';
import { VM } from '../mobility/fixtures.js';

const perBindingFlows = (cs: CaseStudy) =>
  [...cs.net.switches.values()].flatMap((t) => t.flows().filter((f) => classifyCookie(f.cookie).kind === 'binding'));

/** Everyone talks to the VM and back; returns the pairs that failed. */
function allExchanges(cs: CaseStudy, round: string): string[] {
  const failed: string[] = [];
  for (const peer of [cs.cnA, cs.cnB, cs.cnC, cs.ext]) {
    const { there, back } = cs.exchange(peer, cs.vm, `${round}:${peer.name}`);
    if (there === undefined || there.ipv4_src !== peer.ip || there.ipv4_dst !== VM.eid) failed.push(`${peer.name} -> vm`);
    if (back === undefined || back.ipv4_src !== VM.eid || back.ipv4_dst !== peer.ip) failed.push(`vm -> ${peer.name}`);
  }
  return failed;
}

describe('pipeline behaviour: the case study in a FakeNetwork', () => {
  it('at home: plain L2 and routing work and there is no per-binding rule', async () => {
    const cs = await CaseStudy.create();
    expect(allExchanges(cs, 'home')).to.deep.equal([]);
    expect(perBindingFlows(cs)).to.deep.equal([]);
    expect(cs.binding.locator).to.deep.include({ subnet: 'A', address: VM.eid });
    expect(cs.leaks()).to.deep.equal([]);
  });

  describe('after a move A -> B', () => {
    let cs: CaseStudy;
    let L: string;
    beforeEach(async () => {
      cs = await CaseStudy.create();
      expect(allExchanges(cs, 'warm-up')).to.deep.equal([]); // warm ARP caches everywhere, as in real life
      cs.moveVm(2n, 3);
      cs.reconcile();
      L = cs.binding.locator.address;
    });
    afterEach(() => expect(cs.leaks()).to.deep.equal([]));

    it('allocated a locator in B and compiled valid rules', () => {
      expect(L).to.equal('10.0.2.200');
      expect(validateRules(cs.desired())).to.deep.equal([]);
    });

    it('cnB (new subnet) reaches the VM at its EID and gets replies from the EID (hairpin via the router)', () => {
      const { there, back } = cs.exchange(cs.cnB, cs.vm, 'b');
      expect(there).to.deep.include({ ipv4_src: cs.cnB.ip, ipv4_dst: VM.eid, eth_dst: VM.mac });
      expect(back).to.deep.include({ ipv4_src: VM.eid, ipv4_dst: cs.cnB.ip, eth_dst: cs.cnB.mac });
      expect(there!.ip_ttl).to.equal(63); // routed once
    });

    it('cnA (old subnet) with warm caches: its frames to m are rewritten and routed', () => {
      expect(cs.cnA.arp.get(VM.eid)).to.equal(VM.mac);
      expect(cs.vm.arp.get(cs.cnA.ip)).to.equal(cs.cnA.mac);
      const { there, back } = cs.exchange(cs.cnA, cs.vm, 'a');
      expect(there).to.deep.include({ ipv4_src: cs.cnA.ip, ipv4_dst: VM.eid });
      expect(back).to.deep.include({ ipv4_src: VM.eid, ipv4_dst: cs.cnA.ip });
    });

    it('cnA (old subnet) with cold caches: its ARP for the EID is answered with m at the home edge', () => {
      cs.cnA.arp.clear();
      cs.vm.arp.clear();
      const { there, back } = cs.exchange(cs.cnA, cs.vm, 'a-cold');
      expect(cs.cnA.arp.get(VM.eid)).to.equal(VM.mac);
      expect(cs.vm.arp.get(cs.cnA.ip)).to.equal(GW.A); // the VM's on-link neighbour answered with the home gateway MAC
      expect(there).to.deep.include({ ipv4_src: cs.cnA.ip, ipv4_dst: VM.eid });
      expect(back).to.deep.include({ ipv4_src: VM.eid, ipv4_dst: cs.cnA.ip });
    });

    it('cnC (third subnet) talks to the VM both ways', () => {
      const { there, back } = cs.exchange(cs.cnC, cs.vm, 'c');
      expect(there).to.deep.include({ ipv4_src: cs.cnC.ip, ipv4_dst: VM.eid });
      expect(back).to.deep.include({ ipv4_src: VM.eid, ipv4_dst: cs.cnC.ip });
    });

    it('an external host reaches the VM through the home anchor (triangle) and sees the EID', () => {
      const anchor = () => cs.switch(1n).flows(2).find((f) => f.priority === RULE_KINDS.homeAnchor.priority)!;
      const before = anchor().packets;
      const { there, back } = cs.exchange(cs.ext, cs.vm, 'x');
      expect(there).to.deep.include({ ipv4_src: cs.ext.ip, ipv4_dst: VM.eid });
      expect(back).to.deep.include({ ipv4_src: VM.eid, ipv4_dst: cs.ext.ip });
      expect(anchor().packets).to.equal(before + 1);
      expect(there!.ip_ttl).to.equal(62); // router twice: in via A, redirected, out via B
    });

    it('answers the router\'s ARP for the locator with m', () => {
      const r = cs.switch(2n).process(1, {
        eth_src: GW.B, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806,
        arp_op: 1, arp_sha: GW.B, arp_spa: '10.0.2.1', arp_tha: '00:00:00:00:00:00', arp_tpa: L,
      });
      expect(r.outputs).to.deep.equal([{ port: 1, headers: {
        eth_src: VM.mac, eth_dst: GW.B, eth_type: 0x0806,
        arp_op: 2, arp_sha: VM.mac, arp_spa: L, arp_tha: GW.B, arp_tpa: '10.0.2.1',
      } }]);
      cs.exchange(cs.cnC, cs.vm, 'c');
      expect(cs.router.B.arp.get(L)).to.equal(VM.mac);
    });

    it("answers the VM's ARP for its old gateway with gwMac(H)", () => {
      const r = cs.switch(2n).process(3, {
        eth_src: VM.mac, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806,
        arp_op: 1, arp_sha: VM.mac, arp_spa: VM.eid, arp_tha: '00:00:00:00:00:00', arp_tpa: '10.0.1.1',
      });
      expect(r.outputs).to.deep.equal([{ port: 3, headers: {
        eth_src: GW.A, eth_dst: VM.mac, eth_type: 0x0806,
        arp_op: 2, arp_sha: GW.A, arp_spa: '10.0.1.1', arp_tha: VM.mac, arp_tpa: VM.eid,
      } }]);
      cs.vm.arp.clear();
      expect(cs.exchange(cs.vm, cs.cnC, 'cold-gw').back).to.not.equal(undefined);
      expect(cs.vm.arp.get('10.0.1.1')).to.equal(GW.A);
    });

    it("sends the VM's gratuitous ARP and the RARP announce to the controller, never into B", () => {
      const garp = { eth_src: VM.mac, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: VM.mac, arp_spa: VM.eid, arp_tha: '00:00:00:00:00:00', arp_tpa: VM.eid };
      const rarp = { eth_src: VM.mac, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x8035, arp_op: 3, arp_sha: VM.mac, arp_spa: '0.0.0.0', arp_tha: VM.mac, arp_tpa: '0.0.0.0' };
      const seenBefore = cs.net.received.length;
      cs.net.inject(cs.vm, garp);
      cs.net.inject(cs.vm, rarp);
      expect(cs.net.received.slice(seenBefore)).to.deep.equal([]);
      expect(cs.net.packetIns.slice(-2).map((p) => [p.dpid, p.priority])).to.deep.equal([
        [2n, RULE_KINDS.vmAnnounceToController.priority], [2n, RULE_KINDS.rarpToController.priority],
      ]);
    });

    it("forgot the learner's rules for m, so the VM's return home shows up as a packet-in", () => {
      const learnedM = [...cs.net.switches.values()].flatMap((t) => t.flows()).filter((f) => f.cookie === COOKIE_LEARNER && JSON.stringify(f.match).includes(VM.mac));
      expect(learnedM).to.deep.equal([]);
      expect(cs.switch(1n).flows().filter((f) => f.cookie === COOKIE_LEARNER).length).to.be.greaterThan(0); // the others stay
      cs.net.move(cs.vm, { dpid: 1n, port: 3 });
      const pins = cs.net.packetIns.length;
      cs.net.send(cs.vm, cs.cnA.ip, 'return');
      expect(cs.net.packetIns.slice(pins).map((p) => [p.dpid, p.port, p.priority])).to.deep.include([1n, 3, 0]);
    });

    it('moving back home leaves no per-binding rule anywhere and everything still works', () => {
      cs.moveVm(1n, 3);
      cs.reconcile();
      expect(cs.binding.locator).to.deep.include({ subnet: 'A', address: VM.eid });
      expect(perBindingFlows(cs)).to.deep.equal([]);
      expect(allExchanges(cs, 'back')).to.deep.equal([]);
    });

    it('a second move B -> C overwrites and removes exactly the old locator\'s rules', () => {
      const old = cs.binding;
      const oldCookie = classifyCookie(perBindingFlows(cs)[0]!.cookie);
      expect(oldCookie).to.deep.equal({ kind: 'binding', bindingId: old.id, version: old.version });
      cs.moveVm(3n, 4);
      const plan = cs.plan();
      const deletes = plan.steps.flatMap((s) => [...s.mods.values()].flat()).filter((m) => m.command === 4);
      // Every delete is exact on the old cookie, and names the old locator or the old VM port on s2.
      for (const d of deletes) {
        expect(d.cookie).to.equal((BigInt(old.id) << 32n) | BigInt(old.version));
        expect(d.cookieMask).to.equal(0xffffffffffffffffn);
      }
      const deletedOn = (dpid: string) => (plan.steps[1].mods.get(dpid) ?? []).concat(plan.steps[2].mods.get(dpid) ?? []).filter((m) => m.command === 4);
      expect(deletedOn('0000000000000001').map((m) => m.match)).to.deep.equal([{ in_port: 1, eth_type: 0x0800, ipv4_src: L }]);
      expect(deletedOn('0000000000000003').map((m) => m.match)).to.deep.equal([{ in_port: 1, eth_type: 0x0800, ipv4_src: L }]);
      expect(deletedOn('0000000000000002')).to.have.length(perBindingFlowsOn(cs, 2n) - 1); // all but 'dst EID -> locator', whose identity stays
      cs.applyStep(plan, 0); cs.applyStep(plan, 1); cs.applyStep(plan, 2);
      const mentionsOldL = [...cs.net.switches.values()].flatMap((t) => t.flows()).filter((f) => JSON.stringify(f.match).includes(L) || JSON.stringify(f.instructions, jsonSafe).includes(L));
      expect(mentionsOldL).to.deep.equal([]);
      expect(perBindingFlows(cs).every((f) => f.cookie === (BigInt(old.id) << 32n) + BigInt(old.version + 1))).to.equal(true);
      // The correspondent-side rule for the EID kept its identity on s1 and was overwritten.
      const s1Dst = cs.switch(1n).flows(2).filter((f) => f.priority === RULE_KINDS.correspondentDst.priority);
      expect(s1Dst).to.have.length(1);
      expect(JSON.stringify(s1Dst[0]!.instructions, jsonSafe)).to.include(cs.binding.locator.address);
      expect(allExchanges(cs, 'in-C')).to.deep.equal([]);
    });
  });

  describe('make-before-break ordering', () => {
    it('after each step of A -> B and B -> C, no correspondent ever sees a locator as source', async () => {
      const cs = await CaseStudy.create();
      allExchanges(cs, 'warm');
      for (const [dpid, port] of [[2n, 3], [3n, 4]] as const) {
        cs.moveVm(dpid, port);
        const plan = cs.plan();
        cs.applyStep(plan, 0);
        allExchanges(cs, `${dpid}-step1`);
        expect(cs.leaks(), `after step 1 towards ${dpid}`).to.deep.equal([]);
        cs.applyStep(plan, 1);
        expect(allExchanges(cs, `${dpid}-step2`), `after step 2 towards ${dpid}`).to.deep.equal([]);
        expect(cs.leaks()).to.deep.equal([]);
        cs.applyStep(plan, 2);
        expect(allExchanges(cs, `${dpid}-step3`)).to.deep.equal([]);
        expect(cs.leaks()).to.deep.equal([]);
      }
    });

    it("before phase 2 the VM's traffic is held at the controller, not leaked into the new subnet", async () => {
      const cs = await CaseStudy.create();
      cs.moveVm(2n, 3);
      const plan = cs.plan();
      cs.applyStep(plan, 0);
      const pins = cs.net.packetIns.length;
      cs.net.send(cs.vm, cs.cnB.ip, 'early');
      expect(cs.net.lastIp(cs.cnB, 'early')).to.equal(undefined);
      expect(cs.net.packetIns.slice(pins).map((p) => [p.dpid, p.port, p.headers.tag])).to.deep.include([2n, 3, 'early']);
    });

    it('negative control: the send side without the receive side shows the locator to a correspondent', async () => {
      const cs = await CaseStudy.create();
      allExchanges(cs, 'warm');
      cs.moveVm(2n, 3);
      cs.applyStep(cs.plan(), 1); // phase 2 only: wrong order
      cs.exchange(cs.vm, cs.cnC, 'wrong');
      expect(cs.leaks()).to.include(`cnC saw source 10.0.2.200 (wrong>)`);
    });
  });

  describe('the fake network itself', () => {
    it('drops a frame to a switch port with nothing attached', () => {
      const net = new FakeNetwork();
      net.addSwitch(1n);
      const h = net.addHost('h', '02:00:00:00:00:01', '10.9.0.1/24', '10.9.0.254', { dpid: 1n, port: 1 });
      net.send(h, '10.9.0.2', 'lost');
      expect(net.received).to.deep.equal([]);
      expect(net.packetIns).to.deep.equal([]); // no table-miss rule installed: dropped in table 0
      expect(COOKIE_LEARNER).to.be.a('bigint');
    });
  });
});

function perBindingFlowsOn(cs: CaseStudy, dpid: bigint): number {
  return cs.switch(dpid).flows().filter((f) => classifyCookie(f.cookie).kind === 'binding').length;
}

function jsonSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
}
