// ofp_header: version, type, length, xid (8 bytes) on every message.

import { OFP_HEADER_LEN } from './constants.js';
import type { Writer } from './writer.js';

export interface OfpHeader {
  readonly version: number;
  readonly type: number;
  readonly length: number;
  readonly xid: number;
}

/** Reads the header at the start of `buf` (the caller checked it holds 8 bytes). */
export function readHeader(buf: Buffer): OfpHeader {
  return { version: buf[0] as number, type: buf[1] as number, length: buf.readUInt16BE(2), xid: buf.readUInt32BE(4) };
}

/** Writes a header with a zero length, to be back-filled by finishHeader. */
export function writeHeader(w: Writer, version: number, type: number, xid: number): void {
  w.u8(version);
  w.u8(type);
  w.u16(0);
  w.u32(xid >>> 0);
}

/** Back-fills the length of the message that starts at 0; throws when it exceeds 64 KiB. */
export function finishHeader(w: Writer): void {
  if (w.pos > 0xffff) throw new RangeError(`OpenFlow message of ${w.pos} bytes exceeds 65535`);
  w.backfill16(2, w.pos);
}

export const HEADER_LEN = OFP_HEADER_LEN;
