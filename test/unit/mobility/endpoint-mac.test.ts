// Issue 9, row 12: the all-zero, multicast and broadcast MACs are never endpoint identities,
// wherever a binding is made (the registry, the store) or read back (the store's parser).

import { expect } from 'chai';
import {
  bindingFromJson, bindingToJson, BindingRegistry, BindingStore, isIdentityMac, MemoryBindingRepository, MoveDetector, parseSubnets, SubnetMap,
  type Sighting,
} from '../../../controller/mobility/index.js';
import { caseStudyMap, RAW_SUBNETS, VM } from './fixtures.js';

const NOT_IDENTITIES = ['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', 'FF:FF:FF:FF:FF:FF', '01:00:5e:00:00:fb', '33:33:00:00:00:01', '01:80:c2:00:00:0e'];

describe('mobility/endpoint MACs (issue 9, row 12)', () => {
  it('tells endpoint MACs from the all-zero and group addresses', () => {
    for (const mac of NOT_IDENTITIES) expect(isIdentityMac(mac), mac).to.equal(false);
    for (const mac of ['02:00:00:00:01:0a', '52:54:00:12:34:56', '00:00:00:00:00:01', 'fe:ff:ff:ff:ff:ff']) expect(isIdentityMac(mac), mac).to.equal(true);
  });

  it('the registry learns no binding from a sighting with such a MAC', async () => {
    const subnets = caseStudyMap();
    const detector = new MoveDetector(subnets);
    const repo = new MemoryBindingRepository();
    const { registry } = await BindingRegistry.open(subnets, repo);
    for (const mac of NOT_IDENTITIES) {
      const sighting: Sighting = { dpid: 1n, port: 3, mac, ip: VM.eid, kind: 'arp', now: 0 };
      expect(registry.apply(detector.decide(registry.bindings, sighting), 0), mac).to.equal(undefined);
    }
    await registry.flush(0);
    expect(registry.bindings.size).to.equal(0);
    expect(repo.journal).to.deep.equal([]);
    // A real MAC for the same EID is still learned afterwards.
    const ok: Sighting = { dpid: 1n, port: 3, mac: VM.mac, ip: VM.eid, kind: 'arp', now: 1 };
    expect(registry.apply(detector.decide(registry.bindings, ok), 1)?.type).to.equal('BINDING_ADDED');
  });

  it('the store refuses to add such a binding', () => {
    const store = new BindingStore();
    for (const mac of NOT_IDENTITIES) {
      expect(() => store.add({ eid: VM.eid, mac, homeSubnet: 'A', dpid: 1n, port: 3 }, 0), mac).to.throw(TypeError, /not an endpoint MAC/);
    }
    expect(store.size).to.equal(0);
  });

  it('a stored binding with such a MAC does not parse', () => {
    const store = new BindingStore();
    const good = bindingToJson(store.add({ eid: VM.eid, mac: VM.mac, homeSubnet: 'A', dpid: 1n, port: 3 }, 0)!.binding);
    expect(bindingFromJson(good).mac).to.equal(VM.mac);
    for (const mac of NOT_IDENTITIES) expect(() => bindingFromJson({ ...good, mac }), mac).to.throw(TypeError, /mac/);
  });
});

describe('mobility/binding-registry: bindings dropped by a config change', () => {
  it('journals their removal, so the EID can be learned again and the store still loads', async () => {
    const subnets = caseStudyMap();
    const detector = new MoveDetector(subnets);
    const repo = new MemoryBindingRepository();
    const { registry } = await BindingRegistry.open(subnets, repo);
    const at = (dpid: bigint, now: number): Sighting => ({ dpid, port: 3, mac: VM.mac, ip: VM.eid, kind: 'ipv4', now });
    registry.apply(detector.decide(registry.bindings, at(1n, 0)), 0);
    registry.apply(detector.decide(registry.bindings, at(3n, 100), { oldPortDown: true }), 100);
    await registry.flush(100);
    const withoutC = new SubnetMap(parseSubnets(RAW_SUBNETS.filter((s) => s.name !== 'C')));
    const { registry: again, problems } = await BindingRegistry.open(withoutC, repo, { now: 200 });
    expect(problems).to.have.length(1);
    expect(repo.journal.map((e) => e.type)).to.deep.equal(['BINDING_ADDED', 'BINDING_MOVED', 'BINDING_REMOVED']);
    // Learned again at home: without the removal, the history would hold two bindings for it.
    const relearned = again.apply(new MoveDetector(withoutC).decide(again.bindings, at(1n, 300)), 300);
    expect(relearned?.type).to.equal('BINDING_ADDED');
    await again.flush(300);
    const state = await repo.load();
    expect(state.bindings.map((b) => [b.eid, b.id, b.locator.subnet])).to.deep.equal([[VM.eid, 2, 'A']]);
  });
});
