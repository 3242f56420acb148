// What a VM's port still holds of a replay, by the port's own counters (OFPMP_PORT_STATS), read
// before the replay and after each of its bursts. A Linux tap counts a frame as transmitted when
// its reader (QEMU) takes it, and as dropped when its queue (txqueuelen, 1,000 frames) was full; so
// what the replay gave the port, less what the port counted sent or dropped since, still waits in
// the tap for the guest. A port that counts a frame as soon as it goes (a veth, a NIC) never shows a
// backlog, so nothing holds its replay back (but a rate, if one is set). Pure: the caller reads the counters.

/**
 * The least a port is taken to queue, whatever it showed when it dropped: a port that counts frames
 * as they go (a veth whose peer is down) drops with nothing waiting, and a capacity of 0 would stop
 * the replay. Real queues are longer (a tap's 1,000, a vhost ring's 256).
 */
export const MIN_CAPACITY = 32;

/** The two counters of a port that tell (ofp_port_stats). */
export interface PortCounters {
  readonly txPackets: bigint;
  readonly txDropped: bigint;
}

export class PortBacklog {
  /** The port's reader took nothing for a while: the replay no longer waits for it. */
  stalled = false;
  /** How many frames the port queues at most, as learned when it dropped some (undefined: not seen full). */
  capacity: number | undefined;
  private given = 0;
  private last: PortCounters;

  /** `deadline`: the monotonic time after which the replay waits for the port no more. */
  constructor(private readonly base: PortCounters, readonly deadline = Infinity) {
    this.last = base;
  }

  /** The replay gave the port `frames` more. */
  gave(frames: number): void {
    this.given += frames;
  }

  /**
   * New counters; returns how many frames the port dropped since the reading before. A port that
   * dropped was full: what waits in it now is taken as its capacity (a tap with a shorter queue
   * than the backlog allowed).
   */
  read(counters: PortCounters): number {
    const dropped = Math.max(0, Number(counters.txDropped - this.last.txDropped));
    this.last = counters;
    if (dropped > 0) this.capacity = Math.min(this.capacity ?? Infinity, Math.max(MIN_CAPACITY, this.waiting()));
    return dropped;
  }

  /** How many frames may wait in the port: `limit`, or its learned capacity if less. */
  bound(limit: number): number {
    return Math.min(limit, this.capacity ?? limit);
  }

  /** Frames the port has room for under `limit` (and its learned capacity). */
  room(limit: number): number {
    return this.bound(limit) - this.waiting();
  }

  /**
   * Frames given that the port has counted neither sent nor dropped: waiting in it. What else went
   * out of the port meanwhile (a flood) counts as sent too, so this may be a little short.
   */
  waiting(): number {
    const gone = Number(this.last.txPackets - this.base.txPackets + this.last.txDropped - this.base.txDropped);
    return Math.max(0, this.given - gone);
  }
}
