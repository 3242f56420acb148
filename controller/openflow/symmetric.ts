// Symmetric messages: HELLO (with its elements), ERROR, ECHO, EXPERIMENTER, BARRIER.

import { OFPHET_VERSIONBITMAP } from './constants.js';
import { OFPET_EXPERIMENTER } from './error-codes.js';
import { exact, fail, need } from './reader.js';
import type {
  EchoReply, EchoRequest, ErrorMsg, ExperimenterMsg, Hello, HelloElementUnknown, HelloElementVersionBitmap,
} from './types.js';
import type { Writer } from './writer.js';

// ---- HELLO ---------------------------------------------------------------------------------

export function encodeHello(w: Writer, msg: Hello): void {
  for (const el of msg.elements) {
    const start = w.pos;
    if (el.type === 'VERSIONBITMAP') {
      const top = el.versions.length === 0 ? 0 : Math.max(...el.versions);
      const words = new Array<number>(Math.floor(top / 32) + 1).fill(0);
      for (const v of el.versions) words[Math.floor(v / 32)] = ((words[Math.floor(v / 32)] as number) | (1 << (v % 32))) >>> 0;
      w.u16(OFPHET_VERSIONBITMAP); w.u16(4 + 4 * words.length);
      for (const word of words) w.u32(word);
    } else {
      w.u16(el.elementType); w.u16(4 + el.body.length); w.bytes(el.body);
    }
    w.pad8(start); // element length excludes the padding to 8
  }
}

function decodeBitmap(buf: Buffer, off: number, end: number): HelloElementVersionBitmap {
  if ((end - off) % 4 !== 0) fail(`version bitmap of ${end - off} bytes`);
  const versions: number[] = [];
  for (let p = off, base = 0; p < end; p += 4, base += 32) {
    const word = buf.readUInt32BE(p);
    for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) versions.push(base + bit);
  }
  return { type: 'VERSIONBITMAP', versions };
}

export function decodeHello(buf: Buffer, off: number, end: number, xid: number): Hello {
  const elements: (HelloElementVersionBitmap | HelloElementUnknown)[] = [];
  while (off < end) {
    need(off, 4, end, 'hello element header');
    const type = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    if (len < 4 || off + len > end) fail(`hello element length ${len}`);
    elements.push(type === OFPHET_VERSIONBITMAP
      ? decodeBitmap(buf, off + 4, off + len)
      : { type: 'UNKNOWN', elementType: type, body: buf.subarray(off + 4, off + len) });
    off = Math.min(end, off + ((len + 7) & ~7));
  }
  return { type: 'HELLO', version: buf[0] as number, xid, elements };
}

// ---- ERROR ---------------------------------------------------------------------------------

export function encodeError(w: Writer, msg: ErrorMsg): void {
  w.u16(msg.errorType);
  w.u16(msg.code);
  if (msg.errorType === OFPET_EXPERIMENTER) w.u32(msg.experimenter ?? 0);
  w.bytes(msg.data);
}

export function decodeError(buf: Buffer, off: number, end: number, xid: number): ErrorMsg {
  need(off, 4, end, 'ofp_error_msg');
  const errorType = buf.readUInt16BE(off);
  const code = buf.readUInt16BE(off + 2);
  if (errorType === OFPET_EXPERIMENTER) {
    need(off, 8, end, 'ofp_error_experimenter_msg');
    return { type: 'ERROR', xid, errorType, code, experimenter: buf.readUInt32BE(off + 4), data: buf.subarray(off + 8, end) };
  }
  return { type: 'ERROR', xid, errorType, code, data: buf.subarray(off + 4, end) };
}

// ---- ECHO, EXPERIMENTER, BARRIER ------------------------------------------------------------

export function encodeEcho(w: Writer, msg: EchoRequest | EchoReply): void {
  w.bytes(msg.data);
}

export function decodeEcho(buf: Buffer, off: number, end: number, xid: number, type: 'ECHO_REQUEST' | 'ECHO_REPLY'): EchoRequest | EchoReply {
  return { type, xid, data: buf.subarray(off, end) };
}

export function encodeExperimenter(w: Writer, msg: ExperimenterMsg): void {
  w.u32(msg.experimenter);
  w.u32(msg.expType);
  w.bytes(msg.data);
}

export function decodeExperimenter(buf: Buffer, off: number, end: number, xid: number): ExperimenterMsg {
  need(off, 8, end, 'ofp_experimenter_header');
  return {
    type: 'EXPERIMENTER', xid,
    experimenter: buf.readUInt32BE(off), expType: buf.readUInt32BE(off + 4), data: buf.subarray(off + 8, end),
  };
}

/** Messages that are only a header (barrier, features/config requests). */
export function decodeEmpty<T extends string>(off: number, end: number, xid: number, type: T): { type: T; xid: number } {
  exact(off, 0, end, type);
  return { type, xid };
}
