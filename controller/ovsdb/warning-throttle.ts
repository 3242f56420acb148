// At most `limit` warning lines per window, however much bad input arrives; the next line that
// gets through says how many were held back. Time is passed in.

export type ThrottleVerdict = { readonly write: true; readonly suppressed: number } | { readonly write: false };

export class WarningThrottle {
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private suppressed = 0;

  constructor(private readonly limit = 5, private readonly windowMs = 60_000) {}

  admit(now: number): ThrottleVerdict {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written >= this.limit) {
      this.suppressed++;
      return { write: false };
    }
    this.written++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { write: true, suppressed };
  }
}
