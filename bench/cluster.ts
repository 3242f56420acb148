// Cluster figures (printed, never asserted): the store latency of a move, etcd (3 members on
// loopback) against the file store, and mastership failover over repeated kill -9, with the
// dead-replica detector (liveness connections, peer-liveness.ts) and with the lease alone.
//   npx tsx bench/cluster.ts [--moves 300] [--kills 20] [--ttl-ms 1000] [--only latency,failover]
//                            [--detectors liveness,lease-only]
// etcd runs with the lab's raft timing (heartbeat 50 ms, election 500 ms), which lets a lease
// last 1 s; with etcd's defaults (100 ms / 1 s) the shortest lease is 2 s.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BindingRegistry, FileBindingRepository, type MoveDecision } from '../controller/mobility/index.js';
import { EtcdCluster } from '../test/lib/etcd-cluster.js';
import { dpidHex, mastersOf, ReplicaProcess } from '../test/lib/mastership-lab.js';
import { SharedReplica } from '../test/lib/shared-replica.js';
import { waitUntil } from '../test/lib/wait.js';
import { caseStudyMap, VM } from '../test/unit/mobility/fixtures.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const MOVES = Number(arg('moves', '300'));
const KILLS = Number(arg('kills', '20'));
const TTL_MS = Number(arg('ttl-ms', '1000'));
const ONLY = new Set(arg('only', 'latency,failover').split(','));
const DETECTORS = arg('detectors', 'liveness,lease-only').split(',').map((d) => {
  if (d !== 'liveness' && d !== 'lease-only') throw new Error(`--detectors: liveness or lease-only, not ${d}`);
  return d;
});

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
const summary = (xs: readonly number[]) => `median ${fmt(quantile(xs, 0.5))}, p99 ${fmt(quantile(xs, 0.99))}, max ${fmt(Math.max(...xs))} (n=${xs.length})`;

const to = (n: number) => (n % 2 === 0 ? { subnet: 'B', dpid: 2n, port: 3 } : { subnet: 'C', dpid: 3n, port: 3 });

function decision(registry: BindingRegistry, n: number): MoveDecision {
  const binding = registry.bindings.byEid(VM.eid)!;
  return { kind: 'move', binding, to: to(n), locator: 'allocate', reason: 'old-port-down' };
}

async function fileLatency(): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'seamless-bench-file-'));
  try {
    const repo = new FileBindingRepository({ dir });
    const { registry } = await BindingRegistry.open(caseStudyMap(), repo, { reuseGraceMs: 0 });
    registry.apply({ kind: 'learn-new', eid: VM.eid, mac: VM.mac, at: { subnet: 'A', dpid: 1n, port: 3 } }, 0);
    await registry.flush(0);
    const times: number[] = [];
    for (let i = 0; i < MOVES; i++) {
      const t = performance.now();
      registry.apply(decision(registry, i), i + 1);
      await registry.flush(i + 1); // the journal's fsync: when the move is durable
      times.push(performance.now() - t);
    }
    await repo.close();
    return times;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function etcdLatency(cluster: EtcdCluster): Promise<{ commit: number[]; observed: number[] }> {
  const commit: number[] = [];
  // onCommit: the transaction alone, as the store sees it.
  const r = await SharedReplica.open(cluster.endpoints, '/bench-latency/', caseStudyMap(), { reuseGraceMs: 0, onCommit: (ms, o) => { if (o === 'committed') commit.push(ms); } });
  try {
    await r.learn(VM.eid, VM.mac, { subnet: 'A', dpid: 1n, port: 3 });
    commit.length = 0;
    const observed: number[] = [];
    for (let i = 0; i < MOVES; i++) {
      const t = performance.now();
      const result = await r.registry.commit(decision(r.registry, i), Date.now());
      if (result.status !== 'committed') throw new Error(`move ${i}: ${result.status}`);
      observed.push(performance.now() - t); // committed and back through the change feed: what the runtime waits for
    }
    return { commit, observed };
  } finally {
    r.close();
  }
}

async function failover(cluster: EtcdCluster, detector: 'liveness' | 'lease-only'): Promise<void> {
  const prefix = `/bench-failover-${detector}/`;
  const switches = Array.from({ length: 16 }, (_, i) => dpidHex(i + 1));
  let serial = 0;
  const replicas: ReplicaProcess[] = [];
  const join = async () => {
    const r = await ReplicaProcess.start(cluster.endpoints, prefix, `r${++serial}`, TTL_MS, 100, detector);
    replicas.push(r);
    return r;
  };
  const living = () => replicas.filter((r) => !r.exited);
  try {
    for (let i = 0; i < 3; i++) await join();
    await waitUntil(async () => (await Promise.all(living().map((r) => r.view()))).every((v) => v.replicas.length === 3), { timeoutMs: 10_000, what: 'three replicas' });
    for (const r of living()) for (const d of switches) r.send(`connect ${d}`);
    await waitUntil(() => mastersOf(living()).size === 16, { timeoutMs: 10_000, what: 'a master for every switch' });
    const perKill: number[] = [];
    const perSwitch: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const victim = living().reduce((a, b) => (a.mastered().length >= b.mastered().length ? a : b));
      const orphans = victim.mastered();
      const killedAt = await victim.kill();
      await waitUntil(() => orphans.every((d) => mastersOf(living()).has(d)), { timeoutMs: TTL_MS + 10_000, what: `kill ${k}: new masters` });
      const taken = orphans.map((d) => Math.min(...living().flatMap((r) => r.roles.filter((x) => x.dpid === d && x.role === 'master' && x.t >= killedAt).map((x) => x.since))) - killedAt);
      perSwitch.push(...taken);
      perKill.push(Math.max(...taken));
      console.log(`  kill ${k + 1}: ${victim.id} held ${orphans.length}, all re-mastered after ${Math.max(...taken)} ms (first ${Math.min(...taken)} ms)`);
      const fresh = await join();
      await waitUntil(async () => (await fresh.view()).replicas.length === 3, { timeoutMs: TTL_MS + 10_000, what: 'the replacement to see three replicas' });
      for (const d of switches) fresh.send(`connect ${d}`);
      // The replacement takes nothing over (no preemption); let it settle before the next kill.
      await waitUntil(() => switches.every((d) => fresh.latest().has(d)), { timeoutMs: 5000, what: 'the replacement to report every switch' });
    }
    console.log(`failover, ${detector === 'liveness' ? 'liveness connections and lease' : 'lease alone'} (lease TTL ${TTL_MS} ms, ${KILLS} kills of the busiest master):`);
    console.log(`  every orphan re-mastered: ${summary(perKill)}`);
    console.log(`  per orphaned switch:      ${summary(perSwitch)}`);
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
}

const cluster = await EtcdCluster.start({ members: 3 });
try {
  if (ONLY.has('latency')) {
    console.log(`store latency of a move, ${MOVES} moves of one endpoint (B <-> C):`);
    const file = await fileLatency();
    console.log(`  file store (append + fsync'd flush):                ${summary(file)}`);
    const etcd = await etcdLatency(cluster);
    console.log(`  etcd, 3 members, transaction only:                  ${summary(etcd.commit)}`);
    console.log(`  etcd, 3 members, commit() until the feed brought it: ${summary(etcd.observed)}`);
  }
  if (ONLY.has('failover')) for (const d of DETECTORS) await failover(cluster, d);
} finally {
  await cluster.destroy();
}
