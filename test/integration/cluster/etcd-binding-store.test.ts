// The shared binding store on a real etcd (a 1-member cluster started here): transactions,
// conflicts between replicas, what load() refuses, and registries kept current by the feed.

import { expect } from 'chai';
import { connectEtcd } from '../../../controller/cluster/etcd-client.js';
import { EtcdBindingRepository } from '../../../controller/cluster/etcd-binding-repository.js';
import { StoreKeys } from '../../../controller/cluster/store-keys.js';
import { encodeBinding } from '../../../controller/cluster/store-values.js';
import { BindingLedger, BindingStore, StoreCorruptError, type BindingEvent } from '../../../controller/mobility/index.js';
import { EtcdCluster } from '../../lib/etcd-cluster.js';
import { SharedReplica } from '../../lib/shared-replica.js';
import { waitUntil } from '../../lib/wait.js';
import { caseStudyMap, VM } from '../../unit/mobility/fixtures.js';

const A = { subnet: 'A', dpid: 1n, port: 3 };
const B = { subnet: 'B', dpid: 2n, port: 3 };
const C = { subnet: 'C', dpid: 3n, port: 3 };
let prefixes = 0;
const freshPrefix = () => `/test-${process.pid}-${++prefixes}/`;

describe('cluster/etcd binding store (1-member etcd)', function () {
  this.timeout(30_000);
  let cluster: EtcdCluster;
  let client: ReturnType<typeof connectEtcd>;
  const replicas: SharedReplica[] = [];
  const subnets = caseStudyMap();

  before(async () => {
    cluster = await EtcdCluster.start({ members: 1 });
    client = connectEtcd({ endpoints: cluster.endpoints });
  });
  afterEach(() => { for (const r of replicas.splice(0)) r.close(); });
  after(async () => {
    client?.close();
    await cluster?.destroy();
  });

  const open = async (prefix: string) => {
    const r = await SharedReplica.open(cluster.endpoints, prefix, subnets);
    replicas.push(r);
    return r;
  };

  it('commits add, moves and a removal as transactions; a reload gives the state the events make', async () => {
    const repo = new EtcdBindingRepository({ client, prefix: freshPrefix() });
    const loaded = await repo.load();
    expect(loaded.bindings).to.deep.equal([]);
    expect(loaded.nextBindingId).to.equal(1);
    const store = new BindingStore();
    const ledger = new BindingLedger();
    const events: BindingEvent[] = [
      store.add({ eid: VM.eid, mac: VM.mac, homeSubnet: 'A', dpid: 1n, port: 3 }, 10)!,
      store.add({ eid: '10.0.1.11', mac: '02:00:00:00:01:0b', homeSubnet: 'A', dpid: 1n, port: 4 }, 11)!,
      store.move(VM.eid, { subnet: 'B', dpid: 2n, port: 3, address: '10.0.2.200' }, 20)!,
      store.move(VM.eid, { subnet: 'C', dpid: 3n, port: 3, address: '10.0.3.200' }, 30)!,
      store.remove('10.0.1.11', 40)!,
    ];
    const revisions = new Map<string, number>();
    for (const e of events) {
      const outcome = await repo.commit(e, e.type === 'BINDING_ADDED' ? 0 : revisions.get(e.binding.eid)!);
      expect(outcome.ok, `${e.type} of ${e.binding.eid}`).to.equal(true);
      if (outcome.ok) revisions.set(e.binding.eid, outcome.revision);
      ledger.apply(e);
    }
    const reloaded = await repo.load();
    const expected = ledger.state();
    expect(reloaded.bindings).to.deep.equal(expected.bindings);
    expect(reloaded.nextBindingId).to.equal(3);
    expect(reloaded.released).to.have.deep.members([{ subnet: 'B', address: '10.0.2.200', releasedAt: 30 }]);
    expect(reloaded.bindingRevisions.get(VM.eid)).to.equal(revisions.get(VM.eid));
  });

  it('two replicas moving one endpoint at once: exactly one wins, the other gets the winner as the current value', async () => {
    const prefix = freshPrefix();
    const [r1, r2] = [await open(prefix), await open(prefix)];
    expect((await r1.learn(VM.eid, VM.mac, A)).status).to.equal('committed');
    await waitUntil(() => r2.registry.bindings.byEid(VM.eid) !== undefined, { what: 'replica 2 to see the VM' });
    const [m1, m2] = await Promise.all([r1.move(VM.eid, B), r2.move(VM.eid, C)]);
    const outcomes = [m1, m2].map((m) => m.status).sort();
    expect(outcomes).to.deep.equal(['committed', 'conflict']);
    const winner = m1.status === 'committed' ? m1 : m2;
    const loser = m1.status === 'conflict' ? m1 : m2;
    if (winner.status !== 'committed' || loser.status !== 'conflict') throw new Error('unreachable');
    expect(loser.conflict.reasons).to.include('binding-changed');
    expect(loser.conflict.current?.binding).to.deep.equal(winner.event.binding);
    // Both mirrors hold the winner, and the loser's locator address went back to its pool.
    await waitUntil(() => [r1, r2].every((r) => r.registry.bindings.byEid(VM.eid)?.version === 2), { what: 'both mirrors at version 2' });
    expect(r1.registry.bindings.byEid(VM.eid)).to.deep.equal(winner.event.binding);
    expect(r2.registry.bindings.byEid(VM.eid)).to.deep.equal(winner.event.binding);
    const loserSubnet = winner.event.binding.locator.subnet === 'B' ? 'C' : 'B';
    const loserReplica = m1.status === 'conflict' ? r1 : r2;
    expect(loserReplica.registry.pool(loserSubnet)?.inUseCount).to.equal(0);
    // The loser decides again from what it now holds, and gets through.
    const again = await loserReplica.move(VM.eid, { subnet: loserSubnet, dpid: loserSubnet === 'B' ? 2n : 3n, port: 3 });
    expect(again.status).to.equal('committed');
  });

  it('two replicas allocating locators at once never hand out the same address', async () => {
    const prefix = freshPrefix();
    const [r1, r2] = [await open(prefix), await open(prefix)];
    const eids = Array.from({ length: 12 }, (_, i) => `10.0.1.${20 + i}`);
    for (const [i, eid] of eids.entries()) {
      expect((await r1.learn(eid, `02:00:00:00:01:${(0x20 + i).toString(16)}`, { ...A, port: 10 + i })).status).to.equal('committed');
    }
    await waitUntil(() => r2.registry.bindings.size === eids.length, { what: 'replica 2 to mirror every endpoint' });
    // Each replica moves its half into B at the same time; both pools start at the same cursor.
    const moveAll = async (r: SharedReplica, mine: string[]) => {
      const results = [];
      for (const eid of mine) {
        for (let attempt = 0; attempt < 20; attempt++) {
          const m = await r.move(eid, { ...B, port: 40 });
          results.push(m.status);
          if (m.status !== 'conflict') break;
        }
      }
      return results;
    };
    const [s1, s2] = await Promise.all([moveAll(r1, eids.filter((_, i) => i % 2 === 0)), moveAll(r2, eids.filter((_, i) => i % 2 === 1))]);
    expect([...s1, ...s2].filter((s) => s === 'committed'), JSON.stringify([s1, s2])).to.have.length(eids.length);
    expect([...s1, ...s2].filter((s) => s === 'conflict').length, 'the same first address was contested at least once').to.be.greaterThan(0);
    const state = await r1.repository.load();
    const addresses = state.bindings.map((b) => b.locator.address);
    expect(new Set(addresses).size).to.equal(eids.length);
    expect(state.bindings.every((b) => b.locator.subnet === 'B')).to.equal(true);
    await waitUntil(() => r2.registry.bindings.list().every((b) => b.locator.subnet === 'B') && r1.registry.bindings.list().every((b) => b.locator.subnet === 'B'), { what: 'both mirrors to converge' });
    expect(r1.registry.bindings.list()).to.deep.equal(r2.registry.bindings.list());
    for (const r of [r1, r2]) expect(r.registry.pool('B')?.inUseCount).to.equal(eids.length);
  });

  it('two replicas learning different endpoints at once get distinct ids; one MAC is never bound twice', async () => {
    const prefix = freshPrefix();
    const [r1, r2] = [await open(prefix), await open(prefix)];
    const [l1, l2] = await Promise.all([r1.learn('10.0.1.40', '02:00:00:00:01:40', A), r2.learn('10.0.1.41', '02:00:00:00:01:41', A)]);
    const results = [l1, l2];
    const conflict = results.find((r) => r.status === 'conflict');
    if (conflict?.status === 'conflict') expect(conflict.conflict.reasons).to.deep.equal(['id-taken']);
    // The loser (if any) decides again.
    if (l1.status === 'conflict') expect((await r1.learn('10.0.1.40', '02:00:00:00:01:40', A)).status).to.equal('committed');
    if (l2.status === 'conflict') expect((await r2.learn('10.0.1.41', '02:00:00:00:01:41', A)).status).to.equal('committed');
    const sameMac = await Promise.all([r1.learn('10.0.1.42', '02:00:00:00:01:42', A), r2.learn('10.0.1.43', '02:00:00:00:01:42', A)]);
    expect(sameMac.filter((r) => r.status === 'committed')).to.have.length(1);
    const state = await r1.repository.load();
    expect(state.bindings.map((b) => b.id).sort()).to.deep.equal([1, 2, 3]);
    expect(state.nextBindingId).to.equal(4);
  });

  it('delivers the changes of other replicas as events, and this replica\'s own only as commit results', async () => {
    const prefix = freshPrefix();
    const [r1, r2] = [await open(prefix), await open(prefix)];
    await r1.learn(VM.eid, VM.mac, A);
    await waitUntil(() => r2.foreign.length === 1, { what: 'replica 2 to see the add' });
    await r2.move(VM.eid, B);
    await waitUntil(() => r1.foreign.length === 1, { what: 'replica 1 to see the move' });
    expect(r1.foreign.map((e) => e.type)).to.deep.equal(['BINDING_MOVED']);
    expect(r2.foreign.map((e) => e.type)).to.deep.equal(['BINDING_ADDED']);
    const moved = r1.foreign[0];
    if (moved?.type !== 'BINDING_MOVED') throw new Error('unreachable');
    expect(moved.previous.locator.subnet).to.equal('A');
    expect(r1.registry.pool('B')?.isInUse(moved.binding.locator.address)).to.equal(true);
  });

  describe('load() refuses what no transaction makes, naming the key', () => {
    const corrupt = async (mutate: (keys: StoreKeys) => { exec(): Promise<unknown> }, key: (keys: StoreKeys) => string) => {
      const prefix = freshPrefix();
      const repo = new EtcdBindingRepository({ client, prefix });
      await repo.load();
      const store = new BindingStore();
      await repo.commit(store.add({ eid: VM.eid, mac: VM.mac, homeSubnet: 'A', dpid: 1n, port: 3 }, 1)!, 0);
      await mutate(repo.keys).exec();
      const error = await repo.load().then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(StoreCorruptError);
      expect((error as StoreCorruptError).where).to.equal(key(repo.keys));
      return error as StoreCorruptError;
    };

    it('a value that is not JSON', async () => {
      const e = await corrupt((k) => client.put(k.binding(VM.eid)).value('{"id":1,'), (k) => k.binding(VM.eid));
      expect(e.problem).to.match(/not JSON/);
    });

    it('a binding stored under another EID\'s key', async () => {
      const b = { id: 1, eid: '10.0.1.99', mac: VM.mac, homeSubnet: 'A', locator: { subnet: 'A', dpid: 1n, port: 3, address: '10.0.1.99' }, version: 1, lastSeen: 1, createdAt: 1 };
      await corrupt((k) => client.put(k.binding(VM.eid)).value(encodeBinding(b)), (k) => k.binding(VM.eid));
    });

    it('a binding field out of range', async () => {
      const e = await corrupt((k) => client.put(k.binding(VM.eid)).value(JSON.stringify({ id: 1, eid: VM.eid, mac: VM.mac, homeSubnet: 'A', locator: { subnet: 'A', dpid: 'zz', port: 3, address: VM.eid }, version: 1, lastSeen: 1, createdAt: 1 })), (k) => k.binding(VM.eid));
      expect(e.problem).to.match(/locator\.dpid/);
    });

    it('a MAC index entry missing', async () => {
      await corrupt((k) => client.delete().key(k.mac(VM.mac)), (k) => k.mac(VM.mac));
    });

    it('a locator index entry naming nobody', async () => {
      await corrupt((k) => client.put(k.locator('B', '10.0.2.201')).value(JSON.stringify({ eid: '10.0.1.77' })), (k) => k.locator('B', '10.0.2.201'));
    });

    it('an unknown key under the state prefix', async () => {
      await corrupt((k) => client.put(`${k.state}bindings/not-an-address`).value('{}'), (k) => `${k.state}bindings/not-an-address`);
    });

    it('the next binding id missing while bindings exist', async () => {
      await corrupt((k) => client.delete().key(k.nextId), (k) => k.nextId);
    });
  });

  it('ends the change feed with StoreCorruptError naming the key of a bad value', async () => {
    const prefix = freshPrefix();
    const r = await open(prefix);
    await client.put(r.repository.keys.binding(VM.eid)).value('not json');
    await waitUntil(() => r.feedError !== undefined, { what: 'the feed to fail' });
    expect(r.feedError).to.be.instanceOf(StoreCorruptError);
    expect((r.feedError as StoreCorruptError).where).to.equal(r.repository.keys.binding(VM.eid));
  });

  it('stores migration intents on a lease and delivers them through the feed', async () => {
    const prefix = freshPrefix();
    const r = await open(prefix);
    const changes: unknown[] = [];
    const sub = r.repository.changes(r.registry.revision).subscribe((batch) => changes.push(...batch.changes));
    try {
      await r.repository.putIntent({ eid: VM.eid, toDpid: 2n, toPort: 7, expiresAt: Date.now() + 1500, source: 'api', phase: 'stopping', lossFree: true, stoppedAt: 1234.5 });
      const loaded = await r.repository.load();
      const stored = { eid: VM.eid, toDpid: 2n, toPort: 7, expiresAt: loaded.intents[0]?.expiresAt, source: 'api', phase: 'stopping', lossFree: true, stoppedAt: 1234.5 };
      expect(loaded.intents).to.deep.equal([stored]);
      // The lease ends the intent after its expiry (etcd revokes expired leases every 500 ms).
      await waitUntil(() => changes.length === 2, { timeoutMs: 6000, what: 'the intent to be put, then expire' });
      expect(changes).to.deep.equal([
        { kind: 'intent', eid: VM.eid, intent: stored },
        { kind: 'intent', eid: VM.eid, intent: undefined },
      ]);
    } finally {
      sub.unsubscribe();
    }
  });
});
