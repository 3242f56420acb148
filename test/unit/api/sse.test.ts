// The event stream: the hub's numbering and history, and the hand-written SSE writer over real
// sockets: order, replay, heartbeats, a slow reader that catches up, the cap and the drop counters.

import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { EventHub } from '../../../controller/api/events.js';
import { startApiServer, type ApiServer } from '../../../controller/api/index.js';
import { silentLogger } from '../../../controller/log.js';
import { createMetricsRegistry } from '../../../controller/metrics.js';
import { EventStream } from '../../../controller/api/sse.js';
import { waitUntil } from '../../lib/wait.js';
import { fakeDeps, VM, type FakeDeps } from './fake-deps.js';

/** A raw HTTP client of /api/events: what it has read, and whether the server closed it. */
class RawStream {
  text = '';
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => { this.text += d; });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => undefined);
  }

  static async open(port: number, path = '/api/events', headers = ''): Promise<RawStream> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers}\r\n`);
    return new RawStream(socket);
  }

  /** Event ids seen so far, in order. */
  ids(): number[] {
    return [...this.text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  }
}

describe('event stream', function () {
  this.timeout(30_000);

  describe('EventHub', () => {
    it('numbers events, frames each once, hands them to listeners and replays what a client missed', () => {
      const hub = new EventHub(3);
      const seen: number[] = [];
      const stop = hub.listen((e) => seen.push(e.id));
      for (let i = 0; i < 5; i++) hub.publish({ type: 'rules-updated', dpids: [], flowMods: i, at: i });
      stop();
      const last = hub.publish({ type: 'rules-updated', dpids: [], flowMods: 9, at: 9 });
      expect(seen).to.deep.equal([1, 2, 3, 4, 5]);
      expect(hub.since(4).map((e) => e.id)).to.deep.equal([5, 6]);
      expect(hub.since(0).map((e) => e.id)).to.deep.equal([4, 5, 6]); // bounded history
      expect(hub.lastId).to.equal(6);
      expect(last.frame).to.equal('id: 6\nevent: rules-updated\ndata: {"type":"rules-updated","dpids":[],"flowMods":9,"at":9}\n\n');
    });

    it('serialises an event only when a client needs its frame, and then once', () => {
      const hub = new EventHub();
      let serialised = 0;
      const dpids = Object.assign(['0000000000000001'], { toJSON: (): string[] => { serialised++; return ['0000000000000001']; } });
      const e = hub.publish({ type: 'rules-updated', dpids, flowMods: 1, at: 1 });
      expect(serialised, 'published with no client').to.equal(0);
      expect(e.frame).to.contain('"dpids":["0000000000000001"]');
      expect(hub.since(0)[0]!.frame).to.equal(e.frame);
      expect(serialised).to.equal(1);
    });
  });

  describe('EventStream back-pressure (a response that says when it is full)', () => {
    /** A ServerResponse stand-in: write() reports full while `full`, writableLength is what it holds. */
    class FakeResponse extends EventEmitter {
      written: string[] = [];
      held = 0;
      full = false;
      destroyed = false;
      get writableLength(): number { return this.held; }
      writeHead(): this { return this; }
      write(data: Buffer): boolean {
        this.written.push(data.toString());
        if (this.full) this.held += data.length;
        return !this.full;
      }
      destroy(): void { this.destroyed = true; this.emit('close'); }
      drain(): void { this.full = false; this.held = 0; this.emit('drain'); }
    }
    const ids = (res: FakeResponse) => [...res.written.join('').matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const publish = (hub: EventHub, n: number, detail: string) => {
      for (let i = 0; i < n; i++) hub.publish({ type: 'conflict', eid: VM.eid, mac: VM.mac, reason: 'test', detail, dpid: '1', port: 1, at: i });
    };
    const tick = () => new Promise((r) => setImmediate(r));

    it('serialises the events for its clients at the next turn of the event loop, not while the publisher runs', async () => {
      const hub = new EventHub();
      const stream = new EventStream(hub, { maxClients: 1, maxBufferedBytes: 10_000, heartbeatMs: 60_000, log: silentLogger });
      const res = new FakeResponse();
      stream.open(res as unknown as ServerResponse, 'test', undefined);
      let serialised = 0;
      const dpids = Object.assign(['0000000000000001'], { toJSON: (): string[] => { serialised++; return ['0000000000000001']; } });
      hub.publish({ type: 'rules-updated', dpids, flowMods: 1, at: 1 });
      expect(serialised, 'while publishing').to.equal(0);
      await tick();
      expect(serialised).to.equal(1);
      expect(res.written.join('')).to.contain('event: rules-updated');
      stream.close();
    });

    it('sends the events of one tick as one write, the same bytes to every client', async () => {
      const hub = new EventHub();
      const stream = new EventStream(hub, { maxClients: 2, maxBufferedBytes: 10_000, heartbeatMs: 60_000, log: silentLogger });
      const [a, b] = [new FakeResponse(), new FakeResponse()];
      stream.open(a as unknown as ServerResponse, 'a', undefined);
      stream.open(b as unknown as ServerResponse, 'b', undefined);
      const before = a.written.length;
      publish(hub, 30, 'x');
      expect(a.written.length).to.equal(before); // nothing until the tick ends
      await tick();
      expect(a.written.length).to.equal(before + 1);
      expect(ids(a)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(b.written.at(-1)).to.equal(a.written.at(-1));
      stream.close();
    });

    it('stops writing when the socket is full, queues, and writes the queue in order on drain', async () => {
      const hub = new EventHub();
      const stream = new EventStream(hub, { maxClients: 2, maxBufferedBytes: 10_000, heartbeatMs: 60_000, log: silentLogger });
      const res = new FakeResponse();
      stream.open(res as unknown as ServerResponse, 'test', undefined);
      publish(hub, 1, 'a');
      await tick();
      res.full = true;
      publish(hub, 2, 'b'); // written, and now the socket is full
      await tick();
      publish(hub, 3, 'c'); // waits in the queue
      await tick();
      publish(hub, 1, 'd'); // waits too
      await tick();
      expect(ids(res)).to.deep.equal([1, 2, 3]);
      res.drain();
      expect(ids(res)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
      publish(hub, 1, 'e');
      await tick();
      expect(ids(res)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(stream.dropped).to.equal(0);
      stream.close();
    });

    it('counts queued and socket-held bytes against the bound, and drops the client past it', async () => {
      const hub = new EventHub();
      const stream = new EventStream(hub, { maxClients: 2, maxBufferedBytes: 5_000, heartbeatMs: 60_000, log: silentLogger });
      const slow = new FakeResponse();
      const fast = new FakeResponse();
      stream.open(slow as unknown as ServerResponse, 'slow', undefined);
      stream.open(fast as unknown as ServerResponse, 'fast', undefined);
      slow.full = true;
      publish(hub, 2, 'x'.repeat(1000)); // held by the socket
      await tick();
      publish(hub, 2, 'x'.repeat(1000)); // queued: ~4.4 KB unwritten, kept
      await tick();
      expect(slow.destroyed).to.equal(false);
      publish(hub, 1, 'x'.repeat(1000)); // over 5000
      await tick();
      expect(slow.destroyed).to.equal(true);
      expect(stream.dropped).to.equal(1);
      expect(stream.size).to.equal(1);
      expect(ids(fast)).to.deep.equal([1, 2, 3, 4, 5]);
      stream.close();
      expect(fast.destroyed).to.equal(true);
    });
  });

  describe('over sockets', () => {
    let deps: FakeDeps;
    let server: ApiServer;
    let port: number;
    const streams: RawStream[] = [];
    const metrics = createMetricsRegistry();

    const publish = (n: number, detail = 'x') => {
      for (let i = 0; i < n; i++) deps.fabricEvents.next({ type: 'CONFLICT', eid: VM.eid, mac: VM.mac, reason: 'test', detail, dpid: '0000000000000001', port: 1, at: i });
    };
    const open = async (path?: string, headers?: string) => {
      const s = await RawStream.open(port, path, headers);
      streams.push(s);
      return s;
    };
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await metrics.metrics())?.[1]);

    beforeEach(async () => {
      deps = fakeDeps();
      server = await startApiServer(deps, {
        host: '127.0.0.1', port: 0, token: null, log: silentLogger, metrics, heartbeatMs: 100, sseMaxClients: 4, sseMaxBufferedBytes: 64 * 1024,
      });
      port = server.address.port;
    });
    afterEach(async () => {
      for (const s of streams.splice(0)) s.socket.destroy();
      await server.close();
    });

    it('sends every event in order, with the reconnection delay and heartbeats', async () => {
      const s = await open();
      await waitUntil(() => s.text.includes(': connected, last event id 0'), { what: 'the greeting' });
      publish(50);
      await waitUntil(() => s.ids().length === 50 && s.text.includes(': heartbeat'), { what: '50 events and a heartbeat' });
      expect(s.text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      expect(s.text).to.match(/\r\ncontent-type: text\/event-stream\r\n/i);
      expect(s.text).to.contain('retry: 2000\n\n');
      expect(s.ids()).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('replays what a reconnecting client missed (Last-Event-ID or ?lastEventId)', async () => {
      publish(10);
      const byHeader = await open('/api/events', 'Last-Event-ID: 7\r\n');
      const byQuery = await open('/api/events?lastEventId=4');
      await waitUntil(() => byHeader.ids().length === 3 && byQuery.ids().length === 6, { what: 'the replays' });
      expect(byHeader.ids()).to.deep.equal([8, 9, 10]);
      expect(byQuery.ids()).to.deep.equal([5, 6, 7, 8, 9, 10]);
      const bad = await open('/api/events?lastEventId=x');
      await waitUntil(() => bad.closed || bad.text.includes('\r\n\r\n'), { what: 'an answer' });
      expect(bad.text).to.match(/^HTTP\/1\.1 400/);
    });

    it('queues for a reader that pauses and delivers everything, in order, when it reads again', async () => {
      const s = await open();
      await waitUntil(() => s.text.includes(': connected'), { what: 'the greeting' });
      s.socket.pause();
      publish(40, 'y'.repeat(400)); // ~20 KB: under the 64 KiB bound
      await new Promise((r) => setTimeout(r, 200));
      s.socket.resume();
      await waitUntil(() => s.ids().length === 40, { what: 'the 40 events' });
      expect(s.ids()).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(s.closed).to.equal(false);
      expect(await metric('seamless_sse_clients_dropped_total')).to.equal(0);
    });

    it('drops a client that falls behind by more than the bound, counts it, and keeps serving the others', async () => {
      const reader = await open();
      const stalled = await open();
      await waitUntil(() => stalled.text.includes(': connected') && reader.text.includes(': connected'), { what: 'both greetings' });
      stalled.socket.pause();
      for (let round = 0; round < 1000 && (await metric('seamless_sse_clients_dropped_total')) === 0; round++) {
        publish(50, 'z'.repeat(1000));
        await new Promise((r) => setImmediate(r));
      }
      expect(await metric('seamless_sse_clients_dropped_total')).to.equal(1);
      expect(await metric('seamless_sse_clients')).to.equal(1);
      const sent = server.hub.lastId;
      await waitUntil(() => reader.ids().length === sent, { timeoutMs: 10_000, what: 'the reading client to get every event' });
      expect(reader.closed).to.equal(false);
      stalled.socket.resume();
      await waitUntil(() => stalled.closed, { what: 'the stalled client to see the end of its stream' });
    });

    it('refuses clients beyond the cap with 503 and counts them', async () => {
      for (let i = 0; i < 4; i++) await open();
      await waitUntil(async () => (await metric('seamless_sse_clients')) === 4, { what: 'four clients' });
      const fifth = await open();
      await waitUntil(() => fifth.text.includes('\r\n\r\n'), { what: 'an answer' });
      expect(fifth.text).to.match(/^HTTP\/1\.1 503/);
      expect(fifth.text).to.match(/\r\nretry-after: 5\r\n/i);
      expect(fifth.text).to.contain('"error":"service_unavailable"');
      expect(await metric('seamless_sse_clients_refused_total')).to.equal(1);
      streams[0]!.socket.destroy();
      await waitUntil(async () => (await metric('seamless_sse_clients')) === 3, { what: 'a free place' });
      const again = await open();
      await waitUntil(() => again.text.includes('\r\n\r\n'), { what: 'an answer' });
      expect(again.text).to.match(/^HTTP\/1\.1 200/);
    });
  });
});
