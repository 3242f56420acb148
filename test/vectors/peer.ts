// One OpenFlow TCP peer for the vector capture: frames what arrives (keeping the raw bytes),
// sends encoded messages, and lets the capture wait for a message matching a predicate.

import type { Socket } from 'node:net';
import { decodeMessage, encodeMessage, Framer, type OfpMessage } from '../../controller/openflow/index.js';

export interface Received {
  readonly raw: Buffer;
  readonly message: OfpMessage | undefined;
  readonly error?: string;
}

export class Peer {
  readonly received: Received[] = [];
  private readonly framer = new Framer();
  private waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  /** Called for every message before waiters (used to auto-answer echo and the like). */
  onMessage: (r: Received, peer: Peer) => void = () => {};

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const { frames, error } = this.framer.push(chunk);
      for (const f of frames) this.deliver(Buffer.from(f));
      if (error) socket.destroy(new Error(error));
    });
  }

  private deliver(raw: Buffer): void {
    const d = decodeMessage(raw);
    const r: Received = d.ok ? { raw, message: d.message } : { raw, message: undefined, error: d.error.reason };
    this.received.push(r);
    this.onMessage(r, this);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(r)) return true;
      w.resolve(r);
      return false;
    });
  }

  send(msg: OfpMessage): void {
    this.socket.write(encodeMessage(msg));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The first message (already received or future) matching pred, within timeoutMs. */
  waitFor(pred: (m: OfpMessage) => boolean, what: string, timeoutMs = 5000, since = 0): Promise<Received> {
    const seen = this.received.slice(since).find((r) => r.message && pred(r.message));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        pred: (r) => r.message !== undefined && pred(r.message),
        resolve: (r) => { clearTimeout(timer); resolve(r); },
      });
    });
  }

  /** The first frame received at or after index `since`, decodable or not. */
  async waitForRaw(since: number, what: string, timeoutMs = 5000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length <= since) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.received[since] as Received;
  }

  /** Sends a request and waits for the reply with the same xid. */
  async request(msg: OfpMessage, what: string, timeoutMs = 5000): Promise<Received> {
    const since = this.received.length;
    this.send(msg);
    return this.waitFor((m) => m.xid === msg.xid, what, timeoutMs, since);
  }
}
