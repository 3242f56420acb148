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

  u8(v: number): void {
    this.ensure(1);
    this.pos = this.buf.writeUInt8(v, this.pos);
  }

  u16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
  }

  u24(v: number): void {
    this.ensure(3);
    this.pos = this.buf.writeUIntBE(v, this.pos, 3);
  }

  u32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(v, this.pos);
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.pos = this.buf.writeBigUInt64BE(v, this.pos);
  }

  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
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
