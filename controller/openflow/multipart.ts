// MULTIPART_REQUEST / MULTIPART_REPLY: the 16-byte multipart header and body dispatch by type.
// Multipart types the model lacks stay UNKNOWN with their raw body.

import * as C from './constants.js';
import { decodeGroupDescs, encodeGroupDescs } from './group.js';
import { decodeMatch, encodeMatch, matchWireLength } from './oxm.js';
import { decodePorts, encodePort } from './port.js';
import { exact, need } from './reader.js';
import {
  decodeAggregate, decodeDesc, decodeFlowStats, decodePortStats, decodeTableStats,
  encodeAggregate, encodeDesc, encodeFlowStats, encodePortStats, encodeTableStats,
} from './stats.js';
import type {
  FlowStatsRequestBody, MultipartReply, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
} from './types.js';
import type { Writer } from './writer.js';

type Kind = Exclude<MultipartRequestBody['kind'], 'UNKNOWN'>;
const MP_TYPE: Readonly<Record<Kind, number>> = {
  DESC: C.OFPMP_DESC,
  FLOW: C.OFPMP_FLOW,
  AGGREGATE: C.OFPMP_AGGREGATE,
  TABLE: C.OFPMP_TABLE,
  PORT_STATS: C.OFPMP_PORT_STATS,
  PORT_DESC: C.OFPMP_PORT_DESC,
  GROUP_DESC: C.OFPMP_GROUP_DESC,
};

function mpType(body: MultipartRequestBody | MultipartReplyBody): number {
  return body.kind === 'UNKNOWN' ? body.mpType : MP_TYPE[body.kind];
}

// ---- requests ------------------------------------------------------------------------------

function encodeFlowStatsRequest(w: Writer, b: FlowStatsRequestBody): void {
  w.u8(b.tableId);
  w.zeros(3);
  w.u32(b.outPort);
  w.u32(b.outGroup);
  w.zeros(4);
  w.u64(b.cookie);
  w.u64(b.cookieMask);
  encodeMatch(w, b.match);
}

export function encodeMultipartRequest(w: Writer, msg: MultipartRequest): void {
  const b = msg.body;
  w.u16(mpType(b));
  w.u16(msg.flags);
  w.zeros(4);
  switch (b.kind) {
    case 'FLOW':
    case 'AGGREGATE':
      return encodeFlowStatsRequest(w, b);
    case 'PORT_STATS':
      w.u32(b.portNo);
      w.zeros(4);
      return;
    case 'UNKNOWN':
      w.bytes(b.body);
      return;
    default:
      return; // DESC, TABLE, PORT_DESC, GROUP_DESC: no body
  }
}

function decodeFlowStatsRequest(buf: Buffer, off: number, end: number): FlowStatsRequestBody {
  need(off, 32, end, 'ofp_flow_stats_request');
  exact(off + 32, matchWireLength(buf, off + 32, end), end, 'ofp_flow_stats_request');
  return {
    tableId: buf[off] as number,
    outPort: buf.readUInt32BE(off + 4),
    outGroup: buf.readUInt32BE(off + 8),
    cookie: buf.readBigUInt64BE(off + 16),
    cookieMask: buf.readBigUInt64BE(off + 24),
    match: decodeMatch(buf, off + 32),
  };
}

function decodeRequestBody(buf: Buffer, type: number, off: number, end: number): MultipartRequestBody {
  switch (type) {
    case C.OFPMP_FLOW:
      return { kind: 'FLOW', ...decodeFlowStatsRequest(buf, off, end) };
    case C.OFPMP_AGGREGATE:
      return { kind: 'AGGREGATE', ...decodeFlowStatsRequest(buf, off, end) };
    case C.OFPMP_PORT_STATS:
      exact(off, 8, end, 'ofp_port_stats_request');
      return { kind: 'PORT_STATS', portNo: buf.readUInt32BE(off) };
    case C.OFPMP_DESC:
    case C.OFPMP_TABLE:
    case C.OFPMP_PORT_DESC:
    case C.OFPMP_GROUP_DESC: {
      exact(off, 0, end, `multipart request ${type}`);
      const kind = type === C.OFPMP_DESC ? 'DESC' : type === C.OFPMP_TABLE ? 'TABLE' : type === C.OFPMP_PORT_DESC ? 'PORT_DESC' : 'GROUP_DESC';
      return { kind };
    }
    default:
      return { kind: 'UNKNOWN', mpType: type, body: buf.subarray(off, end) };
  }
}

export function decodeMultipartRequest(buf: Buffer, off: number, end: number, xid: number): MultipartRequest {
  need(off, 8, end, 'ofp_multipart_request');
  const type = buf.readUInt16BE(off);
  return { type: 'MULTIPART_REQUEST', xid, flags: buf.readUInt16BE(off + 2), body: decodeRequestBody(buf, type, off + 8, end) };
}

// ---- replies -------------------------------------------------------------------------------

export function encodeMultipartReply(w: Writer, msg: MultipartReply): void {
  const b = msg.body;
  w.u16(mpType(b));
  w.u16(msg.flags);
  w.zeros(4);
  switch (b.kind) {
    case 'DESC': return encodeDesc(w, b.desc);
    case 'FLOW': return encodeFlowStats(w, b.flows);
    case 'AGGREGATE': return encodeAggregate(w, b.stats);
    case 'TABLE': return encodeTableStats(w, b.tables);
    case 'PORT_STATS': return encodePortStats(w, b.ports);
    case 'PORT_DESC': for (const p of b.ports) encodePort(w, p); return;
    case 'GROUP_DESC': return encodeGroupDescs(w, b.groups);
    case 'UNKNOWN': w.bytes(b.body); return;
  }
}

/** The kind of body a multipart reply of this OFPMP_* type decodes to. */
export function multipartReplyKind(type: number): MultipartReplyBody['kind'] {
  switch (type) {
    case C.OFPMP_DESC: return 'DESC';
    case C.OFPMP_FLOW: return 'FLOW';
    case C.OFPMP_AGGREGATE: return 'AGGREGATE';
    case C.OFPMP_TABLE: return 'TABLE';
    case C.OFPMP_PORT_STATS: return 'PORT_STATS';
    case C.OFPMP_PORT_DESC: return 'PORT_DESC';
    case C.OFPMP_GROUP_DESC: return 'GROUP_DESC';
    default: return 'UNKNOWN';
  }
}

function decodeReplyBody(buf: Buffer, type: number, off: number, end: number): MultipartReplyBody {
  switch (type) {
    case C.OFPMP_DESC: return { kind: 'DESC', desc: decodeDesc(buf, off, end) };
    case C.OFPMP_FLOW: return { kind: 'FLOW', flows: decodeFlowStats(buf, off, end) };
    case C.OFPMP_AGGREGATE: return { kind: 'AGGREGATE', stats: decodeAggregate(buf, off, end) };
    case C.OFPMP_TABLE: return { kind: 'TABLE', tables: decodeTableStats(buf, off, end) };
    case C.OFPMP_PORT_STATS: return { kind: 'PORT_STATS', ports: decodePortStats(buf, off, end) };
    case C.OFPMP_PORT_DESC: return { kind: 'PORT_DESC', ports: decodePorts(buf, off, end) };
    case C.OFPMP_GROUP_DESC: return { kind: 'GROUP_DESC', groups: decodeGroupDescs(buf, off, end) };
    default: return { kind: 'UNKNOWN', mpType: type, body: buf.subarray(off, end) };
  }
}

export function decodeMultipartReply(buf: Buffer, off: number, end: number, xid: number): MultipartReply {
  need(off, 8, end, 'ofp_multipart_reply');
  const type = buf.readUInt16BE(off);
  return { type: 'MULTIPART_REPLY', xid, flags: buf.readUInt16BE(off + 2), body: decodeReplyBody(buf, type, off + 8, end) };
}
