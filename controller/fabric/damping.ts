// Flap damping, as ONOS's HostManager counts moves: an endpoint that moved `maxMoves` times
// within `windowMs` is suspended for `suspendMs` (its claims are conflicts), so a VM bouncing
// between two ports (a loop, a misconfigured bond, two hosts sharing a MAC) cannot keep the
// controller rewriting every switch. Pure: times are passed in.

export interface DampingOptions {
  readonly maxMoves: number;
  readonly windowMs: number;
  readonly suspendMs: number;
}

export const DEFAULT_DAMPING: DampingOptions = { maxMoves: 6, windowMs: 10_000, suspendMs: 30_000 };

export class FlapDamper {
  private readonly moves = new Map<string, number[]>();
  private readonly suspendedUntil = new Map<string, number>();

  constructor(private readonly options: DampingOptions = DEFAULT_DAMPING) {}

  /** Records a move; when this one crossed the threshold, returns until when the endpoint is suspended. */
  recordMove(eid: string, now: number): number | undefined {
    const recent = (this.moves.get(eid) ?? []).filter((t) => now - t < this.options.windowMs);
    recent.push(now);
    this.moves.set(eid, recent);
    if (recent.length < this.options.maxMoves) return undefined;
    const until = now + this.options.suspendMs;
    this.suspendedUntil.set(eid, until);
    this.moves.delete(eid);
    return until;
  }

  isSuspended(eid: string, now: number): boolean {
    const until = this.suspendedUntil.get(eid);
    if (until === undefined) return false;
    if (until > now) return true;
    this.suspendedUntil.delete(eid);
    return false;
  }

  /** Forgets an endpoint (its binding was removed). */
  forget(eid: string): void {
    this.moves.delete(eid);
    this.suspendedUntil.delete(eid);
  }
}
