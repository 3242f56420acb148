// Transaction ids and the requests waiting on them. A reply or an OFPT_ERROR is matched to its
// request by xid; multipart replies are collected until the last part; fire-and-forget messages
// are remembered (bounded) so that a later ERROR can still name the message that caused it.

import type {
  BarrierReply, BarrierRequest, EchoReply, EchoRequest, ErrorMsg, FeaturesReply, FeaturesRequest,
  GetConfigReply, GetConfigRequest, MultipartReply, MultipartReplyBody, MultipartRequest, OfpMessage,
  RoleReply, RoleRequest,
} from '../openflow/types.js';
import { OFPMPF_REPLY_MORE } from '../openflow/constants.js';
import { MultipartLimitError, OpenFlowError, RequestTimeoutError } from './errors.js';
import { performance } from 'node:perf_hooks';
import { mergeMultipartBodies, samePartKind } from './multipart.js';


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
  parts: MultipartReplyBody[];
  bytes: number;
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

  /** Registers a request (already carrying its xid); the promise settles on its reply. */
  expect<M extends RequestWithReply>(request: M, limits: MultipartLimits = this.options.multipart): Promise<ReplyFor[M['type']]> {
    return new Promise((resolve, reject) => {
      const entry: Waiting = {
        request,
        resolve: resolve as (reply: ReplyMessage) => void,
        reject,
        limits,
        startedAt: this.now(),
        timer: this.startTimer(request, this.options.timeoutMs),
        parts: [],
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
      entry.reject(makeError(entry.request));
    }
    this.recentMessages.fill(undefined);
    this.recentXids.fill(0);
    this.batchMembers.clear();
  }

  private onMultipartPart(reply: MultipartReply, size: number, entry: Waiting): boolean {
    if (!samePartKind(entry.parts, reply.body)) return false;
    entry.parts.push(reply.body);
    entry.bytes += size;
    const { maxParts, maxBytes, timeoutMs } = entry.limits;
    if (entry.bytes > maxBytes) return this.failLimit(entry, 'bytes', maxBytes);
    if ((reply.flags & OFPMPF_REPLY_MORE) !== 0) {
      const elapsed = this.now() - entry.startedAt;
      if (entry.parts.length >= maxParts) return this.failLimit(entry, 'parts', maxParts);
      if (elapsed >= timeoutMs) return this.failLimit(entry, 'time', timeoutMs);
      // A long reply is progress, not silence: restart the clock on every part, within the total.
      clearTimeout(entry.timer);
      const left = timeoutMs - elapsed;
      entry.timer = left < this.options.timeoutMs ? this.startTimer(entry.request, left, 'total') : this.startTimer(entry.request, this.options.timeoutMs);
      return true;
    }
    this.settle(reply.xid, entry);
    entry.resolve({ ...reply, flags: 0, body: mergeMultipartBodies(entry.parts) });
    return true;
  }

  private settle(xid: number, entry: Waiting): void {
    clearTimeout(entry.timer);
    this.waiting.delete(xid);
  }

  /** Fails a reply that passed a bound; its later parts find nobody waiting and are ignored. */
  private failLimit(entry: Waiting, limit: MultipartLimitError['limit'], bound: number): true {
    this.settle(entry.request.xid, entry);
    const error = new MultipartLimitError(entry.request, this.options.describeSwitch(), limit, bound,
      { parts: entry.parts.length, bytes: entry.bytes, ms: this.now() - entry.startedAt });
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
      this.waiting.delete(request.xid);
      entry.reject(new RequestTimeoutError(request, this.options.describeSwitch(), this.options.timeoutMs));
    }, ms);
  }

  private openFlowError(reply: ErrorMsg, request: OfpMessage | undefined): OpenFlowError {
    const name = this.options.errorName(reply.errorType, reply.code);
    return new OpenFlowError(reply, request, this.options.describeSwitch(), name);
  }
}
