import { expect } from 'chai';
import { BindingConflictError, BindingStore, type BindingEvent, type Locator } from '../../../controller/mobility/index.js';

const VM = { eid: '10.0.1.10', mac: '02:00:00:00:01:0A', homeSubnet: 'A', dpid: 1n, port: 3 };
const inB: Locator = { subnet: 'B', dpid: 2n, port: 3, address: '10.0.2.200' };
const inC: Locator = { subnet: 'C', dpid: 3n, port: 3, address: '10.0.3.192' };

describe('mobility/binding-store', () => {
  it('records ADDED, MOVED, MOVED, REMOVED with previous values and growing versions', () => {
    const store = new BindingStore();
    const events: BindingEvent[] = [];
    const push = (e: BindingEvent | undefined) => { if (e) events.push(e); };
    push(store.add(VM, 10));
    push(store.move(VM.eid, inB, 20));
    push(store.move(VM.eid, inC, 30));
    push(store.remove(VM.eid, 40));
    expect(events.map((e) => e.type)).to.deep.equal(['BINDING_ADDED', 'BINDING_MOVED', 'BINDING_MOVED', 'BINDING_REMOVED']);
    expect(events.map((e) => e.binding.version)).to.deep.equal([1, 2, 3, 3]);
    const [added, toB, toC, removed] = events;
    expect(added!.binding).to.deep.include({ id: 1, eid: VM.eid, mac: '02:00:00:00:01:0a', homeSubnet: 'A', createdAt: 10, lastSeen: 10 });
    expect(added!.binding.locator).to.deep.equal({ subnet: 'A', dpid: 1n, port: 3, address: VM.eid });
    if (toB!.type !== 'BINDING_MOVED' || toC!.type !== 'BINDING_MOVED' || removed!.type !== 'BINDING_REMOVED') throw new Error('types');
    expect(toB!.previous).to.equal(added!.binding);
    expect(toC!.previous.locator).to.deep.equal(inB);
    expect(toC!.binding.locator).to.deep.equal(inC);
    expect(removed!.previous.locator).to.deep.equal(inC);
    expect(store.size).to.equal(0);
  });

  it('returns nothing when nothing changes', () => {
    const store = new BindingStore();
    store.add(VM, 1);
    expect(store.add({ ...VM, port: 9 }, 2)).to.equal(undefined);
    store.move(VM.eid, inB, 3);
    expect(store.move(VM.eid, inB, 4)).to.equal(undefined);
    expect(store.move('10.9.9.9', inB, 4)).to.equal(undefined);
    expect(store.remove('10.9.9.9', 4)).to.equal(undefined);
    expect(store.touch(VM.eid, 5)).to.equal(undefined);
    expect(store.byEid(VM.eid)?.version).to.equal(2);
    expect(store.byEid(VM.eid)?.lastSeen).to.equal(5);
  });

  it('answers queries by EID, MAC (any case), id and locator address', () => {
    const store = new BindingStore();
    store.add(VM, 1);
    store.add({ eid: '10.0.2.20', mac: '02:00:00:00:02:14', homeSubnet: 'B', dpid: 2n, port: 2 }, 1);
    store.move(VM.eid, inB, 2);
    expect(store.byMac('02:00:00:00:01:0a')?.eid).to.equal(VM.eid);
    expect(store.byMac('02:00:00:00:01:0A')?.eid).to.equal(VM.eid);
    expect(store.byId(2)?.eid).to.equal('10.0.2.20');
    expect(store.byLocatorAddress('10.0.2.200')?.eid).to.equal(VM.eid);
    expect(store.byLocatorAddress(VM.eid)).to.equal(undefined);
    expect(store.byLocatorAddress('10.0.2.20')?.eid).to.equal('10.0.2.20');
    expect(store.list().map((b) => b.id)).to.deep.equal([1, 2]);
  });

  it('answers which bindings are at a port and at a switch, following moves and removals', () => {
    const store = new BindingStore();
    store.add(VM, 1);
    store.add({ eid: '10.0.2.20', mac: '02:00:00:00:02:14', homeSubnet: 'B', dpid: 2n, port: 2 }, 1);
    const eids = (bs: readonly { eid: string }[]) => bs.map((b) => b.eid).sort();
    expect(eids(store.atSwitch(1n))).to.deep.equal([VM.eid]);
    expect(eids(store.atSwitch(2n))).to.deep.equal(['10.0.2.20']);
    store.move(VM.eid, inB, 2);
    expect(eids(store.atSwitch(1n)), 'gone from its old switch').to.deep.equal([]);
    expect(eids(store.atSwitch(2n))).to.deep.equal([VM.eid, '10.0.2.20']);
    expect(eids(store.atAttachment(2n, 3))).to.deep.equal([VM.eid]);
    store.move(VM.eid, inC, 3);
    store.remove('10.0.2.20', 4);
    expect(eids(store.atSwitch(2n))).to.deep.equal([]);
    expect(eids(store.atSwitch(3n))).to.deep.equal([VM.eid]);
    expect(eids(store.atAttachment(3n, 3))).to.deep.equal([VM.eid]);
  });

  it('never reuses an id, even after a removal or a restore', () => {
    const store = new BindingStore();
    store.add(VM, 1);
    store.remove(VM.eid, 2);
    expect(store.add(VM, 3)?.binding.id).to.equal(2);
    const restored = new BindingStore({ bindings: store.list(), nextId: store.nextId });
    restored.remove(VM.eid, 4);
    expect(restored.add({ ...VM, eid: '10.0.1.11', mac: '02:00:00:00:01:0b' }, 5)?.binding.id).to.equal(3);
  });

  it('refuses a MAC or a locator address that another binding holds', () => {
    const store = new BindingStore();
    store.add(VM, 1);
    expect(() => store.add({ ...VM, eid: '10.0.1.11' }, 2)).to.throw(BindingConflictError, /MAC 02:00:00:00:01:0a is bound to 10.0.1.10/);
    store.add({ eid: '10.0.1.11', mac: '02:00:00:00:01:0b', homeSubnet: 'A', dpid: 1n, port: 4 }, 2);
    store.move(VM.eid, inB, 3);
    expect(() => store.move('10.0.1.11', inB, 4)).to.throw(BindingConflictError, /locator 10.0.2.200 is held by 10.0.1.10/);
    expect(store.byEid('10.0.1.11')?.locator.subnet).to.equal('A');
  });
});
