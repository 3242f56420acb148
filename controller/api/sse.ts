// The server-sent-events stream, written by hand: no library does back-pressure the way a
// controller under attack needs it. Each event's frame is built once; the events of one tick of
// the event loop go out together, as one write per client, the same string for all. A client
// whose socket is full gets its writes queued (references, not copies) and written on 'drain';
// one with more unwritten bytes than the bound is dropped and counted, so a client that never
// reads costs at most that bound. Clients beyond the cap are refused (503) before anything is
// written.

import type { ServerResponse } from 'node:http';
import { RateLimitedLog, type Logger } from '../log.js';
import type { EventHub, SequencedEvent } from './events.js';

export interface EventStreamOptions {
  /** Clients at most; the next one is refused. */
  readonly maxClients: number;
  /** A client with more unwritten bytes than this (our queue + the socket's buffer) is dropped. */
  readonly maxBufferedBytes: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  readonly heartbeatMs: number;
  readonly log: Logger;
}

/** Bytes ready for the wire: encoded once, the same Buffer written to every client. */
interface Frame {
  readonly data: Buffer;
  readonly bytes: number;
}

class Client {
  private readonly queue: Frame[] = [];
  private queuedBytes = 0;
  private blocked = false;

  constructor(readonly res: ServerResponse, readonly remote: string, private readonly maxBufferedBytes: number, private readonly onOverflow: (c: Client) => void) {
    res.on('drain', () => this.flush());
  }

  /** Bytes handed to us or to the socket and not yet written to the network. */
  get unwritten(): number {
    return this.queuedBytes + this.res.writableLength;
  }

  send(frame: Frame): void {
    if (this.res.destroyed) return;
    if (this.blocked) {
      this.queue.push(frame);
      this.queuedBytes += frame.bytes;
      if (this.unwritten > this.maxBufferedBytes) this.onOverflow(this);
      return;
    }
    if (!this.res.write(frame.data)) {
      this.blocked = true;
      if (this.unwritten > this.maxBufferedBytes) this.onOverflow(this);
    }
  }

  private flush(): void {
    this.blocked = false;
    let written = 0;
    while (written < this.queue.length && !this.blocked && !this.res.destroyed) {
      const frame = this.queue[written++]!;
      this.queuedBytes -= frame.bytes;
      if (!this.res.write(frame.data)) this.blocked = true;
    }
    this.queue.splice(0, written);
  }
}

const frameOf = (text: string): Frame => {
  const data = Buffer.from(text);
  return { data, bytes: data.length };
};

export class EventStream {
  private readonly clients = new Set<Client>();
  private readonly stopListening: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly warn: RateLimitedLog;
  /** Events published since the last flush, serialised and sent together at the next turn of the event loop (off the path of what published them). */
  private pending: SequencedEvent[] = [];
  private flushScheduled = false;
  /** Clients dropped for falling behind, since start. */
  dropped = 0;
  /** Clients refused because the cap was reached, since start. */
  rejected = 0;
  /** Events sent to the stream (each to every client), since start. */
  published = 0;

  constructor(private readonly hub: EventHub, private readonly options: EventStreamOptions) {
    this.warn = new RateLimitedLog(options.log, { burst: 3, windowMs: 10_000 });
    this.stopListening = hub.listen((e) => this.broadcast(e));
    this.heartbeat = setInterval(() => {
      const beat = frameOf(`: heartbeat ${Date.now()}\n\n`);
      for (const c of this.clients) c.send(beat);
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** True when a new client would be over the cap (the caller answers 503 and calls refused()). */
  get full(): boolean {
    return this.clients.size >= this.options.maxClients;
  }

  refused(remote: string): void {
    this.rejected++;
    this.warn.warn('sse-full', 'event-stream client refused: too many clients', { remote, clients: this.clients.size, max: this.options.maxClients, refused: this.rejected });
  }

  /**
   * Takes over a response: headers, the reconnection delay, then the events after `lastId` still
   * in the history (or a comment naming the current id), then live events until either side closes.
   */
  open(res: ServerResponse, remote: string, lastId: number | undefined): void {
    this.flushPending(); // what is pending is in the history too: send it to the others before this one joins
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const client = new Client(res, remote, this.options.maxBufferedBytes, (c) => this.drop(c));
    this.clients.add(client);
    res.on('close', () => this.clients.delete(client));
    client.send(frameOf('retry: 2000\n\n'));
    if (lastId === undefined) client.send(frameOf(`: connected, last event id ${this.hub.lastId}\n\n`));
    else client.send(frameOf(this.hub.since(lastId).map((e) => e.frame).join('')));
  }

  close(): void {
    this.pending = [];
    clearInterval(this.heartbeat);
    this.stopListening();
    for (const c of this.clients) c.res.destroy();
    this.clients.clear();
  }

  private broadcast(e: SequencedEvent): void {
    this.published++;
    if (this.clients.size === 0) return;
    this.pending.push(e);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushPending());
    }
  }

  private flushPending(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const frame = frameOf(this.pending.map((e) => e.frame).join(''));
    this.pending = [];
    for (const c of this.clients) c.send(frame);
  }

  private drop(c: Client): void {
    if (!this.clients.delete(c)) return;
    this.dropped++;
    this.warn.warn('sse-drop', 'event-stream client dropped: it does not read fast enough', {
      remote: c.remote, unwritten: c.unwritten, max: this.options.maxBufferedBytes, dropped: this.dropped,
    });
    c.res.destroy();
  }
}
