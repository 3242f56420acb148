// Decoding helpers. Decoders work on (buf, offset, end) triples with explicit bounds checks and
// report malformed input by throwing a DecodeFailure, which decodeMessage turns into a
// DecodeResult; nothing escapes to callers. DecodeFailure is deliberately not an Error: no stack
// capture on the fuzzed error paths.

import { OFPET_BAD_REQUEST, OFPBRC_BAD_LEN } from './error-codes.js';

export class DecodeFailure {
  constructor(
    readonly reason: string,
    readonly errorType: number | undefined = OFPET_BAD_REQUEST,
    readonly code: number | undefined = OFPBRC_BAD_LEN,
  ) {}
}

/** Throws a DecodeFailure; `errorType`/`code` name the OFPT_ERROR the spec asks for. */
export function fail(reason: string, errorType: number = OFPET_BAD_REQUEST, code: number = OFPBRC_BAD_LEN): never {
  throw new DecodeFailure(reason, errorType, code);
}

/** Fails with OFPBRC_BAD_LEN unless [off, off + n) lies inside [.., end). */
export function need(off: number, n: number, end: number, what: string): void {
  if (off + n > end) fail(`${what}: needs ${n} bytes at offset ${off}, frame part ends at ${end}`);
}

/** Fails unless a fixed-size body is exactly as long as the spec says. */
export function exact(off: number, n: number, end: number, what: string): void {
  if (off + n !== end) fail(`${what}: body is ${end - off} bytes, expected ${n}`);
}

/** A Buffer view of any Uint8Array (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A NUL-terminated string in a fixed-size char array (ofp_port.name, ofp_desc fields). */
export function readCString(buf: Buffer, off: number, size: number): string {
  let end = buf.indexOf(0, off);
  if (end < 0 || end > off + size) end = off + size;
  return buf.toString('latin1', off, end);
}
