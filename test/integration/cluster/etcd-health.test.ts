// etcd's health as the API and metrics report it, against a real 3-member etcd started here:
// every member reachable with one leader; one member down (still a quorum); two down (the
// survivor answers Status but serves no linearizable read: no quorum); a hung member (SIGSTOP)
// costs the reading no more than its deadline; readings are shared and kept for a second.

import { expect } from 'chai';
import { Registry } from 'prom-client';
import { connectEtcd } from '../../../controller/cluster/etcd-client.js';
import { EtcdHealth, registerEtcdHealthMetrics } from '../../../controller/cluster/etcd-health.js';
import { EtcdCluster } from '../../lib/etcd-cluster.js';
import { waitFor } from '../../lib/wait.js';

describe('cluster/etcd health (3-member etcd)', function () {
  this.timeout(120_000);
  let cluster: EtcdCluster;
  let health: EtcdHealth;
  let clock = 0;

  before(async () => {
    cluster = await EtcdCluster.start({ members: 3 });
    health = new EtcdHealth({
      endpoints: cluster.endpoints, probeKey: '/health-test/cluster/health', timeoutMs: 500, cacheMs: 1000, now: () => clock,
      connect: (endpoint, timeoutMs) => connectEtcd({ endpoints: [endpoint], requestTimeoutMs: timeoutMs }),
    });
  });
  after(async () => {
    health?.close();
    await cluster?.destroy();
  });

  /** A fresh reading (the clock moved past the cache time). */
  const fresh = () => { clock += 1001; return health.read(); };

  it('every member reachable, in the quorum, one of them the leader', async () => {
    const view = await fresh();
    expect(view.reachable).to.equal(3);
    expect(view.quorum).to.equal(true);
    expect(view.members.map((m) => m.endpoint)).to.deep.equal(cluster.endpoints);
    expect(view.members.filter((m) => m.leader)).to.have.length(1);
    for (const m of view.members) {
      expect(m).to.deep.include({ reachable: true, quorum: true, error: null });
      expect(m.version).to.match(/^3\./);
      expect(m.dbSizeBytes).to.be.greaterThan(0);
    }
  });

  it('shares one reading for a second: etcd is asked again only after that', async () => {
    const first = await fresh();
    clock += 999;
    const [a, b] = await Promise.all([health.read(), health.read()]);
    expect(a).to.equal(first);
    expect(b).to.equal(first);
    clock += 2;
    expect(await health.read()).not.to.equal(first);
  });

  it('one member down: two reachable, still a quorum; the metrics say so', async () => {
    await cluster.kill(2);
    const view = await waitFor(async () => { const v = await fresh(); return v.reachable === 2 && v.quorum ? v : undefined; }, { timeoutMs: 10_000, what: 'two members with a quorum' });
    expect(view.members[2]).to.deep.include({ reachable: false, quorum: false, leader: false, version: null });
    expect(view.members[2]!.error).to.be.a('string');
    const registry = new Registry();
    registerEtcdHealthMetrics(registry, health);
    const text = await registry.metrics();
    expect(text).to.match(/^seamless_cluster_etcd_members_reachable 2$/m);
    expect(text).to.match(/^seamless_cluster_etcd_quorum 1$/m);
  });

  it('two members down: the survivor answers but has no quorum; reported within the deadline', async () => {
    await cluster.kill(1);
    const view = await waitFor(async () => { const v = await fresh(); return v.reachable === 1 && !v.quorum ? v : undefined; }, { timeoutMs: 15_000, what: 'no quorum' });
    expect(view.members[0]).to.deep.include({ reachable: true, quorum: false });
    expect(view.members[0]!.error).to.be.a('string');
    const registry = new Registry();
    registerEtcdHealthMetrics(registry, health);
    expect(await registry.metrics()).to.match(/^seamless_cluster_etcd_quorum 0$/m);
  });

  it('quorum back; a hung member (SIGSTOP) is unreachable and costs no more than the deadline', async () => {
    await cluster.restart(1);
    await cluster.restart(2);
    const back = await waitFor(async () => { const v = await fresh(); return v.reachable === 3 && v.members.every((m) => m.quorum) ? v : undefined; }, { timeoutMs: 20_000, what: 'every member back in the quorum' });
    // A follower: the other two keep their leader, so the quorum stays.
    const hung = back.members.findIndex((m) => !m.leader);
    await cluster.pause(hung);
    try {
      const started = performance.now();
      const view = await fresh();
      expect(performance.now() - started).to.be.lessThan(1500);
      expect(view.members[hung]).to.deep.include({ reachable: false, quorum: false });
      expect(view.reachable).to.equal(2);
      expect(view.quorum).to.equal(true);
    } finally {
      cluster.resume(hung);
    }
  });
});
