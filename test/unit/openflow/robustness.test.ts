// Robustness: truncated, corrupted and random input never makes the decoder throw or hang;
// every refusal carries a reason, and whatever is accepted re-encodes to something that decodes
// to the same message (decode . encode . decode = decode).

import { expect } from 'chai';
import { decodeMessage, encodeMessage, Framer, type DecodeResult } from '../../../controller/openflow/index.js';
import { between, prng, type Random } from './prng.js';
import { allSamples, MESSAGE_SAMPLES } from './samples.js';
import { loadVectors } from './vectors.js';

const vectorBytes = loadVectors().filter((v) => v.message).map((v) => v.bytes);
/** Everything: the vectors and one flow-mod per match field and per action. */
const corpus: Buffer[] = [...vectorBytes, ...allSamples().map((s) => encodeMessage(s.msg))];
/** One of each message kind, for the exhaustive byte flips. */
const kinds: Buffer[] = [...vectorBytes, ...MESSAGE_SAMPLES.map((s) => encodeMessage(s.msg))];

interface Tally { ok: number; refused: number; problems: string[] }

/** Decodes one frame; records any broken promise (throw, missing reason, unstable re-encode). */
function check(frame: Buffer, tally: Tally): DecodeResult | undefined {
  let r: DecodeResult;
  try {
    r = decodeMessage(frame);
  } catch (e) {
    tally.problems.push(`threw on ${frame.toString('hex')}: ${String(e)}`);
    return undefined;
  }
  if (!r.ok) {
    tally.refused++;
    if (!r.error.reason) tally.problems.push(`no reason for ${frame.toString('hex')}`);
    if (frame.length >= 8 && r.error.xid !== frame.readUInt32BE(4)) tally.problems.push(`no xid for ${frame.toString('hex')}`);
    return r;
  }
  tally.ok++;
  try {
    // Re-encoding must reach a fixed point at once: encode(decode(encode(m))) = encode(m).
    const bytes = encodeMessage(r.message);
    const again = decodeMessage(bytes);
    if (!again.ok) tally.problems.push(`re-encoded ${frame.toString('hex')} is refused: ${again.error.reason}`);
    else if (!encodeMessage(again.message).equals(bytes)) tally.problems.push(`re-encode of ${frame.toString('hex')} is unstable`);
  } catch (e) {
    tally.problems.push(`re-encode of ${frame.toString('hex')} threw: ${String(e)}`);
  }
  return r;
}

const tally = (): Tally => ({ ok: 0, refused: 0, problems: [] });

/** A copy of `frame` whose header length says it is `n` bytes long. */
function withLength(frame: Buffer, n: number): Buffer {
  const copy = Buffer.from(frame.subarray(0, n));
  if (n >= 4) copy.writeUInt16BE(n, 2);
  return copy;
}

function mutate(rnd: Random, src: Buffer): Buffer {
  const b = Buffer.from(src);
  const edits = between(rnd, 1, 4);
  for (let i = 0; i < edits; i++) {
    const at = between(rnd, 8, Math.max(8, b.length - 1));
    if (at < b.length) b[at] = rnd() < 0.5 ? between(rnd, 0, 255) : (b[at] as number) ^ (1 << between(rnd, 0, 7));
  }
  return b;
}

function randomFrame(rnd: Random): Buffer {
  const len = between(rnd, 8, 160);
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = between(rnd, 0, 255);
  b[0] = rnd() < 0.95 ? 4 : b[0] as number;
  b[1] = between(rnd, 0, 30);
  b.writeUInt16BE(len, 2);
  // Plausible TLV lengths deep inside, so decoders go past their first checks.
  for (let p = 8; p + 4 <= len; p += between(rnd, 4, 24)) if (rnd() < 0.3) b.writeUInt16BE(between(rnd, 0, 64), p + 2);
  return b;
}

describe('openflow decoder robustness', function () {
  this.timeout(60_000);
  it('refuses every truncation of every vector and sample, with the header length left as is', () => {
    const t = tally();
    for (const frame of corpus) for (let n = 0; n < frame.length; n++) check(frame.subarray(0, n), t);
    expect(t.problems).to.deep.equal([]);
    expect(t.ok).to.equal(0);
  });

  it('never throws on truncations whose header length is fixed up to match', () => {
    const t = tally();
    for (const frame of corpus) for (let n = 8; n < frame.length; n++) check(withLength(frame, n), t);
    expect(t.problems).to.deep.equal([]);
    expect(t.refused).to.be.greaterThan(t.ok);
  });

  it('never throws on every byte of every vector and message kind flipped three ways', () => {
    const t = tally();
    const rnd = prng(7);
    for (const frame of kinds) {
      // Long repetitive frames (the 254-table stats reply): their head plus a random sample.
      const positions = frame.length <= 512 ? frame.keys()
        : [...Array(256).keys(), ...Array.from({ length: 128 }, () => between(rnd, 256, frame.length - 1))];
      for (const at of positions) {
        for (const x of [0xff, 0x01, 0x80]) {
          const b = Buffer.from(frame);
          b[at] = (b[at] as number) ^ x;
          check(b, t);
        }
      }
    }
    expect(t.problems).to.deep.equal([]);
    expect(t.ok).to.be.greaterThan(0);
    expect(t.refused).to.be.greaterThan(0);
  });

  it('survives 100k random and mutated frames pushed through Framer in random chunks', () => {
    const rnd = prng(0x5eed);
    const t = tally();
    const small = corpus.filter((f) => f.length <= 2048);
    let framer = new Framer();
    let lost = 0;
    for (let i = 0; i < 100_000; i++) {
      const frame = rnd() < 0.5 ? randomFrame(rnd) : mutate(rnd, small[between(rnd, 0, small.length - 1)] as Buffer);
      for (let off = 0; off < frame.length; ) {
        const n = between(rnd, 1, frame.length - off);
        const r = framer.push(frame.subarray(off, off + n));
        off += n;
        for (const f of r.frames) check(f, t);
        if (r.error) {
          lost++;
          framer = new Framer();
          break;
        }
      }
    }
    expect(t.problems.slice(0, 5)).to.deep.equal([]);
    expect(t.ok + t.refused).to.be.greaterThan(90_000);
    expect(t.ok).to.be.greaterThan(1000);
    expect(lost).to.be.lessThan(1000);
  });

  it('gives decode errors a reason and, from the header on, the xid', () => {
    const r = decodeMessage(Buffer.from('0406000800000005', 'hex'));
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.error.reason).to.match(/ofp_switch_features/);
      expect(r.error.xid).to.equal(5);
    }
    const short = decodeMessage(Buffer.from('0406', 'hex'));
    expect(short.ok).to.equal(false);
    if (!short.ok) expect(short.error.xid).to.equal(undefined);
  });
});
