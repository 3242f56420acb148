// The switch layer, faked over a FakeNetwork: each FakeSwitch is a FabricSwitch whose flow table is
// a FakeFlowTable. FLOW_MODs apply to it, PACKET_OUTs run through it (or out of a port) into the
// network's queue, barriers resolve on the test's clock, flow stats read it back, and packet-ins
// come from it. A switch can be closed at any moment, as a real connection can. A port can have a
// slow tap in front of it (`slowTap`), and port stats read its counters as a Linux tap keeps them
// (a host's port counts what the host took: FakeNetwork.txPackets).

import { Subject } from 'rxjs';
import type { Clock } from '../../controller/fabric/clock.js';
import type { FabricMessage, FabricSwitch, FabricSwitches } from '../../controller/fabric/switches.js';
import {
  OFP_NO_BUFFER, OFPP_TABLE, OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY, OFPPS_LINK_DOWN, OFPR_ACTION, OFPTT_ALL,
  type FlowMod, type FlowRemoved, type FlowStats, type OfpMessage, type PacketIn, type Port, type PortStats, type PortStatus,
} from '../../controller/openflow/index.js';
import { ConnectionClosedError, formatDpid, parseDpid, type FlowStatsFilter, type Outgoing } from '../../controller/switch/index.js';
import type { Headers } from './fake-flow-table.js';
import type { FakeNetwork, PacketInRecord } from './fake-network.js';
import { decodeFrame, encodeFrame } from './frames.js';

export function fakePort(portNo: number, down = false): Port {
  return {
    portNo, hwAddr: `02:ff:00:00:00:${(portNo & 0xff).toString(16).padStart(2, '0')}`, name: `p${portNo}`, config: 0,
    state: down ? OFPPS_LINK_DOWN : 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
  };
}

/**
 * A hypervisor's tap in front of a port, as Linux keeps one: what the switch puts out there waits in
 * a queue of `capacity` frames (txqueuelen) until its reader (QEMU) takes it, `perMs` frames every
 * `everyMs` milliseconds of the test clock from `readsFrom` on (a guest that runs again late); a full queue
 * drops the frame. Its counters are the kernel's: a frame counts as transmitted when it is read.
 */
export interface SlowTap {
  readonly capacity: number;
  perMs: number;
  everyMs: number;
  readsFrom: number;
  readonly queue: Headers[];
  txPackets: number;
  txDropped: number;
}

export class FakeSwitch implements FabricSwitch {
  readonly dpidText: string;
  readonly ports = new Map<number, Port>();
  /** Everything the controller sent, in order. */
  readonly received: Outgoing[] = [];
  /** What the next flow-stats reads fail with, in order (a switch layer's bound biting). */
  readonly flowStatsFailures: Error[] = [];
  closed = false;
  /** Barrier replies wait this long on the test clock. */
  barrierDelayMs = 1;
  /** Port stats replies wait this long on the test clock (0: at once). */
  portStatsDelayMs = 0;
  /** Port stats are refused (a switch that does not keep port counters). */
  noPortStats = false;
  /** While set, barrier replies wait until releaseBarriers(). */
  holdBarriers = false;
  private readonly heldBarriers: (() => void)[] = [];
  private readonly pendingBarriers = new Set<(error: Error) => void>();
  private xid = 0;
  private readonly taps = new Map<number, SlowTap & { reading: boolean }>();

  constructor(readonly dpid: bigint, private readonly net: FakeNetwork, private readonly clock: Clock) {
    this.dpidText = formatDpid(dpid);
  }

  get table() {
    return this.net.switches.get(this.dpid)!;
  }

  send(message: Outgoing): number | false {
    if (this.closed) return false;
    this.received.push(message);
    if (message.type === 'FLOW_MOD') this.table.apply(message as FlowMod);
    else if (message.type === 'PACKET_OUT') this.packetOut(message.inPort, message.actions, message.data);
    return ++this.xid;
  }

  async sendBatch(messages: readonly Outgoing[]): Promise<void> {
    if (this.closed) throw new ConnectionClosedError(this.dpidText, 'closed');
    for (const m of messages) this.send(m);
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => reject(error);
      this.pendingBarriers.add(fail);
      const reply = () => {
        this.pendingBarriers.delete(fail);
        if (this.closed) reject(new ConnectionClosedError(this.dpidText, 'closed'));
        else resolve();
      };
      if (this.holdBarriers) this.heldBarriers.push(reply);
      else this.clock.setTimeout(reply, this.barrierDelayMs);
    });
  }

  /** Answers the barriers held so far; `keepHolding` holds the next ones too (step by step). */
  releaseBarriers(keepHolding = false): void {
    this.holdBarriers = keepHolding;
    for (const reply of this.heldBarriers.splice(0)) reply();
  }

  get heldBarrierCount(): number {
    return this.heldBarriers.length;
  }

  async flowStats(filter: FlowStatsFilter = {}): Promise<FlowStats[]> {
    if (this.closed) throw new ConnectionClosedError(this.dpidText, 'closed');
    const failure = this.flowStatsFailures.shift();
    if (failure !== undefined) throw failure;
    const table = filter.tableId === undefined || filter.tableId === OFPTT_ALL ? undefined : filter.tableId;
    const want = Object.entries(filter.match ?? {});
    await new Promise<void>((resolve) => { this.clock.setTimeout(resolve, this.barrierDelayMs); });
    if (this.closed) throw new ConnectionClosedError(this.dpidText, 'closed');
    return this.table.flows(table)
      .filter((f) => want.every(([k, v]) => JSON.stringify((f.match as Record<string, unknown>)[k], bigints) === JSON.stringify(v, bigints)))
      .map((f) => ({
        tableId: f.table, priority: f.priority, match: f.match, instructions: f.instructions, cookie: f.cookie,
        idleTimeout: f.idleTimeout, hardTimeout: 0, flags: 0, durationSec: 0, durationNsec: 0, packetCount: BigInt(f.packets), byteCount: 0n,
      }));
  }

  /**
   * Port stats as the switch reads them from the kernel: a tap's (`slowTap`), or what went out of
   * the port. Read when asked (a switch reads them in the order of its messages), answered
   * `portStatsDelayMs` later.
   */
  async portStats(portNo: number, atReply?: () => void): Promise<PortStats | undefined> {
    if (this.closed) throw new ConnectionClosedError(this.dpidText, 'closed');
    if (this.noPortStats) throw new Error('OFPET_BAD_REQUEST OFPBRC_BAD_MULTIPART');
    if (!this.ports.has(portNo)) return undefined;
    const tap = this.taps.get(portNo);
    const tx = BigInt(tap?.txPackets ?? this.net.txPackets(this.dpid, portNo));
    const dropped = BigInt(tap?.txDropped ?? 0);
    // The reply's place among this switch's messages: where it read the counters (its packet-ins
    // until now came before it; those of frames during portStatsDelayMs come after).
    atReply?.();
    if (this.portStatsDelayMs > 0) await new Promise<void>((resolve) => { this.clock.setTimeout(resolve, this.portStatsDelayMs); });
    if (this.closed) throw new ConnectionClosedError(this.dpidText, 'closed');
    return {
      portNo, rxPackets: 0n, txPackets: tx, rxBytes: 0n, txBytes: 0n, rxDropped: 0n, txDropped: dropped, rxErrors: 0n, txErrors: 0n,
      rxFrameErr: 0n, rxOverErr: 0n, rxCrcErr: 0n, collisions: 0n, durationSec: 0, durationNsec: 0,
    };
  }

  /** Puts a slow tap in front of `portNo` (SlowTap): PACKET_OUTs to it queue there; returns it, to change its pace. */
  slowTap(portNo: number, options: { capacity?: number; perMs: number; everyMs?: number; readsFrom?: number }): SlowTap {
    const tap = { capacity: options.capacity ?? 1000, perMs: options.perMs, everyMs: options.everyMs ?? 1, readsFrom: options.readsFrom ?? 0, queue: [], txPackets: 0, txDropped: 0, reading: false };
    this.taps.set(portNo, tap);
    return tap;
  }

  /** The connection dies: every request in flight fails, every later send throws. */
  close(): void {
    this.closed = true;
    for (const fail of this.pendingBarriers) fail(new ConnectionClosedError(this.dpidText, 'closed'));
    this.pendingBarriers.clear();
    for (const reply of this.heldBarriers.splice(0)) reply();
  }

  /** A packet-in, as the switch sends it for a frame that hit a controller output. */
  packetIn(record: PacketInRecord): PacketIn {
    const data = encodeFrame(record.headers);
    return {
      type: 'PACKET_IN', xid: 0, bufferId: OFP_NO_BUFFER, totalLen: data.length, reason: OFPR_ACTION, tableId: record.table, cookie: record.cookie,
      match: { in_port: record.port, ...(record.metadata === undefined ? {} : { metadata: record.metadata }) }, data,
    };
  }

  private packetOut(inPort: number, actions: readonly { type: string; port?: number; field?: string; value?: unknown }[], data: Uint8Array): void {
    let frame: Headers = decodeFrame(data);
    for (const a of actions) {
      if (a.type === 'SET_FIELD' && a.field !== undefined) frame = { ...frame, [a.field]: a.value };
      else if (a.type === 'OUTPUT' && a.port === OFPP_TABLE) this.net.throughSwitch(this.dpid, inPort, frame);
      else if (a.type === 'OUTPUT' && a.port !== undefined) {
        const { metadata: _m, ...wire } = frame;
        this.output(a.port, wire);
      } else throw new Error(`FakeSwitch: packet-out action ${a.type} not modelled`);
    }
  }

  private output(port: number, frame: Headers): void {
    const tap = this.taps.get(port);
    if (tap === undefined) {
      this.net.fromSwitch(this.dpid, port, frame);
      return;
    }
    if (tap.queue.length >= tap.capacity) {
      tap.txDropped++;
      return;
    }
    tap.queue.push(frame);
    this.readTap(port, tap);
  }

  /** The tap's reader takes `perMs` frames every `everyMs` while any wait. */
  private readTap(port: number, tap: SlowTap & { reading: boolean }): void {
    if (tap.reading) return;
    tap.reading = true;
    const tick = () => {
      if (this.clock.now() >= tap.readsFrom && this.clock.now() % tap.everyMs === 0) {
        for (const frame of tap.queue.splice(0, tap.perMs)) {
          tap.txPackets++;
          this.net.fromSwitch(this.dpid, port, frame);
        }
      }
      if (tap.queue.length > 0) this.clock.setTimeout(tick, 1);
      else tap.reading = false;
    };
    this.clock.setTimeout(tick, 1);
  }
}

/** The registry side: which fake switches are up, and their event streams. */
export class FakeSwitches implements FabricSwitches {
  readonly switchUp$ = new Subject<FabricSwitch>();
  readonly switchDown$ = new Subject<FabricSwitch>();
  readonly packetIn$ = new Subject<FabricMessage<PacketIn>>();
  readonly portStatus$ = new Subject<FabricMessage<PortStatus>>();
  readonly flowRemoved$ = new Subject<FabricMessage<FlowRemoved>>();
  private readonly up = new Map<bigint, FakeSwitch>();

  constructor(private readonly net: FakeNetwork, private readonly clock: Clock) {
    net.attachController((record) => {
      const sw = this.up.get(record.dpid);
      if (sw !== undefined) this.packetIn$.next({ sw, dpid: sw.dpid, message: sw.packetIn(record) });
    });
  }

  get(dpid: bigint | string): FakeSwitch | undefined {
    return this.up.get(typeof dpid === 'bigint' ? dpid : parseDpid(dpid));
  }

  list(): FakeSwitch[] {
    return [...this.up.values()];
  }

  /** A switch connects (its ports are those of its FakeFlowTable, all up). */
  connect(dpid: bigint, flowStatsFailures: readonly Error[] = []): FakeSwitch {
    const sw = new FakeSwitch(dpid, this.net, this.clock);
    sw.flowStatsFailures.push(...flowStatsFailures);
    for (const p of this.net.switches.get(dpid)?.ports ?? []) sw.ports.set(p, fakePort(p));
    this.up.set(dpid, sw);
    this.switchUp$.next(sw);
    return sw;
  }

  disconnect(dpid: bigint): void {
    const sw = this.up.get(dpid);
    if (sw === undefined) return;
    sw.close();
    this.up.delete(dpid);
    this.switchDown$.next(sw);
  }

  /** A port appears, changes state or goes away, and the switch says so (PORT_STATUS). */
  portStatus(dpid: bigint, portNo: number, change: 'add' | 'down' | 'up' | 'delete'): void {
    const sw = this.up.get(dpid);
    if (sw === undefined) return;
    const port = fakePort(portNo, change === 'down');
    if (change === 'delete') sw.ports.delete(portNo);
    else sw.ports.set(portNo, port);
    const reason = change === 'add' ? OFPPR_ADD : change === 'delete' ? OFPPR_DELETE : OFPPR_MODIFY;
    this.portStatus$.next({ sw, dpid, message: { type: 'PORT_STATUS', xid: 0, reason, port } as PortStatus });
  }

  /** The switch removed a rule by itself (idle timeout). */
  flowRemoved(dpid: bigint, message: FlowRemoved): void {
    const sw = this.up.get(dpid);
    if (sw !== undefined) this.flowRemoved$.next({ sw, dpid, message });
  }
}

function bigints(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}

export type { OfpMessage };
