// Loss-free migration: frames for a VM that is stopping (the stop-and-copy of a live migration).
// From the moment the hypervisor says so (an intent in phase 'stopping') until the VM's first frame
// at its new place, what is on its way to it goes to the controller instead of the dead port (the
// buffer rules, pipeline/binding-rules.ts). Once the move's receive side is confirmed, the frames are
// delivered at its new place, in their original order, before the send side turns newer traffic
// there; stragglers that still reach the buffer rules until they are removed are delivered at once.
// Bounded in frames, bytes and time: beyond a bound the rest is dropped and counted, and TCP
// recovers as it would have. If the VM never shows up elsewhere (the migration failed and the
// source resumed), the frames go back to where it is.

import type { Binding, SubnetMap } from '../mobility/index.js';
import { OFPP_CONTROLLER, OFPP_TABLE, outputPort, packetOut, setField, type Action, type PacketOut } from '../openflow/index.js';
import { REINJECTED_MARK } from '../pipeline/index.js';
import { parsePacket } from '../packet/index.js';
import type { Clock, Timer } from './clock.js';
import type { Outbox } from './outbox.js';
import type { FabricSwitches } from './switches.js';

export interface BufferLimits {
  /** Frames held per VM. */
  readonly maxFrames: number;
  /** Bytes held per VM. */
  readonly maxBytes: number;
  /** How long a VM may stay stopping before its frames go back where it is. */
  readonly maxAgeMs: number;
}

export const DEFAULT_BUFFER_LIMITS: BufferLimits = { maxFrames: 4096, maxBytes: 8 << 20, maxAgeMs: 5000 };

/** A frame held for a stopping VM, and where it reached its buffer rule. */
export interface BufferedFrame {
  readonly data: Uint8Array;
  readonly dpid: bigint;
  readonly inPort: number;
}

interface Buffering {
  readonly mode: 'buffer';
  readonly frames: BufferedFrame[];
  bytes: number;
  readonly timer: Timer;
}

interface Forwarding {
  readonly mode: 'forward';
  readonly timer: Timer;
}

export interface BufferCounters {
  /** Frames held for a stopping VM. */
  buffered: number;
  /** Frames delivered from a buffer (at the new place, or back where the VM resumed). */
  delivered: number;
  /** Frames dropped because a bound was reached, or their VM's switch was gone. */
  dropped: number;
  /** Stops that ended without a move (the frames went back where the VM is). */
  expired: number;
}

export class FrameBuffers {
  readonly counters: BufferCounters = { buffered: 0, delivered: 0, dropped: 0, expired: 0 };
  private readonly byId = new Map<number, Buffering | Forwarding>();

  constructor(
    private readonly switches: FabricSwitches,
    private readonly outbox: Outbox,
    private readonly subnets: SubnetMap,
    private readonly clock: Clock,
    private readonly limits: BufferLimits,
  ) {}

  /** Is the VM stopping (its buffer rules wanted)? */
  isStopping(bindingId: number): boolean {
    return this.byId.get(bindingId)?.mode === 'buffer';
  }

  /** The VM is stopping: buffer from now on. False when it already was. `onExpire` runs if no move ends it in time. */
  start(bindingId: number, onExpire: () => void): boolean {
    const current = this.byId.get(bindingId);
    if (current?.mode === 'buffer') return false;
    if (current !== undefined) this.clock.clearTimeout(current.timer);
    const timer = this.clock.setTimeout(() => { this.counters.expired++; onExpire(); }, this.limits.maxAgeMs);
    timer.unref?.();
    this.byId.set(bindingId, { mode: 'buffer', frames: [], bytes: 0, timer });
    return true;
  }

  /**
   * A frame that reached a buffer rule: held while the VM is stopping, else delivered at once to
   * where `binding` is now (a straggler after the move).
   */
  onFrame(binding: Binding, data: Uint8Array, dpid: bigint, inPort: number): void {
    const state = this.byId.get(binding.id);
    if (state?.mode !== 'buffer') return this.deliver(binding, [{ data, dpid, inPort }]);
    if (state.frames.length >= this.limits.maxFrames || state.bytes + data.length > this.limits.maxBytes) {
      this.counters.dropped++;
      return;
    }
    state.frames.push({ data: Uint8Array.from(data), dpid, inPort }); // a copy: the packet-in's bytes are a view into a socket chunk
    state.bytes += data.length;
    this.counters.buffered++;
  }

  /**
   * The move happened (or the stop ended): the held frames, in order, to deliver; stragglers are
   * delivered at once for `forwardForMs` (until the buffer rules are gone).
   */
  release(bindingId: number, forwardForMs: number): BufferedFrame[] {
    const state = this.byId.get(bindingId);
    if (state === undefined) return [];
    this.clock.clearTimeout(state.timer);
    const timer = this.clock.setTimeout(() => this.byId.delete(bindingId), forwardForMs);
    timer.unref?.();
    this.byId.set(bindingId, { mode: 'forward', timer });
    return state.mode === 'buffer' ? state.frames : [];
  }

  /** The bindings whose VM is stopping now. */
  stoppingIds(): Set<number> {
    const ids = new Set<number>();
    for (const [id, s] of this.byId) if (s.mode === 'buffer') ids.add(id);
    return ids;
  }

  /** Frames held for every stopping VM (metrics). */
  get held(): number {
    let n = 0;
    for (const s of this.byId.values()) if (s.mode === 'buffer') n += s.frames.length;
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
   * Another replica masters the VM's new switch: the frames go back into the pipeline of the switch
   * they were held at (this replica's), marked, addressed to the EID; the move's rules there send
   * them on to the VM's new locator.
   */
  redirect(previous: Binding, binding: Binding, frames: readonly BufferedFrame[]): void {
    this.send(previous.locator.dpid, frames, (f) => [setField('metadata', REINJECTED_MARK), ...this.toEndpoint(binding, f.data), outputPort(OFPP_TABLE)]);
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

  /** Forgets a binding's buffer (it was removed). */
  forget(bindingId: number): void {
    const state = this.byId.get(bindingId);
    if (state !== undefined) this.clock.clearTimeout(state.timer);
    this.byId.delete(bindingId);
  }

}
