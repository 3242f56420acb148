// Transaction ids and the requests waiting on them. A reply or an OFPT_ERROR is matched to its
// request by xid; multipart replies are collected until the last part (as the bytes they came in,
// decoded once whole: decoded, a reply takes about 20 times its wire size, and one that never
// ends must cost no more than its bytes); fire-and-forget messages are remembered (bounded) so
// that a later ERROR can still name the message that caused it.

import type {
  BarrierReply, BarrierRequest, EchoReply, EchoRequest, ErrorMsg, FeaturesReply, FeaturesRequest,
  GetConfigReply, GetConfigRequest, MultipartReply, MultipartReplyBody, MultipartRequest, OfpMessage,
  RoleReply, RoleRequest,
} from '../openflow/types.js';
import { decodeMessage } from '../openflow/codec.js';
import { OFPMPF_REPLY_MORE } from '../openflow/constants.js';
import { multipartReplyKind } from '../openflow/multipart.js';
import { MultipartLimitError, OpenFlowError, RequestTimeoutError } from './errors.js';
import { performance } from 'node:perf_hooks';
import { mergeMultipartBodies } from './multipart.js';


export const REPLY_TYPE = {
  BARRIER_REQUEST: 'BARRIER_REPLY',
  MULTIPART_REQUEST: 'MULTIPART_REPLY',
  FEATURES_REQUEST: 'FEATURES_REPLY',
  GET_CONFIG_REQUEST: 'GET_CONFIG_REPLY',
  ECHO_REQUEST: 'ECHO_REPLY',
  ROLE_REQUEST: 'ROLE_REPLY',
} as const;

export type RequestWithReply = BarrierRequest | MultipartRequest | FeaturesRequest | GetConfigRequest | EchoRequest | RoleRequest;
export interface ReplyFor {
  BARRIER_REQUEST: BarrierReply;
  MULTIPART_REQUEST: MultipartReply;
  FEATURES_REQUEST: FeaturesReply;
  GET_CONFIG_REQUEST: GetConfigReply;
  ECHO_REQUEST: EchoReply;
  ROLE_REQUEST: RoleReply;
}
type ReplyMessage = ReplyFor[keyof ReplyFor];

export function expectsReply(message: OfpMessage): message is RequestWithReply {
  return Object.hasOwn(REPLY_TYPE, message.type);
}

/** Collects the errors of the messages sent in one batch, until its barrier reply. */
export interface BatchState {
  readonly errors: OpenFlowError[];
}

interface Waiting {
  readonly request: RequestWithReply;
  readonly resolve: (reply: ReplyMessage) => void;
  readonly reject: (error: Error) => void;
  readonly limits: MultipartLimits;
  readonly startedAt: number;
  timer: NodeJS.Timeout;
  /** A multipart reply's parts so far: as their frames (copied), or as given decoded (onReply). */
  parts: Array<MultipartReplyBody | Buffer>;
  /** The kind of its first part: every later part must be of that kind. */
  kind: MultipartReplyBody['kind'] | undefined;
  bytes: number;
  /** Its place in the shared budget, once it has a part there. */
  holder?: BudgetHolder;
}

/** A reply in reassembly, as the shared budget sees it. */
export interface BudgetHolder {
  /** Its bytes in the budget now. */
  readonly bytes: number;
  /** Fails it (its bytes go back to the budget). */
  evict(): void;
}

/**
 * The wire bytes of multipart replies in reassembly on every connection of a process together
 * (one per listener): each connection's own bound times the number of connections would be far
 * more than a host has. When a part does not fit, the largest reply in reassembly fails, as many
 * as it takes: a reply that never ends grows until it is the largest, while a switch's real
 * table comes in a few milliseconds, so peers that hold the budget cannot starve the others.
 */
export class ReassemblyBudget {
  private usedBytes = 0;
  private readonly holders = new Set<BudgetHolder>();
  constructor(readonly maxBytes: number) {}

  get used(): number {
    return this.usedBytes;
  }

  /**
   * Takes `bytes` more for `holder`, failing the largest other replies while they do not fit;
   * false (nothing taken) when `holder` would be the largest itself.
   */
  take(holder: BudgetHolder, bytes: number): boolean {
    while (this.usedBytes + bytes > this.maxBytes) {
      let largest: BudgetHolder | undefined;
      for (const h of this.holders) if (h !== holder && (largest === undefined || h.bytes > largest.bytes)) largest = h;
      if (largest === undefined || largest.bytes <= holder.bytes + bytes) return false;
      const before = this.usedBytes;
      largest.evict();
      if (this.holders.has(largest) || this.usedBytes >= before) this.release(largest); // an evict that did not give back
    }
    this.holders.add(holder);
    this.usedBytes += bytes;
    return true;
  }

  /** `holder` is done (whole, failed or gone): its bytes go back. */
  release(holder: BudgetHolder): void {
    if (!this.holders.delete(holder)) return;
    this.usedBytes = Math.max(0, this.usedBytes - holder.bytes);
  }
}

/** Bounds on one multipart reply: parts, wire bytes, and total time from the request. */
export interface MultipartLimits {
  readonly maxParts: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

export interface RequestTrackerOptions {
  readonly timeoutMs: number;
  /** How many fire-and-forget messages we remember for error attribution. */
  readonly recentLimit: number;
  /** Text used in errors: the switch's datapath id (or its address before the handshake). */
  readonly describeSwitch: () => string;
  /** Readable spec name of an error type/code. */
  readonly errorName: (errorType: number, code: number) => string;
  /** Default bounds of a multipart reply (a request may bring its own). */
  readonly multipart: MultipartLimits;
  /** Told when a bound fails a request (to count and log it). */
  readonly onLimit?: (error: MultipartLimitError) => void;
  /** Shared with the other connections: the bytes of all replies in reassembly together. */
  readonly budget?: ReassemblyBudget;
  /** A part of a whole multipart reply did not decode (the request fails; to count and log it). */
  readonly onUndecodablePart?: (frame: Buffer, reason: string) => void;
  readonly now?: () => number;
}

/** What became of an incoming ERROR. */
export type ErrorOutcome =
  | { readonly kind: 'request' } // rejected a waiting request
  | { readonly kind: 'batch' } // recorded in a batch
  | { readonly kind: 'unsolicited'; readonly error: OpenFlowError }; // for errors$ (request may be known)

export class RequestTracker {
  private lastXid = 0;
  private readonly waiting = new Map<number, Waiting>();
  /** Ring of recent fire-and-forget messages, slot = xid modulo its size (xids are sequential). */
  private readonly recentXids: Uint32Array;
  private readonly recentMessages: (OfpMessage | undefined)[];
  private readonly batchMembers = new Map<number, { request: OfpMessage; batch: BatchState }>();

  constructor(private readonly options: RequestTrackerOptions) {
    this.recentXids = new Uint32Array(Math.max(1, options.recentLimit));
    this.recentMessages = new Array<OfpMessage | undefined>(this.recentXids.length);
  }

  /** Next transaction id: 1..2^32-1, wrapping, skipping ids still in use. */
  nextXid(): number {
    do {
      this.lastXid = this.lastXid >= 0xffffffff ? 1 : this.lastXid + 1;
    } while (this.waiting.has(this.lastXid) || this.batchMembers.has(this.lastXid));
    return this.lastXid;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /**
   * Registers a request (already carrying its xid); the promise settles on its reply. `atReply`
   * runs as the whole reply is read, before anything read after it: the promise's callbacks run
   * only once the rest of that read is handled (messages that came after the reply in one chunk).
   */
  expect<M extends RequestWithReply>(request: M, limits: MultipartLimits = this.options.multipart, atReply?: () => void): Promise<ReplyFor[M['type']]> {
    return new Promise((resolve, reject) => {
      const entry: Waiting = {
        request,
        resolve: atReply === undefined ? resolve as (reply: ReplyMessage) => void : (reply: ReplyMessage) => { atReply(); resolve(reply as ReplyFor[M['type']]); },
        reject,
        limits,
        startedAt: this.now(),
        timer: this.startTimer(request, this.options.timeoutMs),
        parts: [],
        kind: undefined,
        bytes: 0,
      };
      this.waiting.set(request.xid, entry);
    });
  }

  private now(): number {
    return this.options.now?.() ?? performance.now();
  }

  /** Remembers a fire-and-forget message for error attribution; the oldest are forgotten first. */
  remember(message: OfpMessage, xid: number = message.xid): void {
    // A ring, not a Map: this runs for every message sent, and a Map's churn shows in GC time.
    const slot = xid % this.recentXids.length;
    this.recentXids[slot] = xid;
    this.recentMessages[slot] = message;
  }

  /** The message sent with `xid` (its own xid field set right: send() does not copy messages). */
  private recalled(xid: number): OfpMessage | undefined {
    const slot = xid % this.recentXids.length;
    const message = this.recentXids[slot] === xid ? this.recentMessages[slot] : undefined;
    return message === undefined || message.xid === xid ? message : { ...message, xid };
  }

  joinBatch(message: OfpMessage, batch: BatchState): void {
    this.batchMembers.set(message.xid, { request: message, batch });
  }

  leaveBatch(messages: readonly OfpMessage[]): void {
    for (const m of messages) this.batchMembers.delete(m.xid);
  }

  /** Consumes a reply (of `size` bytes on the wire) to a waiting request; false when nobody waits for it. */
  onReply(reply: OfpMessage, size = 0): boolean {
    const entry = this.waiting.get(reply.xid);
    if (entry === undefined || REPLY_TYPE[entry.request.type] !== reply.type) return false;
    if (reply.type === 'MULTIPART_REPLY') return this.onMultipartPart(reply, size, entry);
    this.settle(reply.xid, entry);
    entry.resolve(reply as ReplyMessage);
    return true;
  }

  onError(reply: ErrorMsg): ErrorOutcome {
    const entry = this.waiting.get(reply.xid);
    if (entry !== undefined) {
      this.settle(reply.xid, entry);
      entry.reject(this.openFlowError(reply, entry.request));
      return { kind: 'request' };
    }
    const member = this.batchMembers.get(reply.xid);
    if (member !== undefined) {
      member.batch.errors.push(this.openFlowError(reply, member.request));
      return { kind: 'batch' };
    }
    return { kind: 'unsolicited', error: this.openFlowError(reply, this.recalled(reply.xid)) };
  }

  /** Rejects everything still waiting (the connection died). */
  failAll(makeError: (request: OfpMessage) => Error): void {
    const entries = [...this.waiting.entries()];
    this.waiting.clear();
    for (const [, entry] of entries) {
      clearTimeout(entry.timer);
      this.giveBack(entry);
      entry.reject(makeError(entry.request));
    }
    this.recentMessages.fill(undefined);
    this.recentXids.fill(0);
    this.batchMembers.clear();
  }

  /**
   * A MULTIPART_REPLY frame, not decoded (the switch connection's way for every multipart reply):
   * kept as its bytes when a request waits for it, decoded with the other parts once the last one
   * came. False when nobody waits for it, or it is of another kind than the reply's first part
   * (then it is decoded as any other message).
   */
  onMultipartFrame(frame: Buffer): boolean {
    if (frame.length < 16) return false;
    const entry = this.waiting.get(frame.readUInt32BE(4));
    if (entry === undefined || entry.request.type !== 'MULTIPART_REQUEST') return false;
    const kind = multipartReplyKind(frame.readUInt16BE(8));
    if (entry.kind !== undefined && entry.kind !== kind) return false;
    return this.addPart(entry, Buffer.from(frame), kind, frame.readUInt16BE(10), frame.length);
  }

  private onMultipartPart(reply: MultipartReply, size: number, entry: Waiting): boolean {
    if (entry.kind !== undefined && entry.kind !== reply.body.kind) return false;
    return this.addPart(entry, reply.body, reply.body.kind, reply.flags, size);
  }

  private addPart(entry: Waiting, part: MultipartReplyBody | Buffer, kind: MultipartReplyBody['kind'], flags: number, size: number): boolean {
    const { maxParts, maxBytes, timeoutMs } = entry.limits;
    const budget = this.options.budget;
    // The last part is taken too: until it is merged and handed over, all of the reply is here.
    if (budget !== undefined) {
      entry.holder ??= { get bytes() { return entry.bytes; }, evict: () => { if (this.waiting.get(entry.request.xid) === entry) this.failLimit(entry, 'total', budget.maxBytes); } };
      if (!budget.take(entry.holder, size)) return this.failLimit(entry, 'total', budget.maxBytes);
    }
    entry.kind ??= kind;
    entry.parts.push(part);
    entry.bytes += size;
    if (entry.bytes > maxBytes) return this.failLimit(entry, 'bytes', maxBytes);
    if ((flags & OFPMPF_REPLY_MORE) !== 0) {
      const elapsed = this.now() - entry.startedAt;
      if (entry.parts.length >= maxParts) return this.failLimit(entry, 'parts', maxParts);
      if (elapsed >= timeoutMs) return this.failLimit(entry, 'time', timeoutMs);
      // A long reply is progress, not silence: restart the clock on every part, within the total.
      clearTimeout(entry.timer);
      const left = timeoutMs - elapsed;
      entry.timer = left < this.options.timeoutMs ? this.startTimer(entry.request, left, 'total') : this.startTimer(entry.request, this.options.timeoutMs);
      return true;
    }
    const xid = entry.request.xid;
    this.settle(xid, entry);
    const bodies = this.decodeParts(entry);
    entry.parts = [];
    if (bodies instanceof Error) entry.reject(bodies);
    else entry.resolve({ type: 'MULTIPART_REPLY', xid, flags: 0, body: mergeMultipartBodies(bodies) });
    return true;
  }

  /** The parts of a whole reply, decoded; an Error naming the first part that does not decode. */
  private decodeParts(entry: Waiting): MultipartReplyBody[] | Error {
    const bodies: MultipartReplyBody[] = [];
    for (const [i, part] of entry.parts.entries()) {
      if (!Buffer.isBuffer(part)) {
        bodies.push(part);
        continue;
      }
      const decoded = decodeMessage(part);
      if (!decoded.ok || decoded.message.type !== 'MULTIPART_REPLY') {
        const reason = decoded.ok ? `a ${decoded.message.type}` : decoded.error.reason;
        this.options.onUndecodablePart?.(part, reason);
        return new Error(`switch ${this.options.describeSwitch()}: part ${i + 1} of the multipart reply to ${entry.request.type} xid ${entry.request.xid} is undecodable: ${reason}`);
      }
      bodies.push(decoded.message.body);
    }
    return bodies;
  }

  private settle(xid: number, entry: Waiting): void {
    clearTimeout(entry.timer);
    this.waiting.delete(xid);
    this.giveBack(entry);
  }

  /** The reply's bytes leave the shared budget (once: its parts are let go with it). */
  private giveBack(entry: Waiting): void {
    if (entry.holder !== undefined) this.options.budget?.release(entry.holder);
    entry.bytes = 0;
  }

  /** Fails a reply that passed a bound; its later parts find nobody waiting and are ignored. */
  private failLimit(entry: Waiting, limit: MultipartLimitError['limit'], bound: number): true {
    const received = { parts: entry.parts.length, bytes: entry.bytes, ms: this.now() - entry.startedAt };
    this.settle(entry.request.xid, entry);
    const error = new MultipartLimitError(entry.request, this.options.describeSwitch(), limit, bound, received);
    entry.parts = [];
    this.options.onLimit?.(error);
    entry.reject(error);
    return true;
  }

  /** `total`: this timer is the reply's total deadline, not the silence timeout. */
  private startTimer(request: RequestWithReply, ms: number, kind: 'silence' | 'total' = 'silence'): NodeJS.Timeout {
    return setTimeout(() => {
      const entry = this.waiting.get(request.xid);
      if (entry === undefined) return;
      // A reply still coming in when its total time is up failed a bound, not the switch's silence.
      if (kind === 'total') {
        this.failLimit(entry, 'time', entry.limits.timeoutMs);
        return;
      }
      this.settle(request.xid, entry);
      entry.reject(new RequestTimeoutError(request, this.options.describeSwitch(), this.options.timeoutMs));
    }, ms);
  }

  private openFlowError(reply: ErrorMsg, request: OfpMessage | undefined): OpenFlowError {
    const name = this.options.errorName(reply.errorType, reply.code);
    return new OpenFlowError(reply, request, this.options.describeSwitch(), name);
  }
}
