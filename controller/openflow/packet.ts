// PACKET_IN (switch -> controller) and PACKET_OUT (controller -> switch).

import { decodeActions, encodeActions } from './actions.js';
import { decodeMatch, encodeMatch, matchWireLength } from './oxm.js';
import { fail, need } from './reader.js';
import type { PacketIn, PacketOut } from './types.js';
import type { Writer } from './writer.js';

export function encodePacketIn(w: Writer, msg: PacketIn): void {
  w.u32(msg.bufferId);
  w.u16(msg.totalLen);
  w.u8(msg.reason);
  w.u8(msg.tableId);
  w.u64(msg.cookie);
  encodeMatch(w, msg.match);
  w.zeros(2);
  w.bytes(msg.data);
}

/** The frame in `data` is a view into the received bytes (no copy). */
export function decodePacketIn(buf: Buffer, off: number, end: number, xid: number): PacketIn {
  need(off, 16, end, 'ofp_packet_in');
  const matchOff = off + 16;
  const dataOff = matchOff + matchWireLength(buf, matchOff, end) + 2;
  if (dataOff > end) fail('ofp_packet_in: missing the 2 pad bytes after the match');
  return {
    type: 'PACKET_IN', xid,
    bufferId: buf.readUInt32BE(off),
    totalLen: buf.readUInt16BE(off + 4),
    reason: buf[off + 6] as number,
    tableId: buf[off + 7] as number,
    cookie: buf.readBigUInt64BE(off + 8),
    match: decodeMatch(buf, matchOff),
    data: buf.subarray(dataOff, end),
  };
}

export function encodePacketOut(w: Writer, msg: PacketOut): void {
  w.u32(msg.bufferId);
  w.u32(msg.inPort);
  const lenAt = w.pos;
  w.u16(0);
  w.zeros(6);
  const actionsStart = w.pos;
  encodeActions(w, msg.actions);
  w.backfill16(lenAt, w.pos - actionsStart);
  w.bytes(msg.data);
}

export function decodePacketOut(buf: Buffer, off: number, end: number, xid: number): PacketOut {
  need(off, 16, end, 'ofp_packet_out');
  const actionsLen = buf.readUInt16BE(off + 8);
  const actionsEnd = off + 16 + actionsLen;
  if (actionsEnd > end) fail(`ofp_packet_out: actions_len ${actionsLen} overruns the message`);
  return {
    type: 'PACKET_OUT', xid,
    bufferId: buf.readUInt32BE(off),
    inPort: buf.readUInt32BE(off + 4),
    actions: decodeActions(buf, off + 16, actionsEnd),
    data: buf.subarray(actionsEnd, end),
  };
}
