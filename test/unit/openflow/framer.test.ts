// Framer: a TCP byte stream cut anywhere (every split offset, random chunkings) yields the same
// whole frames; a header with length < 8 or above the maximum loses framing for good.

import { expect } from 'chai';
import { encodeMessage, Framer } from '../../../controller/openflow/index.js';
import { between, prng } from './prng.js';
import { allSamples } from './samples.js';
import { loadVectors } from './vectors.js';

const messages: Buffer[] = [...loadVectors().map((v) => v.bytes), ...allSamples().map((s) => encodeMessage(s.msg))];
const hex = (bufs: Buffer[]) => bufs.map((b) => b.toString('hex'));

function feed(framer: Framer, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) {
    const r = framer.push(c);
    if (r.error) throw new Error(r.error);
    for (const f of r.frames) out.push(f);
  }
  return out;
}

describe('Framer', function () {
  this.timeout(30_000);
  it(`cuts each of ${messages.length} messages the same at every split offset`, () => {
    const wrong: string[] = [];
    let splits = 0;
    for (const m of messages) {
      for (let at = 0; at <= m.length; at++, splits++) {
        const framer = new Framer();
        const frames = feed(framer, [m.subarray(0, at), m.subarray(at)]);
        if (frames.length !== 1 || !(frames[0] as Buffer).equals(m) || framer.buffered !== 0) {
          wrong.push(`${m.subarray(0, 8).toString('hex')} split at ${at}`);
        }
      }
    }
    expect(wrong).to.deep.equal([]);
    expect(splits).to.be.greaterThan(10_000);
  });

  it('cuts a concatenation of every message identically under random chunkings', () => {
    const stream = Buffer.concat(messages);
    const rnd = prng(42);
    for (let round = 0; round < 48; round++) {
      const maxChunk = [1, 3, 7, 8, 9, 64, 1500, 65536][round % 8] as number;
      const chunks: Buffer[] = [];
      for (let off = 0; off < stream.length; ) {
        const n = Math.min(between(rnd, 1, maxChunk), stream.length - off);
        chunks.push(stream.subarray(off, off + n));
        off += n;
      }
      expect(hex(feed(new Framer(), chunks))).to.deep.equal(hex(messages));
    }
  });

  it('returns frames lying whole inside a chunk as views, without copying', () => {
    const a = encodeMessage({ type: 'BARRIER_REQUEST', xid: 1 });
    const chunk = Buffer.concat([a, a]);
    const { frames } = new Framer().push(chunk);
    expect(frames.length).to.equal(2);
    expect((frames[1] as Buffer).buffer).to.equal(chunk.buffer);
  });

  it('accepts Uint8Array chunks that are not Buffers', () => {
    const m = encodeMessage({ type: 'ECHO_REQUEST', xid: 9, data: new Uint8Array([1, 2, 3]) });
    const { frames } = new Framer().push(new Uint8Array(m));
    expect(hex(frames)).to.deep.equal([m.toString('hex')]);
  });

  it('loses framing on a header length below 8, after returning the frames before it', () => {
    const good = encodeMessage({ type: 'BARRIER_REPLY', xid: 1 });
    const bad = Buffer.from('0400000700000002', 'hex');
    const framer = new Framer();
    const r = framer.push(Buffer.concat([good, bad, good]));
    expect(hex(r.frames)).to.deep.equal([good.toString('hex')]);
    expect(r.error).to.match(/length 7 < 8/);
    const after = framer.push(good);
    expect(after.frames).to.deep.equal([]);
    expect(after.error).to.match(/framing lost/);
  });

  it('loses framing on a bad length in a header split across chunks', () => {
    const framer = new Framer();
    expect(framer.push(Buffer.from('040000', 'hex')).error).to.equal(undefined);
    expect(framer.push(Buffer.from('0000000001', 'hex')).error).to.match(/length 0 < 8/);
  });

  it('enforces a configurable maximum frame length', () => {
    const big = encodeMessage({ type: 'ECHO_REQUEST', xid: 1, data: new Uint8Array(200) });
    expect(new Framer({ maxFrameLength: 208 }).push(big).frames.length).to.equal(1);
    const r = new Framer({ maxFrameLength: 100 }).push(big);
    expect(r.frames).to.deep.equal([]);
    expect(r.error).to.match(/208 > max 100/);
  });

  it('holds back a partial frame and reports how much it buffers', () => {
    const m = encodeMessage({ type: 'ECHO_REQUEST', xid: 1, data: new Uint8Array(100) });
    const framer = new Framer();
    expect(framer.push(m.subarray(0, 5)).frames).to.deep.equal([]);
    expect(framer.buffered).to.equal(5);
    expect(framer.push(m.subarray(5, 50)).frames).to.deep.equal([]);
    expect(framer.buffered).to.equal(50);
    expect(hex(framer.push(m.subarray(50)).frames)).to.deep.equal([m.toString('hex')]);
  });
});
