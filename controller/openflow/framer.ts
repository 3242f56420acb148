// Cuts a TCP byte stream into whole OpenFlow messages, whatever the chunking. Frames that lie
// whole inside one chunk are returned as views of it (no copy); frames spanning chunks are
// assembled into their own Buffer. Framing is lost for good once a header has length < 8 or
// above the configured maximum: the caller must drop the connection.

import { OFP_HEADER_LEN, OFP_MAX_MESSAGE_LEN } from './constants.js';

export interface FramerOptions {
  /** Largest accepted message length (default 65535, the most a 16-bit length can say). */
  readonly maxFrameLength?: number;
}

export interface FramerResult {
  readonly frames: Buffer[];
  /** Set when framing is lost; frames cut before the bad header are still returned. */
  readonly error?: string;
}

export class Framer {
  private readonly maxFrameLength: number;
  /** Header bytes collected while a header straddles chunks. */
  private readonly head = Buffer.alloc(OFP_HEADER_LEN);
  private headLen = 0;
  /** The frame being assembled across chunks, and how much of it is filled. */
  private partial: Buffer | undefined;
  private filled = 0;
  private lost: string | undefined;

  constructor(options: FramerOptions = {}) {
    this.maxFrameLength = options.maxFrameLength ?? OFP_MAX_MESSAGE_LEN;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.partial ? this.filled : this.headLen;
  }

  private checkLength(length: number): string | undefined {
    if (length < OFP_HEADER_LEN) return `framing lost: header length ${length} < 8`;
    if (length > this.maxFrameLength) return `framing lost: header length ${length} > max ${this.maxFrameLength}`;
    return undefined;
  }

  push(chunk: Uint8Array): FramerResult {
    const frames: Buffer[] = [];
    if (this.lost) return { frames, error: this.lost };
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let off = 0;
    while (off < buf.length) {
      if (this.partial) {
        const n = Math.min(this.partial.length - this.filled, buf.length - off);
        buf.copy(this.partial, this.filled, off, off + n);
        this.filled += n;
        off += n;
        if (this.filled === this.partial.length) {
          frames.push(this.partial);
          this.partial = undefined;
          this.filled = 0;
        }
        continue;
      }
      if (this.headLen > 0 || buf.length - off < OFP_HEADER_LEN) {
        const n = Math.min(OFP_HEADER_LEN - this.headLen, buf.length - off);
        buf.copy(this.head, this.headLen, off, off + n);
        this.headLen += n;
        off += n;
        if (this.headLen < OFP_HEADER_LEN) break;
        const length = this.head.readUInt16BE(2);
        const error = this.checkLength(length);
        if (error) return this.lose(frames, error);
        this.headLen = 0;
        this.partial = Buffer.allocUnsafe(length);
        this.head.copy(this.partial, 0);
        this.filled = OFP_HEADER_LEN;
        if (length === OFP_HEADER_LEN) {
          frames.push(this.partial);
          this.partial = undefined;
          this.filled = 0;
        }
        continue;
      }
      const length = buf.readUInt16BE(off + 2);
      const error = this.checkLength(length);
      if (error) return this.lose(frames, error);
      if (buf.length - off >= length) {
        frames.push(buf.subarray(off, off + length));
        off += length;
      } else {
        this.partial = Buffer.allocUnsafe(length);
        this.filled = buf.length - off;
        buf.copy(this.partial, 0, off);
        off = buf.length;
      }
    }
    return { frames };
  }

  private lose(frames: Buffer[], error: string): FramerResult {
    this.lost = error;
    this.partial = undefined;
    this.headLen = 0;
    return { frames, error };
  }
}
