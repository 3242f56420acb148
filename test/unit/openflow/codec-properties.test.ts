// Round-trip properties of the codec over generated messages of every kind (fast-check shrinks
// a failure to the smallest message): decode(encode(m)) is m, encode(decode(bytes)) is bytes,
// and the other spellings the encoder accepts decode to the canonical form.

import { expect } from 'chai';
import fc from 'fast-check';
import * as OF from '../../../controller/openflow/index.js';
import type { Action, Instruction, MultipartReplyBody, MultipartRequestBody, OfpMessage, OfpMessageType } from '../../../controller/openflow/index.js';
import { MASKABLE, oxmValue, regMoveArgs, u16, u32 } from './arbitraries.js';
import { message } from './message-arbitraries.js';

function decoded(bytes: Uint8Array): OfpMessage {
  const r = OF.decodeMessage(bytes);
  if (!r.ok) throw new Error(`refused ${Buffer.from(bytes).toString('hex')}: ${r.error.reason}`);
  return r.message;
}

/** A flow-mod carrying `actions` and `match`, and the decoded counterparts. */
const flowWith = (actions: Action[], match: OF.Match = {}) => OF.flowMod({ match, instructions: [OF.applyActions(...actions)] });
function decodedFlow(m: OF.FlowMod): { actions: readonly Action[]; match: OF.Match } {
  const d = decoded(OF.encodeMessage(m));
  if (d.type !== 'FLOW_MOD' || d.instructions[0]?.type !== 'APPLY_ACTIONS') throw new Error('not the flow-mod sent');
  return { actions: d.instructions[0].actions, match: d.match };
}

describe('codec round-trip properties', function () {
  this.timeout(30_000);

  it('decode(encode(m)) deep-equals m, for every message kind', () => {
    fc.assert(fc.property(message, (m) => {
      expect(decoded(OF.encodeMessage(m))).to.deep.equal(m);
    }), { numRuns: 1000 });
  });

  it('encode(decode(bytes)) gives back the very bytes encode produced', () => {
    fc.assert(fc.property(message, (m) => {
      const bytes = OF.encodeMessage(m);
      expect(OF.encodeMessage(decoded(bytes)).toString('hex')).to.equal(bytes.toString('hex'));
    }), { numRuns: 1000 });
  });

  it('a Nicira reg move decodes back to the move that was built', () => {
    fc.assert(fc.property(regMoveArgs, (move) => {
      const [a] = decodedFlow(flowWith([OF.nxRegMove(move.src, move.dst, move.nBits, move.srcOfs, move.dstOfs)])).actions;
      expect(OF.parseNxRegMove(a as Action)).to.deep.equal(move);
    }), { numRuns: 300 });
  });

  it('the arbitraries reach every message type, multipart kind, action, instruction and OXM field', () => {
    const seen = new Set<string>();
    for (const m of fc.sample(message, { numRuns: 4000, seed: 1 })) collectKinds(m, 'message', seen);
    const missing = expectedKinds().filter((k) => !seen.has(k));
    expect(missing).to.deep.equal([]);
  });
});

describe('spellings the encoder accepts decode to the canonical form', () => {
  const mac = oxmValue(OF.OXM_BY_NAME.get('eth_src')!) as fc.Arbitrary<string>;

  it('MACs in upper case or with "-" separators', () => {
    const spelled = fc.tuple(mac, fc.boolean(), fc.boolean())
      .map(([m, upper, dash]) => [m, dash ? m.replaceAll(':', '-') : m, upper] as const)
      .map(([m, s, upper]) => [m, upper ? s.toUpperCase() : s] as const);
    fc.assert(fc.property(spelled, ([canonical, spelling]) => {
      const d = decodedFlow(flowWith([OF.setField('eth_dst', spelling)], { arp_sha: [spelling, 'FF-ff-FF-ff-FF-ff'] }));
      expect(d.actions).to.deep.equal([OF.setField('eth_dst', canonical)]);
      expect(d.match).to.deep.equal({ arp_sha: [canonical, 'ff:ff:ff:ff:ff:ff'] });
    }), { numRuns: 200 });
  });

  it('IPv6 in any RFC 4291 text, either case, decodes to text for the same address, which re-encodes identically', () => {
    // WHATWG URL parsing is an independent IPv6 parser: both texts must name the same address.
    const address = (text: string) => new URL(`http://[${text}]/`).hostname;
    const spelled = fc.tuple(fc.ipV6(), fc.boolean()).map(([t, upper]) => (upper ? t.toUpperCase() : t));
    fc.assert(fc.property(spelled, (text) => {
      const sent = flowWith([OF.setField('ipv6_dst', text)], { ipv6_src: text });
      const d = decodedFlow(sent);
      const back = d.match.ipv6_src as string;
      expect(address(back)).to.equal(address(text));
      expect(d.actions).to.deep.equal([OF.setField('ipv6_dst', back)]);
      expect(OF.encodeMessage(flowWith([OF.setField('ipv6_dst', back)], { ipv6_src: back })).toString('hex'))
        .to.equal(OF.encodeMessage(sent).toString('hex'));
    }), { numRuns: 500 });
  });

  it('an output without max_len gets the default: the whole packet to the controller, 0 elsewhere', () => {
    const port = fc.oneof(u32, fc.constantFrom(OF.OFPP_CONTROLLER, OF.OFPP_IN_PORT, OF.OFPP_LOCAL));
    fc.assert(fc.property(port, (p) => {
      const [a] = decodedFlow(flowWith([{ type: 'OUTPUT', port: p }])).actions;
      expect(a).to.deep.equal({ type: 'OUTPUT', port: p, maxLen: p === OF.OFPP_CONTROLLER ? OF.OFPCML_NO_BUFFER : 0 });
    }), { numRuns: 100 });
  });

  it('experimenter action and instruction data of any length comes back zero-padded to 8 bytes', () => {
    fc.assert(fc.property(u32, fc.uint8Array({ maxLength: 30 }), (experimenter, data) => {
      const padded = new Uint8Array(Math.ceil(data.length / 8) * 8);
      padded.set(data);
      const d = decoded(OF.encodeMessage(OF.flowMod({
        instructions: [{ type: 'EXPERIMENTER', experimenter, data }, OF.applyActions({ type: 'EXPERIMENTER', experimenter, data })],
      })));
      expect(d.type === 'FLOW_MOD' && d.instructions).to.deep.equal([
        { type: 'EXPERIMENTER', experimenter, data: padded },
        OF.applyActions({ type: 'EXPERIMENTER', experimenter, data: padded }),
      ]);
    }), { numRuns: 200 });
  });

  it('hello versions in any order, with repeats, come back sorted and once each', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 127 }), { maxLength: 8 }), (versions) => {
      const d = decoded(OF.encodeMessage({ type: 'HELLO', xid: 1, version: 4, elements: [{ type: 'VERSIONBITMAP', versions }] }));
      const once = [...new Set(versions)].sort((a, b) => a - b);
      expect(d.type === 'HELLO' && d.elements).to.deep.equal([{ type: 'VERSIONBITMAP', versions: once }]);
    }), { numRuns: 200 });
  });

  it('an experimenter id on an error that is not OFPET_EXPERIMENTER is not sent', () => {
    fc.assert(fc.property(u16.filter((t) => t !== OF.OFPET_EXPERIMENTER), u16, u32, (errorType, code, experimenter) => {
      const d = decoded(OF.encodeMessage({ type: 'ERROR', xid: 2, errorType, code, experimenter, data: new Uint8Array(0) }));
      expect(d).to.deep.equal({ type: 'ERROR', xid: 2, errorType, code, data: new Uint8Array(0) });
    }), { numRuns: 100 });
  });
});

// ---- coverage of the arbitraries ----------------------------------------------------------------

// `satisfies` makes the compiler fail when the model gains a kind these lists do not name.
const MESSAGE_TYPES = Object.keys({
  HELLO: 1, ERROR: 1, ECHO_REQUEST: 1, ECHO_REPLY: 1, EXPERIMENTER: 1, FEATURES_REQUEST: 1, FEATURES_REPLY: 1,
  GET_CONFIG_REQUEST: 1, GET_CONFIG_REPLY: 1, SET_CONFIG: 1, PACKET_IN: 1, PACKET_OUT: 1, FLOW_MOD: 1, FLOW_REMOVED: 1,
  PORT_STATUS: 1, GROUP_MOD: 1, BARRIER_REQUEST: 1, BARRIER_REPLY: 1, ROLE_REQUEST: 1, ROLE_REPLY: 1,
  MULTIPART_REQUEST: 1, MULTIPART_REPLY: 1, UNKNOWN: 1,
} satisfies Record<OfpMessageType, 1>);
const REQUEST_KINDS = Object.keys({
  DESC: 1, FLOW: 1, AGGREGATE: 1, TABLE: 1, PORT_STATS: 1, PORT_DESC: 1, GROUP_DESC: 1, UNKNOWN: 1,
} satisfies Record<MultipartRequestBody['kind'], 1>);
const REPLY_KINDS = Object.keys({
  DESC: 1, FLOW: 1, AGGREGATE: 1, TABLE: 1, PORT_STATS: 1, PORT_DESC: 1, GROUP_DESC: 1, UNKNOWN: 1,
} satisfies Record<MultipartReplyBody['kind'], 1>);
const ACTION_TYPES = Object.keys({
  OUTPUT: 1, COPY_TTL_OUT: 1, COPY_TTL_IN: 1, SET_MPLS_TTL: 1, DEC_MPLS_TTL: 1, PUSH_VLAN: 1, POP_VLAN: 1, PUSH_MPLS: 1,
  POP_MPLS: 1, SET_QUEUE: 1, GROUP: 1, SET_NW_TTL: 1, DEC_NW_TTL: 1, SET_FIELD: 1, PUSH_PBB: 1, POP_PBB: 1,
  EXPERIMENTER: 1, UNKNOWN: 1,
} satisfies Record<Action['type'], 1>);
const INSTRUCTION_TYPES = Object.keys({
  GOTO_TABLE: 1, WRITE_METADATA: 1, WRITE_ACTIONS: 1, APPLY_ACTIONS: 1, CLEAR_ACTIONS: 1, METER: 1, EXPERIMENTER: 1, UNKNOWN: 1,
} satisfies Record<Instruction['type'], 1>);

function expectedKinds(): string[] {
  const fields = OF.OXM_FIELDS.map((f) => f.name);
  return [
    ...MESSAGE_TYPES.map((t) => `message ${t}`),
    ...REQUEST_KINDS.map((k) => `request ${k}`),
    ...REPLY_KINDS.map((k) => `reply ${k}`),
    ...ACTION_TYPES.map((t) => `action ${t}`),
    'action nx reg move',
    ...INSTRUCTION_TYPES.map((t) => `instruction ${t}`),
    ...fields.map((f) => `match ${f}`),
    ...fields.filter((f) => MASKABLE.has(f)).map((f) => `match ${f}/mask`),
    'match unknown',
    ...fields.map((f) => `set_field ${f}`),
  ];
}

/** Records the kind of every part of `v` (reached under `key`) as 'message FLOW_MOD', 'match eth_src/mask'... */
function collectKinds(v: unknown, key: string, seen: Set<string>): void {
  if (Array.isArray(v)) { for (const x of v) collectKinds(x, key, seen); return; }
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return;
  const o = v as Record<string, unknown>;
  if (key === 'match') {
    for (const [name, value] of Object.entries(o)) seen.add(`match ${name}${Array.isArray(value) && name !== 'unknown' ? '/mask' : ''}`);
    return;
  }
  if (key === 'message') seen.add(`message ${String(o.type)}`);
  if (key === 'actions') {
    seen.add(`action ${String(o.type)}`);
    if (o.type === 'SET_FIELD') seen.add(`set_field ${String(o.field)}`);
    if (OF.parseNxRegMove(o as Action)) seen.add('action nx reg move');
  }
  if (key === 'instructions') seen.add(`instruction ${String(o.type)}`);
  for (const [k, x] of Object.entries(o)) {
    if (k === 'body' && typeof x === 'object' && x !== null && 'kind' in x) {
      seen.add(`${o.type === 'MULTIPART_REQUEST' ? 'request' : 'reply'} ${String((x as { kind: string }).kind)}`);
    }
    collectKinds(x, k, seen);
  }
}
