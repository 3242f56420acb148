// Claims per switch port, bounded: a token bucket per attachment for every frame that would create
// or move a binding (or be refused as a conflict). A port that claims address after address, or
// floods announcements, is slowed to `ratePerSec` with bursts of `burst`; the rest is dropped and
// counted. Pure: times are passed in. Buckets of idle ports are forgotten.

export interface ClaimLimiterOptions {
  readonly ratePerSec: number;
  readonly burst: number;
}

export const DEFAULT_CLAIM_LIMITS: ClaimLimiterOptions = { ratePerSec: 20, burst: 40 };

interface Bucket {
  tokens: number;
  at: number;
}

export class ClaimLimiter {
  private readonly buckets = new Map<string, Bucket>();
  limited = 0;

  constructor(private readonly options: ClaimLimiterOptions = DEFAULT_CLAIM_LIMITS) {}

  /** May this port claim now? Takes a token when it may. */
  allow(dpid: bigint, port: number, now: number): boolean {
    const key = `${dpid}:${port}`;
    const { ratePerSec, burst } = this.options;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * ratePerSec) / 1000);
    b.at = now;
    this.buckets.set(key, b);
    if (this.buckets.size > 100_000) this.prune(now);
    if (b.tokens < 1) {
      this.limited++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  /** Drops the buckets that have refilled (their ports are idle). */
  private prune(now: number): void {
    const full = (this.options.burst * 1000) / this.options.ratePerSec;
    for (const [key, b] of this.buckets) if (now - b.at > full) this.buckets.delete(key);
  }
}
