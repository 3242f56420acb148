// Asynchronous messages (packet-in, port-status, ...) that arrive while a switch is in CONFIG
// wait for MAIN, bounded in count and bytes: a peer that has not finished its handshake cannot
// make us hold more than that, however fast it sends.

import type { OfpMessage } from '../openflow/types.js';

export class EarlyMessages {
  private held: OfpMessage[] = [];
  private bytes = 0;

  constructor(readonly maxCount: number, readonly maxBytes: number) {}

  get count(): number { return this.held.length; }
  get heldBytes(): number { return this.bytes; }

  /** Holds a message of `size` wire bytes; false (not held) when a bound would be passed. */
  hold(message: OfpMessage, size: number): boolean {
    if (this.held.length >= this.maxCount || this.bytes + size > this.maxBytes) return false;
    this.held.push(message);
    this.bytes += size;
    return true;
  }

  /** Everything held, in arrival order; the buffer is empty afterwards. */
  release(): OfpMessage[] {
    const held = this.held;
    this.held = [];
    this.bytes = 0;
    return held;
  }
}
