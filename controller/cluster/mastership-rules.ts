// The decisions of switch mastership, pure (mastership.ts does the I/O):
// - who campaigns first for a switch without a master (switches spread over the replicas);
// - the local lease deadline: a replica stops claiming mastership before etcd can expire its
//   lease and hand its switches to another, so two replicas never both act as master;
// - what role this replica has for a switch, and with which generation id.

import { createHash } from 'node:crypto';

export type Role = 'master' | 'slave';

/**
 * Rendezvous (highest random weight) order of the live replicas for one switch: every replica
 * computes the same order from the same names, each switch gets its own, and when a replica
 * leaves, its switches spread over the others instead of all going to one.
 */
export function rendezvousOrder(replicas: readonly string[], dpid: bigint): string[] {
  const weight = (r: string) => createHash('sha256').update(`${r}\u0000${dpid.toString(16)}`).digest('hex');
  return [...new Set(replicas)].map((r) => ({ r, w: weight(r) })).sort((a, b) => (a.w < b.w ? 1 : a.w > b.w ? -1 : 0)).map((x) => x.r);
}

/** This replica's place in the switch's rendezvous order (0 = first); the last place if it is not listed yet. */
export function rendezvousRank(self: string, replicas: readonly string[], dpid: bigint): number {
  const order = rendezvousOrder([...replicas, self], dpid);
  return order.indexOf(self);
}

/** How many switches a replica should master: the known switches shared evenly over the live replicas. */
export function fairShare(switches: number, replicas: number): number {
  return Math.ceil(switches / Math.max(1, replicas));
}

export interface CampaignInput {
  /** Place in the switch's rendezvous order among live replicas. */
  readonly rank: number;
  /** Switches this replica masters or is campaigning for. */
  readonly held: number;
  readonly share: number;
  readonly replicas: number;
  /** Delay between two places of the order: long enough for the first one's transaction to land. */
  readonly stepMs: number;
}

/**
 * How long to wait before campaigning for a switch that has no master: the first in the order
 * at once, the next ones a step later each (they only get it if the ones before are not
 * connected to it, or dead); a replica that has its share already waits behind all of those.
 */
export function campaignDelayMs(c: CampaignInput): number {
  const place = c.held < c.share ? c.rank : c.rank + c.replicas;
  return place * c.stepMs;
}

export interface LeaseTiming {
  /** The lease TTL asked of etcd (it is granted in whole seconds, at least this). */
  readonly ttlMs: number;
  /** How much sooner than etcd this replica considers its lease over. */
  readonly marginMs: number;
  /** Time between keep-alives. */
  readonly keepAliveMs: number;
}

/**
 * Timing from a TTL. The margin covers clock-rate differences and a late timer; the keep-alive
 * interval lets two keep-alives in a row fail before the local deadline passes.
 */
export function leaseTiming(ttlMs: number, marginMs?: number): LeaseTiming {
  if (!Number.isFinite(ttlMs) || ttlMs < 1000) throw new RangeError(`lease TTL must be at least 1000 ms (etcd grants whole seconds): ${ttlMs}`);
  const margin = marginMs ?? Math.max(200, Math.round(ttlMs / 4));
  if (margin <= 0 || margin >= ttlMs) throw new RangeError(`lease margin must be between 0 and the TTL: ${margin}`);
  return { ttlMs, marginMs: margin, keepAliveMs: Math.max(50, Math.floor((ttlMs - margin) / 3)) };
}

/** The TTL in seconds to ask etcd for. */
export function ttlSeconds(ttlMs: number): number {
  return Math.ceil(ttlMs / 1000);
}

/**
 * Until when the lease is surely alive, after a keep-alive (or the grant) that was sent at
 * `sentAt` and answered: etcd restarted the TTL when it received the request, after it was sent.
 */
export function leaseDeadline(sentAt: number, t: LeaseTiming): number {
  return sentAt + t.ttlMs - t.marginMs;
}

/** A switch's master as etcd has it: the replica, its lease, and the key's create revision. */
export interface MasterRecord {
  readonly replica: string;
  readonly lease: string;
  readonly createRevision: bigint;
}

/**
 * This replica's role for a switch: master only while etcd names it (with its current lease)
 * and its lease is surely alive. The generation id is the master key's create revision: it
 * grows with every new master of the switch, which is what OF1.3 asks of it.
 */
export function roleOf(holder: MasterRecord | undefined, self: { readonly replica: string; readonly lease: string | undefined }, leaseAlive: boolean, lastGeneration: bigint): { role: Role; generationId: bigint } {
  const generationId = holder?.createRevision ?? lastGeneration;
  const mine = holder !== undefined && self.lease !== undefined && holder.lease === self.lease && holder.replica === self.replica;
  return { role: mine && leaseAlive ? 'master' : 'slave', generationId };
}
