// A replica's lease in etcd, kept alive, with a local deadline (mastership-rules.ts): alive()
// says whether the lease is surely still alive in etcd, from the last keep-alive that etcd
// answered and when it was sent; a slow or partitioned etcd, or a process that was stopped
// (SIGSTOP, a long GC pause), makes it false before etcd can expire the lease. When etcd says
// the lease is gone, a new one is granted; everything attached to the old one is gone with it.

import type { Etcd3 } from 'etcd3';
import { silentLogger, type Logger } from '../log.js';
import { storeCall } from './etcd-client.js';
import { leaseDeadline, ttlSeconds, type LeaseTiming } from './mastership-rules.js';

export type LeaseState =
  | { readonly kind: 'granted'; readonly lease: string }
  /** The local deadline passed without an answered keep-alive: not surely alive any more. */
  | { readonly kind: 'expired'; readonly lease: string; readonly deadline: number }
  /** A keep-alive got through again before etcd let the lease go. */
  | { readonly kind: 'renewed'; readonly lease: string }
  /** etcd says the lease is gone (a new one is granted next). */
  | { readonly kind: 'lost'; readonly lease: string };

export interface ReplicaLeaseOptions {
  readonly client: Etcd3;
  readonly timing: LeaseTiming;
  readonly log?: Logger;
  /** Monotonic milliseconds (performance.now by default). */
  readonly clock?: () => number;
  readonly onChange: (state: LeaseState) => void;
}

export class ReplicaLease {
  private readonly client: Etcd3;
  private readonly timing: LeaseTiming;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly onChange: (state: LeaseState) => void;
  private leaseId: string | undefined;
  private deadlineAt = Number.NEGATIVE_INFINITY;
  private expiredReported = true;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: ReplicaLeaseOptions) {
    this.client = options.client;
    this.timing = options.timing;
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? (() => performance.now());
    this.onChange = options.onChange;
  }

  /** The current lease (undefined before the first grant and while a new one is being granted). */
  get id(): string | undefined {
    return this.leaseId;
  }

  /** Until when (clock) the lease is (or was, for a lost one) surely alive. */
  get deadline(): number {
    return this.deadlineAt;
  }

  alive(now: number = this.clock()): boolean {
    return this.leaseId !== undefined && now < this.deadlineAt;
  }

  /** Grants the first lease; keep-alives run from then on. Throws StoreUnavailableError. */
  async start(): Promise<string> {
    await this.grant();
    this.schedule();
    return this.leaseId as string;
  }

  /** Stops keeping the lease alive; revoke: let go at once (a clean shutdown) instead of at expiry. */
  async stop(revoke: boolean): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    const id = this.leaseId;
    this.leaseId = undefined;
    this.deadlineAt = Number.NEGATIVE_INFINITY;
    if (revoke && id !== undefined) await storeCall('lease revoke', () => this.client.leaseClient.leaseRevoke({ ID: id })).catch(() => undefined);
  }

  private async grant(): Promise<void> {
    const sentAt = this.clock();
    const res = await storeCall('lease grant', () => this.client.leaseClient.leaseGrant({ TTL: ttlSeconds(this.timing.ttlMs) }));
    if (this.stopped) return;
    this.leaseId = res.ID;
    this.renewed(sentAt, 'granted');
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.keepAlive().then(() => this.schedule(), (error: Error) => {
        this.log.error('lease keep-alive failed unexpectedly', { error: error.message });
        this.schedule();
      });
    }, this.timing.keepAliveMs);
  }

  private async keepAlive(): Promise<void> {
    const id = this.leaseId;
    if (id === undefined) {
      await this.grant().catch((error: Error) => this.log.warn('lease grant failed', { error: error.message }));
      return;
    }
    const sentAt = this.clock();
    let ttl: number;
    try {
      ttl = await this.keepAliveOnce(id);
    } catch (error) {
      this.log.debug('lease keep-alive failed', { lease: id, error: (error as Error).message });
      return; // the deadline timer says when this matters
    }
    if (this.stopped || this.leaseId !== id) return;
    if (ttl > 0) {
      this.renewed(sentAt, 'renewed');
      return;
    }
    this.log.warn('lease lost: etcd let it expire', { lease: id });
    this.leaseId = undefined; // alive() is false from here; deadlineAt keeps the last deadline (when mastership ended)
    clearTimeout(this.deadlineTimer);
    this.expiredReported = true;
    this.onChange({ kind: 'lost', lease: id });
    await this.grant().catch((error: Error) => this.log.warn('lease grant failed', { error: error.message }));
  }

  private renewed(sentAt: number, kind: 'granted' | 'renewed'): void {
    const id = this.leaseId as string;
    this.deadlineAt = leaseDeadline(sentAt, this.timing);
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.checkDeadline(), Math.max(0, this.deadlineAt - this.clock()));
    if (kind === 'granted') {
      this.expiredReported = false;
      this.onChange({ kind: 'granted', lease: id });
    } else if (this.expiredReported) {
      this.expiredReported = false;
      this.onChange({ kind: 'renewed', lease: id });
    }
  }

  private checkDeadline(): void {
    const id = this.leaseId;
    if (id === undefined || this.expiredReported) return;
    const now = this.clock();
    if (now < this.deadlineAt) {
      this.deadlineTimer = setTimeout(() => this.checkDeadline(), this.deadlineAt - now);
      return;
    }
    this.expiredReported = true;
    this.log.warn('lease not surely alive: no answered keep-alive in time', { lease: id });
    this.onChange({ kind: 'expired', lease: id, deadline: this.deadlineAt });
  }

  /** One keep-alive on its own stream; resolves etcd's remaining TTL (0: the lease is gone). */
  private keepAliveOnce(id: string): Promise<number> {
    return storeCall('lease keep-alive', async () => {
      const stream = await this.client.leaseClient.leaseKeepAlive({ deadline: Date.now() + this.timing.keepAliveMs * 2 });
      try {
        return await new Promise<number>((resolve, reject) => {
          stream.on('data', (res: { TTL: string }) => resolve(Number(res.TTL)));
          stream.on('error', reject);
          stream.on('end', () => reject(new Error('keep-alive stream ended')));
          stream.write({ ID: id });
        });
      } finally {
        stream.end();
      }
    });
  }
}
