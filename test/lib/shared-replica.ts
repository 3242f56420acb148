// A replica's binding state on a shared etcd store, for tests: its client, the repository, a
// BindingRegistry mirroring the store through the change feed, and the events other replicas
// caused. What the runtime will wire, reduced to the store.

import type { Subscription } from 'rxjs';
import { connectEtcd } from '../../controller/cluster/etcd-client.js';
import { EtcdBindingRepository } from '../../controller/cluster/etcd-binding-repository.js';
import type { FeedState } from '../../controller/cluster/change-feed.js';
import {
  BindingRegistry, type Binding, type BindingEvent, type CommitResult, type MoveDecision, type SubnetMap,
} from '../../controller/mobility/index.js';

export interface ReplicaOptions {
  readonly requestTimeoutMs?: number;
  readonly livenessMs?: number;
  readonly observeTimeoutMs?: number;
  readonly reuseGraceMs?: number;
  readonly onCommit?: (ms: number, outcome: 'committed' | 'conflict' | 'unavailable') => void;
}

export class SharedReplica {
  readonly foreign: BindingEvent[] = [];
  readonly feedStates: FeedState[] = [];
  feedError: Error | undefined;
  private subscription: Subscription | undefined;

  private constructor(
    readonly client: ReturnType<typeof connectEtcd>,
    readonly repository: EtcdBindingRepository,
    readonly registry: BindingRegistry,
  ) {}

  static async open(endpoints: readonly string[], prefix: string, subnets: SubnetMap, options: ReplicaOptions = {}): Promise<SharedReplica> {
    const client = connectEtcd({ endpoints, requestTimeoutMs: options.requestTimeoutMs ?? 1000 });
    const repository = new EtcdBindingRepository({ client, prefix, ...(options.onCommit ? { onCommit: options.onCommit } : {}) });
    const { registry } = await BindingRegistry.open(subnets, repository, { reuseGraceMs: options.reuseGraceMs ?? 60_000, observeTimeoutMs: options.observeTimeoutMs ?? 5000 });
    const replica = new SharedReplica(client, repository, registry);
    replica.subscription = repository.changes(registry.revision, { livenessMs: options.livenessMs ?? 1500, onState: (s) => replica.feedStates.push(s) }).subscribe({
      next: (batch) => replica.foreign.push(...registry.observe(batch, Date.now()).events),
      error: (error: Error) => { replica.feedError = error; },
    });
    return replica;
  }

  learn(eid: string, mac: string, at: { subnet: string; dpid: bigint; port: number }): Promise<CommitResult> {
    return this.registry.commit({ kind: 'learn-new', eid, mac, at }, Date.now());
  }

  /** Moves the EID as this replica's mirror has it now (a stale mirror makes a conflict). */
  move(eid: string, to: { subnet: string; dpid: bigint; port: number }, binding?: Binding): Promise<CommitResult> {
    const current = binding ?? this.registry.bindings.byEid(eid);
    if (current === undefined) throw new Error(`${eid} is not bound here`);
    const decision: MoveDecision = { kind: 'move', binding: current, to, locator: to.subnet === current.homeSubnet ? 'home' : 'allocate', reason: 'old-port-down' };
    return this.registry.commit(decision, Date.now());
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.client.close();
  }
}
