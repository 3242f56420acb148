// FLOW_MOD (controller -> switch) and FLOW_REMOVED (switch -> controller).

import { decodeInstructions, encodeInstructions } from './instructions.js';
import { decodeMatch, encodeMatch, matchWireLength } from './oxm.js';
import { exact, need } from './reader.js';
import type { FlowMod, FlowRemoved } from './types.js';
import type { Writer } from './writer.js';

export function encodeFlowMod(w: Writer, msg: FlowMod): void {
  w.u64(msg.cookie);
  w.u64(msg.cookieMask);
  w.u8(msg.tableId);
  w.u8(msg.command);
  w.u16(msg.idleTimeout);
  w.u16(msg.hardTimeout);
  w.u16(msg.priority);
  w.u32(msg.bufferId);
  w.u32(msg.outPort);
  w.u32(msg.outGroup);
  w.u16(msg.flags);
  w.zeros(2);
  encodeMatch(w, msg.match);
  encodeInstructions(w, msg.instructions);
}

export function decodeFlowMod(buf: Buffer, off: number, end: number, xid: number): FlowMod {
  need(off, 40, end, 'ofp_flow_mod');
  const matchOff = off + 40;
  const insOff = matchOff + matchWireLength(buf, matchOff, end);
  return {
    type: 'FLOW_MOD', xid,
    cookie: buf.readBigUInt64BE(off),
    cookieMask: buf.readBigUInt64BE(off + 8),
    tableId: buf[off + 16] as number,
    command: buf[off + 17] as number,
    idleTimeout: buf.readUInt16BE(off + 18),
    hardTimeout: buf.readUInt16BE(off + 20),
    priority: buf.readUInt16BE(off + 22),
    bufferId: buf.readUInt32BE(off + 24),
    outPort: buf.readUInt32BE(off + 28),
    outGroup: buf.readUInt32BE(off + 32),
    flags: buf.readUInt16BE(off + 36),
    match: decodeMatch(buf, matchOff),
    instructions: decodeInstructions(buf, insOff, end),
  };
}

export function encodeFlowRemoved(w: Writer, msg: FlowRemoved): void {
  w.u64(msg.cookie);
  w.u16(msg.priority);
  w.u8(msg.reason);
  w.u8(msg.tableId);
  w.u32(msg.durationSec);
  w.u32(msg.durationNsec);
  w.u16(msg.idleTimeout);
  w.u16(msg.hardTimeout);
  w.u64(msg.packetCount);
  w.u64(msg.byteCount);
  encodeMatch(w, msg.match);
}

export function decodeFlowRemoved(buf: Buffer, off: number, end: number, xid: number): FlowRemoved {
  need(off, 40, end, 'ofp_flow_removed');
  const matchOff = off + 40;
  exact(matchOff, matchWireLength(buf, matchOff, end), end, 'ofp_flow_removed');
  return {
    type: 'FLOW_REMOVED', xid,
    cookie: buf.readBigUInt64BE(off),
    priority: buf.readUInt16BE(off + 8),
    reason: buf[off + 10] as number,
    tableId: buf[off + 11] as number,
    durationSec: buf.readUInt32BE(off + 12),
    durationNsec: buf.readUInt32BE(off + 16),
    idleTimeout: buf.readUInt16BE(off + 20),
    hardTimeout: buf.readUInt16BE(off + 22),
    packetCount: buf.readBigUInt64BE(off + 24),
    byteCount: buf.readBigUInt64BE(off + 32),
    match: decodeMatch(buf, matchOff),
  };
}
