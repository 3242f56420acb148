// Robustness: whatever bytes arrive, decodeMessage never throws; it refuses with a reason (and,
// once the header is there, the xid) or returns a message that survives re-encoding
// (decode . encode . decode = decode) and keeps its length. Inputs are random bytes, random bodies
// behind a sane header, truncations and mutations of valid frames (golden vectors from OVS and
// encoded arbitraries), and frames whose elements lie about their size (loose-frames.ts);
// fast-check shrinks any failure to the smallest frame. Decoding cost stays linear on the largest
// frames a peer can send.

import assert from 'node:assert/strict';
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, OFPT_FLOW_MOD, OFPT_HELLO, OFPT_MULTIPART_REPLY } from '../../../controller/openflow/index.js';
import { u32, u8 } from './arbitraries.js';
import { looseFrame } from './loose-frames.js';
import { validFrame } from './message-arbitraries.js';

interface Outcome { accepted: number; refused: number }

/**
 * Checks the decoder's promises on one frame; counts the outcomes so that a property is seen to
 * reach both. node:assert rather than chai here: chai's chains cost a quarter of a millisecond
 * each, which thousands of runs feel.
 */
function expectDecodeKeepsPromises(frame: Uint8Array, outcome: Outcome): void {
  const r = decodeMessage(frame);
  if (!r.ok) {
    outcome.refused++;
    assert.ok(r.error.reason.length > 0, 'a refusal without a reason');
    assert.equal(r.error.xid, frame.length >= 8 ? Buffer.from(frame).readUInt32BE(4) : undefined, 'the refusal names the xid');
    return;
  }
  outcome.accepted++;
  const bytes = encodeMessage(r.message);
  // Only padding differs, never the length: a decoder that read past an element's length, or
  // skipped part of one, would show here. (HELLO may lose trailing padding and zero bitmap words.)
  if (r.message.type !== 'HELLO') assert.equal(bytes.length, frame.length, 're-encoded to another length');
  const again = decodeMessage(bytes);
  if (!again.ok) assert.fail(`the re-encoded message is refused: ${again.error.reason}`);
  assert.deepStrictEqual(again.message, r.message, 'the re-encoded message decodes to the same message');
}

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const repeat = (element: Buffer, n: number): Buffer => Buffer.concat(Array.from({ length: n }, () => element));
const FLOW_MOD_HEAD = Buffer.alloc(40);

/** An OpenFlow 1.3 frame of `type` with the given body parts. */
function frameOf(type: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const b = Buffer.concat([hex('0400000000000001'), body]);
  b[1] = type;
  b.writeUInt16BE(b.length, 2);
  return b;
}

/** A copy of `frame` cut to `n` bytes, with the header length saying so. */
function cut(frame: Buffer, n: number): Buffer {
  const copy = Buffer.from(frame.subarray(0, n));
  if (n >= 4) copy.writeUInt16BE(n, 2);
  return copy;
}

type Edit =
  | { readonly kind: 'byte'; readonly at: number; readonly value: number }
  | { readonly kind: 'bit'; readonly at: number; readonly bit: number }
  | { readonly kind: 'u16'; readonly at: number; readonly value: number };

/**
 * Byte replacements, bit flips, and 16-bit words written at even offsets: the last mostly small
 * multiples of 4 and boundary values, which is what TLV length fields hold, so that nested lengths
 * get pulled out of line far more often than random bytes would.
 */
const edits: fc.Arbitrary<Edit[]> = fc.array(fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: u8 }),
  fc.record({ kind: fc.constant('bit' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('u16' as const), at: fc.nat(),
    value: fc.oneof(fc.integer({ min: 0, max: 16 }).map((n) => 4 * n), fc.constantFrom(1, 7, 0x7fff, 0xfff8, 0xffff), fc.integer({ min: 0, max: 0xffff })),
  }),
), { minLength: 1, maxLength: 4 });

/** Applies `changes` anywhere except the header's length field (bytes 2-3). */
function mutate(frame: Buffer, changes: readonly Edit[]): Buffer {
  const b = Buffer.from(frame);
  for (const e of changes) {
    if (e.kind === 'u16') {
      const p = 2 * (e.at % Math.floor(b.length / 2));
      if (p !== 2) b.writeUInt16BE(e.value, p);
      continue;
    }
    const i = e.at % (b.length - 2);
    const p = i < 2 ? i : i + 2;
    b[p] = e.kind === 'byte' ? e.value : (b[p] as number) ^ (1 << e.bit);
  }
  return b;
}

describe('openflow decoder robustness', function () {
  this.timeout(60_000);

  it('never throws on any bytes at all', () => {
    const outcome = { accepted: 0, refused: 0 };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => expectDecodeKeepsPromises(b, outcome)), { numRuns: 2000 });
    expect(outcome.refused).to.be.greaterThan(0);
  });

  it('never throws on any body behind a well-formed header of any type', () => {
    const outcome = { accepted: 0, refused: 0 };
    const frame = fc.record({
      version: fc.oneof({ arbitrary: fc.constant(4), weight: 9 }, u8), type: fc.integer({ min: 0, max: 31 }), xid: u32,
      body: fc.uint8Array({ maxLength: 160 }),
    }).map(({ version, type, xid, body }) => {
      const b = Buffer.alloc(8 + body.length);
      b.writeUInt8(version, 0); b.writeUInt8(type, 1); b.writeUInt16BE(b.length, 2); b.writeUInt32BE(xid, 4);
      b.set(body, 8);
      return b;
    });
    fc.assert(fc.property(frame, (b) => expectDecodeKeepsPromises(b, outcome)), { numRuns: 5000 });
    expect(outcome.accepted).to.be.greaterThan(0);
    expect(outcome.refused).to.be.greaterThan(0);
  });

  it('refuses every valid frame cut short with its header length left as is, naming the xid', () => {
    fc.assert(fc.property(validFrame, fc.nat(), (frame, n) => {
      const short = frame.subarray(0, n % frame.length);
      const r = decodeMessage(short);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.error.xid).to.equal(short.length >= 8 ? frame.readUInt32BE(4) : undefined);
    }), { numRuns: 1000 });
  });

  it('never throws on valid frames cut short with the header length fixed up to match', () => {
    const outcome = { accepted: 0, refused: 0 };
    fc.assert(fc.property(validFrame, fc.nat(), (frame, n) => {
      expectDecodeKeepsPromises(cut(frame, 8 + (n % Math.max(1, frame.length - 8))), outcome);
    }), { numRuns: 3000 });
    expect(outcome.accepted).to.be.greaterThan(0);
    expect(outcome.refused).to.be.greaterThan(0);
  });

  it('never throws on valid frames with bytes replaced, bits flipped or lengths rewritten', () => {
    const outcome = { accepted: 0, refused: 0 };
    fc.assert(fc.property(validFrame, edits, (frame, changes) => {
      expectDecodeKeepsPromises(mutate(frame, changes), outcome);
    }), { numRuns: 6000 });
    expect(outcome.accepted).to.be.greaterThan(0);
    expect(outcome.refused).to.be.greaterThan(0);
  });

  it('never throws on frames whose elements carry known types with bodies of any length', () => {
    const outcome = { accepted: 0, refused: 0 };
    fc.assert(fc.property(looseFrame, (frame) => expectDecodeKeepsPromises(frame, outcome)), { numRuns: 3000 });
    expect(outcome.accepted).to.be.greaterThan(0);
    expect(outcome.refused).to.be.greaterThan(0);
  });

  it('decodes the largest frames of the smallest elements in bounded time', () => {
    // Close to 65535 bytes of 4- or 8-byte elements: the most objects a peer can make a decoder build.
    const worst: [string, Buffer][] = [
      ['a match of 16369 empty OXMs', frameOf(OFPT_FLOW_MOD, FLOW_MOD_HEAD, hex('0001ffc8'), repeat(hex('00000000'), 16369))],
      ['an apply-actions of 8183 dec_nw_ttl', frameOf(OFPT_FLOW_MOD, FLOW_MOD_HEAD, hex('00010004000000000004ffc000000000'), repeat(hex('0018000800000000'), 8183))],
      ['a hello of 8190 unknown elements', frameOf(OFPT_HELLO, repeat(hex('0009000400000000'), 8190))],
      ['a table stats reply of 2729 tables', frameOf(OFPT_MULTIPART_REPLY, hex('0003000000000000'), Buffer.alloc(24 * 2729))],
      ['a flow stats reply of 1169 flows', frameOf(OFPT_MULTIPART_REPLY, hex('0001000000000000'), repeat(Buffer.concat([hex('0038'), Buffer.alloc(46), hex('0001000400000000')]), 1169))],
    ];
    for (const [what, frame] of worst) {
      const r = decodeMessage(frame);
      expect(r.ok, `${what}: ${r.ok ? '' : r.error.reason}`).to.equal(true);
      // The median of a few runs keeps a GC pause out; linear decoding takes a few ms.
      const times = Array.from({ length: 5 }, () => {
        const t0 = performance.now();
        decodeMessage(frame);
        return performance.now() - t0;
      }).sort((a, b) => a - b);
      expect(times[2], `${what} (${frame.length} bytes), ms`).to.be.lessThan(100);
    }
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
