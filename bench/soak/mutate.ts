// Mutated OpenFlow messages for the soak benchmark, pure and seeded (a run can be replayed):
// valid encoded messages with bits flipped, bytes overwritten, the body cut or extended with the
// header's length kept honest (so the message reaches the decoder), or lies that break framing
// (a length shorter than the header, longer than what follows, another version) which a
// controller must answer by closing the connection, never by a crash.

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Mutation = 'flip-bits' | 'overwrite-bytes' | 'truncate-body' | 'extend-body' | 'swap-type' | 'random-body' | 'bad-length' | 'bad-version';

/** Mutations that keep the frame's length field equal to its size: the peer stays framed. */
export const FRAMED: readonly Mutation[] = ['flip-bits', 'overwrite-bytes', 'truncate-body', 'extend-body', 'swap-type', 'random-body'];
export const ALL: readonly Mutation[] = [...FRAMED, 'bad-length', 'bad-version'];

const HEADER = 8;
const MAX_FRAME = 0xffff;

const pick = <T>(items: readonly T[], rand: () => number): T => items[Math.floor(rand() * items.length)]!;
const int = (below: number, rand: () => number): number => Math.floor(rand() * below);

function randomBytes(n: number, rand: () => number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(256, rand);
  return b;
}

/** Sets the header's length to the frame's size (after a mutation changed the size). */
function framed(frame: Buffer): Buffer {
  frame.writeUInt16BE(frame.length, 2);
  return frame;
}

/**
 * One mutation of `message` (an encoded OpenFlow message, at least its 8-byte header), as a new
 * buffer; `message` is left as it was. The header's version and xid are kept except by the
 * mutations whose point is to break them; flips and overwrites never touch the length field.
 */
export function mutate(message: Buffer, kind: Mutation, rand: () => number): Buffer {
  if (message.length < HEADER) throw new Error(`not an OpenFlow message: ${message.length} bytes`);
  const frame = Buffer.from(message);
  const body = frame.length - HEADER;
  // Positions a flip or an overwrite may touch: anything but the length (bytes 2-3).
  const position = () => {
    const p = int(frame.length - 2, rand);
    return p < 2 ? p : p + 2;
  };
  switch (kind) {
    case 'flip-bits': {
      const n = 1 + int(4, rand);
      for (let i = 0; i < n; i++) frame[position()]! ^= 1 << int(8, rand);
      return frame;
    }
    case 'overwrite-bytes': {
      const n = 1 + int(8, rand);
      for (let i = 0; i < n; i++) frame[position()] = pick([0x00, 0xff, 0x7f, 0x80, int(256, rand)], rand);
      return frame;
    }
    case 'truncate-body':
      return framed(Buffer.from(frame.subarray(0, HEADER + int(body + 1, rand))));
    case 'extend-body':
      return framed(Buffer.concat([frame, randomBytes(Math.min(MAX_FRAME - frame.length, 1 + int(256, rand)), rand)]));
    case 'swap-type':
      frame[1] = int(36, rand); // every OpenFlow 1.3 type and a few past the last (OFPT_METER_MOD = 29)
      return frame;
    case 'random-body':
      return framed(Buffer.concat([frame.subarray(0, HEADER), randomBytes(int(512, rand), rand)]));
    case 'bad-length':
      frame.writeUInt16BE(pick([0, 1, 7, Math.min(MAX_FRAME, frame.length + 1 + int(1000, rand))], rand), 2);
      return frame;
    case 'bad-version':
      frame[0] = pick([0x00, 0x01, 0x05, 0x06, 0xff], rand);
      return frame;
  }
}

/** A mutation of a message picked from `messages`, by a mutation picked from `kinds`. */
export function randomMutation(messages: readonly Buffer[], kinds: readonly Mutation[], rand: () => number): { kind: Mutation; frame: Buffer } {
  const kind = pick(kinds, rand);
  return { kind, frame: mutate(pick(messages, rand), kind, rand) };
}
