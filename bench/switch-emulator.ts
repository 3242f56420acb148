// A cbench-style OpenFlow 1.3 switch emulator: N switches over TCP that handshake like a real
// switch (HELLO, FEATURES_REPLY with their dpid, SET_CONFIG accepted, DESC / PORT_DESC / FLOW
// stats replies, ECHO and BARRIER replies) and then send PACKET_INs carrying real Ethernet
// frames (ARP requests and IPv4/UDP, many source MACs per switch, table-miss, in_port match;
// either a fixed set of MACs or, like cbench, a fresh random one per packet-in).
// A "response" is a PACKET_OUT carrying the frame of an outstanding packet-in (every learning
// controller answers an unbuffered packet-in with one); it is matched by the frame's source MAC,
// so duplicates and late answers are not counted. Throughput mode keeps a
// window of packet-ins outstanding per switch; latency mode keeps one and times the round trip.
// A switch may connect to several controllers, as Open vSwitch does with several targets
// (`set-controller BR tcp:c1 tcp:c2 tcp:c3`), and keeps their OpenFlow roles as OVS does
// (controller-roles.ts): packet-ins only to its master (or equals), writes only from them.
// Speaks only the wire protocol, so it works against any OpenFlow 1.3 controller.

import { connect, type Socket } from 'node:net';
import {
  decodeMessage, encodeMessage, Framer, OFPCR_ROLE_EQUAL, OFPT_FLOW_MOD, OFPT_PACKET_OUT, type OfpMessage, type Port, type RoleRequest,
} from '../controller/openflow/index.js';
import { ControllerRoles, errorFor, receivesPacketIns, refusedWrite, type RoleHolder } from './controller-roles.js';
import { macOf, packetInSource, type PacketInSource, type SourceMacs } from './packet-in-sources.js';

export { ipOf, macOf, packetInFrames, RANDOM_POOL_SIZE, type SourceMacs } from './packet-in-sources.js';

export interface EmulatorOptions {
  readonly host: string;
  /** The controller's port on `host`; several: the switch connects to each (OVS with several controller targets). */
  readonly port: number | readonly number[];
  readonly switches: number;
  /** Datapath id of the first switch; the others follow. */
  readonly firstDpid: bigint;
  /** Source MACs per switch (each sends its frames from one fixed port). */
  readonly macsPerSwitch: number;
  readonly portsPerSwitch: number;
  /** cycle: the same MACs round and round; random: a fresh random MAC per packet-in (cbench), see packet-in-sources.ts. */
  readonly sourceMacs?: SourceMacs;
}

export const DEFAULT_EMULATOR: Omit<EmulatorOptions, 'host' | 'port'> = {
  switches: 16, firstDpid: 0x100n, macsPerSwitch: 1000, portsPerSwitch: 4,
};

export interface SwitchCounters {
  packetIns: number;
  /** PACKET_OUTs that carried the frame of an outstanding packet-in: the responses. */
  packetOuts: number;
  /** PACKET_OUTs that matched no outstanding packet-in (duplicates, late answers to re-sent ones). */
  unmatched: number;
  flowMods: number;
  /** Packet-ins re-sent because no answer came within the retry time (lost or ignored). */
  retries: number;
  /** Writes (PACKET_OUT, FLOW_MOD ...) from a slave controller, refused with OFPBRC_IS_SLAVE. */
  slaveWrites: number;
}

/** Silence after which the outstanding packet-ins count as lost and are re-sent (a loss detector, not a pacing aid). */
const RETRY_AFTER_MS = 2000;

/** One TCP session of an emulated switch with one controller, and that controller's role. */
class ControllerChannel implements RoleHolder {
  role = OFPCR_ROLE_EQUAL;
  closed = false;
  featuresSent = false;
  readonly framer = new Framer();

  constructor(private readonly socket: Socket) {}

  write(message: OfpMessage): void {
    this.writeBytes(encodeMessage(message));
  }

  writeBytes(bytes: Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/**
 * One emulated datapath: its TCP sessions (one per controller; several like OVS with several
 * controller targets, roles kept as OVS keeps them: controller-roles.ts) and its packet-in source.
 */
export class EmulatedSwitch {
  readonly counters: SwitchCounters = { packetIns: 0, packetOuts: 0, unmatched: 0, flowMods: 0, retries: 0, slaveWrites: 0 };
  /** Round-trip times (ms) of answered packet-ins, recorded while `recording`. */
  readonly rtts: number[] = [];
  recording = false;
  /** Raw handler for messages other than PACKET_OUT / FLOW_MOD (migration scenarios, tests). */
  onMessage?: (message: OfpMessage) => void;

  private readonly channels: ControllerChannel[] = [];
  private expectedChannels = 0;
  private readonly roles = new ControllerRoles();
  private sourceCache: PacketInSource | undefined;
  private window = 0;
  private outstanding = 0;
  /** Send time per frame index (the low 3 bytes of its source MAC); NaN when not outstanding. */
  private sentAt = new Float64Array(0);
  private featuresSent!: () => void;
  private closedEarly!: (error: Error) => void;
  /** Resolves once FEATURES_REPLY is sent to every controller; rejects when one closes the connection before. */
  readonly ready: Promise<void>;
  private closed = false;
  private lastAnswer = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(readonly dpid: bigint, private readonly options: EmulatorOptions) {
    this.ready = new Promise((resolve, reject) => { this.featuresSent = resolve; this.closedEarly = reject; });
    this.ready.catch(() => undefined); // observed by connectSwitches; a later close is not an error
  }

  /** Built lazily: a scale run connects a thousand switches that never send load. */
  private get source(): PacketInSource {
    const { sourceMacs = 'cycle', macsPerSwitch, portsPerSwitch } = this.options;
    return (this.sourceCache ??= packetInSource(sourceMacs, this.dpid, macsPerSwitch, portsPerSwitch));
  }

  /** Connects to every controller port of the options and sends each a HELLO. */
  async connect(): Promise<void> {
    const ports = typeof this.options.port === 'number' ? [this.options.port] : this.options.port;
    this.expectedChannels = ports.length;
    await Promise.all(ports.map((port) => this.open(port)));
  }

  /** Some controller is MASTER of this switch (a role request made it so). */
  get mastered(): boolean {
    return this.roles.mastered;
  }

  private async open(port: number): Promise<void> {
    const socket = connect({ host: this.options.host, port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const channel = new ControllerChannel(socket);
    this.channels.push(channel);
    this.roles.join(channel);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      channel.closed = true;
      this.roles.leave(channel);
      if (!channel.featuresSent) this.closedEarly(new Error(`switch ${this.dpid}: the controller on port ${port} closed the connection during the handshake`));
    });
    socket.on('data', (chunk: Buffer) => this.onData(channel, chunk));
    channel.write({ type: 'HELLO', xid: 1, version: 4, elements: [{ type: 'VERSIONBITMAP', versions: [4] }] });
  }

  /** Starts keeping `window` packet-ins outstanding (0 stops). */
  load(window: number): void {
    this.window = Math.min(window, this.source.size);
    this.outstanding = 0;
    this.sentAt = new Float64Array(this.source.size).fill(NaN);
    this.lastAnswer = performance.now();
    this.fill();
    clearInterval(this.retryTimer);
    if (window > 0) this.retryTimer = setInterval(() => this.retryIfStuck(), RETRY_AFTER_MS / 4);
  }

  stop(): void {
    this.window = 0;
    clearInterval(this.retryTimer);
  }

  close(): void {
    this.stop();
    this.closed = true;
    for (const c of this.channels) c.destroy();
  }

  /**
   * Sends any message as this switch (PORT_STATUS, a single PACKET_IN ...) to every controller
   * that gets it: a PACKET_IN or FLOW_REMOVED not to slaves.
   */
  write(message: OfpMessage): void {
    if (this.closed) return;
    const asynchronous = message.type === 'PACKET_IN' || message.type === 'FLOW_REMOVED';
    for (const c of this.channels) if (!asynchronous || receivesPacketIns(c)) c.write(message);
  }

  private portList: Port[] | undefined;

  get ports(): Port[] {
    return (this.portList ??= Array.from({ length: this.options.portsPerSwitch }, (_, i) => emulatedPort(this.dpid, i + 1)));
  }

  /** Tops the window up, sending to every master or equal controller; with none, sends nothing (OVS drops a miss then). */
  private fill(): void {
    const n = this.window - this.outstanding;
    if (n <= 0 || this.closed || !this.channels.some((c) => !c.closed && receivesPacketIns(c))) return;
    const now = performance.now();
    const bytes = this.source.take(n, (index) => { this.sentAt[index] = now; });
    this.outstanding += n;
    this.counters.packetIns += n;
    for (const c of this.channels) if (receivesPacketIns(c)) c.writeBytes(bytes);
  }

  /** A controller that ignored a packet-in must not stall the window forever. */
  private retryIfStuck(): void {
    if (this.window === 0 || performance.now() - this.lastAnswer < RETRY_AFTER_MS) return;
    this.counters.retries += this.outstanding;
    this.outstanding = 0;
    this.sentAt.fill(NaN);
    this.lastAnswer = performance.now();
    this.fill();
  }

  private onData(channel: ControllerChannel, chunk: Buffer): void {
    const { frames } = channel.framer.push(chunk);
    let answered = 0;
    const now = performance.now();
    for (const frame of frames) {
      const type = frame[1];
      // The hot path reads a few bytes, never decodes: the emulator must not be the bottleneck.
      const refused = refusedWrite(channel, frame);
      if (refused !== undefined) {
        this.counters.slaveWrites++;
        channel.write(refused);
      } else if (type === OFPT_PACKET_OUT) {
        if (this.answer(packetOutFrameIndex(frame), now)) answered++;
      } else if (type === OFPT_FLOW_MOD) {
        this.counters.flowMods++;
      } else {
        this.onControl(channel, frame);
      }
    }
    if (answered > 0) {
      this.lastAnswer = now;
      this.fill();
    }
  }

  /** A PACKET_OUT answers the outstanding packet-in whose frame it carries. */
  private answer(index: number, now: number): boolean {
    const sent = index >= 0 && index < this.sentAt.length ? this.sentAt[index]! : NaN;
    if (Number.isNaN(sent)) {
      this.counters.unmatched++;
      return false;
    }
    this.sentAt[index] = NaN;
    this.counters.packetOuts++;
    this.outstanding--;
    if (this.recording) this.rtts.push(now - sent);
    return true;
  }

  private onControl(channel: ControllerChannel, frame: Buffer): void {
    const decoded = decodeMessage(frame);
    if (!decoded.ok) return;
    const m = decoded.message;
    if (m.type === 'ROLE_REQUEST') {
      this.onRoleRequest(channel, m, frame);
    } else {
      const reply = replyTo(m, this.dpid, this.ports);
      if (reply !== undefined) channel.write(reply);
      if (reply?.type === 'FEATURES_REPLY') {
        channel.featuresSent = true;
        if (this.channels.length === this.expectedChannels && this.channels.every((c) => c.featuresSent)) this.featuresSent();
      }
    }
    this.onMessage?.(m);
  }

  private onRoleRequest(channel: ControllerChannel, m: RoleRequest, frame: Buffer): void {
    const outcome = this.roles.request(channel, m.role, m.generationId);
    if (!outcome.ok) return channel.write(errorFor(frame, outcome.errorType, outcome.code));
    channel.write({ type: 'ROLE_REPLY', xid: m.xid, role: outcome.role, generationId: outcome.generationId });
    this.fill(); // a new master (or equal) may be the first to take packet-ins
  }
}

/** The frame index of a PACKET_OUT's data (the low 3 bytes of its source MAC), or -1. */
export function packetOutFrameIndex(frame: Buffer): number {
  if (frame.length < 24) return -1;
  const data = 24 + frame.readUInt16BE(16);
  if (frame.length < data + 12) return -1;
  return (frame[data + 9]! << 16) | (frame[data + 10]! << 8) | frame[data + 11]!;
}

/** What a switch answers to a controller's request (undefined: no answer due). */
export function replyTo(m: OfpMessage, dpid: bigint, ports: readonly Port[]): OfpMessage | undefined {
  const xid = m.xid;
  switch (m.type) {
    case 'ECHO_REQUEST': return { type: 'ECHO_REPLY', xid, data: m.data };
    case 'FEATURES_REQUEST':
      return { type: 'FEATURES_REPLY', xid, datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 };
    case 'GET_CONFIG_REQUEST': return { type: 'GET_CONFIG_REPLY', xid, flags: 0, missSendLen: 0xffff };
    case 'BARRIER_REQUEST': return { type: 'BARRIER_REPLY', xid };
    // Granted as asked, as one controller alone sees it; EmulatedSwitch keeps real roles (controller-roles.ts).
    case 'ROLE_REQUEST': return { type: 'ROLE_REPLY', xid, role: m.role, generationId: m.generationId };
    case 'MULTIPART_REQUEST': return { type: 'MULTIPART_REPLY', xid, flags: 0, body: multipartBody(m.body, dpid, ports) };
    default: return undefined;
  }
}

function multipartBody(body: Extract<OfpMessage, { type: 'MULTIPART_REQUEST' }>['body'], dpid: bigint, ports: readonly Port[]) {
  switch (body.kind) {
    case 'DESC':
      return { kind: 'DESC' as const, desc: { mfrDesc: 'seamless bench', hwDesc: 'emulated switch', swDesc: 'switch-emulator', serialNum: String(dpid), dpDesc: `emu-${dpid}` } };
    case 'PORT_DESC': return { kind: 'PORT_DESC' as const, ports };
    case 'FLOW': return { kind: 'FLOW' as const, flows: [] };
    case 'AGGREGATE': return { kind: 'AGGREGATE' as const, stats: { packetCount: 0n, byteCount: 0n, flowCount: 0 } };
    case 'TABLE': return { kind: 'TABLE' as const, tables: [] };
    case 'PORT_STATS': return { kind: 'PORT_STATS' as const, ports: [] };
    case 'GROUP_DESC': return { kind: 'GROUP_DESC' as const, groups: [] };
    case 'UNKNOWN': return { kind: 'UNKNOWN' as const, mpType: body.mpType, body: new Uint8Array() };
  }
}

export function emulatedPort(dpid: bigint, portNo: number, down = false): Port {
  return {
    portNo, hwAddr: macOf(dpid, 0xff0000 + portNo), name: `emu${dpid}-p${portNo}`,
    config: 0, state: down ? 1 : 4, curr: 0x2820, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 10_000_000,
  };
}

export interface LoadResult {
  /** Responses per second over all switches. */
  readonly responsesPerSec: number;
  readonly packetInsPerSec: number;
  readonly flowModsPerSec: number;
  readonly retries: number;
  /** PACKET_OUTs that answered nothing outstanding. */
  readonly unmatched: number;
  /** Round trip percentiles (ms) in latency mode. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly samples?: number;
}

/** N switches connected and past FEATURES_REPLY. */
export async function connectSwitches(options: EmulatorOptions, dpids?: readonly bigint[]): Promise<EmulatedSwitch[]> {
  const ids = dpids ?? Array.from({ length: options.switches }, (_, i) => options.firstDpid + BigInt(i));
  const switches = ids.map((dpid) => new EmulatedSwitch(dpid, options));
  await Promise.all(switches.map((s) => s.connect()));
  await withTimeout(Promise.all(switches.map((s) => s.ready)), 180_000, 'FEATURES_REQUEST from the controller');
  return switches;
}

/** Runs one measurement: warm-up, then `ms` of counting. window 1 = latency mode. */
export async function measure(switches: readonly EmulatedSwitch[], window: number, warmupMs: number, ms: number): Promise<LoadResult> {
  for (const s of switches) s.load(window);
  await sleep(warmupMs);
  const before = switches.map((s) => ({ ...s.counters }));
  for (const s of switches) { s.rtts.length = 0; s.recording = window === 1; }
  const start = performance.now();
  await sleep(ms);
  const seconds = (performance.now() - start) / 1000;
  const after = switches.map((s) => ({ ...s.counters }));
  for (const s of switches) { s.recording = false; s.stop(); }
  const delta = (key: keyof SwitchCounters) => after.reduce((sum, c, i) => sum + c[key] - before[i]![key], 0);
  const rtts = switches.flatMap((s) => s.rtts).sort((a, b) => a - b);
  await sleep(200); // let the last answers drain before the next run
  return {
    responsesPerSec: delta('packetOuts') / seconds,
    packetInsPerSec: delta('packetIns') / seconds,
    flowModsPerSec: delta('flowMods') / seconds,
    retries: delta('retries'),
    unmatched: delta('unmatched'),
    ...(window === 1 ? { p50Ms: percentile(rtts, 0.5), p99Ms: percentile(rtts, 0.99), samples: rtts.length } : {}),
  };
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
