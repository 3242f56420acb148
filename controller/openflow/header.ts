// ofp_header: version, type, length, xid (8 bytes) on every message.

import { OFP_HEADER_LEN } from './constants.js';
import type { Writer } from './writer.js';

export interface OfpHeader {
  readonly version: number;
  readonly type: number;
  readonly length: number;
  readonly xid: number;
}

/** Reads the header of a frame, or undefined when it is shorter than 8 bytes (for logs of refused frames). */
export function readHeader(frame: Uint8Array): OfpHeader | undefined {
  if (frame.length < OFP_HEADER_LEN) return undefined;
  const b = frame;
  return {
    version: b[0] as number,
    type: b[1] as number,
    length: ((b[2] as number) << 8) | (b[3] as number),
    xid: (((b[4] as number) << 24) | ((b[5] as number) << 16) | ((b[6] as number) << 8) | (b[7] as number)) >>> 0,
  };
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
