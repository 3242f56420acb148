// Why a request to a switch failed. Each error names the switch and carries the request.

import type { ErrorMsg, OfpMessage } from '../openflow/types.js';

/** The switch answered a message with OFPT_ERROR. */
export class OpenFlowError extends Error {
  override readonly name = 'OpenFlowError';
  /** OFPET_* */
  readonly errorType: number;
  /** OFPxxC_* code within the type. */
  readonly code: number;
  /** Spec name of type and code, e.g. 'OFPET_BAD_INSTRUCTION/OFPBIC_BAD_TABLE_ID'. */
  readonly errorName: string;
  /** The message that caused the error, when we still knew it; undefined for an unknown xid. */
  readonly request: OfpMessage | undefined;
  readonly reply: ErrorMsg;
  readonly dpid: string;

  constructor(reply: ErrorMsg, request: OfpMessage | undefined, dpid: string, errorName: string) {
    const what = request === undefined ? `xid ${reply.xid}` : `${request.type} xid ${reply.xid}`;
    super(`switch ${dpid} rejected ${what}: ${errorName}`);
    this.errorType = reply.errorType;
    this.code = reply.code;
    this.errorName = errorName;
    this.request = request;
    this.reply = reply;
    this.dpid = dpid;
  }
}

/** No reply arrived within the request timeout. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  constructor(readonly request: OfpMessage, readonly dpid: string, timeoutMs: number) {
    super(`switch ${dpid} did not answer ${request.type} xid ${request.xid} within ${timeoutMs} ms`);
  }
}

/** The connection died (or was closed) before the reply arrived. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
  constructor(readonly dpid: string, readonly reason: string, readonly request?: OfpMessage) {
    super(`connection to switch ${dpid} closed${request ? ` before the reply to ${request.type} xid ${request.xid}` : ''}: ${reason}`);
  }
}

/** Some messages of a batch were rejected; `errors` lists each rejection in arrival order. */
export class BatchError extends Error {
  override readonly name = 'BatchError';
  constructor(readonly errors: readonly OpenFlowError[], readonly dpid: string) {
    const first = errors[0];
    super(`switch ${dpid} rejected ${errors.length} message(s) of a batch${first ? `, first: ${first.message}` : ''}`);
  }
}

/**
 * A multipart reply passed a bound (parts, bytes, total time, or the bytes of every reply in
 * reassembly on every connection together: `total`) before its last part: the request fails, the
 * rest of the reply is ignored. Switches that never end a reply cannot exhaust memory.
 */
export class MultipartLimitError extends Error {
  override readonly name = 'MultipartLimitError';
  constructor(
    readonly request: OfpMessage,
    readonly dpid: string,
    readonly limit: 'parts' | 'bytes' | 'time' | 'total',
    readonly bound: number,
    readonly received: { readonly parts: number; readonly bytes: number; readonly ms: number },
  ) {
    const unit = limit === 'time' ? ' ms' : limit === 'parts' ? ' parts' : ' bytes';
    const what = limit === 'total' ? `the bound of ${bound} bytes in reassembly on all switches together` : `the bound of ${bound}${unit}`;
    super(`switch ${dpid}: multipart reply to ${request.type} xid ${request.xid} passed ${what} `
      + `(${received.parts} parts, ${received.bytes} bytes in ${Math.round(received.ms)} ms, not finished)`);
  }
}
