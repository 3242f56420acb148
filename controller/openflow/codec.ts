// encodeMessage / decodeMessage: the header and the dispatch to one module per message family.

import * as C from './constants.js';
import { OFPBRC_BAD_LEN, OFPBRC_BAD_VERSION, OFPET_BAD_REQUEST } from './error-codes.js';
import { decodeFlowMod, decodeFlowRemoved, encodeFlowMod, encodeFlowRemoved } from './flow.js';
import { decodeGroupMod, encodeGroupMod } from './group.js';
import { finishHeader, writeHeader } from './header.js';
import { decodeMultipartReply, decodeMultipartRequest, encodeMultipartReply, encodeMultipartRequest } from './multipart.js';
import { decodePacketIn, decodePacketOut, encodePacketIn, encodePacketOut } from './packet.js';
import { decodePortStatus, encodePortStatus } from './port.js';
import { asBuffer, DecodeFailure } from './reader.js';
import { decodeFeaturesReply, decodeRole, decodeSwitchConfig, encodeFeaturesReply, encodeRole, encodeSwitchConfig } from './switch-config.js';
import {
  decodeEcho, decodeEmpty, decodeError, decodeExperimenter, decodeHello,
  encodeEcho, encodeError, encodeExperimenter, encodeHello,
} from './symmetric.js';
import type { DecodeResult, OfpMessage, OfpMessageType } from './types.js';
import { Writer } from './writer.js';

const TYPE_CODE: Readonly<Record<Exclude<OfpMessageType, 'UNKNOWN'>, number>> = {
  HELLO: C.OFPT_HELLO,
  ERROR: C.OFPT_ERROR,
  ECHO_REQUEST: C.OFPT_ECHO_REQUEST,
  ECHO_REPLY: C.OFPT_ECHO_REPLY,
  EXPERIMENTER: C.OFPT_EXPERIMENTER,
  FEATURES_REQUEST: C.OFPT_FEATURES_REQUEST,
  FEATURES_REPLY: C.OFPT_FEATURES_REPLY,
  GET_CONFIG_REQUEST: C.OFPT_GET_CONFIG_REQUEST,
  GET_CONFIG_REPLY: C.OFPT_GET_CONFIG_REPLY,
  SET_CONFIG: C.OFPT_SET_CONFIG,
  PACKET_IN: C.OFPT_PACKET_IN,
  FLOW_REMOVED: C.OFPT_FLOW_REMOVED,
  PORT_STATUS: C.OFPT_PORT_STATUS,
  PACKET_OUT: C.OFPT_PACKET_OUT,
  FLOW_MOD: C.OFPT_FLOW_MOD,
  GROUP_MOD: C.OFPT_GROUP_MOD,
  MULTIPART_REQUEST: C.OFPT_MULTIPART_REQUEST,
  MULTIPART_REPLY: C.OFPT_MULTIPART_REPLY,
  BARRIER_REQUEST: C.OFPT_BARRIER_REQUEST,
  BARRIER_REPLY: C.OFPT_BARRIER_REPLY,
  ROLE_REQUEST: C.OFPT_ROLE_REQUEST,
  ROLE_REPLY: C.OFPT_ROLE_REPLY,
};

/** The wire type number of a message. */
export function messageTypeCode(msg: OfpMessage): number {
  return msg.type === 'UNKNOWN' ? msg.msgType : TYPE_CODE[msg.type];
}

function encodeBody(w: Writer, msg: OfpMessage): void {
  switch (msg.type) {
    case 'HELLO': return encodeHello(w, msg);
    case 'ERROR': return encodeError(w, msg);
    case 'ECHO_REQUEST':
    case 'ECHO_REPLY': return encodeEcho(w, msg);
    case 'EXPERIMENTER': return encodeExperimenter(w, msg);
    case 'FEATURES_REPLY': return encodeFeaturesReply(w, msg);
    case 'GET_CONFIG_REPLY':
    case 'SET_CONFIG': return encodeSwitchConfig(w, msg);
    case 'PACKET_IN': return encodePacketIn(w, msg);
    case 'PACKET_OUT': return encodePacketOut(w, msg);
    case 'FLOW_MOD': return encodeFlowMod(w, msg);
    case 'FLOW_REMOVED': return encodeFlowRemoved(w, msg);
    case 'PORT_STATUS': return encodePortStatus(w, msg);
    case 'GROUP_MOD': return encodeGroupMod(w, msg);
    case 'ROLE_REQUEST':
    case 'ROLE_REPLY': return encodeRole(w, msg);
    case 'MULTIPART_REQUEST': return encodeMultipartRequest(w, msg);
    case 'MULTIPART_REPLY': return encodeMultipartReply(w, msg);
    case 'UNKNOWN': w.bytes(msg.body); return;
    default: return; // header-only messages
  }
}

/**
 * Encodes one message (version 4, except HELLO which carries msg.version).
 * Throws TypeError/RangeError on a malformed message (a programming error, not wire input).
 */
export function encodeMessage(msg: OfpMessage): Buffer {
  const w = new Writer();
  writeHeader(w, msg.type === 'HELLO' ? msg.version : C.OFP_VERSION, messageTypeCode(msg), msg.xid);
  encodeBody(w, msg);
  finishHeader(w);
  return w.finish();
}

// Messages encoded ahead of sending, by object (messages are immutable once built): a message known
// before it is due (the send side of a move staged ahead) is encoded when it becomes known, and
// sending it then costs a copy.
const encodedAhead = new WeakMap<OfpMessage, Buffer>();

/** Encodes `msg` now for a later encodeFrame() of the same object. */
export function encodeAhead(msg: OfpMessage): void {
  if (!encodedAhead.has(msg)) encodedAhead.set(msg, encodeMessage(msg));
}

/** `msg` as a frame with `xid` in its header (its xid field is ignored); a copy of its encoding made ahead, if there is one. */
export function encodeFrame(msg: OfpMessage, xid: number): Buffer {
  const ahead = encodedAhead.get(msg);
  const frame = ahead === undefined ? encodeMessage(msg) : Buffer.from(ahead);
  frame.writeUInt32BE(xid, 4);
  return frame;
}

function decodeBody(buf: Buffer, type: number, end: number, xid: number): OfpMessage {
  const off = C.OFP_HEADER_LEN;
  switch (type) {
    case C.OFPT_HELLO: return decodeHello(buf, off, end, xid);
    case C.OFPT_ERROR: return decodeError(buf, off, end, xid);
    case C.OFPT_ECHO_REQUEST: return decodeEcho(buf, off, end, xid, 'ECHO_REQUEST');
    case C.OFPT_ECHO_REPLY: return decodeEcho(buf, off, end, xid, 'ECHO_REPLY');
    case C.OFPT_EXPERIMENTER: return decodeExperimenter(buf, off, end, xid);
    case C.OFPT_FEATURES_REQUEST: return decodeEmpty(off, end, xid, 'FEATURES_REQUEST');
    case C.OFPT_FEATURES_REPLY: return decodeFeaturesReply(buf, off, end, xid);
    case C.OFPT_GET_CONFIG_REQUEST: return decodeEmpty(off, end, xid, 'GET_CONFIG_REQUEST');
    case C.OFPT_GET_CONFIG_REPLY: return decodeSwitchConfig(buf, off, end, xid, 'GET_CONFIG_REPLY');
    case C.OFPT_SET_CONFIG: return decodeSwitchConfig(buf, off, end, xid, 'SET_CONFIG');
    case C.OFPT_PACKET_IN: return decodePacketIn(buf, off, end, xid);
    case C.OFPT_FLOW_REMOVED: return decodeFlowRemoved(buf, off, end, xid);
    case C.OFPT_PORT_STATUS: return decodePortStatus(buf, off, end, xid);
    case C.OFPT_PACKET_OUT: return decodePacketOut(buf, off, end, xid);
    case C.OFPT_FLOW_MOD: return decodeFlowMod(buf, off, end, xid);
    case C.OFPT_GROUP_MOD: return decodeGroupMod(buf, off, end, xid);
    case C.OFPT_MULTIPART_REQUEST: return decodeMultipartRequest(buf, off, end, xid);
    case C.OFPT_MULTIPART_REPLY: return decodeMultipartReply(buf, off, end, xid);
    case C.OFPT_BARRIER_REQUEST: return decodeEmpty(off, end, xid, 'BARRIER_REQUEST');
    case C.OFPT_BARRIER_REPLY: return decodeEmpty(off, end, xid, 'BARRIER_REPLY');
    case C.OFPT_ROLE_REQUEST: return decodeRole(buf, off, end, xid, 'ROLE_REQUEST');
    case C.OFPT_ROLE_REPLY: return decodeRole(buf, off, end, xid, 'ROLE_REPLY');
    default: return { type: 'UNKNOWN', xid, msgType: type, body: buf.subarray(off, end) };
  }
}

function failure(reason: string, xid?: number, errorType?: number, code?: number): DecodeResult {
  const ofpError = errorType === undefined || code === undefined ? undefined : { errorType, code };
  return { ok: false, error: { reason, ...(xid === undefined ? {} : { xid }), ...(ofpError ? { ofpError } : {}) } };
}

/**
 * Decodes one whole frame (as cut by Framer). Never throws. Byte fields of the result
 * (data, payloads, raw bodies) are views into `frame`, not copies.
 */
export function decodeMessage(frame: Uint8Array): DecodeResult {
  const buf = asBuffer(frame);
  if (buf.length < C.OFP_HEADER_LEN) return failure(`frame of ${buf.length} bytes is shorter than ofp_header`, undefined, OFPET_BAD_REQUEST, OFPBRC_BAD_LEN);
  const version = buf[0] as number;
  const type = buf[1] as number;
  const length = buf.readUInt16BE(2);
  const xid = buf.readUInt32BE(4);
  if (length !== buf.length) return failure(`header length ${length} but frame has ${buf.length} bytes`, xid, OFPET_BAD_REQUEST, OFPBRC_BAD_LEN);
  if (version !== C.OFP_VERSION && type !== C.OFPT_HELLO) {
    return failure(`version ${version} is not OpenFlow 1.3 (4)`, xid, OFPET_BAD_REQUEST, OFPBRC_BAD_VERSION);
  }
  try {
    return { ok: true, message: decodeBody(buf, type, length, xid) };
  } catch (e) {
    if (e instanceof DecodeFailure) return failure(e.reason, xid, e.errorType, e.code);
    // A bounds slip inside a decoder must still not escape: report it as a length error.
    return failure(`decoder error: ${e instanceof Error ? e.message : String(e)}`, xid, OFPET_BAD_REQUEST, OFPBRC_BAD_LEN);
  }
}
