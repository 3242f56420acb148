// What the runtime tells the world: events (for the API's stream and the dashboard) and counters
// (for /metrics).

import type { BindingEvent } from '../mobility/index.js';
import type { MigrationRecord } from './migration-log.js';

export type FabricEvent =
  | BindingEvent
  | { readonly type: 'MIGRATION_COMPLETED'; readonly migration: MigrationRecord; readonly at: number }
  | { readonly type: 'CONFLICT'; readonly eid: string; readonly mac: string; readonly reason: string; readonly detail: string; readonly dpid: string; readonly port: number; readonly at: number }
  | { readonly type: 'RULES_UPDATED'; readonly dpids: readonly string[]; readonly flowMods: number; readonly at: number }
  /** A move that was decided but could not be applied (no free locator, the store refused). */
  | { readonly type: 'MIGRATION_FAILED'; readonly eid: string; readonly mac: string; readonly error: string; readonly at: number }
  /** Flap damping: the endpoint moved too often; its claims are refused until `until`. */
  | { readonly type: 'ENDPOINT_SUSPENDED'; readonly eid: string; readonly mac: string; readonly until: number; readonly at: number }
  /** A move announced ahead (intent naming a port): its receive side is on the switches. */
  | { readonly type: 'MOVE_STAGED'; readonly eid: string; readonly dpid: string; readonly port: number; readonly locator: string; readonly at: number }
  /** An endpoint's port went with no move to follow: it is being looked for (`since`: when it was first seen lost). */
  | { readonly type: 'ENDPOINT_LOST'; readonly eid: string; readonly mac: string; readonly dpid: string; readonly port: number; readonly since: number; readonly at: number }
  /** Loss-free migration: a stopped VM runs again; the frames that waited for it were delivered (`trigger`: what told). */
  | { readonly type: 'VM_RESUMED'; readonly eid: string; readonly mac: string; readonly trigger: string; readonly frames: number; readonly heldMs: number; readonly at: number };

export interface FabricCounters {
  packetIns: number;
  malformedFrames: number;
  moves: number;
  conflicts: number;
  /** Frames we re-injected that came back to us (each is dropped: a loop cannot form). */
  looped: number;
  /** Moves decided but not applied (pool exhausted, store refused). */
  failedMoves: number;
  /** Moves whose receive side was staged ahead from an intent. */
  staged: number;
  /** Claims dropped because their port exceeded its claim rate. */
  claimsLimited: number;
}

export function newCounters(): FabricCounters {
  return { packetIns: 0, malformedFrames: 0, moves: 0, conflicts: 0, looped: 0, failedMoves: 0, staged: 0, claimsLimited: 0 };
}
