import { Writable } from 'node:stream';
import { expect } from 'chai';
import { FIRST_FLUSH_BYTES, FLUSH_BYTES, FrameWriter } from '../../../controller/switch/writer.js';

/** A socket stand-in whose reader we control: it takes chunks only when `release()` is called. */
function slowSocket(highWaterMark: number) {
  const chunks: Buffer[] = [];
  const held: (() => void)[] = [];
  const socket = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      held.push(done);
    },
  });
  const release = () => { for (const done of held.splice(0)) done(); };
  return { socket, chunks, release };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('switch/writer', () => {
  it('sends the small writes of one tick as a single chunk', async () => {
    const { socket, chunks, release } = slowSocket(1 << 20);
    const writer = new FrameWriter(socket, { maxQueuedBytes: 1 << 20 }, () => {});
    for (let i = 0; i < 100; i++) writer.write(Buffer.from([i]));
    expect(chunks).to.have.length(0); // nothing before the tick ends
    await tick();
    release();
    expect(chunks).to.have.length(1);
    expect([...chunks[0]!]).to.deep.equal([...Array(100).keys()]);
  });

  it('hands a large burst to the socket in chunks as it is written, the first small, then larger up to FLUSH_BYTES', async () => {
    const chunks: Buffer[] = [];
    const socket = new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(chunk); done(); } });
    const writer = new FrameWriter(socket, { maxQueuedBytes: 1 << 24 }, () => {});
    const frame = (i: number) => Buffer.alloc(1000, i % 256);
    const n = Math.ceil((3 * FLUSH_BYTES) / 1000) + 10;
    for (let i = 0; i < 5; i++) writer.write(frame(i));
    // The first frames of a burst are out before the burst is built (the switch starts on them).
    expect(chunks, 'after 5 KB of a burst').to.have.length(1);
    expect(chunks[0]!.length).to.equal(Math.ceil(FIRST_FLUSH_BYTES / 1000) * 1000);
    for (let i = 5; i < n; i++) writer.write(frame(i));
    const sizes = chunks.map((c) => c.length);
    expect(sizes.slice(0, 3), 'each chunk 4 times the one before').to.deep.equal([5_000, 17_000, 66_000]);
    expect(Math.max(...sizes)).to.be.below(FLUSH_BYTES + 1000);
    await tick();
    expect(Buffer.concat(chunks)).to.deep.equal(Buffer.concat(Array.from({ length: n }, (_, i) => frame(i))), 'every byte, in order');
    // The next tick's burst starts small again.
    const before = chunks.length;
    for (let i = 0; i < 5; i++) writer.write(frame(i));
    expect(chunks.length - before, 'the next tick: its first 5 KB out at once').to.equal(1);
    expect(chunks[before]!.length).to.equal(5_000);
  });

  it('holds writes while the socket is full and sends them after drain, in order', async () => {
    const { socket, chunks, release } = slowSocket(16);
    const writer = new FrameWriter(socket, { maxQueuedBytes: 1 << 20 }, () => {});
    writer.write(Buffer.alloc(32, 1)); // over the high-water mark: write() returns false
    await tick();
    writer.write(Buffer.alloc(8, 2));
    writer.write(Buffer.alloc(8, 3));
    await tick();
    expect(chunks).to.have.length(1); // parked until drain
    expect(writer.queuedBytes).to.equal(48);
    release();
    await tick();
    release();
    expect(Buffer.concat(chunks)).to.deep.equal(Buffer.concat([Buffer.alloc(32, 1), Buffer.alloc(8, 2), Buffer.alloc(8, 3)]));
  });

  it('reports a peer that does not read once the queue passes its bound, then drops writes', async () => {
    const { socket, chunks } = slowSocket(16);
    const overflows: number[] = [];
    const writer = new FrameWriter(socket, { maxQueuedBytes: 100 }, (queued) => overflows.push(queued));
    for (let i = 0; i < 10; i++) {
      writer.write(Buffer.alloc(30));
      await tick();
    }
    expect(overflows).to.have.length(1);
    expect(overflows[0]).to.be.greaterThan(100);
    expect(chunks).to.have.length(1); // only the first write reached the socket
  });
});
