// BindingRegistry on a shared store, against an in-memory stand-in for etcd whose change feed
// the test delivers by hand: what commit() and observe() do in every order their results can
// arrive in. (The real store: test/integration/cluster.)

import { expect } from 'chai';
import {
  BindingRegistry, isAway, StoreUnavailableError,
  type Binding, type BindingEvent, type CommitOutcome, type MoveDecision, type RevisionChanges, type SharedBindingRepository,
  type SharedSnapshot, type StoreChange, type StoreConflictReason,
} from '../../../controller/mobility/index.js';
import { caseStudyMap, VM } from './fixtures.js';

/** One shared store: compare-and-swap commits, and the log of every revision. */
class FakeStore {
  revision = 1;
  nextId = 1;
  readonly bindings = new Map<string, { binding: Binding; mod: number }>();
  readonly locators = new Map<string, string>();
  readonly macs = new Map<string, string>();
  readonly log: RevisionChanges[] = [];

  commit(e: BindingEvent, expected: number): CommitOutcome {
    const b = e.binding;
    const current = this.bindings.get(b.eid);
    const reasons: StoreConflictReason[] = [];
    if ((current?.mod ?? 0) !== expected) reasons.push('binding-changed');
    const takes = e.type === 'BINDING_ADDED' || (e.type === 'BINDING_MOVED' && e.previous.locator.address !== b.locator.address);
    if (takes && this.locators.has(b.locator.address)) reasons.push('locator-taken');
    if (e.type === 'BINDING_ADDED' && this.macs.has(b.mac)) reasons.push('mac-taken');
    if (e.type === 'BINDING_ADDED' && b.id !== this.nextId) reasons.push('id-taken');
    if (reasons.length > 0) {
      return { ok: false, conflict: { revision: this.revision, reasons, current: current === undefined ? undefined : { binding: current.binding, modRevision: current.mod } } };
    }
    const revision = ++this.revision;
    const changes: StoreChange[] = [];
    const previous = e.type === 'BINDING_ADDED' ? undefined : e.previous;
    if (previous !== undefined && (e.type === 'BINDING_REMOVED' || takes)) {
      if (isAway(previous)) changes.push({ kind: 'released', subnet: previous.locator.subnet, address: previous.locator.address, releasedAt: e.at });
      this.locators.delete(previous.locator.address);
    }
    if (e.type === 'BINDING_REMOVED') {
      this.macs.delete(b.mac);
      this.bindings.delete(b.eid);
      changes.push({ kind: 'binding', eid: b.eid, binding: undefined, modRevision: revision });
    } else {
      this.locators.set(b.locator.address, b.eid);
      this.macs.set(b.mac, b.eid);
      if (e.type === 'BINDING_ADDED') this.nextId = b.id + 1;
      this.bindings.set(b.eid, { binding: b, mod: revision });
      changes.push({ kind: 'binding', eid: b.eid, binding: b, modRevision: revision });
    }
    this.log.push({ revision, changes });
    return { ok: true, revision };
  }
}

/** A replica's view of the store; `lose` makes the next commit go through but answer as a retry would (a conflict). */
class FakeRepository implements SharedBindingRepository {
  readonly shared = true;
  lose = false;
  constructor(private readonly store: FakeStore) {}
  async load(): Promise<SharedSnapshot> {
    const s = this.store;
    return {
      revision: s.revision, nextBindingId: s.nextId, released: [], intents: [],
      bindings: [...s.bindings.values()].map((x) => x.binding),
      bindingRevisions: new Map([...s.bindings].map(([eid, x]) => [eid, x.mod])),
    };
  }
  async commit(e: BindingEvent, expected: number): Promise<CommitOutcome> {
    const outcome = this.store.commit(e, expected);
    if (!this.lose || !outcome.ok) return outcome;
    this.lose = false;
    return this.store.commit(e, expected); // the retry of a request whose answer was lost
  }
  async close(): Promise<void> {}
}

const A = { subnet: 'A', dpid: 1n, port: 3 };
const B = { subnet: 'B', dpid: 2n, port: 3 };
const C = { subnet: 'C', dpid: 3n, port: 3 };

describe('mobility/binding-registry on a shared store', () => {
  const subnets = caseStudyMap();
  let store: FakeStore;

  beforeEach(() => { store = new FakeStore(); });

  async function replica(observeTimeoutMs = 200) {
    const repo = new FakeRepository(store);
    const { registry } = await BindingRegistry.open(subnets, repo, { reuseGraceMs: 1000, observeTimeoutMs });
    let delivered = registry.revision;
    /** Hands the registry every logged revision it has not seen; returns the events of other replicas. */
    const pump = (): BindingEvent[] => store.log.filter((r) => r.revision > delivered).flatMap((r) => {
      delivered = r.revision;
      return registry.observe(r, 0).events;
    });
    const move = (eid: string, to: typeof B): Promise<ReturnType<BindingRegistry['commit']> extends Promise<infer R> ? R : never> => {
      const binding = registry.bindings.byEid(eid)!;
      const decision: MoveDecision = { kind: 'move', binding, to, locator: to.subnet === binding.homeSubnet ? 'home' : 'allocate', reason: 'old-port-down' };
      return registry.commit(decision, 10);
    };
    const learn = (eid: string, mac: string) => registry.commit({ kind: 'learn-new', eid, mac, at: A }, 1);
    return { repo, registry, pump, move, learn };
  }

  /** Runs a commit while feeding the registry, as the runtime's subscription would. */
  async function settle<T>(commit: Promise<T>, ...pumps: (() => unknown)[]): Promise<T> {
    let done = false;
    commit.then(() => { done = true; }, () => { done = true; });
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 1)); // the commit proposes and reaches the store first
      for (const p of pumps) p();
    }
    return commit;
  }

  it('a commit returns once the feed brought it; the feed reports only other replicas\' changes', async () => {
    const r1 = await replica();
    const r2 = await replica();
    const learned = await settle(r1.learn(VM.eid, VM.mac), r1.pump);
    expect(learned.status).to.equal('committed');
    expect(r1.registry.bindings.byEid(VM.eid)?.version).to.equal(1);
    expect(r1.pump()).to.deep.equal([]);
    expect(r2.pump().map((e) => e.type)).to.deep.equal(['BINDING_ADDED']);
    const moved = await settle(r2.move(VM.eid, B), r2.pump);
    expect(moved.status).to.equal('committed');
    const seen = r1.pump();
    expect(seen.map((e) => e.type)).to.deep.equal(['BINDING_MOVED']);
    expect(r1.registry.pool('B')?.isInUse('10.0.2.200')).to.equal(true);
  });

  it('commit() and apply() do not mix: a shared store changes only through commit()', async () => {
    const r = await replica();
    expect(() => r.registry.apply({ kind: 'learn-new', eid: VM.eid, mac: VM.mac, at: A }, 0)).to.throw(/commit\(\)/);
    expect(() => r.registry.remove(VM.eid, 0)).to.throw(/commit\(\)/);
  });

  it('a lost race gives the locator back and returns once the registry holds the winner', async () => {
    const r1 = await replica();
    const r2 = await replica();
    await settle(r1.learn(VM.eid, VM.mac), r1.pump, r2.pump);
    await settle(r1.move(VM.eid, C), r1.pump); // r2 has not seen this yet
    const lost = await settle(r2.move(VM.eid, B), r2.pump);
    expect(lost.status).to.equal('conflict');
    if (lost.status !== 'conflict') throw new Error('unreachable');
    expect(lost.conflict.reasons).to.deep.equal(['binding-changed']);
    expect(r2.registry.bindings.byEid(VM.eid)?.locator.subnet, 'it holds the winner on return').to.equal('C');
    expect(r2.registry.pool('B')?.inUseCount, 'the address it took went back').to.equal(0);
    expect(r2.registry.pool('C')?.isInUse('10.0.3.192')).to.equal(true);
  });

  it('an address that passes from one EID to another keeps every index right on a replica that lags', async () => {
    const r1 = await replica();
    const r2 = await replica();
    const other = { eid: '10.0.1.11', mac: '02:00:00:00:01:0b' };
    await settle(r1.learn(VM.eid, VM.mac), r1.pump);
    await settle(r1.learn(other.eid, other.mac), r1.pump);
    await settle(r1.move(VM.eid, B), r1.pump);      // VM takes 10.0.2.200
    await settle(r1.move(VM.eid, C), r1.pump);      // and leaves it (released at 10)
    // r2 catches up with all of it at once, then every lookup must agree with the store.
    r2.pump();
    for (const r of [r1, r2]) {
      expect(r.registry.bindings.byLocatorAddress('10.0.2.200')).to.equal(undefined);
      expect(r.registry.bindings.byLocatorAddress('10.0.3.192')?.eid).to.equal(VM.eid);
      expect(r.registry.bindings.byMac(other.mac)?.eid).to.equal(other.eid);
      expect(r.registry.pool('B')?.isInUse('10.0.2.200')).to.equal(false);
      expect(r.registry.state(11).released).to.deep.equal([{ subnet: 'B', address: '10.0.2.200', releasedAt: 10 }]);
    }
  });

  it('a retried request that had gone through counts as committed', async () => {
    const r = await replica();
    await settle(r.learn(VM.eid, VM.mac), r.pump);
    r.repo.lose = true;
    const moved = await settle(r.move(VM.eid, B), r.pump);
    expect(moved.status).to.equal('committed');
    expect(r.registry.bindings.byEid(VM.eid)?.locator.address).to.equal('10.0.2.200');
    expect(r.registry.pool('B')?.isInUse('10.0.2.200')).to.equal(true);
  });

  it('committed but not brought by the feed in time: StoreUnavailableError, and the change arrives later as an event', async () => {
    const r = await replica(50);
    await settle(r.learn(VM.eid, VM.mac), r.pump);
    const error = await r.move(VM.eid, B).then(() => undefined, (e: unknown) => e); // nobody pumps
    expect(error).to.be.instanceOf(StoreUnavailableError);
    expect(r.registry.pool('B')?.isInUse('10.0.2.200'), 'the address stays taken: the move is a fact').to.equal(true);
    const late = r.pump();
    expect(late.map((e) => e.type)).to.deep.equal(['BINDING_MOVED']);
    expect(r.registry.bindings.byEid(VM.eid)?.locator.subnet).to.equal('B');
  });

  it('commits of one EID run one after the other: the second starts from the first\'s result', async () => {
    const r = await replica();
    await settle(r.learn(VM.eid, VM.mac), r.pump);
    const binding = r.registry.bindings.byEid(VM.eid)!;
    const decision = (to: typeof B): MoveDecision => ({ kind: 'move', binding, to, locator: 'allocate', reason: 'old-port-down' });
    const both = Promise.all([r.registry.commit(decision(B), 10), r.registry.commit(decision(C), 11)]);
    const [first, second] = await settle(both, r.pump);
    expect([first.status, second.status]).to.deep.equal(['committed', 'committed']);
    expect(r.registry.bindings.byEid(VM.eid)?.version).to.equal(3);
    expect(r.registry.bindings.byEid(VM.eid)?.locator.subnet).to.equal('C');
  });
});
