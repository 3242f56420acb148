// Cuts an OVSDB byte stream into whole JSON-RPC messages. RFC 7047 sends JSON objects back to back
// with no length prefix and no delimiter, so a message ends where its outermost brace closes;
// braces inside strings (escaped quotes included) do not count. The scan works on bytes: every
// byte of a multi-byte UTF-8 character is >= 0x80, so it can never look like a brace, a quote or
// a backslash. Each byte is scanned once, whatever the chunking.
//
// Bounded cost on bad input: a message longer than `maxMessageBytes`, nesting deeper than
// `maxDepth`, or anything but an object at the top level loses the framing for good; the caller
// closes the connection (and reconnects).

export interface SplitterOptions {
  /** Largest accepted message (default 32 MiB: an initial dump of thousands of interfaces fits). */
  readonly maxMessageBytes?: number;
  /** Deepest accepted nesting (default 64; OVSDB's own values nest 6 deep at most). */
  readonly maxDepth?: number;
}

export interface SplitResult {
  /** Whole messages as text, in order. */
  readonly messages: string[];
  /** Set once framing is lost; the messages cut before the fault are still returned. */
  readonly error?: string;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 32 << 20;
export const DEFAULT_MAX_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export class JsonMessageSplitter {
  private readonly maxMessageBytes: number;
  private readonly maxDepth: number;
  /** Pieces of the message being assembled across chunks. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private lost: string | undefined;

  constructor(options: SplitterOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  /** Bytes held back waiting for the end of a message. */
  get buffered(): number {
    return this.partBytes;
  }

  push(chunk: Uint8Array): SplitResult {
    const messages: string[] = [];
    if (this.lost !== undefined) return { messages, error: this.lost };
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Where the current message starts in this chunk (0 when it began in an earlier one).
    let start = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < buf.length; i++) {
      const byte = buf[i]!;
      if (this.depth === 0) {
        if (isWhitespace(byte)) continue;
        if (byte !== OPEN_BRACE) return this.lose(messages, `expected '{' at the start of a message, got byte 0x${byte.toString(16).padStart(2, '0')}`);
        this.depth = 1;
        start = i;
      } else if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
      } else if (byte === QUOTE) {
        this.inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (++this.depth > this.maxDepth) return this.lose(messages, `message nests deeper than ${this.maxDepth}`);
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (--this.depth === 0) {
          messages.push(this.take(buf.subarray(start, i + 1)));
          start = -1;
          continue;
        }
      }
      if (this.partBytes + (i - start + 1) > this.maxMessageBytes) {
        return this.lose(messages, `message longer than ${this.maxMessageBytes} bytes`);
      }
    }
    if (start >= 0) {
      this.parts.push(Buffer.from(buf.subarray(start)));
      this.partBytes += buf.length - start;
    }
    return { messages };
  }

  /** The whole message: the pieces from earlier chunks plus `tail`. */
  private take(tail: Buffer): string {
    const text = this.parts.length === 0 ? tail.toString('utf8') : Buffer.concat([...this.parts, tail]).toString('utf8');
    this.parts = [];
    this.partBytes = 0;
    return text;
  }

  private lose(messages: string[], error: string): SplitResult {
    this.lost = `OVSDB framing lost: ${error}`;
    this.parts = [];
    this.partBytes = 0;
    return { messages, error: this.lost };
  }
}
