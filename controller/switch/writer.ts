// Outgoing bytes of one connection: small writes made in the same tick leave as one socket write,
// up to FIRST_FLUSH_BYTES; a large burst (the frames a stopped VM's buffer delivers) leaves in chunks
// as it is built, the first small and each next one larger up to FLUSH_BYTES, so that the switch
// starts on its first frames while the rest are encoded, with few writes for the whole;
// socket.write() returning false parks everything until 'drain', and a peer that stops reading
// is reported once the queue passes a bound (the owner then closes it).

import type { Writable } from 'node:stream';

export interface FrameWriterOptions {
  /** Bytes we hold for a slow reader (our queue plus the socket's buffer) before giving up on it. */
  maxQueuedBytes: number;
}

/**
 * Bytes queued in one tick that are handed to the socket at once rather than at the tick's end: the
 * first chunk of a tick. A replay of 200 held frames (55 KB) took the lab's controller 10-15 ms to
 * encode on a busy 2-core machine; handed over only at 64 KiB or at the tick's end, its first frame
 * left that late, and the VM's streams waited for it (docs/benchmarks.md, 2026-12-02).
 */
export const FIRST_FLUSH_BYTES = 4 * 1024;
/** The largest chunk: each chunk of a tick is 4 times the one before, up to this. */
export const FLUSH_BYTES = 64 * 1024;

export class FrameWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  /** When the bytes queued in this tick go to the socket without waiting for its end. */
  private chunkBytes = FIRST_FLUSH_BYTES;
  private waitingForDrain = false;
  private overflowed = false;
  private stopped = false;
  private readonly options: FrameWriterOptions;

  constructor(
    private readonly socket: Writable,
    options: Readonly<FrameWriterOptions>,
    private readonly onOverflow: (queuedBytes: number) => void,
  ) {
    this.options = { ...options };
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.flush();
    });
  }

  /** Bytes accepted but not yet handed to the kernel. */
  get queuedBytes(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  write(frame: Buffer): void {
    if (this.stopped) return;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (this.queuedBytes > this.options.maxQueuedBytes) return this.overflow();
    if (this.pendingBytes >= this.chunkBytes && !this.waitingForDrain) {
      this.chunkBytes = Math.min(FLUSH_BYTES, this.chunkBytes * 4);
      this.flush();
    }
    if (!this.flushScheduled && !this.waitingForDrain) {
      this.flushScheduled = true;
      process.nextTick(() => {
        this.chunkBytes = FIRST_FLUSH_BYTES; // the next tick's writes start small again
        this.flush();
      });
    }
  }

  /** Changes the bound (a peer that finished its handshake earns a larger one). */
  setLimit(maxQueuedBytes: number): void {
    this.options.maxQueuedBytes = maxQueuedBytes;
  }

  /** Hands everything queued to the socket now (before an orderly close). */
  flush(): void {
    this.flushScheduled = false;
    if (this.stopped || this.waitingForDrain || this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    if (!this.socket.write(chunk)) this.waitingForDrain = true;
  }

  /** Drops whatever is queued and ignores later writes. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private overflow(): void {
    if (this.overflowed) return;
    this.overflowed = true;
    const queued = this.queuedBytes;
    this.stop();
    this.onOverflow(queued);
  }
}
