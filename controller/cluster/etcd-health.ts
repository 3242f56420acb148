// etcd's health as a replica sees it, for the API and metrics: per configured endpoint, whether
// the member answers (maintenance Status: version, leader, raft term, backend size) and whether a
// linearizable read through it goes through (it does only while the cluster has a quorum and a
// leader). Each endpoint has its own client, so one member's answer is never another's; calls
// have a short deadline, and the reading is shared and kept for a second, so a dashboard, a
// Prometheus scrape and an operator's curl cost etcd one round per second at most.

import type { Etcd3 } from 'etcd3';
import { Gauge, type Registry } from 'prom-client';

export interface EtcdMemberHealth {
  readonly endpoint: string;
  /** The member answered Status in time. */
  readonly reachable: boolean;
  /** A linearizable read through this member went through: it is part of a quorum with a leader. */
  readonly quorum: boolean;
  /** This member is the raft leader. */
  readonly leader: boolean;
  readonly version: string | null;
  readonly raftTerm: number | null;
  readonly dbSizeBytes: number | null;
  /** Why it is not reachable or has no quorum (the first error met). */
  readonly error: string | null;
}

export interface EtcdHealthView {
  readonly members: readonly EtcdMemberHealth[];
  /** Members that answered. */
  readonly reachable: number;
  /** At least one member served a linearizable read: writes (moves, mastership) can go through. */
  readonly quorum: boolean;
  /** When this reading was taken (epoch ms). */
  readonly checkedAt: number;
}

export interface EtcdHealthOptions {
  readonly endpoints: readonly string[];
  /** A client for one endpoint (the same TLS settings as the replica's own). */
  readonly connect: (endpoint: string, timeoutMs: number) => Etcd3;
  /** The key read to prove a quorum (any key: absent is fine). */
  readonly probeKey: string;
  readonly timeoutMs?: number;
  readonly cacheMs?: number;
  readonly now?: () => number;
}

export class EtcdHealth {
  private readonly clients = new Map<string, Etcd3>();
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private last: EtcdHealthView | undefined;
  private reading: Promise<EtcdHealthView> | undefined;

  constructor(private readonly options: EtcdHealthOptions) {
    this.timeoutMs = options.timeoutMs ?? 500;
    this.cacheMs = options.cacheMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** The last reading if it is younger than the cache time, else a new one (one at a time). */
  read(): Promise<EtcdHealthView> {
    const last = this.last;
    if (last !== undefined && this.now() - last.checkedAt < this.cacheMs) return Promise.resolve(last);
    this.reading ??= this.check().then((view) => {
      this.last = view;
      return view;
    }).finally(() => { this.reading = undefined; });
    return this.reading;
  }

  /** The last reading, without asking etcd (undefined before the first one). */
  cached(): EtcdHealthView | undefined {
    return this.last;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private async check(): Promise<EtcdHealthView> {
    const checkedAt = this.now();
    const members = await Promise.all(this.options.endpoints.map((e) => this.member(e)));
    return { members, reachable: members.filter((m) => m.reachable).length, quorum: members.some((m) => m.quorum), checkedAt };
  }

  private client(endpoint: string): Etcd3 {
    let c = this.clients.get(endpoint);
    if (c === undefined) {
      c = this.options.connect(endpoint, this.timeoutMs);
      this.clients.set(endpoint, c);
    }
    return c;
  }

  private async member(endpoint: string): Promise<EtcdMemberHealth> {
    const client = this.client(endpoint);
    const deadline = () => ({ deadline: Date.now() + this.timeoutMs });
    const [status, read] = await Promise.allSettled([
      withTimeout(client.maintenance.status(deadline()), this.timeoutMs),
      withTimeout(client.kv.range({ key: Buffer.from(this.options.probeKey), keys_only: true }, deadline()), this.timeoutMs),
    ]);
    const error = status.status === 'rejected' ? message(status.reason) : read.status === 'rejected' ? message(read.reason) : null;
    if (status.status === 'rejected') {
      return { endpoint, reachable: false, quorum: false, leader: false, version: null, raftTerm: null, dbSizeBytes: null, error };
    }
    const s = status.value;
    return {
      endpoint, reachable: true, quorum: read.status === 'fulfilled',
      leader: s.leader !== '0' && s.leader === s.header.member_id,
      version: s.version, raftTerm: Number(s.raftTerm), dbSizeBytes: Number(s.dbSize), error,
    };
  }
}

/** A gRPC deadline can be missed when the connection itself hangs: a local timer bounds every call. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** Gauges read from the shared reading when Prometheus scrapes (at most one etcd round a second). */
export function registerEtcdHealthMetrics(registry: Registry, health: EtcdHealth): void {
  const registers = [registry];
  new Gauge({
    name: 'seamless_cluster_etcd_members_reachable', help: 'etcd members that answered this replica (of those configured).', registers,
    async collect() { this.set((await health.read()).reachable); },
  });
  new Gauge({
    name: 'seamless_cluster_etcd_quorum', help: '1 while a linearizable read through some etcd member goes through (moves can be committed).', registers,
    async collect() { this.set((await health.read()).quorum ? 1 : 0); },
  });
}
