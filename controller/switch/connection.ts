// One switch connection: the state machine HANDSHAKE -> CONFIG -> MAIN -> DEAD, echo keepalive,
// requests matched by xid, and the asynchronous messages (packet-in, port-status, flow-removed)
// that applications see once the switch is in MAIN. Hello, echo and features stay in here.

import type { Duplex } from 'node:stream';
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import {
  decodeMessage, encodeFrame, encodeMessage, errorName, Framer,
  OFP_VERSION, OFPC_FRAG_NORMAL, OFPCML_NO_BUFFER, OFPET_HELLO_FAILED, OFPG_ANY, OFPHFC_INCOMPATIBLE, OFPMP_PORT_DESC, OFPMPF_REPLY_MORE, OFPP_ANY,
  OFPT_HELLO, OFPT_MULTIPART_REPLY, OFPTT_ALL,
} from '../openflow/index.js';
import type {
  Desc, ErrorMsg, FeaturesReply, FlowStats, FlowStatsRequestBody, Hello, OfpMessage, Port, PortStats, PortStatus, TableStats,
} from '../openflow/types.js';
import type { Logger } from '../log.js';
import { formatDpid } from './dpid.js';
import type { PeerIdentity } from './admission.js';
import { BatchError, ConnectionClosedError, RequestTimeoutError, type MultipartLimitError, type OpenFlowError } from './errors.js';
import { negotiate, ourHello } from './handshake.js';
import { Keepalive } from './keepalive.js';
import { EarlyMessages } from './early-messages.js';
import { OPENFLOW_LIMIT_DEFAULTS as DEFAULTS, resolveConnectionOptions, type ConnectionOptions, type ResolvedConnectionOptions } from './limits.js';
import { OpenFlowMetrics } from './metrics.js';
import { peerText, safeDesc, safePort, safePortStatus } from './peer-text.js';
import { applyPortStatus, portTableFrom } from './ports.js';
import { expectsReply, RequestTracker, type ReassemblyBudget, type BatchState, type MultipartLimits, type ReplyFor, type RequestWithReply } from './requests.js';
import { LogThrottle } from './throttle.js';
import { FrameWriter } from './writer.js';

export type { ConnectionOptions } from './limits.js';

export const ConnectionState = { HANDSHAKE: 'HANDSHAKE', CONFIG: 'CONFIG', MAIN: 'MAIN', DEAD: 'DEAD' } as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** What a connection shares with its listener. */
export interface ConnectionContext {
  /** The peer's address and TLS certificate, as the listener saw them. */
  readonly identity?: PeerIdentity;
  readonly metrics?: OpenFlowMetrics;
  /** Rate limit of log lines that peers cause. */
  readonly throttle?: LogThrottle;
  /**
   * Asked once the datapath id is known and again right before MAIN: a reason to refuse this
   * switch (duplicate dpid, pin mismatch), or undefined to let it in.
   */
  readonly admit?: (sw: SwitchConnection, stage: 'features' | 'main') => string | undefined;
  /** The listener's bound on the multipart replies in reassembly on all its connections together. */
  readonly reassembly?: ReassemblyBudget;
}

/** A message as callers hand it to us: the connection assigns the xid. */
export type Outgoing<M extends OfpMessage = OfpMessage> = M extends unknown ? Omit<M, 'xid'> & { readonly xid?: number } : never;

export type FlowStatsFilter = Partial<FlowStatsRequestBody>;

/** Message types applications receive; everything else is the connection's business. */
const ASYNC_TYPES: ReadonlySet<OfpMessage['type']> = new Set(['PACKET_IN', 'PORT_STATUS', 'FLOW_REMOVED', 'EXPERIMENTER', 'UNKNOWN']);
/** The spec asks for at most this much of an offending message in OFPT_ERROR data. */
const ERROR_DATA_LEN = 64;
/** What we keep of the data of an ERROR a switch sends (it quotes at least 64 bytes of our message). */
const KEPT_ERROR_DATA_LEN = 256;
/** After an orderly close, how long we wait for the peer before tearing the socket down. */
const CLOSE_GRACE_MS = 1000;

let connectionSerial = 0;
const NO_DATA = new Uint8Array(0);

export class SwitchConnection {
  /** Serial number, unique in this process (for logs before the dpid is known). */
  readonly id = ++connectionSerial;
  readonly remote: string;
  readonly state$: Observable<ConnectionState>;
  /** Asynchronous messages (PACKET_IN, PORT_STATUS, FLOW_REMOVED, ...), from MAIN on. */
  readonly messages$: Observable<OfpMessage>;
  /** ERRORs not matched to a pending request: for fire-and-forget messages, or unknown xids. */
  readonly errors$: Observable<OpenFlowError>;
  /** Resolves with the close reason once the connection is DEAD. */
  readonly closed: Promise<string>;

  private readonly stateSubject = new BehaviorSubject<ConnectionState>(ConnectionState.HANDSHAKE);
  private readonly messageSubject = new Subject<OfpMessage>();
  private readonly errorSubject = new Subject<OpenFlowError>();
  private readonly framer = new Framer();
  private readonly writer: FrameWriter;
  private readonly tracker: RequestTracker;
  private readonly keepalive: Keepalive;
  private readonly early: EarlyMessages;
  private readonly options: ResolvedConnectionOptions;
  private readonly metrics: OpenFlowMetrics;
  private readonly throttle: LogThrottle;
  private handshakeDeadline: NodeJS.Timeout | undefined;
  /** Set once the switch reached MAIN: only admitted switches name a metric label. */
  private admitted = false;
  private log: Logger;
  private helloReceived = false;
  private featuresReply: FeaturesReply | undefined;
  private dpidTextCache: string | undefined;
  private descBody: Desc | undefined;
  private portTable = new Map<number, Port>();
  /** PORT_STATUS seen after the PORT_DESC reply of CONFIG, re-applied to that snapshot. */
  private statusesAfterPortDesc: PortStatus[] | undefined;
  private reason: string | undefined;
  private markClosed!: (reason: string) => void;

  constructor(
    private readonly socket: Duplex & { remoteAddress?: string; remotePort?: number },
    options: ConnectionOptions,
    log: Logger,
    private readonly context: ConnectionContext = {},
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.options = resolveConnectionOptions(options);
    this.early = new EarlyMessages(this.options.maxEarlyMessages, this.options.maxEarlyBytes);
    this.log = log.child({ conn: this.id, remote: this.remote });
    this.metrics = context.metrics ?? new OpenFlowMetrics();
    this.throttle = context.throttle ?? new LogThrottle({ linesPerWindow: DEFAULTS.logLinesPerMinute, windowMs: 60_000 });
    this.state$ = this.stateSubject.asObservable();
    this.messages$ = this.messageSubject.asObservable();
    this.errors$ = this.errorSubject.asObservable();
    this.closed = new Promise((resolve) => { this.markClosed = resolve; });
    this.writer = new FrameWriter(socket, { maxQueuedBytes: this.options.handshakeMaxQueuedBytes }, (queued) => {
      this.metrics.outputOverflows.inc({ dpid: this.dpidLabel });
      this.throttle.warn(this.log, 'peer does not read its output, closing', { dpid: this.dpidText, queued, state: this.state });
      this.close(`peer does not read: ${queued} bytes queued`, { abort: true });
    });
    this.tracker = new RequestTracker({
      timeoutMs: options.requestTimeoutMs,
      recentLimit: this.options.recentXidLimit,
      describeSwitch: () => this.dpidText,
      errorName,
      multipart: {
        maxParts: this.options.multipartMaxParts,
        maxBytes: this.options.multipartMaxBytes,
        timeoutMs: this.options.multipartTimeoutMs,
      },
      onLimit: (error) => this.onMultipartLimit(error),
      onUndecodablePart: (frame, reason) => {
        this.metrics.undecodableMessages.inc({ dpid: this.dpidLabel });
        this.throttle.warn(this.log, 'undecodable part of a multipart reply', { dpid: this.dpidText, reason, bytes: frame.subarray(0, ERROR_DATA_LEN).toString('hex') });
      },
      ...(context.reassembly === undefined ? {} : { budget: context.reassembly }),
    });
    this.keepalive = new Keepalive({ intervalMs: options.echoIntervalMs, timeoutMs: options.echoTimeoutMs }, {
      canProbe: () => this.helloReceived,
      probe: () => this.send({ type: 'ECHO_REQUEST', data: new Uint8Array() }),
      dead: (silentMs) => this.close(`echo timeout: silent for ${silentMs} ms`, { abort: true }),
    });
  }

  // ---- observable state -------------------------------------------------------------------

  get state(): ConnectionState {
    return this.stateSubject.value;
  }

  /** The datapath id; known from FEATURES_REPLY on (always, for switches in a registry). */
  get dpid(): bigint {
    if (this.featuresReply === undefined) throw new Error(`connection ${this.id} has no datapath id yet (state ${this.state})`);
    return this.featuresReply.datapathId;
  }

  /** 16 hex digits, or the peer address before FEATURES_REPLY. */
  get dpidText(): string {
    if (this.featuresReply === undefined) return this.remote;
    // Formatted once: the runtime names the switch for every message it counts.
    return (this.dpidTextCache ??= formatDpid(this.featuresReply.datapathId));
  }

  get features(): FeaturesReply | undefined { return this.featuresReply; }
  get desc(): Desc | undefined { return this.descBody; }
  /** Ports by number, from PORT_DESC and kept current by PORT_STATUS. */
  get ports(): ReadonlyMap<number, Port> { return this.portTable; }
  get closeReason(): string | undefined { return this.reason; }
  /** Source address and (over TLS) the verified client certificate. */
  get identity(): PeerIdentity | undefined { return this.context.identity; }
  /** Bytes accepted for this peer and not yet taken by the kernel. */
  get queuedBytes(): number { return this.writer.queuedBytes; }

  /** The dpid label of this connection's metrics ('' until the switch is admitted). */
  private get dpidLabel(): string {
    return this.metrics.dpidLabel(this.admitted ? this.dpidText : undefined);
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Starts reading and sends our HELLO. Subscribe to the streams before calling this. */
  start(): void {
    const socket = this.socket;
    socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    socket.on('error', (error: Error) => this.close(`socket error: ${error.message}`, { abort: true }));
    socket.on('close', () => this.close('connection closed by peer'));
    socket.on('end', () => this.close('connection closed by peer'));
    this.keepalive.start();
    const handshakeMs = this.options.handshakeTimeoutMs;
    this.handshakeDeadline = setTimeout(() => this.onHandshakeTimeout(handshakeMs), handshakeMs);
    this.handshakeDeadline.unref();
    this.log.debug('switch connected');
    this.writeMessage(ourHello(this.tracker.nextXid()));
  }

  /**
   * Closes the connection: pending requests are rejected, the socket is ended after what we
   * queued (or destroyed at once with `abort`). Idempotent.
   */
  close(reason = 'closed by controller', { abort = false } = {}): void {
    if (this.state === ConnectionState.DEAD) return;
    this.reason = reason;
    this.keepalive.stop();
    clearTimeout(this.handshakeDeadline);
    if (abort) {
      this.writer.stop();
      this.socket.destroy();
    } else {
      this.writer.flush();
      this.writer.stop();
      this.socket.end();
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    }
    this.tracker.failAll((request) => new ConnectionClosedError(this.dpidText, reason, request));
    this.log.debug('disconnected', { reason });
    this.setState(ConnectionState.DEAD);
    this.stateSubject.complete();
    this.messageSubject.complete();
    this.errorSubject.complete();
    this.markClosed(reason);
  }

  // ---- sending ----------------------------------------------------------------------------

  /**
   * Sends without waiting; a later ERROR for it appears on errors$ with the message. Returns the
   * xid, or false when the connection is DEAD (nothing is sent: safe to call at any time). Throws
   * only the codec's error for an unencodable message (a bug of the caller), synchronously.
   */
  send(message: Outgoing): number | false {
    if (this.state === ConnectionState.DEAD) return false;
    // The hot path (a packet-out and two flow-mods per packet-in): no copy of the message; the
    // xid is written into the encoded header.
    const xid = this.tracker.nextXid();
    const frame = encodeFrame(message as OfpMessage, xid);
    // A PACKET_OUT's data is a view into a received socket chunk: remembering it would pin that
    // chunk in memory; the OFPT_ERROR quotes the message's first bytes anyway.
    this.tracker.remember(message.type === 'PACKET_OUT'
      ? { type: 'PACKET_OUT', xid, bufferId: message.bufferId, inPort: message.inPort, actions: message.actions, data: NO_DATA }
      : message as OfpMessage, xid);
    this.writer.write(frame);
    return xid;
  }

  /**
   * Sends a request and resolves with its (reassembled) reply. Rejects with OpenFlowError,
   * RequestTimeoutError, MultipartLimitError, or ConnectionClosedError (also when called on a
   * DEAD connection, or when it dies mid-flight); never throws.
   */
  /** Sends a request; resolves with its reply. `atReply`: see RequestTracker.expect. */
  request<M extends Outgoing<RequestWithReply>>(message: M, limits?: MultipartLimits, atReply?: () => void): Promise<ReplyFor[M['type']]> {
    const full = this.withXid<OfpMessage>(message as Outgoing);
    if (!expectsReply(full)) return Promise.reject(new TypeError(`${full.type} has no reply; use send() or sendBatch()`));
    if (this.state === ConnectionState.DEAD) {
      return Promise.reject(new ConnectionClosedError(this.dpidText, this.reason ?? 'closed', full));
    }
    let frame: Buffer;
    try {
      frame = encodeMessage(full);
    } catch (error) {
      return Promise.reject(error);
    }
    const reply = this.tracker.expect(full, limits, atReply);
    this.writer.write(frame);
    return reply as Promise<ReplyFor[M['type']]>;
  }

  /**
   * Resolves once the switch has processed everything sent before. A switch that lets a barrier
   * time out is closed: it is not applying what it is sent, so what its tables hold is unknown,
   * and every update of it would wait a timeout again (each one holding up the updates that share
   * it). Another request that times out leaves the connection up.
   */
  async barrier(): Promise<void> {
    try {
      await this.request({ type: 'BARRIER_REQUEST' });
    } catch (error) {
      if (error instanceof RequestTimeoutError) this.close(`barrier timeout: ${error.message}`, { abort: true });
      throw error;
    }
  }

  async flowStats(filter: FlowStatsFilter = {}): Promise<FlowStats[]> {
    const body = { kind: 'FLOW' as const, tableId: OFPTT_ALL, outPort: OFPP_ANY, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n, match: {}, ...filter };
    const reply = await this.request({ type: 'MULTIPART_REQUEST', flags: 0, body });
    return reply.body.kind === 'FLOW' ? [...reply.body.flows] : [];
  }

  async portDesc(limits?: MultipartLimits): Promise<Port[]> {
    const reply = await this.request({ type: 'MULTIPART_REQUEST', flags: 0, body: { kind: 'PORT_DESC' } }, limits);
    return reply.body.kind === 'PORT_DESC' ? [...reply.body.ports] : [];
  }

  /**
   * One port's counters (OFPMP_PORT_STATS), or undefined when the switch has no such port.
   * `atReply` runs as the reply is read, before the messages the switch sent after it.
   */
  async portStats(portNo: number, atReply?: () => void): Promise<PortStats | undefined> {
    const reply = await this.request({ type: 'MULTIPART_REQUEST', flags: 0, body: { kind: 'PORT_STATS', portNo } }, undefined, atReply);
    return reply.body.kind === 'PORT_STATS' ? reply.body.ports.find((p) => p.portNo === portNo) : undefined;
  }

  async tableStats(): Promise<TableStats[]> {
    const reply = await this.request({ type: 'MULTIPART_REQUEST', flags: 0, body: { kind: 'TABLE' } });
    return reply.body.kind === 'TABLE' ? [...reply.body.tables] : [];
  }

  /**
   * Writes every message, then a barrier; resolves when the barrier reply arrives. Rejects with a
   * BatchError when any message of the batch drew an ERROR (the switch sends those before the
   * barrier reply), or with the barrier's own failure (timeout, close).
   */
  async sendBatch(messages: readonly Outgoing[]): Promise<void> {
    if (this.state === ConnectionState.DEAD) throw new ConnectionClosedError(this.dpidText, this.reason ?? 'closed');
    if (messages.length === 0) return this.barrier();
    const batch: BatchState = { errors: [] };
    const sent = messages.map((m) => this.withXid(m));
    // (encodeFrame: a message encoded ahead, e.g. a staged move's send side, is only copied.) An
    // unencodable message fails the batch before anything is sent.
    const frames = sent.map((m, i) => encodeFrame(messages[i] as OfpMessage, m.xid));
    sent.forEach((message, i) => {
      this.tracker.joinBatch(message, batch);
      this.writer.write(frames[i]!);
    });
    try {
      await this.barrier();
    } finally {
      this.tracker.leaveBatch(sent);
    }
    if (batch.errors.length > 0) throw new BatchError(batch.errors, this.dpidText);
  }

  private withXid<M extends OfpMessage>(message: Outgoing<M>): M {
    return { ...message, xid: this.tracker.nextXid() } as unknown as M;
  }

  /** Messages we build ourselves (hello, echo reply, error): always encodable. */
  private writeMessage(message: OfpMessage): void {
    this.writer.write(encodeMessage(message));
  }

  /**
   * A reply the peer asked for (echo reply, error for its undecodable message): withheld, and
   * counted, while the peer leaves more than DEFAULTS.peerReplyBacklogBytes of our output unread;
   * otherwise its own requests would fill our queue (an echo request carries up to 64 KiB, and a
   * peer that reads nothing can send them as fast as we read).
   */
  private replyToPeer(message: OfpMessage): void {
    if (this.writer.queuedBytes > DEFAULTS.peerReplyBacklogBytes) {
      this.metrics.repliesWithheld.inc({ dpid: this.dpidLabel });
      return;
    }
    this.writeMessage(message);
  }

  // ---- receiving --------------------------------------------------------------------------

  /** A bug or a hostile input in one connection must never reach the others: close just this one. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.throttle.error(this.log, 'internal error while handling switch input', { error });
      this.close(`internal error: ${(error as Error).message}`, { abort: true });
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state === ConnectionState.DEAD) return;
    this.keepalive.heard();
    const { frames, error } = this.framer.push(chunk);
    for (const frame of frames) {
      if (this.isDead()) return;
      this.onFrame(frame);
    }
    if (error !== undefined) {
      this.metrics.undecodableMessages.inc({ dpid: this.dpidLabel });
      this.throttle.warn(this.log, 'framing lost, closing', { dpid: this.dpidText, reason: error });
      this.close(error, { abort: true });
    }
  }

  private onFrame(frame: Buffer): void {
    // A part of a multipart reply we wait for is kept as its bytes until the reply is whole.
    if (frame[1] === OFPT_MULTIPART_REPLY && frame[0] === OFP_VERSION && this.helloReceived && this.tracker.onMultipartFrame(frame)) {
      if (this.state === ConnectionState.CONFIG && isLastPortDescFrame(frame)) this.statusesAfterPortDesc = [];
      return;
    }
    const result = decodeMessage(frame);
    if (!result.ok) {
      if (!this.helloReceived && frame[1] === OFPT_HELLO) {
        // A HELLO of a version the codec does not parse still tells us the peer's version.
        return this.onHello({ type: 'HELLO', xid: frame.readUInt32BE(4), version: frame[0] ?? 0, elements: [] });
      }
      return this.onBadMessage(frame, result.error);
    }
    this.onMessage(result.message, frame.length);
  }

  private onBadMessage(frame: Buffer, error: { reason: string; xid?: number; ofpError?: { errorType: number; code: number } }): void {
    // Every one is counted; a sample is logged (a peer can send thousands a second).
    this.metrics.undecodableMessages.inc({ dpid: this.dpidLabel });
    const fields = { dpid: this.dpidText, reason: error.reason, bytes: frame.subarray(0, ERROR_DATA_LEN).toString('hex') };
    if (!this.helloReceived) {
      this.throttle.warn(this.log, 'undecodable message before HELLO', fields);
      return this.failHello(`expected HELLO, got an undecodable message: ${error.reason}`, frame[0] ?? 0);
    }
    this.throttle.warn(this.log, 'undecodable message from switch', fields);
    if (error.ofpError === undefined) return;
    this.replyToPeer({
      type: 'ERROR',
      xid: error.xid ?? (frame.length >= 8 ? frame.readUInt32BE(4) : 0),
      errorType: error.ofpError.errorType,
      code: error.ofpError.code,
      data: frame.subarray(0, ERROR_DATA_LEN),
    });
  }

  private onMessage(message: OfpMessage, size: number): void {
    if (!this.helloReceived) {
      if (message.type === 'HELLO') return this.onHello(message);
      return this.failHello(`expected HELLO, got ${message.type}`, 0);
    }
    switch (message.type) {
      case 'HELLO':
        return; // a duplicate is harmless
      case 'ECHO_REQUEST':
        return this.replyToPeer({ type: 'ECHO_REPLY', xid: message.xid, data: message.data });
      case 'ERROR':
        return this.onError(message);
      case 'PORT_STATUS': {
        const status = safePortStatus(message);
        this.portTable = applyPortStatus(this.portTable, status);
        this.statusesAfterPortDesc?.push(status);
        return this.deliver(status, size);
      }
    }
    if (this.tracker.onReply(message, size)) {
      if (this.state === ConnectionState.CONFIG && isLastPortDescPart(message)) this.statusesAfterPortDesc = [];
      return;
    }
    if (ASYNC_TYPES.has(message.type)) return this.deliver(message, size);
    if (message.type !== 'ECHO_REPLY') this.log.debug('unexpected message ignored', { dpid: this.dpidText, type: message.type, xid: message.xid });
  }

  private onHello(hello: Hello): void {
    const result = negotiate(hello);
    if (!result.ok) return this.failHello(result.reason, hello.version);
    this.helloReceived = true;
    this.log.debug('hello received', { version: hello.version });
    this.configure().catch((e: Error) => this.close(`handshake failed: ${e.message}`));
  }

  /** OFPET_HELLO_FAILED with a readable reason, then close (spec 7.5.1). */
  private failHello(reason: string, peerVersion: number): void {
    this.throttle.warn(this.log, 'handshake failed', { reason });
    const frame = encodeMessage({
      type: 'ERROR', xid: 0, errorType: OFPET_HELLO_FAILED, code: OFPHFC_INCOMPATIBLE, data: Buffer.from(reason, 'ascii'),
    });
    // Speak the peer's older version in the header so that it can read why we hang up.
    if (peerVersion > 0 && peerVersion < (frame[0] ?? 0)) frame[0] = peerVersion;
    this.writer.write(frame);
    this.close(`handshake failed: ${reason}`);
  }

  private onError(received: ErrorMsg): void {
    if (received.errorType === OFPET_HELLO_FAILED) {
      return this.close(`switch refused the handshake: ${errorName(received.errorType, received.code)} ${peerText(received.data)}`);
    }
    // Errors travel on in events: keep a bounded copy of their data, not a view of the socket chunk.
    const message = { ...received, data: Uint8Array.from(received.data.subarray(0, KEPT_ERROR_DATA_LEN)) };
    const outcome = this.tracker.onError(message);
    if (outcome.kind !== 'unsolicited') return;
    this.metrics.unsolicitedErrors.inc({ dpid: this.dpidLabel });
    this.throttle.warn(this.log, 'switch reported an error', { dpid: this.dpidText, error: outcome.error.errorName, xid: message.xid, request: outcome.error.request?.type });
    this.errorSubject.next(outcome.error);
  }

  /** Applications see asynchronous messages from MAIN on; those of CONFIG wait (bounded in count and bytes). */
  private deliver(message: OfpMessage, size: number): void {
    if (this.state === ConnectionState.MAIN) return this.messageSubject.next(message);
    if (this.state !== ConnectionState.CONFIG) return;
    if (this.early.hold(message, size)) return;
    this.metrics.earlyMessagesDropped.inc({ dpid: '' });
    const { count, heldBytes, maxCount, maxBytes } = this.early;
    this.throttle.warn(this.log, 'message before MAIN dropped (bound reached)', { dpid: this.dpidText, type: message.type, held: count, heldBytes, maxCount, maxBytes });
  }

  private onMultipartLimit(error: MultipartLimitError): void {
    this.metrics.multipartLimits.inc({ dpid: this.dpidLabel, limit: error.limit });
    this.throttle.warn(this.log, 'multipart reply passed a bound, request failed', { dpid: this.dpidText, error: error.message });
  }

  private onHandshakeTimeout(ms: number): void {
    if (this.state === ConnectionState.MAIN || this.state === ConnectionState.DEAD) return;
    this.metrics.handshakeTimeouts.inc({ state: this.state });
    this.throttle.info(this.log, 'peer did not finish the handshake in time, closing', { dpid: this.dpidText, state: this.state, ms });
    this.close(`handshake timeout: not in MAIN after ${ms} ms (state ${this.state})`, { abort: true });
  }

  /** A refusal from the listener (duplicate dpid, pin mismatch) ends the handshake. */
  private refused(stage: 'features' | 'main'): boolean {
    const reason = this.context.admit?.(this, stage);
    if (reason === undefined) return false;
    this.close(`refused: ${reason}`);
    return true;
  }

  // ---- handshake and configuration ------------------------------------------------------------

  private async configure(): Promise<void> {
    try {
      this.featuresReply = await this.request({ type: 'FEATURES_REQUEST' });
      this.log = this.log.child({ dpid: this.dpidText });
      if (this.featuresReply.auxiliaryId !== 0) throw new Error(`auxiliary connections are not supported (id ${this.featuresReply.auxiliaryId})`);
      if (this.isDead() || this.refused('features')) return;
      this.setState(ConnectionState.CONFIG);
      // No buffering on the switch: packet-ins carry the whole frame.
      this.send({ type: 'SET_CONFIG', flags: OFPC_FRAG_NORMAL, missSendLen: OFPCML_NO_BUFFER });
      // A peer that has not proven anything yet gets the small handshake bound on its replies.
      const handshakeLimits: MultipartLimits = {
        maxParts: this.options.multipartMaxParts,
        maxBytes: this.options.handshakeMultipartMaxBytes,
        timeoutMs: this.options.handshakeTimeoutMs,
      };
      const [ports, desc] = await Promise.all([
        this.portDesc(handshakeLimits),
        this.request({ type: 'MULTIPART_REQUEST', flags: 0, body: { kind: 'DESC' } }, handshakeLimits),
      ]);
      // The snapshot is applied after the messages that followed it were handled: replay those.
      this.portTable = portTableFrom(ports.map(safePort), this.statusesAfterPortDesc);
      this.statusesAfterPortDesc = undefined;
      if (desc.body.kind === 'DESC') this.descBody = safeDesc(desc.body.desc);
      if (this.state !== ConnectionState.CONFIG || this.refused('main')) return;
      this.log.debug('configured', { ports: ports.length, sw: this.descBody?.swDesc });
      clearTimeout(this.handshakeDeadline);
      this.writer.setLimit(this.options.maxQueuedBytes);
      this.admitted = true;
      this.setState(ConnectionState.MAIN);
      for (const message of this.early.release()) this.messageSubject.next(message);
    } catch (error) {
      if (this.state !== ConnectionState.DEAD) this.close(`handshake failed: ${(error as Error).message}`);
    }
  }

  private isDead(): boolean {
    return this.state === ConnectionState.DEAD;
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.log.debug('state', { from: this.state, to: state });
    this.stateSubject.next(state);
  }
}

function isLastPortDescPart(message: OfpMessage): boolean {
  return message.type === 'MULTIPART_REPLY' && message.body.kind === 'PORT_DESC' && (message.flags & OFPMPF_REPLY_MORE) === 0;
}

function isLastPortDescFrame(frame: Buffer): boolean {
  return frame.readUInt16BE(8) === OFPMP_PORT_DESC && (frame.readUInt16BE(10) & OFPMPF_REPLY_MORE) === 0;
}
