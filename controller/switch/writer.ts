// Outgoing bytes of one connection: small writes made in the same tick leave as one socket write,
// up to FLUSH_BYTES (a large burst, such as the frames a stopped VM's buffer delivers, leaves in
// chunks as it is built, so the switch starts on its first frames while the rest are encoded),
// socket.write() returning false parks everything until 'drain', and a peer that stops reading
// is reported once the queue passes a bound (the owner then closes it).

import type { Writable } from 'node:stream';

export interface FrameWriterOptions {
  /** Bytes we hold for a slow reader (our queue plus the socket's buffer) before giving up on it. */
  maxQueuedBytes: number;
}

/** Bytes queued in one tick that are handed to the socket at once rather than at the tick's end. */
export const FLUSH_BYTES = 64 * 1024;

export class FrameWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
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
    if (this.pendingBytes >= FLUSH_BYTES && !this.waitingForDrain) return this.flush();
    if (!this.flushScheduled && !this.waitingForDrain) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
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
