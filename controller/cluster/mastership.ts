// Mastership of switches among replicas, through etcd. Every replica holds one lease and
// registers itself under cluster/replicas/ with it; the master of a switch is whoever created
// cluster/masters/<dpid> (a transaction that checks the key does not exist), on its lease. So:
// - one master per switch at a time, decided by etcd;
// - the key's create revision is the OF1.3 generation id: every new master of a switch has a
//   higher one, so a switch refuses a deposed master's ROLE_REQUEST (OFPRRFC_STALE);
// - a replica that dies or loses etcd loses its lease after the TTL, which deletes its keys;
//   the others see the deletions and campaign (mastership-rules.ts: spread by rendezvous
//   order, a replica with its share waits behind those without);
// - a replica reports 'slave' for everything it holds once its lease is not surely alive
//   (ReplicaLease's local deadline, before etcd can expire it), so two replicas never both
//   claim a switch, a stopped process included.
// A killed replica is also noticed at once by the others' liveness connections to it
// (peer-liveness.ts), which revoke its lease instead of waiting for the TTL.
// A replica campaigns only for switches connected to it. Mastership does not move back when a
// replica joins; switches whose master disconnects them are released at once.

import type { Etcd3 } from 'etcd3';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { silentLogger, type Logger } from '../log.js';
import { formatDpid } from '../switch/dpid.js';
import { changeFeed, FeedCompactedError, type WatchedRevision } from './change-feed.js';
import { storeCall } from './etcd-client.js';
import {
  campaignDelayMs, fairShare, leaseTiming, rendezvousRank, roleOf, type LeaseTiming, type MasterRecord, type Role,
} from './mastership-rules.js';
import { PeerLiveness, splitAddress, type LivenessPeer } from './peer-liveness.js';
import { ReplicaLease, type LeaseState } from './replica-lease.js';
import { prefixEnd, StoreKeys } from './store-keys.js';

export interface RoleEvent {
  readonly dpid: bigint;
  readonly role: Role;
  /** For ROLE_REQUEST: the master key's create revision (the last known one when no replica masters the switch). */
  readonly generationId: bigint;
  /** When the role took effect (epoch ms): for a step-down at the lease deadline, that deadline. */
  readonly since: number;
}

export interface MastershipOptions {
  readonly client: Etcd3;
  readonly prefix?: string;
  readonly replicaId: string;
  readonly ttlMs: number;
  readonly marginMs?: number;
  /** Delay between two places of a switch's campaign order (default 100 ms). */
  readonly stepMs?: number;
  readonly log?: Logger;
  /** Monotonic milliseconds (performance.now by default). */
  readonly clock?: () => number;
  /** Where this replica listens for the others' liveness connections; undefined: dead replicas are noticed by their lease only. */
  readonly liveness?: { readonly host: string; readonly port: number };
  /** A dead replica was noticed by its liveness connection and its lease revoked (for metrics). */
  readonly onPeerDead?: (replica: string) => void;
}

const RETRY_AFTER_FAILURE_MS = 500;

export class Mastership {
  readonly replicaId: string;
  readonly timing: LeaseTiming;
  private readonly client: Etcd3;
  private readonly keys: StoreKeys;
  private readonly stepMs: number;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly lease: ReplicaLease;
  private readonly events = new Subject<RoleEvent>();
  private readonly masters = new Map<bigint, MasterRecord>();
  /** The live replicas: each one's lease and liveness address, as its registration says. */
  private readonly replicas = new Map<string, { lease: string; liveness?: string }>();
  private readonly liveness: PeerLiveness | undefined;
  private readonly connectedSwitches = new Set<bigint>();
  /** Switches without a master, since when (clock): campaign delays count from there. */
  private readonly freeSince = new Map<bigint, number>();
  private readonly timers = new Map<bigint, NodeJS.Timeout>();
  private readonly inFlight = new Set<bigint>();
  private readonly reported = new Map<bigint, { role: Role; generationId: bigint }>();
  private readonly lastGeneration = new Map<bigint, bigint>();
  /** The create revision of each switch's last master key seen deleted (a late campaign answer must not bring it back). */
  private readonly gone = new Map<bigint, bigint>();
  private feed: Subscription | undefined;
  private stopped = false;

  constructor(options: MastershipOptions) {
    this.replicaId = options.replicaId;
    this.client = options.client;
    this.keys = new StoreKeys(options.prefix);
    this.timing = leaseTiming(options.ttlMs, options.marginMs);
    this.stepMs = options.stepMs ?? 100;
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? (() => performance.now());
    this.lease = new ReplicaLease({ client: this.client, timing: this.timing, log: this.log, clock: this.clock, onChange: (s) => this.leaseChanged(s) });
    if (options.liveness !== undefined) {
      this.liveness = new PeerLiveness({
        replicaId: this.replicaId, listen: options.liveness, log: this.log,
        onDead: (peer) => { this.revokeDead(peer).then((revoked) => { if (revoked) options.onPeerDead?.(peer.replica); }, () => undefined); },
      });
    }
  }

  /** This replica's role changes, per switch connected to it. */
  get roles$(): Observable<RoleEvent> {
    return this.events.asObservable();
  }

  /** Grants the lease, registers the replica, reads who masters what and follows it. Throws StoreUnavailableError. */
  async start(): Promise<void> {
    await this.liveness?.listen();
    await this.lease.start();
    await this.register();
    await this.follow();
  }

  /** A switch connected to this replica: it may campaign for it. */
  connected(dpid: bigint): void {
    this.connectedSwitches.add(dpid);
    this.evaluate(dpid);
  }

  /** A switch left this replica: if it mastered it, the key goes at once so another replica can take over. */
  disconnected(dpid: bigint): void {
    this.connectedSwitches.delete(dpid);
    this.cancelTimer(dpid);
    this.freeSince.delete(dpid);
    this.reported.delete(dpid);
    const holder = this.masters.get(dpid);
    if (holder !== undefined && holder.lease === this.lease.id) this.resign(dpid, holder).catch((error: Error) => this.log.warn('resign failed', { error: error.message }));
  }

  /** The role now (checks the lease deadline at the moment of asking). */
  role(dpid: bigint): Role {
    return this.current(dpid).role;
  }

  generationId(dpid: bigint): bigint | undefined {
    return this.masters.get(dpid)?.createRevision ?? this.lastGeneration.get(dpid);
  }

  /** Who masters what, as far as this replica knows: for the API. */
  view(): { replicas: string[]; masters: Map<bigint, string>; leaseAlive: boolean; leaseId: string | undefined; liveness: { address: string; verified: string[] } | undefined } {
    const address = this.liveness?.address;
    return {
      liveness: address === undefined ? undefined : { address, verified: this.liveness!.verified() },
      replicas: [...this.replicas.keys()].sort(),
      masters: new Map([...this.masters].map(([dpid, m]) => [dpid, m.replica])),
      leaseAlive: this.lease.alive(),
      leaseId: this.lease.id,
    };
  }

  /** Steps down from everything (reported as slave) and lets the lease go, which frees the keys at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const dpid of [...this.timers.keys()]) this.cancelTimer(dpid);
    this.feed?.unsubscribe();
    await this.lease.stop(true);
    await this.liveness?.close();
    for (const dpid of this.connectedSwitches) this.report(dpid);
    this.events.complete();
  }

  private current(dpid: bigint): { role: Role; generationId: bigint } {
    return roleOf(this.masters.get(dpid), { replica: this.replicaId, lease: this.lease.id }, !this.stopped && this.lease.alive(), this.lastGeneration.get(dpid) ?? 0n);
  }

  /**
   * Emits the switch's role if it changed. A master that is a slave now stopped being master
   * at its lease deadline at the latest (after a SIGSTOP the feed's news can come before the
   * deadline's timer: the step-down is dated by the deadline all the same).
   */
  private report(dpid: bigint, at: number = Date.now()): void {
    if (!this.connectedSwitches.has(dpid)) return;
    const now = this.current(dpid);
    const before = this.reported.get(dpid);
    if (before?.role === now.role && before.generationId === now.generationId) return;
    this.reported.set(dpid, now);
    const deadline = Date.now() - (this.clock() - this.lease.deadline);
    const since = before?.role === 'master' && now.role === 'slave' && Number.isFinite(deadline) ? Math.min(at, deadline) : at;
    this.events.next({ dpid, ...now, since });
  }

  /**
   * Reports the switch's role and decides whether to campaign for it, now or later. The delay
   * counts from when the switch was first seen without a master and is decided again when it is
   * due, with what this replica holds then (its campaigns in flight included).
   */
  private evaluate(dpid: bigint): void {
    this.report(dpid);
    if (this.stopped || !this.connectedSwitches.has(dpid) || this.masters.has(dpid)) {
      this.cancelTimer(dpid);
      this.freeSince.delete(dpid);
      return;
    }
    if (this.inFlight.has(dpid) || !this.lease.alive()) return;
    const now = this.clock();
    const since = this.freeSince.get(dpid) ?? now;
    this.freeSince.set(dpid, since);
    const replicas = Math.max(1, this.replicas.size);
    const mine = [...this.masters.values()].filter((m) => m.lease === this.lease.id).length;
    const delay = campaignDelayMs({
      rank: rendezvousRank(this.replicaId, [...this.replicas.keys()], dpid),
      held: mine + this.inFlight.size,
      share: fairShare(new Set([...this.masters.keys(), ...this.connectedSwitches]).size, replicas),
      replicas,
      stepMs: this.stepMs,
    });
    this.cancelTimer(dpid);
    const wait = since + delay - now;
    if (wait <= 0) this.campaign(dpid).catch((error: Error) => this.log.error('campaign failed unexpectedly', { dpid: formatDpid(dpid), error: error.message }));
    else this.timers.set(dpid, setTimeout(() => { this.timers.delete(dpid); this.evaluate(dpid); }, wait));
  }

  private async campaign(dpid: bigint): Promise<void> {
    this.inFlight.add(dpid);
    const lease = this.lease.id;
    let failed = false;
    try {
      if (lease === undefined) return;
      const key = Buffer.from(this.keys.master(dpid));
      const res = await storeCall('campaign', () => this.client.kv.txn({
        compare: [{ key, target: 'Version', result: 'Equal', version: 0 }],
        success: [{ request_put: { key, value: Buffer.from(JSON.stringify({ replica: this.replicaId })), lease } }],
        failure: [{ request_range: { key } }],
      }));
      if (res.succeeded) {
        this.record(dpid, { replica: this.replicaId, lease, createRevision: BigInt(res.header.revision) });
        this.log.info('switch mastered', { dpid: formatDpid(dpid), generationId: res.header.revision });
      } else {
        const kv = res.responses[0]?.response_range?.kvs[0];
        if (kv !== undefined) this.record(dpid, masterRecord(kv.value, String(kv.lease), BigInt(kv.create_revision)));
      }
    } catch (error) {
      failed = true;
      this.log.warn('campaign failed', { dpid: formatDpid(dpid), error: (error as Error).message });
    } finally {
      this.inFlight.delete(dpid);
      if (failed && !this.stopped) this.timers.set(dpid, setTimeout(() => { this.timers.delete(dpid); this.evaluate(dpid); }, RETRY_AFTER_FAILURE_MS));
      else this.evaluate(dpid);
    }
  }

  /**
   * A master record, unless this one or a later one is known already: a campaign's answer can
   * come after the feed brought its key, or even the key's deletion.
   */
  private record(dpid: bigint, m: MasterRecord): void {
    const known = this.masters.get(dpid);
    if (known !== undefined && known.createRevision >= m.createRevision) return;
    if ((this.gone.get(dpid) ?? -1n) >= m.createRevision) return;
    this.masters.set(dpid, m);
    if ((this.lastGeneration.get(dpid) ?? -1n) < m.createRevision) this.lastGeneration.set(dpid, m.createRevision);
  }

  private forget(dpid: bigint): void {
    const known = this.masters.get(dpid);
    if (known !== undefined) this.gone.set(dpid, known.createRevision);
    this.masters.delete(dpid);
  }

  private cancelTimer(dpid: bigint): void {
    clearTimeout(this.timers.get(dpid));
    this.timers.delete(dpid);
  }

  private async resign(dpid: bigint, holder: MasterRecord): Promise<void> {
    const key = Buffer.from(this.keys.master(dpid));
    await storeCall('resign', () => this.client.kv.txn({
      compare: [{ key, target: 'Create', result: 'Equal', create_revision: holder.createRevision.toString() }],
      success: [{ request_delete_range: { key } }],
    })).catch((error: Error) => this.log.warn('resign failed (the lease will free the switch)', { dpid: formatDpid(dpid), error: error.message }));
  }

  private leaseChanged(state: LeaseState): void {
    switch (state.kind) {
      case 'granted':
        this.register().catch((error: Error) => this.log.warn('replica registration failed', { error: error.message }));
        break;
      case 'expired':
        for (const dpid of this.connectedSwitches) this.report(dpid);
        return;
      case 'lost':
        for (const [dpid, m] of this.masters) if (m.lease === state.lease) this.forget(dpid);
        break;
      case 'renewed':
        break;
    }
    for (const dpid of this.connectedSwitches) this.evaluate(dpid);
  }

  private async register(): Promise<void> {
    const lease = this.lease.id;
    if (lease === undefined) return;
    const liveness = this.liveness?.address;
    await storeCall('register replica', () => this.client.kv.put({
      key: Buffer.from(this.keys.replica(this.replicaId)), value: Buffer.from(JSON.stringify({ replica: this.replicaId, ...(liveness === undefined ? {} : { liveness }) })), lease,
    }));
    this.replicas.set(this.replicaId, { lease });
  }

  /**
   * A replica whose process is surely gone (peer-liveness.ts): its lease goes now, with its
   * keys, instead of at the TTL. The others (this one included) then campaign as after an expiry.
   */
  private async revokeDead(peer: LivenessPeer): Promise<boolean> {
    return storeCall('revoke a dead replica\'s lease', () => this.client.leaseClient.leaseRevoke({ ID: peer.lease })).then(() => true, (error: Error) => {
      this.log.info('dead replica\'s lease not revoked (gone already, or etcd unreachable: it expires)', { replica: peer.replica, error: error.message });
      return false;
    });
  }

  /** The others' liveness addresses to the detector. */
  private trackPeers(): void {
    this.liveness?.track([...this.replicas].flatMap(([replica, r]) => (r.liveness === undefined ? [] : [{ replica, lease: r.lease, address: r.liveness }])));
  }

  /** Reads cluster/ at one revision, then follows every change after it. */
  private async follow(): Promise<void> {
    const res = await storeCall('cluster state', () => this.client.kv.range({ key: Buffer.from(this.keys.cluster), range_end: prefixEnd(this.keys.cluster) }));
    this.masters.clear();
    this.gone.clear();
    this.replicas.clear();
    for (const kv of res.kvs) this.applyKey(kv.key.toString(), 'put', kv.value, String(kv.lease), BigInt(kv.create_revision));
    this.trackPeers();
    this.feed = changeFeed(this.client, this.keys.cluster, Number(res.header.revision)).subscribe({
      next: (r) => this.applyRevision(r),
      error: (error: Error) => {
        this.log.warn('cluster feed ended; reading the cluster state again', { error: error.message, compacted: error instanceof FeedCompactedError });
        this.refollow();
      },
    });
    for (const dpid of this.connectedSwitches) this.evaluate(dpid);
  }

  /** follow() again after a pause, until it works. */
  private refollow(): void {
    if (this.stopped) return;
    setTimeout(() => {
      this.follow().catch((error: Error) => {
        this.log.warn('reading the cluster state failed', { error: error.message });
        this.refollow();
      });
    }, RETRY_AFTER_FAILURE_MS);
  }

  private applyRevision(r: WatchedRevision): void {
    const touched = new Set<bigint>();
    let replicasChanged = false;
    for (const e of r.events) {
      const dpid = this.applyKey(e.key, e.type, e.value, e.lease, BigInt(e.createRevision), BigInt(e.modRevision));
      if (dpid === 'replica') replicasChanged = true;
      else if (dpid !== undefined) touched.add(dpid);
    }
    if (replicasChanged) this.trackPeers();
    // Evaluate after the whole revision: a dead replica's lease takes its keys and its registration in one.
    for (const dpid of replicasChanged ? this.connectedSwitches : touched) this.evaluate(dpid);
  }

  private applyKey(key: string, type: 'put' | 'delete', value: Buffer, lease: string, createRevision: bigint, modRevision = createRevision): bigint | 'replica' | undefined {
    const replica = this.keys.parseReplica(key);
    if (replica !== undefined) {
      if (type === 'put') this.replicas.set(replica, { lease, ...livenessOf(value) });
      else this.replicas.delete(replica);
      return 'replica';
    }
    const dpid = this.keys.parseMaster(key);
    if (dpid === undefined) return undefined;
    if (type === 'delete') {
      // The deletion of an older master key: a campaign's answer may have brought the newer one first
      // (a replica resumed after a pause reads the current master before its feed catches up).
      const known = this.masters.get(dpid);
      if (known === undefined || known.createRevision <= modRevision) this.forget(dpid);
    } else {
      this.record(dpid, masterRecord(value, lease, createRevision));
    }
    return dpid;
  }
}

function masterRecord(value: Buffer, lease: string, createRevision: bigint): MasterRecord {
  let replica = '?';
  try {
    const v = JSON.parse(value.toString()) as { replica?: unknown };
    if (typeof v.replica === 'string') replica = v.replica;
  } catch { /* a foreign value: the key still says the switch has a master */ }
  return { replica, lease, createRevision };
}

/** The liveness address in a replica's registration, if it is a usable one (a foreign value has none). */
function livenessOf(value: Buffer): { liveness?: string } {
  try {
    const v = JSON.parse(value.toString()) as { liveness?: unknown };
    return typeof v.liveness === 'string' && splitAddress(v.liveness) !== undefined ? { liveness: v.liveness } : {};
  } catch {
    return {};
  }
}
