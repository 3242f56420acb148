// One replica of a cluster of controllers (docs/cluster.md): the shell that joins the etcd parts
// (mastership per switch, the shared store's change feed, the move acks) to the runtime.
// - Every switch connects to every replica. At once a replica asks to be its SLAVE (no writes, no
//   packet-ins); when etcd makes it a switch's master, it asks to be MASTER with the generation id
//   etcd gave (the switch itself refuses a deposed master: OFPRRFC_STALE), reads the switch's flows
//   and brings them to the desired state (a diff, not a reinstall). It writes only to switches it
//   masters and whose role it still holds (the lease's local deadline).
// - The change feed brings the other replicas' binding changes (and intents): the runtime follows
//   them on the switches this replica masters, in step with the others (move acks).

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Etcd3 } from 'etcd3';
import type { Subscription } from 'rxjs';
import type { Fabric } from '../fabric/index.js';
import type { SwitchRoles } from '../fabric/roles.js';
import type { Logger } from '../log.js';
import type { BindingRegistry, MigrationIntents, RevisionChanges } from '../mobility/index.js';
import { OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE } from '../openflow/index.js';
import { formatDpid, type SwitchConnection, type SwitchRegistry } from '../switch/index.js';
import type { FeedState } from './change-feed.js';
import { FeedCompactedError } from './change-feed.js';
import type { EtcdBindingRepository } from './etcd-binding-repository.js';
import { Mastership, type RoleEvent } from './mastership.js';
import { splitAddress } from './peer-liveness.js';
import { EtcdMoveAcks } from './move-acks.js';
import { EtcdRemoteProbes } from './remote-probes.js';
import { requestRole } from './switch-role.js';

export interface ClusterReplicaOptions {
  readonly client: Etcd3;
  readonly repository: EtcdBindingRepository;
  readonly switches: SwitchRegistry;
  readonly prefix: string;
  readonly replicaId: string;
  readonly leaseTtlMs: number;
  /** host:port of this replica's liveness port ('' = off; peer-liveness.ts). */
  readonly livenessAddress?: string;
  /** Delay between two places of a switch's campaign order (default 100 ms). */
  readonly campaignStepMs?: number;
  readonly log: Logger;
  readonly metrics: Registry;
}

export interface ClusterView {
  readonly replica: string;
  readonly replicas: readonly string[];
  /** Who masters each switch (dpid text), as far as this replica knows. */
  readonly masters: Readonly<Record<string, string>>;
  /** The switches this replica writes now. */
  readonly mastered: readonly string[];
  readonly leaseAlive: boolean;
  /** This replica's etcd lease: its id (hex; null while a new one is being granted) and the TTL it asks for. */
  readonly lease: { readonly id: string | null; readonly ttlMs: number };
  /** The change feed: following, or why not. */
  readonly feed: { readonly connected: boolean; readonly error?: string };
  /** This replica's liveness port and the peers it holds a verified connection to (undefined: the detector is off). */
  readonly liveness?: { readonly address: string; readonly verified: readonly string[] };
}

export class ClusterReplica implements SwitchRoles {
  readonly mastership: Mastership;
  readonly coordination: EtcdMoveAcks;
  readonly probes: EtcdRemoteProbes;
  private readonly mastered = new Set<bigint>();
  private readonly subscriptions: Subscription[] = [];
  private readonly log: Logger;
  private readonly roleChanges: Counter<'role'>;
  private readonly takeovers: Counter;
  private readonly staleRefusals: Counter;
  private feedState: { connected: boolean; error?: string } = { connected: false, error: 'starting' };

  constructor(private readonly options: ClusterReplicaOptions) {
    this.log = options.log.child({ component: 'cluster', replica: options.replicaId });
    const liveness = splitAddress(options.livenessAddress ?? '', true);
    const registers = [options.metrics];
    const peerDeaths = new Counter({ name: 'seamless_cluster_peer_deaths_total', help: 'Replicas this one saw die on their liveness connection, whose lease it revoked (instead of waiting for the TTL).', registers });
    this.mastership = new Mastership({
      client: options.client, prefix: options.prefix, replicaId: options.replicaId, ttlMs: options.leaseTtlMs, log: this.log,
      ...(liveness === undefined ? {} : { liveness }), onPeerDead: () => peerDeaths.inc(),
      ...(options.campaignStepMs === undefined ? {} : { stepMs: options.campaignStepMs }),
    });
    this.coordination = new EtcdMoveAcks({ client: options.client, prefix: options.prefix, replicaId: options.replicaId, log: this.log });
    this.probes = new EtcdRemoteProbes({ client: options.client, prefix: options.prefix, log: this.log });
    this.roleChanges = new Counter({ name: 'seamless_cluster_role_changes_total', help: 'Switch roles this replica took (master or slave).', labelNames: ['role'] as const, registers });
    this.takeovers = new Counter({ name: 'seamless_cluster_takeovers_total', help: 'Switches this replica became master of (a failover or a first election).', registers });
    this.staleRefusals = new Counter({ name: 'seamless_cluster_stale_role_refusals_total', help: 'Role requests of this replica a switch refused as stale (OFPRRFC_STALE: it holds a newer generation id).', registers });
    const mastered = this.mastered;
    new Gauge({ name: 'seamless_cluster_mastered_switches', help: 'Switches this replica masters now.', registers, collect() { this.set(mastered.size); } });
    const lease = () => this.mastership.view().leaseAlive;
    new Gauge({ name: 'seamless_cluster_lease_alive', help: '1 while this replica\'s etcd lease is surely alive.', registers, collect() { this.set(lease() ? 1 : 0); } });
  }

  /** A store commit took `ms` (for the store latency histogram; the repository reports through it). */
  static commitLatency(metrics: Registry): (ms: number, outcome: string) => void {
    const h = new Histogram({
      name: 'seamless_store_commit_seconds', help: 'Binding store commits (etcd transactions), by outcome.', labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [metrics],
    });
    return (ms, outcome) => h.observe({ outcome }, ms / 1000);
  }

  canWrite(dpid: bigint): boolean {
    return this.mastered.has(dpid) && this.mastership.role(dpid) === 'master';
  }

  /** Joins the cluster and starts following it. Throws StoreUnavailableError when etcd does not answer. */
  async start(fabric: Fabric, registry: BindingRegistry, intents: MigrationIntents): Promise<void> {
    const { switches } = this.options;
    this.subscriptions.push(
      this.mastership.roles$.subscribe((ev) => this.onRole(ev, fabric)),
      switches.switchUp$.subscribe((sw) => {
        this.requestRole(sw, OFPCR_ROLE_SLAVE, this.mastership.generationId(sw.dpid) ?? 0n)
          .catch((e: Error) => this.log.warn('switch refused this replica as slave: it may hold the EQUAL role', { dpid: sw.dpidText, error: e.message }));
        this.mastership.connected(sw.dpid);
      }),
      switches.switchDown$.subscribe((sw) => {
        this.mastered.delete(sw.dpid);
        this.mastership.disconnected(sw.dpid);
      }),
    );
    await this.mastership.start();
    await this.probes.serve((dpid) => this.canWrite(dpid), (check) => fabric.verifyAttachment(check));
    this.follow(fabric, registry, intents);
  }

  view(): ClusterView {
    const v = this.mastership.view();
    return {
      replica: this.options.replicaId, replicas: v.replicas,
      masters: Object.fromEntries([...v.masters].map(([dpid, replica]) => [formatDpid(dpid), replica])),
      mastered: [...this.mastered].filter((d) => this.canWrite(d)).map(formatDpid), leaseAlive: v.leaseAlive, feed: this.feedState,
      lease: { id: v.leaseId === undefined ? null : BigInt(v.leaseId).toString(16), ttlMs: this.mastership.timing.ttlMs },
      ...(v.liveness === undefined ? {} : { liveness: v.liveness }),
    };
  }

  async stop(): Promise<void> {
    for (const s of this.subscriptions) s.unsubscribe();
    this.coordination.stop();
    await this.probes.stop();
    await this.mastership.stop().catch((e: Error) => this.log.warn('could not leave the cluster cleanly', { error: e.message }));
  }

  /** The other replicas' changes: the registry mirrors them, the runtime follows them on this replica's switches. */
  private follow(fabric: Fabric, registry: BindingRegistry, intents: MigrationIntents): void {
    const feed = this.options.repository.changes(registry.revision, {
      onState: (s: FeedState) => { this.feedState = s.connected ? { connected: true } : { connected: false, error: s.error.message }; },
    });
    this.subscriptions.push(feed.subscribe({
      next: (batch: RevisionChanges) => {
        const now = Date.now();
        const { events, problems } = registry.observe(batch, now);
        for (const p of problems) this.log.warn('store change does not fit this replica\'s config', { problem: p });
        for (const change of batch.changes) {
          if (change.kind !== 'intent') continue;
          if (change.intent === undefined) intents.consume(change.eid);
          else if (intents.register({ ...change.intent }, now, false).ok) {
            const intent = intents.get(change.eid, now) ?? change.intent;
            // Every replica stages it on the switches it masters; a stopped VM's frames are held by the master of its switch (whichever replica heard it).
            fabric.phases.onIntent(intent).catch((e: Error) => this.log.warn('could not act on an intent of another replica', { eid: change.eid, phase: intent.phase, error: e.message }));
          }
        }
        if (events.length > 0) fabric.follow(events).catch((e: Error) => this.log.error('could not follow the store', { error: e.message }));
      },
      error: (error: unknown) => {
        // A compacted position or a corrupt value: this replica cannot follow any more; say so loudly.
        const why = error instanceof FeedCompactedError ? 'the store compacted past this replica\'s position (restart it)' : (error as Error).message;
        this.log.error('binding store feed ended: this replica no longer follows the cluster', { error: why });
        this.feedState = { connected: false, error: why };
      },
    }));
  }

  private onRole(ev: RoleEvent, fabric: Fabric): void {
    const sw = this.options.switches.get(ev.dpid);
    if (ev.role === 'master') {
      if (sw === undefined) return;
      this.requestRole(sw, OFPCR_ROLE_MASTER, ev.generationId).then(() => {
        if (this.mastership.role(ev.dpid) !== 'master') return; // lost it while asking
        this.mastered.add(ev.dpid);
        this.roleChanges.inc({ role: 'master' });
        this.takeovers.inc();
        this.log.info('switch mastered', { dpid: sw.dpidText, generationId: ev.generationId.toString() });
        return fabric.becameMaster(ev.dpid);
      }).catch((e: Error) => this.log.warn('switch refused this replica as master', { dpid: sw.dpidText, generationId: ev.generationId.toString(), error: e.message }));
      return;
    }
    const had = this.mastered.delete(ev.dpid);
    if (!had) return;
    this.roleChanges.inc({ role: 'slave' });
    this.log.info('switch no longer mastered', { dpid: formatDpid(ev.dpid) });
    fabric.lostMastership(ev.dpid);
    if (sw !== undefined) {
      this.requestRole(sw, OFPCR_ROLE_SLAVE, ev.generationId)
        .catch((e: Error) => this.log.warn('switch refused this replica as slave: it may hold the EQUAL role', { dpid: sw.dpidText, error: e.message }));
    }
  }

  /**
   * A switch that holds a newer generation id refuses the request as stale (fencing a deposed
   * master): said and counted. What a switch granted is said too (a few lines per role change):
   * with the refusals, the log tells which generation id each connection ended with.
   */
  private async requestRole(sw: SwitchConnection, role: number, generationId: bigint): Promise<void> {
    const reply = await requestRole(sw, role, generationId, (asked, switchHolds) => {
      this.staleRefusals.inc();
      this.log.info('switch refused a stale generation id', {
        dpid: sw.dpidText, role: role === OFPCR_ROLE_MASTER ? 'master' : 'slave', generationId: asked.toString(),
        ...(switchHolds === undefined ? {} : { switchGenerationId: switchHolds.toString() }),
      });
    });
    this.log.info('switch role granted', { dpid: sw.dpidText, role: role === OFPCR_ROLE_MASTER ? 'master' : 'slave', generationId: reply.generationId.toString() });
  }
}
