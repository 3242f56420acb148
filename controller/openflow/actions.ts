// Action lists (ofp_action_*): used by instructions, PACKET_OUT and group buckets.
// Unknown action types are kept as raw bodies; experimenter actions (e.g. Nicira) keep their
// data after the 8-byte experimenter header so they re-encode identically.

import * as C from './constants.js';
import {
  OFPBAC_BAD_LEN, OFPBAC_BAD_SET_ARGUMENT, OFPBAC_BAD_SET_LEN, OFPET_BAD_ACTION,
} from './error-codes.js';
import { knownOxm, OXM_BY_NAME, readOxmValue, writeOxm } from './oxm.js';
import { fail } from './reader.js';
import type { Action } from './types.js';
import type { Writer } from './writer.js';

type ActionType = Action['type'];

/** Actions whose body is only padding (ofp_action_generic, 8 bytes). */
const BARE: Partial<Record<ActionType, number>> = {
  COPY_TTL_OUT: C.OFPAT_COPY_TTL_OUT,
  COPY_TTL_IN: C.OFPAT_COPY_TTL_IN,
  DEC_MPLS_TTL: C.OFPAT_DEC_MPLS_TTL,
  POP_VLAN: C.OFPAT_POP_VLAN,
  DEC_NW_TTL: C.OFPAT_DEC_NW_TTL,
  POP_PBB: C.OFPAT_POP_PBB,
};
const BARE_BY_CODE = new Map(Object.entries(BARE).map(([k, v]) => [v as number, k as ActionType]));

/** Actions carrying one ethertype (ofp_action_push / ofp_action_pop_mpls). */
const ETHERTYPE: Partial<Record<ActionType, number>> = {
  PUSH_VLAN: C.OFPAT_PUSH_VLAN,
  PUSH_MPLS: C.OFPAT_PUSH_MPLS,
  POP_MPLS: C.OFPAT_POP_MPLS,
  PUSH_PBB: C.OFPAT_PUSH_PBB,
};
const ETHERTYPE_BY_CODE = new Map(Object.entries(ETHERTYPE).map(([k, v]) => [v as number, k as ActionType]));

/** Default max_len of an output action: whole packets to the controller, 0 elsewhere. */
export function defaultMaxLen(port: number): number {
  return port === C.OFPP_CONTROLLER ? C.OFPCML_NO_BUFFER : 0;
}

function encodeAction(w: Writer, a: Action): void {
  const start = w.pos;
  switch (a.type) {
    case 'OUTPUT':
      w.u16(C.OFPAT_OUTPUT); w.u16(16); w.u32(a.port); w.u16(a.maxLen ?? defaultMaxLen(a.port)); w.zeros(6);
      return;
    case 'SET_MPLS_TTL':
    case 'SET_NW_TTL':
      w.u16(a.type === 'SET_MPLS_TTL' ? C.OFPAT_SET_MPLS_TTL : C.OFPAT_SET_NW_TTL); w.u16(8); w.u8(a.ttl); w.zeros(3);
      return;
    case 'SET_QUEUE':
      w.u16(C.OFPAT_SET_QUEUE); w.u16(8); w.u32(a.queueId);
      return;
    case 'GROUP':
      w.u16(C.OFPAT_GROUP); w.u16(8); w.u32(a.groupId);
      return;
    case 'PUSH_VLAN':
    case 'PUSH_MPLS':
    case 'POP_MPLS':
    case 'PUSH_PBB':
      w.u16(ETHERTYPE[a.type] as number); w.u16(8); w.u16(a.ethertype); w.zeros(2);
      return;
    case 'SET_FIELD': {
      const f = OXM_BY_NAME.get(a.field);
      if (!f) throw new TypeError(`unknown set_field field: ${String(a.field)}`);
      w.u16(C.OFPAT_SET_FIELD); w.u16(0);
      writeOxm(w, f, a.value);
      w.pad8(start);
      w.backfill16(start + 2, w.pos - start);
      return;
    }
    case 'EXPERIMENTER':
      w.u16(C.OFPAT_EXPERIMENTER); w.u16(0); w.u32(a.experimenter); w.bytes(a.data);
      w.pad8(start);
      w.backfill16(start + 2, w.pos - start);
      return;
    case 'UNKNOWN':
      w.u16(a.actionType); w.u16(4 + a.body.length); w.bytes(a.body);
      return;
    default: {
      const code = BARE[a.type];
      if (code === undefined) throw new TypeError(`unknown action: ${JSON.stringify(a)}`);
      w.u16(code); w.u16(8); w.zeros(4);
    }
  }
}

export function encodeActions(w: Writer, actions: readonly Action[]): void {
  for (const a of actions) encodeAction(w, a);
}

function badLen(type: number, len: number): never {
  fail(`action type ${type} has length ${len}`, OFPET_BAD_ACTION, OFPBAC_BAD_LEN);
}

function decodeSetField(buf: Buffer, off: number, len: number): Action {
  const p = off + 4;
  if (len < 8) badLen(C.OFPAT_SET_FIELD, len);
  const header = buf.readUInt32BE(p);
  const oxmLen = header & 0xff;
  const f = knownOxm(header >>> 16, (header >>> 9) & 0x7f);
  const minimal = (8 + oxmLen + 7) & ~7;
  if (p + 4 + oxmLen > off + len) fail(`set_field OXM overruns the action`, OFPET_BAD_ACTION, OFPBAC_BAD_SET_LEN);
  // Fields the model cannot hold exactly (other classes, masks, extra padding) stay raw.
  if (!f || (header & 0x100) !== 0 || len !== minimal) {
    if (f && (header & 0x100) !== 0) fail(`set_field ${f.name} with a mask`, OFPET_BAD_ACTION, OFPBAC_BAD_SET_ARGUMENT);
    return { type: 'UNKNOWN', actionType: C.OFPAT_SET_FIELD, body: buf.subarray(p, off + len) };
  }
  if (oxmLen !== f.width) fail(`set_field ${f.name} has length ${oxmLen}`, OFPET_BAD_ACTION, OFPBAC_BAD_SET_LEN);
  return { type: 'SET_FIELD', field: f.name, value: readOxmValue(buf, p + 4, f) } as Action;
}

function decodeAction(buf: Buffer, off: number, type: number, len: number): Action {
  const body = off + 4;
  switch (type) {
    case C.OFPAT_OUTPUT:
      if (len !== 16) badLen(type, len);
      return { type: 'OUTPUT', port: buf.readUInt32BE(body), maxLen: buf.readUInt16BE(body + 4) };
    case C.OFPAT_SET_MPLS_TTL:
    case C.OFPAT_SET_NW_TTL:
      if (len !== 8) badLen(type, len);
      return { type: type === C.OFPAT_SET_MPLS_TTL ? 'SET_MPLS_TTL' : 'SET_NW_TTL', ttl: buf[body] as number };
    case C.OFPAT_SET_QUEUE:
      if (len !== 8) badLen(type, len);
      return { type: 'SET_QUEUE', queueId: buf.readUInt32BE(body) };
    case C.OFPAT_GROUP:
      if (len !== 8) badLen(type, len);
      return { type: 'GROUP', groupId: buf.readUInt32BE(body) };
    case C.OFPAT_SET_FIELD:
      return decodeSetField(buf, off, len);
    case C.OFPAT_EXPERIMENTER:
      if (len < 8) badLen(type, len);
      return { type: 'EXPERIMENTER', experimenter: buf.readUInt32BE(body), data: buf.subarray(off + 8, off + len) };
  }
  const bare = BARE_BY_CODE.get(type);
  if (bare) {
    if (len !== 8) badLen(type, len);
    return { type: bare } as Action;
  }
  const withEthertype = ETHERTYPE_BY_CODE.get(type);
  if (withEthertype) {
    if (len !== 8) badLen(type, len);
    return { type: withEthertype, ethertype: buf.readUInt16BE(body) } as Action;
  }
  return { type: 'UNKNOWN', actionType: type, body: buf.subarray(body, off + len) };
}

/** Decodes the action list in [off, end). Each action is >= 8 bytes and a multiple of 8. */
export function decodeActions(buf: Buffer, off: number, end: number): Action[] {
  const actions: Action[] = [];
  while (off < end) {
    if (off + 4 > end) fail('action header truncated', OFPET_BAD_ACTION, OFPBAC_BAD_LEN);
    const type = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    if (len < 8 || (len & 7) !== 0 || off + len > end) badLen(type, len);
    actions.push(decodeAction(buf, off, type, len));
    off += len;
  }
  return actions;
}
