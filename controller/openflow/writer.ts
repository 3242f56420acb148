// A small growable buffer writer. Lengths not known up front (message, match, action lists)
// are reserved with a mark and back-filled. One scratch buffer is reused across encodes
// (encoding is synchronous), and finish() copies the bytes out into a right-sized Buffer.

import { writeIpv4, writeIpv6, writeMac } from './addr.js';

let scratch = Buffer.allocUnsafe(1 << 16);

export class Writer {
  buf: Buffer;
  pos = 0;

  constructor() {
    this.buf = scratch;
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
    scratch = bigger;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  // Plain byte stores with one range check each: cheaper than Buffer.write*BE on the hot path,
  // and like them they refuse values that do not fit (a programming error, not wire input).
  u8(v: number): void {
    if ((v & 0xff) !== v) throw new RangeError(`value ${v} does not fit in 8 bits`);
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    if ((v & 0xffff) !== v) throw new RangeError(`value ${v} does not fit in 16 bits`);
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v & 0xff;
    this.pos = p + 2;
  }

  u24(v: number): void {
    if ((v & 0xffffff) !== v) throw new RangeError(`value ${v} does not fit in 24 bits`);
    this.ensure(3);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 16;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = v & 0xff;
    this.pos = p + 3;
  }

  u32(v: number): void {
    if (v >>> 0 !== v) throw new RangeError(`value ${v} does not fit in 32 bits`);
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.pos = p + 4;
  }

  u64(v: bigint): void {
    if (v >= 0n && v <= 0xffffffffn) {
      // Most cookies and metadata are small: skip the BigInt byte split.
      this.u32(0);
      this.u32(Number(v));
      return;
    }
    this.ensure(8);
    this.pos = this.buf.writeBigUInt64BE(v, this.pos);
  }

  zeros(n: number): void {
    this.ensure(n);
    const b = this.buf;
    const end = this.pos + n;
    if (n <= 16) for (let p = this.pos; p < end; p++) b[p] = 0;
    else b.fill(0, this.pos, end);
    this.pos = end;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A NUL-padded fixed-size char array (as strncpy: text of exactly `size` chars has no NUL). */
  cString(s: string, size: number): void {
    this.ensure(size);
    this.buf.fill(0, this.pos, this.pos + size);
    this.buf.write(s, this.pos, size, 'latin1');
    this.pos += size;
  }

  mac(s: string): void {
    this.ensure(6);
    writeMac(this.buf, this.pos, s);
    this.pos += 6;
  }

  ipv4(s: string): void {
    this.ensure(4);
    writeIpv4(this.buf, this.pos, s);
    this.pos += 4;
  }

  ipv6(s: string): void {
    this.ensure(16);
    writeIpv6(this.buf, this.pos, s);
    this.pos += 16;
  }

  /** Writes a 16-bit value at an earlier position (a length reserved with u16(0)). */
  backfill16(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at);
  }

  /** Zero-pads so that the bytes written since `from` are a multiple of 8. */
  pad8(from: number): void {
    const rem = (this.pos - from) & 7;
    if (rem !== 0) this.zeros(8 - rem);
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}
