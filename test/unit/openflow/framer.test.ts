// Framer: a TCP byte stream cut anywhere (every split offset, any chunking) yields the same
// whole frames, and junk in the stream is cut the same way however it is chunked; a header with length < 8 or above the maximum loses framing for good.

import { expect } from 'chai';
import fc from 'fast-check';
import { encodeMessage, Framer } from '../../../controller/openflow/index.js';
import { validFrame } from './message-arbitraries.js';
import { allSamples } from './samples.js';
import { loadVectors } from './vectors.js';

const messages: Buffer[] = [...loadVectors().map((v) => v.bytes), ...allSamples().map((s) => encodeMessage(s.msg))];
const hex = (bufs: Buffer[]) => bufs.map((b) => b.toString('hex'));

/** Cut offsets for `chunked`: any number of them, anywhere (taken modulo the stream length). */
const cuts = fc.array(fc.nat(), { maxLength: 24 });

/** `stream` cut at the given offsets (sorted, repeats and zero-length pieces allowed). */
function chunked(stream: Buffer, at: readonly number[]): Buffer[] {
  const offsets = [0, ...at.map((a) => a % (stream.length + 1)).sort((a, b) => a - b), stream.length];
  return offsets.slice(1).map((end, i) => stream.subarray(offsets[i], end));
}

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

  it('cuts any concatenation of valid frames, chunked anywhere, into the same frames', () => {
    fc.assert(fc.property(fc.array(validFrame, { minLength: 1, maxLength: 8 }), cuts, (frames, at) => {
      const stream = Buffer.concat(frames);
      const framer = new Framer();
      expect(hex(feed(framer, chunked(stream, at)))).to.deep.equal(hex(frames));
      expect(framer.buffered).to.equal(0);
    }), { numRuns: 500 });
  });

  it('gives the same frames, error and held bytes for any byte stream however it is chunked', () => {
    // Valid frames mixed with junk: the junk cuts bogus frames or loses framing, the same way
    // whether the stream comes in one chunk or many.
    const stream = fc.array(fc.oneof(validFrame, fc.uint8Array({ minLength: 1, maxLength: 12 })), { minLength: 1, maxLength: 6 })
      .map((parts) => Buffer.concat(parts));
    const max = fc.option(fc.integer({ min: 8, max: 2048 }), { nil: undefined });
    const seen = { frames: 0, lost: 0 };
    fc.assert(fc.property(stream, cuts, max, (bytes, at, maxFrameLength) => {
      const options = maxFrameLength === undefined ? {} : { maxFrameLength };
      const whole = new Framer(options);
      const once = whole.push(bytes);
      const pieces = new Framer(options);
      const frames: Buffer[] = [];
      let error: string | undefined;
      for (const c of chunked(bytes, at)) {
        const r = pieces.push(c);
        frames.push(...r.frames);
        error ??= r.error;
      }
      expect(hex(frames)).to.deep.equal(hex(once.frames));
      expect(error).to.equal(once.error);
      expect(pieces.buffered).to.equal(whole.buffered);
      seen.frames += once.frames.length;
      if (once.error) seen.lost++;
    }), { numRuns: 500 });
    expect(seen.frames).to.be.greaterThan(0);
    expect(seen.lost).to.be.greaterThan(0);
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
