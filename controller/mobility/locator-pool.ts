// The locator addresses of one subnet. A released address waits out a grace period before it
// can be handed out again: correspondents' caches, in-flight packets and step-3 rule removals
// may still refer to it, and reusing it early would deliver one VM's traffic to another.

import { intToIpv4, ipv4ToInt, type Ipv4 } from '../packet/address.js';
import { prefixRange, rangeContains, type AddressRange, type Prefix } from './prefix.js';

export class PoolExhaustedError extends Error {
  override readonly name = 'PoolExhaustedError';
  constructor(readonly subnet: string, readonly size: number, readonly nextFreeAt: number | undefined) {
    super(`locator pool of subnet ${subnet} is exhausted (${size} addresses in use or in their grace period` +
      `${nextFreeAt === undefined ? '' : `; the next one is free at ${nextFreeAt}`})`);
  }
}

export interface ReleasedLocator {
  readonly address: Ipv4;
  /** When it was released (same clock as `now`). */
  readonly releasedAt: number;
}

export interface LocatorPoolOptions {
  readonly subnet: string;
  readonly range: AddressRange;
  /** The subnet's prefix: its network and broadcast addresses are never handed out. */
  readonly prefix?: Prefix;
  readonly reuseGraceMs: number;
  /** Addresses of the range that are never handed out (the subnet's gateway alias). */
  readonly reserved?: readonly Ipv4[];
}

export class LocatorPool {
  readonly subnet: string;
  private readonly range: AddressRange;
  private readonly excluded = new Set<number>();
  private readonly reuseGraceMs: number;
  private readonly inUse = new Set<number>();
  /** Released addresses, oldest release first. */
  private released: { value: number; releasedAt: number }[] = [];
  private readonly releasedSet = new Set<number>();
  /** Next never-handed-out candidate: fresh addresses are preferred, so reuse comes as late as possible. */
  private cursor: number;

  constructor(options: LocatorPoolOptions) {
    this.subnet = options.subnet;
    this.range = options.range;
    this.reuseGraceMs = options.reuseGraceMs;
    this.cursor = options.range.first;
    if (options.prefix !== undefined && options.prefix.length <= 30) {
      const p = prefixRange(options.prefix);
      this.excluded.add(p.first).add(p.last);
    }
    for (const a of options.reserved ?? []) this.excluded.add(ipv4ToInt(a));
  }

  get size(): number {
    let n = this.range.last - this.range.first + 1;
    for (const v of this.excluded) if (rangeContains(this.range, v)) n--;
    return n;
  }

  get inUseCount(): number {
    return this.inUse.size;
  }

  contains(address: Ipv4): boolean {
    const v = ipv4ToInt(address);
    return rangeContains(this.range, v) && !this.excluded.has(v);
  }

  isInUse(address: Ipv4): boolean {
    return this.inUse.has(ipv4ToInt(address));
  }

  /** Hands out a free address; throws PoolExhaustedError rather than reuse one in use or in grace. */
  allocate(now: number): Ipv4 {
    const fresh = this.nextFresh();
    if (fresh !== undefined) return this.take(fresh);
    const head = this.released[0];
    if (head !== undefined && head.releasedAt + this.reuseGraceMs <= now) {
      this.released.shift();
      this.releasedSet.delete(head.value);
      return this.take(head.value);
    }
    throw new PoolExhaustedError(this.subnet, this.size, head === undefined ? undefined : head.releasedAt + this.reuseGraceMs);
  }

  /** Returns an address; false when it was not in use (a double release is harmless but reported). */
  release(address: Ipv4, now: number): boolean {
    const v = ipv4ToInt(address);
    if (!this.inUse.delete(v)) return false;
    this.released.push({ value: v, releasedAt: now });
    this.releasedSet.add(v);
    return true;
  }

  /** Marks an address in use (restoring bindings). False when it is outside the pool. */
  reserve(address: Ipv4): boolean {
    if (!this.contains(address)) return false;
    const v = ipv4ToInt(address);
    this.dropReleased(v);
    this.inUse.add(v);
    return true;
  }

  /** Restores a release from persisted state (kept only if the address is not in use). */
  restoreReleased(entry: ReleasedLocator): void {
    const v = ipv4ToInt(entry.address);
    if (!this.contains(entry.address) || this.inUse.has(v) || this.releasedSet.has(v)) return;
    const at = this.released.findIndex((r) => r.releasedAt > entry.releasedAt);
    this.released.splice(at === -1 ? this.released.length : at, 0, { value: v, releasedAt: entry.releasedAt });
    this.releasedSet.add(v);
  }

  /** Released addresses still inside their grace period at `now` (what must be persisted). */
  releasedInGrace(now: number): ReleasedLocator[] {
    return this.released
      .filter((r) => r.releasedAt + this.reuseGraceMs > now)
      .map((r) => ({ address: intToIpv4(r.value), releasedAt: r.releasedAt }));
  }

  /** Free now: fresh addresses plus released ones past their grace. */
  available(now: number): number {
    const expired = this.released.filter((r) => r.releasedAt + this.reuseGraceMs <= now).length;
    return this.size - this.inUse.size - this.released.length + expired;
  }

  private take(value: number): Ipv4 {
    this.inUse.add(value);
    return intToIpv4(value);
  }

  private nextFresh(): number | undefined {
    while (this.cursor <= this.range.last) {
      const v = this.cursor++;
      if (!this.excluded.has(v) && !this.inUse.has(v) && !this.releasedSet.has(v)) return v;
    }
    return undefined;
  }

  private dropReleased(v: number): void {
    if (!this.releasedSet.delete(v)) return;
    this.released = this.released.filter((r) => r.value !== v);
  }
}
