// Loss-free migration: the frames on their way to a VM while it is stopped for the stop-and-copy.
// Per binding, a buffer goes through these modes (pipeline BufferMode for the rules):
//   copy     the VM is migrating (a host agent said so): its edge delivers its frames and copies
//            them here; the last `copyWindowMs` are kept (within the frame and byte bounds), for the
//            frames a VM that stops now misses before 'stopping' reaches the controller (the signal
//            trails the stop by milliseconds; on a loaded host by hundreds): copies a late signal
//            finds gone are counted as dropped
//   hold     the VM is stopped: its frames come here instead of to its dead port, in order, bounded
//            in frames, bytes and time (beyond a bound the rest is dropped and counted; TCP recovers)
//   forward  the VM runs again (at its new place): the held frames were handed out; stragglers that
//            still reach the hold rules until they are gone are delivered at once
//   drain    copying ended without a stop: copies still arriving until the rules are gone are
//            ignored (the VM had them)
// Who delivers and when is the runtime's (fabric.ts, moves.ts); this module keeps the frames and
// sends them (PACKET_OUT, through the outbox) as the VM expects them.

import type { Binding, SubnetMap } from '../mobility/index.js';
import { OFPP_CONTROLLER, OFPP_TABLE, outputPort, packetOut, setField, type Action, type PacketOut } from '../openflow/index.js';
import { REINJECTED_MARK, type BufferMode } from '../pipeline/index.js';
import { parsePacket } from '../packet/index.js';
import { sleep, type Clock, type Timer } from './clock.js';
import type { Outbox } from './outbox.js';
import { PortBacklog, type PortCounters } from './port-backlog.js';
import { PortReads, type Unread } from './port-reads.js';
import type { FabricSwitch, FabricSwitches } from './switches.js';

export interface BufferLimits {
  /** Frames held per VM. */
  readonly maxFrames: number;
  /** Bytes held per VM. */
  readonly maxBytes: number;
  /**
   * VMs whose frames are copied or held at once: with the per-VM bounds, this bounds the memory of
   * all buffers together (64 x 8 MiB by default). Beyond it a migration goes on without a buffer
   * (its frames of the stop are lost, as without a host agent), counted in `refused`.
   */
  readonly maxVms: number;
  /** How long a VM may stay stopped before its frames are handed out where it is. */
  readonly maxAgeMs: number;
  /**
   * While a VM migrates: how far back its copied frames are kept (must exceed the stop signal's
   * delay; copies a late signal finds gone are counted as dropped).
   */
  readonly copyWindowMs: number;
  /**
   * How much earlier than the hypervisor's stop time copied frames are taken into the buffer: a
   * frame the VM's tap took just before the stop may still be unread when the VM stops, and is lost
   * with the source's tap (a TCG guest in the QEMU lab left frames sent 3-8 ms before its STOP
   * unread); also clock skew between the hypervisor host and the controller. The VM may get the
   * frames of this span twice (UDP allows it; TCP drops what it has).
   */
  readonly replayBeforeStopMs: number;
  /**
   * When a stopped VM's move is made ahead and its destination port is up already (the tap the
   * destination hypervisor opened), its frames go there at once: the tap queues them until the VM
   * runs (Linux: up to the tap's txqueuelen, 500-1000 frames), instead of waiting here for the news
   * that it runs, which comes late on a busy host. false (the default): they wait here until that
   * news, within bounds that count what they drop (a tap drops beyond its queue without a trace).
   */
  readonly queueAtDestination: boolean;
  /**
   * How fast at most the frames of a stop are handed to the VM, frames per second (0, the default: a
   * burst as soon as the switch confirmed the one before and the port has room, replayPortBacklog).
   * The VM's tap queues at most its txqueuelen (Linux: 1,000) until the guest reads; a thousand
   * frames at once, before or just as the guest runs again, overflowed it (`deliverPaced`). A rate
   * is for a port whose counters show neither a backlog nor drops.
   */
  readonly replayFramesPerSec: number;
  /**
   * How many frames of a replay may wait in the VM's port at once, by its counters (port stats
   * after each burst; `PortBacklog`): a Linux tap counts a frame sent when its reader takes it, so
   * a guest that runs again late or slowly (a busy host) is given frames as it takes them, not at a
   * rate it may not keep. A burst the port dropped some of is given again. 0: no watch (the rate alone).
   */
  readonly replayPortBacklog: number;
}

/** Frames delivered to a VM in one burst at most (deliverPaced). */
export const MAX_BURST = 256;
/** Rounds of stragglers paced after a replay (`replay`), before the rest goes at once. */
export const MAX_STRAGGLER_ROUNDS = 8;
/** With a replay rate: a burst every this many ms (fewer frames per burst, none bigger than MAX_BURST). */
export const PACED_BURST_MS = 2;
/**
 * The replay rate that was the default until 2026-12-02, frames per second: 10 frames every 2 ms,
 * 200 ms per 1,000 frames held. What a just-resumed guest can have waiting for it is its tap's
 * queue (1,000 frames) and its virtio ring (256): the 1,100-1,400 frames of a 1 s stop fit only if
 * it reads some of them while they come. At 10,000 a second a TCG guest's tap still dropped frames
 * in 2 of 7 runs of the e2e test, at 5,000 none (docs/benchmarks.md). But a rate is a guess at the
 * guest's pace: beside a busy process the same guest's tap dropped hundreds at 5,000 a second. The
 * replay now watches the port instead (replayPortBacklog) and goes unpaced by default; a rate
 * remains for a port whose counters show neither backlog nor drops.
 */
export const PACED_REPLAY_RATE = 5_000;

/**
 * Frames per second to replay `frames` at: `configured` (0: unpaced), or twice the rate they came
 * at (first to last arrival) when that is more.
 */
export function replayRate(configured: number, frames: readonly BufferedFrame[]): number {
  if (configured <= 0 || frames.length < 2) return configured;
  const spanMs = Math.max(1, frames[frames.length - 1]!.at - frames[0]!.at);
  return Math.max(configured, (2 * (frames.length - 1) * 1000) / spanMs);
}

/**
 * While a VM's frames are copied, its port's counters are read this often (PortReads: the more
 * samples, the likelier one finds the guest's tap empty, which makes the count exact).
 */
export const READS_SAMPLE_MS = 20;
/**
 * The span before the stop replayed by time when the port's counters tell which copies it did not
 * hand on: what reached a port that counts frames as they go (a veth) after the stop, and clock skew
 * between the hypervisor and the controller. The counters cover the rest, however long the guest
 * left its tap unread.
 */
export const COUNTED_SPAN_MS = 5;
/** How long the counters at the stop may take to come before the stop is held by time alone. */
export const READS_AT_STOP_TIMEOUT_MS = 50;

/**
 * The default replayBeforeStopMs, the span when the port's counters cannot tell (COUNTED_SPAN_MS
 * when they can). 5 ms until 2026-12-01: then the QEMU lab's e2e test lost
 * datagrams sent 3, 6 and 8 ms before the guest's STOP, copied but not replayed, in 3 of about 30
 * runs. 20 ms until later that day: a libvirt-managed TCG guest (libvirt migrates at full
 * bandwidth, which starves the guest) answered its last ping 78 ms before its STOP in 1 of 17 runs
 * and lost one sent about 50 ms before it; in 16 runs its last answer came 0-19 ms before the STOP,
 * once 35 ms. The VM may get this span's frames twice: 1-10 duplicate echo requests per move at
 * 100 pings a second. And a stream's new frames wait behind them: in the emulated lab the 200
 * duplicates of this span (2,000 frames a second) delayed the streams' first read after the resume
 * by about 10 ms, which is why the counters decide where they can.
 */
export const REPLAY_BEFORE_STOP_MS = 100;

/**
 * The default replayPortBacklog: half the 1,000 frames a tap queues (Linux's txqueuelen), so that
 * what else comes for the VM meanwhile (a flood, a frame of a flow) still finds room.
 */
export const REPLAY_PORT_BACKLOG = 500;
/**
 * A replay waits for room at the VM's port no longer than this while its reader takes nothing
 * (it may not be a tap, or not be read at all): then it goes on unwatched (at its rate, if one is set).
 */
export const PORT_STALL_MS = 1000;

/**
 * copyWindowMs: a stop signal came 260 ms after the stop on a loaded host (10,000 frames/s to the VM,
 * 2026-11-30) and up to 680 ms at 3,000/s before; the ring's frame and byte bounds cap its memory
 * whatever the window.
 */
export const DEFAULT_BUFFER_LIMITS: BufferLimits = { maxFrames: 4096, maxBytes: 8 << 20, maxVms: 64, maxAgeMs: 5000, copyWindowMs: 1000, replayBeforeStopMs: REPLAY_BEFORE_STOP_MS, queueAtDestination: false, replayFramesPerSec: 0, replayPortBacklog: REPLAY_PORT_BACKLOG };

/** A frame for a VM, where it reached a buffer rule, and when (epoch ms). */
export interface BufferedFrame {
  readonly data: Uint8Array;
  readonly dpid: bigint;
  readonly inPort: number;
  readonly at: number;
}

/**
 * When the next burst of a paced replay may go (monotonic ms), and what its VM's port holds of it
 * (null: not watched), shared by its rounds.
 */
interface Pace { notBefore: number; port?: PortBacklog | null }

/**
 * The copies kept while a VM migrates, when those its bounds let go had arrived (oldest first, at
 * most maxFrames of them), and how many it let go (the number of its first copy, from 0).
 */
interface Ring { readonly frames: BufferedFrame[]; readonly released: number[]; releasedCount: number }
/** `reads`: what the VM's port handed on of the copies, by its counters, read at `port` every READS_SAMPLE_MS. */
interface Copying { readonly mode: 'copy'; readonly ring: Ring; bytes: number; readonly timer: Timer; readonly reads?: { readonly of: PortReads; readonly dpid: bigint; readonly port: number } }
/** `missed`: copies of frames that reached its port after the stop, let go before the stop was signalled (lost). */
interface Holding {
  readonly mode: 'hold'; readonly frames: BufferedFrame[]; bytes: number; readonly timer: Timer; readonly since: number; ahead: boolean; readonly missed: number;
  /** At the stop: the copies made since the copying began, and how many of those taken were taken by the port's count (diagnostics). */
  readonly copies: number; readonly byCount: number;
}
/** forward: stragglers go on to the VM; drain: late copies are ignored, and the ring of a copy a move ended is kept for a late stop signal. */
interface Passing { readonly mode: 'forward' | 'drain'; readonly timer: Timer; ring?: Ring; pending?: BufferedFrame[] }
type State = Copying | Holding | Passing;

export interface BufferCounters {
  /** Frames copied while their VM migrated (they reached it too). */
  copied: number;
  /** Copied frames taken into a buffer at the stop (the VM may have missed them). */
  recovered: number;
  /** Frames held for a stopped VM. */
  buffered: number;
  /** Frames delivered from a buffer (at the new place, or back where the VM resumed). */
  delivered: number;
  /** Frames dropped because a bound was reached, or their VM's switch was gone. */
  dropped: number;
  /** Stops that ended by the time bound (the frames went to where the VM is). */
  expired: number;
  /** Copies and holds not begun because maxVms VMs were buffered already. */
  refused: number;
  /** Frames of a replay given to the VM's port again: it dropped some of their burst (replayPortBacklog). */
  resent: number;
}

export class FrameBuffers {
  readonly counters: BufferCounters = { copied: 0, recovered: 0, buffered: 0, delivered: 0, dropped: 0, expired: 0, refused: 0, resent: 0 };
  private readonly byId = new Map<number, State>();

  constructor(
    private readonly switches: FabricSwitches,
    private readonly outbox: Outbox,
    private readonly subnets: SubnetMap,
    private readonly clock: Clock,
    private readonly limits: BufferLimits,
  ) {}

  /** How the binding's frames come here now, for its rules (undefined: they do not). */
  mode(bindingId: number): BufferMode | undefined {
    const m = this.byId.get(bindingId)?.mode;
    return m === 'copy' || m === 'hold' ? m : undefined;
  }

  /** The bindings whose frames come here, and how (the compiler's input). */
  modes(): Map<number, BufferMode> {
    const out = new Map<number, BufferMode>();
    for (const [id, s] of this.byId) if (s.mode === 'copy' || s.mode === 'hold') out.set(id, s.mode);
    return out;
  }

  /** Is the VM stopped (its frames held)? */
  isHolding(bindingId: number): boolean {
    return this.byId.get(bindingId)?.mode === 'hold';
  }

  /** Was a stopped VM's move committed ahead of its resume (its frames wait for it at its new place)? */
  isAhead(bindingId: number): boolean {
    const s = this.byId.get(bindingId);
    return s?.mode === 'hold' && s.ahead;
  }

  /**
   * May a copy or a hold begin for this binding: it has one already, or fewer than maxVms VMs are
   * buffered (copied or held) now. A refusal is counted.
   */
  admits(bindingId: number): boolean {
    const mode = this.byId.get(bindingId)?.mode;
    if (mode === 'copy' || mode === 'hold') return true;
    let buffered = 0;
    for (const s of this.byId.values()) if (s.mode === 'copy' || s.mode === 'hold') buffered++;
    if (buffered < this.limits.maxVms) return true;
    this.counters.refused++;
    return false;
  }

  /**
   * The VM migrates: copy its frames until `forMs` passed (then `onEnd`); with `at`, its port, whose
   * counters are read meanwhile once the copy rules are in place (`watchReads`; PortReads). False
   * when it already is, or is stopped, or there is no room (counted).
   */
  copy(bindingId: number, forMs: number, onEnd: () => void, at?: { readonly dpid: bigint; readonly port: number }): boolean {
    const current = this.byId.get(bindingId);
    if (current?.mode === 'copy' || current?.mode === 'hold') return false;
    if (!this.admits(bindingId)) return false;
    if (current !== undefined) this.clock.clearTimeout(current.timer);
    const timer = this.clock.setTimeout(() => { this.endCopy(bindingId); onEnd(); }, forMs);
    timer.unref?.();
    const state: Copying = { mode: 'copy', ring: { frames: [], released: [], releasedCount: 0 }, bytes: 0, timer, ...(at === undefined ? {} : { reads: { of: new PortReads(), ...at } }) };
    this.byId.set(bindingId, state);
    return true;
  }

  /**
   * The copy rules of a migrating VM are in place (the switch confirmed them): from now on every
   * frame its port is given is copied, and its counters are read (every READS_SAMPLE_MS). A reading
   * from before would bound the frames it was given uncopied by too little: those given until the
   * rules came (a CI run of the libvirt e2e took one reading, before them, and lost a ping).
   */
  watchReads(bindingId: number): void {
    const state = this.byId.get(bindingId);
    if (state?.mode === 'copy' && state.reads !== undefined && state.reads.of.samples === 0) this.sampleReads(bindingId, state);
  }

  /**
   * The stopped VM's port's counters, read now: the number of the first copy it may not have handed
   * on (PortReads.unreadFrom), for `hold`; or why they cannot tell: it is not copying with its port
   * watched, no reading came while it was, or at the stop within READS_AT_STOP_TIMEOUT_MS, or the
   * count went backwards.
   */
  async unreadAtStop(bindingId: number): Promise<Unread | { readonly cannotTell: string }> {
    const state = this.byId.get(bindingId);
    if (state?.mode !== 'copy' || state.reads === undefined) return { cannotTell: 'not copying at a watched port' };
    if (state.reads.of.samples === 0) return { cannotTell: 'no reading of the port while copying' };
    const sw = this.switches.get(state.reads.dpid);
    if (sw === undefined) return { cannotTell: 'its switch is gone' };
    let copies = 0;
    const counters = await Promise.race([
      sw.portStats(state.reads.port, () => { copies = copiesOf(state.ring); }).catch(() => undefined),
      sleep(this.clock, READS_AT_STOP_TIMEOUT_MS).then(() => undefined),
    ]);
    if (this.byId.get(bindingId) !== state) return { cannotTell: 'the copying ended meanwhile' };
    if (counters === undefined) return { cannotTell: `no reading at the stop within ${READS_AT_STOP_TIMEOUT_MS} ms` };
    const unread = state.reads.of.unreadFrom(copies, counters);
    return unread ?? { cannotTell: 'the port\'s count went backwards' };
  }

  /**
   * The VM stopped (at `stoppedAt`, the hypervisor's time, if known): hold its frames from now,
   * starting with the copies that arrived since then. `onExpire` runs if nothing ends the stop in
   * time. False when it already was stopped.
   */
  hold(bindingId: number, onExpire: () => void, stoppedAt?: number, unread?: Unread): boolean {
    const current = this.byId.get(bindingId);
    if (current?.mode === 'hold') return false;
    if (!this.admits(bindingId)) return false;
    if (current !== undefined) this.clock.clearTimeout(current.timer);
    const now = this.clock.now();
    // The span by time in full where the counters cannot tell, or cannot decide alone (read too seldom, or lagging while copying).
    const span = unread?.trusted === true ? Math.min(this.limits.replayBeforeStopMs, COUNTED_SPAN_MS) : this.limits.replayBeforeStopMs;
    const since = Math.min(stoppedAt ?? now, now) - span;
    const { frames, missed, byCount } = current?.mode === 'copy' ? this.recover(current.ring, since, unread?.from) : { frames: [], missed: 0, byCount: 0 };
    const copies = current?.mode === 'copy' ? copiesOf(current.ring) : 0;
    const timer = this.clock.setTimeout(() => { this.counters.expired++; onExpire(); }, this.limits.maxAgeMs);
    timer.unref?.();
    this.byId.set(bindingId, { mode: 'hold', frames, bytes: frames.reduce((n, f) => n + f.data.length, 0), timer, since: now, ahead: false, missed, copies, byCount });
    return true;
  }

  /**
   * A stopped VM's hold now: the frames it keeps, and the copies of frames that reached its port
   * after the stop which the copy ring had let go before the stop was signalled (the signal came
   * later than `copyWindowMs`, or more came than its bounds keep): lost, and counted as dropped.
   * Undefined when it is not stopped.
   */
  holding(bindingId: number): { readonly frames: number; readonly missed: number; readonly copies: number; readonly byCount: number } | undefined {
    const s = this.byId.get(bindingId);
    return s?.mode === 'hold' ? { frames: s.frames.length, missed: s.missed, copies: s.copies, byCount: s.byCount } : undefined;
  }

  /** The stopped VM's move was committed ahead of its resume. */
  markAhead(bindingId: number): void {
    const s = this.byId.get(bindingId);
    if (s?.mode === 'hold') s.ahead = true;
  }

  /** When the VM's stop began here (epoch ms), if it is stopped. */
  heldSince(bindingId: number): number | undefined {
    const s = this.byId.get(bindingId);
    return s?.mode === 'hold' ? s.since : undefined;
  }

  /** A frame that reached a buffer rule of `binding` (a copy, a held frame or a straggler). */
  onFrame(binding: Binding, data: Uint8Array, dpid: bigint, inPort: number): void {
    const state = this.byId.get(binding.id);
    const at = this.clock.now();
    switch (state?.mode) {
      case 'copy':
        this.counters.copied++;
        return this.keepCopy(state, { data: Uint8Array.from(data), dpid, inPort, at }, at);
      case 'hold':
        if (state.frames.length >= this.limits.maxFrames || state.bytes + data.length > this.limits.maxBytes) {
          this.counters.dropped++;
          return;
        }
        state.frames.push({ data: Uint8Array.from(data), dpid, inPort, at }); // a copy: the packet-in's bytes are a view into a socket chunk
        state.bytes += data.length;
        this.counters.buffered++;
        return;
      case 'drain':
        return;
      case 'forward':
        if (state.pending !== undefined) {
          if (state.pending.length >= this.limits.maxFrames) this.counters.dropped++;
          else state.pending.push({ data: Uint8Array.from(data), dpid, inPort, at });
          return;
        }
        return this.deliver(binding, [{ data, dpid, inPort, at }]);
      default:
        return this.deliver(binding, [{ data, dpid, inPort, at }]);
    }
  }

  /**
   * The VM runs again (it moved, or its stop ended): the held frames, in order, to deliver;
   * stragglers are delivered at once for `forwardForMs` (until the hold rules are gone). From
   * copying, nothing is handed out (the VM had the frames) and late copies are ignored.
   */
  release(bindingId: number, forwardForMs: number, replayLater = false): BufferedFrame[] {
    const state = this.byId.get(bindingId);
    if (state === undefined) return [];
    this.clock.clearTimeout(state.timer);
    const timer = this.clock.setTimeout(() => this.byId.delete(bindingId), forwardForMs);
    timer.unref?.();
    const ring = state.mode === 'copy' ? state.ring : undefined;
    // Held frames, or stragglers still queued behind an earlier release's (a move right after a resume).
    const frames = state.mode === 'hold' ? state.frames : state.mode === 'forward' ? state.pending ?? [] : [];
    this.byId.set(bindingId, state.mode === 'copy' || state.mode === 'drain' ? { mode: 'drain', timer, ...(ring === undefined ? {} : { ring }) }
      : { mode: 'forward', timer, ...(replayLater ? { pending: frames } : {}) });
    return frames;
  }

  /**
   * A stopped VM's move replays its held frames once its receive side is confirmed: until then the
   * stragglers queue behind them (delivered at once they would overtake the older frames). The
   * frames waiting now; `last` ends the queueing (from then on stragglers go on at once).
   */
  takePending(bindingId: number, last: boolean): BufferedFrame[] {
    const state = this.byId.get(bindingId);
    if (state?.mode !== 'forward' || state.pending === undefined) return [];
    const frames = state.pending;
    state.pending = last ? undefined : [];
    return frames;
  }

  /**
   * A stop signalled after the VM's move ended its copy (the signal was slower than the VM): the
   * copies of frames that reached its old port since `stoppedAt` (lost there), to deliver at its new
   * place. Undefined when no move ended a copy of this binding lately.
   */
  recoverLate(bindingId: number, stoppedAt: number | undefined): { frames: BufferedFrame[]; missed: number } | undefined {
    const state = this.byId.get(bindingId);
    if (state?.mode !== 'drain' || state.ring === undefined) return undefined;
    const recovered = this.recover(state.ring, (stoppedAt ?? this.clock.now()) - this.limits.replayBeforeStopMs);
    state.ring = undefined;
    return recovered;
  }

  /**
   * The ring's copies since `since` and from copy number `fromCopy` on, and how many of those it no
   * longer has (counted as dropped).
   */
  private recover(ring: Ring, since: number, fromCopy = Infinity): { frames: BufferedFrame[]; missed: number; byCount: number } {
    const frames = ring.frames.filter((f, i) => f.at >= since || ring.releasedCount + i >= fromCopy);
    const byCount = Math.max(0, Math.min(ring.frames.length, copiesOf(ring) - fromCopy));
    let missed = 0;
    for (let i = ring.released.length - 1; i >= 0 && ring.released[i]! >= since; i--) missed++;
    missed = Math.max(missed, ring.releasedCount - fromCopy);
    this.counters.recovered += frames.length;
    this.counters.dropped += missed;
    return { frames, missed, byCount };
  }

  /** Frames held for every stopped VM (metrics). */
  get held(): number {
    let n = 0;
    for (const s of this.byId.values()) if (s.mode === 'hold') n += s.frames.length;
    return n;
  }

  /**
   * Delivers frames to `binding`'s VM where it is now, as it expects them: its EID as destination
   * (a locator is written back), a gateway alias as the gateway's address, its MAC; straight out of
   * its port, in order (one connection: the switch keeps them in order).
   */
  deliver(binding: Binding, frames: readonly BufferedFrame[]): void {
    this.send(binding.locator.dpid, frames, (f) => [...this.toEndpoint(binding, f.data), setField('eth_dst', binding.mac), outputPort(binding.locator.port)]);
  }

  /**
   * `deliver`, in bursts of at most MAX_BURST, each sent once the switch confirmed the one before (a
   * barrier) and the VM's port has room for it. The frames of a 1 s stop are over a thousand. Sent
   * at once, the switch pushed them into the VM's port faster than the host took them (Linux queues
   * at most `netdev_max_backlog` frames per CPU), and frames were dropped at the port. A real
   * guest's tap then dropped what it could not queue (txqueuelen, 1,000) before the just-resumed
   * guest read it (docs/benchmarks.md: a TCG guest after a 1 s stop lost 916 at 256 frames per
   * barrier). So the port's counters are read with each barrier (PortBacklog: a tap counts a frame
   * sent when the guest's QEMU takes it): no more than replayPortBacklog frames wait in it, and a
   * burst it dropped some of goes again (roomAtPort). With a replay rate, also no sooner than the
   * rate allows (bursts of `rate` x PACED_BURST_MS frames): the configured one, or twice the rate
   * the frames came at if that is more. Resolves when the switch confirmed the last burst too: by its
   * barrier's reply the controller has read every frame the switch sent it before, so the
   * stragglers among them wait behind the replay (`replay` delivers them next, then the caller
   * lets newer frames pass). Without it, under load, stragglers still on
   * their way to the controller when the buffer rules went reached the VM after newer frames, and
   * TCP dropped them as old (PAWS). A switch that fails a barrier gets the rest without waiting for
   * barriers, and the VM's new place gets the rest at once if it moved meanwhile (`current`: the
   * binding now).
   */
  async deliverPaced(binding: Binding, frames: readonly BufferedFrame[], current: () => Binding | undefined = () => binding, pace: Pace = { notBefore: 0 }): Promise<void> {
    const sw = this.switches.get(binding.locator.dpid);
    let confirm = sw !== undefined;
    const rate = replayRate(this.limits.replayFramesPerSec, frames);
    const burst = rate > 0 ? Math.max(1, Math.min(MAX_BURST, Math.round((rate * PACED_BURST_MS) / 1000))) : MAX_BURST;
    // The port's counters before the replay: asked for ahead of the first burst, which the switch
    // then puts out after reading them (one connection, in order), without waiting for their answer
    // (an empty port has room for a first burst; the answer came 1-5 ms later in the lab, a wait the
    // VM's streams paid).
    let baseline: Promise<PortCounters | undefined> | undefined;
    if (pace.port === undefined) {
      if (sw !== undefined && this.limits.replayPortBacklog > 0) baseline = sw.portStats(binding.locator.port).catch(() => undefined);
      else pace.port = null;
    }
    let resendable = frames.length; // given again at most once over, whatever the port drops
    for (let i = 0; i < frames.length;) {
      // No burst bigger than the port was seen to queue (a tap with a shorter queue than the backlog allows).
      const size = Math.min(burst, pace.port?.bound(this.limits.replayPortBacklog) ?? burst);
      if (pace.port && !pace.port.stalled && confirm) await this.roomAtPort(sw!, binding.locator.port, pace.port, Math.min(size, frames.length - i));
      const early = pace.notBefore - this.clock.monotonic();
      if (rate > 0 && early > 0) await sleep(this.clock, early);
      const now = current() ?? binding;
      if (now.version !== binding.version) return this.deliver(now, frames.slice(i));
      const out = frames.slice(i, i + size);
      this.deliver(binding, out);
      if (rate > 0) pace.notBefore = Math.max(pace.notBefore, this.clock.monotonic()) + (out.length * 1000) / rate;
      if (!confirm) {
        i += out.length;
        continue;
      }
      if (baseline !== undefined) {
        pace.port = this.watchFrom(await baseline);
        baseline = undefined;
      }
      const port = pace.port ?? null;
      port?.gave(out.length);
      const stats = port === null ? undefined : sw!.portStats(binding.locator.port).catch(() => undefined);
      await this.outbox.confirm(sw!, []).catch(() => { confirm = false; });
      const counters = await stats;
      const dropped = port !== null && counters !== undefined ? port.read(counters) : 0;
      if (dropped > 0 && confirm && resendable >= out.length) {
        // Which of the burst's frames the port dropped is not known: all of them again, once there is room.
        resendable -= out.length;
        this.counters.resent += out.length;
        continue;
      }
      i += out.length;
    }
  }

  /** A watch of the VM's port from its counters before a replay; null when the switch could not say. */
  private watchFrom(counters: PortCounters | undefined): PortBacklog | null {
    return counters === undefined ? null : new PortBacklog(counters, this.clock.monotonic() + this.limits.maxAgeMs);
  }

  /**
   * Waits until the VM's port has room for `need` more frames of the replay (replayPortBacklog, or
   * what the port was seen to queue when it dropped: PortBacklog.room),
   * reading its counters every PACED_BURST_MS; at most until its reader took nothing for
   * PORT_STALL_MS, or maxAgeMs after the replay began (a guest that reads a frame now and then):
   * then the port is no longer watched, and the rate alone paces the rest.
   */
  private async roomAtPort(sw: FabricSwitch, port: number, backlog: PortBacklog, need: number): Promise<void> {
    let waiting = backlog.waiting();
    let since = this.clock.monotonic();
    while (backlog.room(this.limits.replayPortBacklog) < need) {
      if (this.clock.monotonic() - since >= PORT_STALL_MS || this.clock.monotonic() >= backlog.deadline) {
        backlog.stalled = true;
        return;
      }
      await sleep(this.clock, PACED_BURST_MS);
      const counters = await sw.portStats(port).catch(() => undefined);
      if (counters === undefined) return;
      backlog.read(counters);
      if (backlog.waiting() < waiting) since = this.clock.monotonic();
      waiting = backlog.waiting();
    }
  }

  /**
   * A stopped VM's held frames (`frames`, taken with `takePending`) to it where it runs now, paced
   * (`deliverPaced`), then the frames that queued behind them meanwhile, on the same pace, round
   * after round until a round finds none (at most MAX_STRAGGLER_ROUNDS; each replays faster than
   * they came, so the rounds shrink). Handed out at once, the stragglers of a 1 s stop's replay
   * (about a tenth of it) overflowed a just-resumed guest's tap, which the replay had filled. Stops
   * when the VM moved on (`current`: the binding now): its own replay takes the rest. The caller
   * ends the queueing with `takePending(id, true)` and delivers what that returns.
   */
  async replay(bindingId: number, binding: Binding, frames: readonly BufferedFrame[], current: () => Binding | undefined = () => binding): Promise<void> {
    const pace: Pace = { notBefore: 0 };
    await this.deliverPaced(binding, frames, current, pace);
    for (let round = 0; round < MAX_STRAGGLER_ROUNDS; round++) {
      if ((current() ?? binding).version !== binding.version) return;
      const stragglers = this.takePending(bindingId, false);
      if (stragglers.length === 0) return;
      await this.deliverPaced(binding, stragglers, current, pace);
    }
  }

  /**
   * Another replica masters the VM's new switch: the frames go back into the pipeline of the switch
   * they were held at (this replica's), marked, addressed to the EID; the move's rules there send
   * them on to the VM's new locator.
   */
  redirect(previous: Binding, binding: Binding, frames: readonly BufferedFrame[]): void {
    this.send(previous.locator.dpid, frames, (f) => [setField('metadata', REINJECTED_MARK), ...this.toEndpoint(binding, f.data), outputPort(OFPP_TABLE)]);
  }

  /** Forgets a binding's buffer (it was removed). */
  forget(bindingId: number): void {
    const state = this.byId.get(bindingId);
    if (state !== undefined) this.clock.clearTimeout(state.timer);
    this.byId.delete(bindingId);
  }

  private keepCopy(state: Copying, frame: BufferedFrame, now: number): void {
    const { frames, released } = state.ring;
    frames.push(frame);
    state.bytes += frame.data.length;
    const oldest = now - this.limits.copyWindowMs;
    let drop = 0;
    let bytes = state.bytes;
    while (drop < frames.length && (frames[drop]!.at < oldest || frames.length - drop > this.limits.maxFrames || bytes > this.limits.maxBytes)) {
      bytes -= frames[drop]!.data.length;
      released.push(frames[drop]!.at);
      drop++;
    }
    if (drop > 0) {
      frames.splice(0, drop);
      state.ring.releasedCount += drop;
      if (released.length > this.limits.maxFrames) released.splice(0, released.length - this.limits.maxFrames);
    }
    state.bytes = bytes;
  }

  /**
   * Reads the copying VM's port's counters into its PortReads, now and every READS_SAMPLE_MS after
   * each answer, while it copies.
   */
  private sampleReads(bindingId: number, state: Copying): void {
    const reads = state.reads!;
    const sw = this.switches.get(reads.dpid);
    if (sw === undefined) return;
    // The copies paired with a reading are those read before its reply: the copies read after it
    // in the same chunk from the switch (hundreds, when the controller was busy for a moment) came
    // after the count, and taken with it they would make the uncopied frames seem fewer.
    let copies = 0;
    sw.portStats(reads.port, () => { copies = copiesOf(state.ring); }).then((counters) => {
      if (this.byId.get(bindingId) !== state) return;
      if (counters !== undefined) reads.of.sample(copies, counters);
      const next = this.clock.setTimeout(() => { if (this.byId.get(bindingId) === state) this.sampleReads(bindingId, state); }, READS_SAMPLE_MS);
      next.unref?.();
    }, () => undefined);
  }

  private endCopy(bindingId: number): void {
    if (this.byId.get(bindingId)?.mode === 'copy') this.release(bindingId, 2000);
  }

  private send(dpid: bigint, frames: readonly BufferedFrame[], actionsFor: (f: BufferedFrame) => Action[]): void {
    if (frames.length === 0) return;
    const sw = this.switches.get(dpid);
    const messages: PacketOut[] = frames.map((f) => packetOut({ inPort: OFPP_CONTROLLER, actions: actionsFor(f), data: f.data }));
    if (sw !== undefined && this.outbox.send(sw, messages)) this.counters.delivered += frames.length;
    else this.counters.dropped += frames.length;
  }

  /** The VM's own view of a frame: its EID as destination, a gateway alias as the gateway's address. */
  private toEndpoint(binding: Binding, data: Uint8Array): Action[] {
    const actions: Action[] = [];
    const parsed = parsePacket(data);
    if (parsed.ok && parsed.value.kind === 'ipv4') {
      const { src, dst } = parsed.value.ipv4;
      if (dst !== binding.eid) actions.push(setField('ipv4_dst', binding.eid));
      const aliased = this.subnets.subnets.find((s) => s.gatewayAlias === src);
      if (aliased !== undefined) actions.push(setField('ipv4_src', aliased.gateway.ip));
    }
    return actions;
  }
}

/** Copies a ring received since the copying began. */
function copiesOf(ring: Ring): number {
  return ring.releasedCount + ring.frames.length;
}
