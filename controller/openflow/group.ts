// GROUP_MOD, its buckets, and group descriptions (OFPMP_GROUP_DESC reply entries).

import { decodeActions, encodeActions } from './actions.js';
import { OFPET_GROUP_MOD_FAILED, OFPGMFC_BAD_BUCKET } from './error-codes.js';
import { fail, need } from './reader.js';
import type { Bucket, GroupDesc, GroupMod } from './types.js';
import type { Writer } from './writer.js';

export function encodeBuckets(w: Writer, buckets: readonly Bucket[]): void {
  for (const b of buckets) {
    const start = w.pos;
    w.u16(0);
    w.u16(b.weight);
    w.u32(b.watchPort);
    w.u32(b.watchGroup);
    w.zeros(4);
    encodeActions(w, b.actions);
    w.backfill16(start, w.pos - start);
  }
}

export function decodeBuckets(buf: Buffer, off: number, end: number): Bucket[] {
  const buckets: Bucket[] = [];
  while (off < end) {
    need(off, 16, end, 'ofp_bucket');
    const len = buf.readUInt16BE(off);
    if (len < 16 || (len & 7) !== 0 || off + len > end) fail(`ofp_bucket length ${len}`, OFPET_GROUP_MOD_FAILED, OFPGMFC_BAD_BUCKET);
    buckets.push({
      weight: buf.readUInt16BE(off + 2),
      watchPort: buf.readUInt32BE(off + 4),
      watchGroup: buf.readUInt32BE(off + 8),
      actions: decodeActions(buf, off + 16, off + len),
    });
    off += len;
  }
  return buckets;
}

export function encodeGroupMod(w: Writer, msg: GroupMod): void {
  w.u16(msg.command);
  w.u8(msg.groupType);
  w.zeros(1);
  w.u32(msg.groupId);
  encodeBuckets(w, msg.buckets);
}

export function decodeGroupMod(buf: Buffer, off: number, end: number, xid: number): GroupMod {
  need(off, 8, end, 'ofp_group_mod');
  return {
    type: 'GROUP_MOD', xid,
    command: buf.readUInt16BE(off),
    groupType: buf[off + 2] as number,
    groupId: buf.readUInt32BE(off + 4),
    buckets: decodeBuckets(buf, off + 8, end),
  };
}

export function encodeGroupDescs(w: Writer, groups: readonly GroupDesc[]): void {
  for (const g of groups) {
    const start = w.pos;
    w.u16(0);
    w.u8(g.groupType);
    w.zeros(1);
    w.u32(g.groupId);
    encodeBuckets(w, g.buckets);
    w.backfill16(start, w.pos - start);
  }
}

export function decodeGroupDescs(buf: Buffer, off: number, end: number): GroupDesc[] {
  const groups: GroupDesc[] = [];
  while (off < end) {
    need(off, 8, end, 'ofp_group_desc');
    const len = buf.readUInt16BE(off);
    if (len < 8 || off + len > end) fail(`ofp_group_desc length ${len}`);
    groups.push({
      groupType: buf[off + 2] as number,
      groupId: buf.readUInt32BE(off + 4),
      buckets: decodeBuckets(buf, off + 8, off + len),
    });
    off += len;
  }
  return groups;
}
