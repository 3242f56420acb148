// Endpoints whose attachment went away with no move to follow: the port of their binding is down
// or gone, and no announcement said where they went. A VM that moved while no controller mastered
// its new switch (a failover, etcd without a quorum), or whose announcements were lost, is one;
// nothing tells where it is until it sends again, and a server whose clients' packets still go to
// its old place may never send. So the controller asks for it: an ARP probe for its EID at every
// edge port, first `firstAfterMs` after its port went (a VM that moved announces itself well
// before), then less and less often, down to one round per `maxIntervalMs`. A VM shut down for
// good stays lost and costs one round per `maxIntervalMs`. Pure: the lost bindings and `now` in,
// the ones to ask for out.

import type { Ipv4, Mac } from '../packet/address.js';

export interface LostSearchOptions {
  /** How long an endpoint is lost before the first round (0: never searched). */
  readonly firstAfterMs: number;
  /** The rounds for one endpoint double their spacing up to this. */
  readonly maxIntervalMs: number;
  /** Endpoints asked for in one round at most (the longest waiting first): the cost of a round is bounded. */
  readonly maxPerRound: number;
}

export const DEFAULT_LOST_SEARCH: LostSearchOptions = { firstAfterMs: 2000, maxIntervalMs: 60_000, maxPerRound: 64 };

export interface LostEndpoint {
  readonly id: number;
  readonly eid: Ipv4;
  readonly mac: Mac;
}

interface Schedule {
  readonly endpoint: LostEndpoint;
  readonly since: number;
  nextAt: number;
  intervalMs: number;
}

export class LostEndpointSearch {
  private readonly lost = new Map<number, Schedule>();

  constructor(private readonly options: LostSearchOptions = DEFAULT_LOST_SEARCH) {}

  /** The endpoints lost now (the others are found, moved or removed: forgotten); returns those to ask for now. */
  due(lost: readonly LostEndpoint[], now: number): LostEndpoint[] {
    const { firstAfterMs, maxIntervalMs, maxPerRound } = this.options;
    const current = new Set<number>();
    for (const endpoint of lost) {
      current.add(endpoint.id);
      const known = this.lost.get(endpoint.id);
      // The same binding id with another MAC or EID is another endpoint (its binding was replaced).
      if (known === undefined || known.endpoint.mac !== endpoint.mac || known.endpoint.eid !== endpoint.eid) {
        this.lost.set(endpoint.id, { endpoint, since: now, nextAt: now + firstAfterMs, intervalMs: firstAfterMs });
      }
    }
    for (const id of this.lost.keys()) if (!current.has(id)) this.lost.delete(id);
    if (firstAfterMs <= 0) return [];
    const ready = [...this.lost.values()].filter((s) => s.nextAt <= now).sort((a, b) => a.nextAt - b.nextAt).slice(0, maxPerRound);
    for (const s of ready) {
      s.intervalMs = Math.min(s.intervalMs * 2, maxIntervalMs);
      s.nextAt = now + s.intervalMs;
    }
    return ready.map((s) => s.endpoint);
  }

  /**
   * Something this replica could not see may have happened (it just became a switch's master,
   * after a time when nobody did): every endpoint lost for longer than `firstAfterMs` is asked for
   * at the next round, and its spacing starts again.
   */
  hurry(now: number): void {
    for (const s of this.lost.values()) {
      s.intervalMs = this.options.firstAfterMs;
      s.nextAt = Math.max(s.since + this.options.firstAfterMs, Math.min(s.nextAt, now));
    }
  }

  /** Is this MAC with this EID an endpoint being searched for? (An answer to a search is its sighting.) */
  wanted(mac: Mac, eid: Ipv4): boolean {
    for (const s of this.lost.values()) if (s.endpoint.mac === mac && s.endpoint.eid === eid) return true;
    return false;
  }

  /** Since when the endpoint has been lost (epoch ms), as of the last look; undefined when it is not. */
  since(id: number): number | undefined {
    return this.lost.get(id)?.since;
  }

  /** How many endpoints are lost now. */
  get size(): number {
    return this.lost.size;
  }
}
