// Refused claims: counted, turned into CONFLICT events, and logged — at a bounded rate, since a
// hostile host can send claims as fast as the switch forwards them.

import type { Logger } from '../log.js';
import { formatDpid } from '../switch/dpid.js';
import type { FabricCounters, FabricEvent } from './events.js';

export interface Claim {
  readonly eid: string;
  readonly mac: string;
  readonly reason: string;
  readonly detail: string;
  readonly dpid: bigint;
  readonly port: number;
  readonly now: number;
}

export class ConflictReporter {
  private logged = 0;
  private windowStart = 0;

  constructor(
    private readonly log: Logger,
    private readonly counters: FabricCounters,
    private readonly emit: (event: FabricEvent) => void,
    /** Log lines per window at most (the counter and the events count every one). */
    private readonly maxLinesPerWindow = 20,
    private readonly windowMs = 10_000,
  ) {}

  report(c: Claim): void {
    this.counters.conflicts++;
    const dpid = formatDpid(c.dpid);
    this.emit({ type: 'CONFLICT', eid: c.eid, mac: c.mac, reason: c.reason, detail: c.detail, dpid, port: c.port, at: c.now });
    if (c.now - this.windowStart >= this.windowMs) {
      if (this.logged > this.maxLinesPerWindow) this.log.warn('conflicting claims not logged', { suppressed: this.logged - this.maxLinesPerWindow });
      this.windowStart = c.now;
      this.logged = 0;
    }
    if (this.logged++ < this.maxLinesPerWindow) {
      this.log.warn('conflicting claim: refused', { eid: c.eid, reason: c.reason, detail: c.detail, dpid, port: c.port, mac: c.mac });
    }
  }
}
