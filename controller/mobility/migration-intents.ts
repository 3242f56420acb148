// Migration intents: an orchestrator says "EID e is about to move (to this switch / subnet)".
// A sighting that agrees with a live intent is a move without further evidence.

import { isIpv4, type Ipv4 } from '../packet/address.js';
import { formatDpid, parseDpid } from '../switch/dpid.js';
import type { SubnetMap } from './subnet.js';

/** Who announced the move: an orchestrator through the API, or the hypervisor's tap in OVSDB. */
export type IntentSource = 'api' | 'ovsdb';

/**
 * migrating: the VM is about to move (its destination is being prepared); stopping: the
 * hypervisor stopped it for the stop-and-copy (its frames are buffered until it runs again);
 * resumed: the migration completed, the VM runs at its destination (its buffered frames go there).
 */
export type IntentPhase = 'migrating' | 'stopping' | 'resumed';

export interface MigrationIntent {
  readonly eid: Ipv4;
  readonly phase?: IntentPhase;
  readonly toDpid?: bigint;
  /** The switch port the VM will appear on (needs toDpid): lets its receive side be staged before it does. */
  readonly toPort?: number;
  readonly toSubnet?: string;
  readonly expiresAt: number;
  readonly source?: IntentSource;
  /**
   * Loss-free migration: a host agent follows this migration and will say when the VM stops; until
   * then what the VM is delivered is also copied to the controller (fabric/buffers.ts).
   */
  readonly lossFree?: boolean;
  /** When the hypervisor stopped the VM (epoch ms, its clock), for phase stopping. */
  readonly stoppedAt?: number;
}

export type IntentResult =
  | { readonly ok: true; readonly intent: MigrationIntent }
  | { readonly ok: false; readonly error: string };

export interface IntentInput {
  readonly eid: unknown;
  readonly toDpid?: unknown;
  readonly toPort?: unknown;
  readonly toSubnet?: unknown;
  readonly expiresAt: unknown;
  readonly source?: IntentSource;
  readonly phase?: IntentPhase;
  readonly lossFree?: unknown;
  readonly stoppedAt?: unknown;
}

/** Intents far in the future are almost certainly a unit mistake (seconds vs milliseconds). */
export const MAX_INTENT_LIFETIME_MS = 60 * 60 * 1000;

export class MigrationIntents {
  private readonly byEid = new Map<Ipv4, MigrationIntent>();
  private readonly listeners: ((intent: MigrationIntent) => void)[] = [];

  constructor(private readonly subnets: SubnetMap) {}

  /** Told every intent registered with `notify` (the runtime stages it; a cluster shares it). */
  onRegistered(listener: (intent: MigrationIntent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Validates and stores, replacing an earlier intent for the EID but keeping what it said and this
   * one does not (its destination, lossFree: a hypervisor's later phases name neither); expired
   * ones are purged. `notify: false` for an intent that comes from the shared store (already
   * shared, already staged where it came from).
   */
  register(input: IntentInput, now: number, notify = true): IntentResult {
    const checked = validateIntent(input, this.subnets, now);
    if (!checked.ok) return checked;
    this.purge(now);
    const intent = withEarlier(checked.intent, this.byEid.get(checked.intent.eid));
    this.byEid.set(intent.eid, intent);
    if (notify) for (const l of this.listeners) l(intent);
    return { ok: true, intent };
  }

  /** The live intent for `eid`, if any (an expired one is forgotten). */
  get(eid: Ipv4, now: number): MigrationIntent | undefined {
    const intent = this.byEid.get(eid);
    if (intent === undefined || intent.expiresAt > now) return intent;
    this.byEid.delete(eid);
    return undefined;
  }

  /** Forgets the intent (once the move it announced happened). */
  consume(eid: Ipv4): MigrationIntent | undefined {
    const intent = this.byEid.get(eid);
    this.byEid.delete(eid);
    return intent;
  }

  list(now: number): MigrationIntent[] {
    this.purge(now);
    return [...this.byEid.values()];
  }

  /** How many are held (live or not yet purged). */
  get size(): number {
    return this.byEid.size;
  }

  private purge(now: number): void {
    for (const [eid, i] of this.byEid) if (i.expiresAt <= now) this.byEid.delete(eid);
  }
}

function withEarlier(intent: MigrationIntent, earlier: MigrationIntent | undefined): MigrationIntent {
  if (earlier === undefined) return intent;
  const named = intent.toDpid !== undefined || intent.toSubnet !== undefined;
  const lossFree = intent.lossFree ?? earlier.lossFree;
  return {
    ...intent,
    ...(named ? {} : pick(earlier)),
    ...(lossFree === undefined ? {} : { lossFree }),
  };
}

function pick(i: MigrationIntent): Partial<MigrationIntent> {
  return { ...(i.toDpid === undefined ? {} : { toDpid: i.toDpid }), ...(i.toPort === undefined ? {} : { toPort: i.toPort }), ...(i.toSubnet === undefined ? {} : { toSubnet: i.toSubnet }) };
}

/**
 * Does a live intent announce a move to this switch (port, subnet)? A 'resumed' intent that names
 * no destination is no evidence: it may outlive the move it reported, and must not let any port
 * claim the VM meanwhile.
 */
export function intentMatches(intent: MigrationIntent | undefined, eid: Ipv4, dpid: bigint, subnet: string, now: number, port?: number): boolean {
  if (intent?.phase === 'resumed' && intent.toDpid === undefined && intent.toSubnet === undefined) return false;
  return intent !== undefined && intent.eid === eid && intent.expiresAt > now &&
    (intent.toDpid === undefined || intent.toDpid === dpid) &&
    (intent.toPort === undefined || intent.toPort === port) &&
    (intent.toSubnet === undefined || intent.toSubnet === subnet);
}

export function validateIntent(input: IntentInput, subnets: SubnetMap, now: number): IntentResult {
  const fail = (error: string): IntentResult => ({ ok: false, error });
  if (!isIpv4(input.eid)) return fail('eid: must be an IPv4 address');
  if (typeof input.expiresAt !== 'number' || !Number.isFinite(input.expiresAt)) return fail('expiresAt: must be a time in milliseconds');
  if (input.expiresAt <= now) return fail('expiresAt: already in the past');
  if (input.expiresAt > now + MAX_INTENT_LIFETIME_MS) return fail(`expiresAt: more than ${MAX_INTENT_LIFETIME_MS} ms ahead`);
  let toDpid: bigint | undefined;
  if (input.toDpid !== undefined) {
    toDpid = toBigDpid(input.toDpid);
    if (toDpid === undefined) return fail('toDpid: must be a datapath id');
    if (subnets.ofDpid(toDpid) === undefined) return fail(`toDpid: ${formatDpid(toDpid)} is not an edge of any subnet`);
  }
  let toPort: number | undefined;
  if (input.toPort !== undefined) {
    if (typeof input.toPort !== 'number' || !Number.isInteger(input.toPort) || input.toPort < 1 || input.toPort > 0xffffff00) return fail('toPort: must be a switch port number');
    if (toDpid === undefined) return fail('toPort: needs toDpid');
    toPort = input.toPort;
  }
  let toSubnet: string | undefined;
  if (input.toSubnet !== undefined) {
    if (typeof input.toSubnet !== 'string' || subnets.get(input.toSubnet) === undefined) return fail('toSubnet: unknown subnet');
    toSubnet = input.toSubnet;
    if (toDpid !== undefined && subnets.ofDpid(toDpid)?.name !== toSubnet) return fail(`toDpid: ${formatDpid(toDpid)} is not an edge of ${toSubnet}`);
  }
  if (input.lossFree !== undefined && typeof input.lossFree !== 'boolean') return fail('lossFree: must be true or false');
  if (input.stoppedAt !== undefined && (typeof input.stoppedAt !== 'number' || !Number.isFinite(input.stoppedAt) || input.stoppedAt < 0)) return fail('stoppedAt: must be a time in milliseconds');
  return {
    ok: true,
    intent: {
      eid: input.eid, expiresAt: input.expiresAt, source: input.source ?? 'api', phase: input.phase ?? 'migrating',
      ...(input.lossFree === undefined ? {} : { lossFree: input.lossFree as boolean }),
      ...(input.stoppedAt === undefined ? {} : { stoppedAt: input.stoppedAt as number }),
      ...(toDpid === undefined ? {} : { toDpid }), ...(toPort === undefined ? {} : { toPort }), ...(toSubnet === undefined ? {} : { toSubnet }),
    },
  };
}

function toBigDpid(raw: unknown): bigint | undefined {
  if (typeof raw === 'bigint') return raw >= 0n ? raw : undefined;
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? BigInt(raw) : undefined;
  if (typeof raw !== 'string') return undefined;
  try { return parseDpid(raw); } catch { return undefined; }
}
