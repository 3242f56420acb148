// Switch features, configuration and controller role messages.

import { exact } from './reader.js';
import type { FeaturesReply, GetConfigReply, RoleReply, RoleRequest, SetConfig } from './types.js';
import type { Writer } from './writer.js';

export function encodeFeaturesReply(w: Writer, msg: FeaturesReply): void {
  w.u64(msg.datapathId);
  w.u32(msg.nBuffers);
  w.u8(msg.nTables);
  w.u8(msg.auxiliaryId);
  w.zeros(2);
  w.u32(msg.capabilities);
  w.u32(msg.reserved);
}

export function decodeFeaturesReply(buf: Buffer, off: number, end: number, xid: number): FeaturesReply {
  exact(off, 24, end, 'ofp_switch_features');
  return {
    type: 'FEATURES_REPLY', xid,
    datapathId: buf.readBigUInt64BE(off),
    nBuffers: buf.readUInt32BE(off + 8),
    nTables: buf[off + 12] as number,
    auxiliaryId: buf[off + 13] as number,
    capabilities: buf.readUInt32BE(off + 16),
    reserved: buf.readUInt32BE(off + 20),
  };
}

export function encodeSwitchConfig(w: Writer, msg: GetConfigReply | SetConfig): void {
  w.u16(msg.flags);
  w.u16(msg.missSendLen);
}

export function decodeSwitchConfig<T extends 'GET_CONFIG_REPLY' | 'SET_CONFIG'>(
  buf: Buffer, off: number, end: number, xid: number, type: T,
): { type: T; xid: number; flags: number; missSendLen: number } {
  exact(off, 4, end, 'ofp_switch_config');
  return { type, xid, flags: buf.readUInt16BE(off), missSendLen: buf.readUInt16BE(off + 2) };
}

export function encodeRole(w: Writer, msg: RoleRequest | RoleReply): void {
  w.u32(msg.role);
  w.zeros(4);
  w.u64(msg.generationId);
}

export function decodeRole<T extends 'ROLE_REQUEST' | 'ROLE_REPLY'>(
  buf: Buffer, off: number, end: number, xid: number, type: T,
): { type: T; xid: number; role: number; generationId: bigint } {
  exact(off, 16, end, 'ofp_role_request');
  return { type, xid, role: buf.readUInt32BE(off), generationId: buf.readBigUInt64BE(off + 8) };
}
