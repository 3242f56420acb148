// Codec behaviour: the OFPT_ERROR each malformed input maps to, raw pass-through of what the
// model does not know, encoder input checks, addresses, builders and the Nicira actions.

import { expect } from 'chai';
import * as OF from '../../../controller/openflow/index.js';
import type { DecodeResult, OfpMessage } from '../../../controller/openflow/index.js';
import { loadVector } from './vectors.js';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const encodeHex = (m: OfpMessage) => OF.encodeMessage(m).toString('hex');

/** A frame from a header-less body: version 4, type, computed length, xid 0x11. */
function frame(type: number, bodyHex: string, version = 4): Buffer {
  const body = hex(bodyHex);
  const h = Buffer.alloc(8);
  h[0] = version;
  h[1] = type;
  h.writeUInt16BE(8 + body.length, 2);
  h.writeUInt32BE(0x11, 4);
  return Buffer.concat([h, body]);
}

function refusal(r: DecodeResult): { type?: number; code?: number; name: string; xid?: number } {
  if (r.ok) return expect.fail(`decoded as ${r.message.type}`);
  const e = r.error.ofpError;
  return { type: e?.errorType, code: e?.code, name: e ? OF.errorName(e.errorType, e.code) : 'none', xid: r.error.xid };
}

/** A flow-mod body (40 bytes) with the given match and instructions appended. */
const FLOW_MOD_HEAD = '0000000000000000 0000000000000000 00 00 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000';

describe('decodeMessage refusals carry the OFPT_ERROR the spec asks for', () => {
  const cases: [string, Buffer, string][] = [
    ['a frame shorter than the header', hex('040a00'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
    ['a header length that disagrees with the frame', hex('0414000900000011'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
    ['another version (not HELLO)', frame(OF.OFPT_BARRIER_REQUEST, '', 1), 'OFPET_BAD_REQUEST/OFPBRC_BAD_VERSION'],
    ['a features reply one byte short', frame(OF.OFPT_FEATURES_REPLY, '00'.repeat(23)), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
    ['a barrier with a body', frame(OF.OFPT_BARRIER_REQUEST, '00'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
    ['a match of type OFPMT_STANDARD', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0000 0004 00000000`), 'OFPET_BAD_MATCH/OFPBMC_BAD_TYPE'],
    ['a match length past the message', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0040 00000000`), 'OFPET_BAD_MATCH/OFPBMC_BAD_LEN'],
    ['an OXM overrunning the match', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 000a 80000a04 0800 0000`), 'OFPET_BAD_MATCH/OFPBMC_BAD_LEN'],
    ['eth_type with 3 value bytes', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 000b 80000a03 080000 00 0000 0000`), 'OFPET_BAD_MATCH/OFPBMC_BAD_LEN'],
    ['a field twice', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0010 80000a02 0800 80000a02 0800 0000 0000 0000`), 'OFPET_BAD_MATCH/OFPBMC_DUP_FIELD'],
    ['an action of length 12', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0004 00000000 0004 0018 00000000 0018 000c 00000000 00000000 00000000`), 'OFPET_BAD_ACTION/OFPBAC_BAD_LEN'],
    ['an output action of length 8', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0004 00000000 0004 0010 00000000 0000 0008 00000001`), 'OFPET_BAD_ACTION/OFPBAC_BAD_LEN'],
    ['a set_field with a mask', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0004 00000000 0004 0018 00000000 0019 0010 80000b04 0800ffff 00000000`), 'OFPET_BAD_ACTION/OFPBAC_BAD_SET_ARGUMENT'],
    ['a set_field eth_type of 4 bytes', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0004 00000000 0004 0018 00000000 0019 0010 80000a04 08000000 00000000`), 'OFPET_BAD_ACTION/OFPBAC_BAD_SET_LEN'],
    ['an instruction of length 4', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0004 00000000 0001 0004 00000000`), 'OFPET_BAD_INSTRUCTION/OFPBIC_BAD_LEN'],
    ['a goto_table of length 16', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0004 00000000 0001 0010 01000000 00000000`), 'OFPET_BAD_INSTRUCTION/OFPBIC_BAD_LEN'],
    ['a packet-out whose actions_len overruns', frame(OF.OFPT_PACKET_OUT, 'ffffffff fffffffd 0020 000000000000 0000 0010 00000001 0000 000000000000'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
    ['a bucket of length 8', frame(OF.OFPT_GROUP_MOD, '0000 00 00 00000001 0008 0000 ffffffff ffffffff 00000000'), 'OFPET_GROUP_MOD_FAILED/OFPGMFC_BAD_BUCKET'],
    ['a hello element overrunning', frame(OF.OFPT_HELLO, '0001 0010 00000010'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
    ['a port desc reply of 65 bytes', frame(OF.OFPT_MULTIPART_REPLY, `000d 0000 00000000 ${'00'.repeat(65)}`), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
  ];
  for (const [what, bytes, expected] of cases) {
    it(`${what}: ${expected}`, () => {
      const r = refusal(OF.decodeMessage(bytes));
      expect(r.name).to.equal(expected);
      if (bytes.length >= 8) expect(r.xid).to.equal(bytes.readUInt32BE(4));
    });
  }
});

describe('what the model does not know is kept verbatim', () => {
  const roundTrips: [string, Buffer, (m: OfpMessage) => void][] = [
    ['an unknown message type (OFPBRC_BAD_TYPE is not a decode error)', frame(0x42, 'deadbeef'),
      (m) => expect(m).to.include({ type: 'UNKNOWN', msgType: 0x42 })],
    ['a METER_MOD (not modelled)', frame(OF.OFPT_METER_MOD, '0000 0001 00000001 0001 0010 00000064 00000000 00000000'),
      (m) => expect(m).to.include({ type: 'UNKNOWN', msgType: OF.OFPT_METER_MOD })],
    ['an unknown multipart reply', frame(OF.OFPT_MULTIPART_REPLY, '0009 0000 00000000 aabbccdd'),
      (m) => expect(m.type === 'MULTIPART_REPLY' && m.body.kind).to.equal('UNKNOWN')],
    ['an unknown action and an unknown instruction', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0004 00000000 0004 0018 00000000 0077 0010 0102030405060708090a0b0c 0055 0008 11223344`),
      (m) => {
        if (m.type !== 'FLOW_MOD') return expect.fail();
        expect(m.instructions[0]?.type === 'APPLY_ACTIONS' && m.instructions[0].actions[0]?.type).to.equal('UNKNOWN');
        expect(m.instructions[1]?.type).to.equal('UNKNOWN');
      }],
    ['a Nicira register and an experimenter OXM after the basic fields (the model encodes unknown OXMs last)', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 001e 80000a02 0800 00010004 00000005 ffff0108 00002320 00000007 0000`),
      (m) => {
        if (m.type !== 'FLOW_MOD') return expect.fail();
        expect(m.match.eth_type).to.equal(0x0800);
        expect(m.match.unknown?.map((u) => [u.oxmClass, u.field, u.hasMask, u.payload.length])).to.deep.equal([[1, 0, false, 4], [0xffff, 0, true, 8]]);
      }],
    ['a set_field of a Nicira register', frame(OF.OFPT_FLOW_MOD, `${FLOW_MOD_HEAD} 0001 0004 00000000 0004 0018 00000000 0019 0010 00010004 00000005 00000000`),
      (m) => expect(m.type === 'FLOW_MOD' && m.instructions[0]?.type === 'APPLY_ACTIONS' && m.instructions[0].actions[0]).to.include({ type: 'UNKNOWN', actionType: 25 })],
    ['an unknown hello element before the bitmap', frame(OF.OFPT_HELLO, '0007 0006 abcd 0000 0001 0008 00000012'),
      (m) => expect(m.type === 'HELLO' && m.elements.map((e) => e.type)).to.deep.equal(['UNKNOWN', 'VERSIONBITMAP'])],
    ['an OpenFlow 1.0 HELLO (no elements)', frame(OF.OFPT_HELLO, '', 1),
      (m) => expect(m).to.deep.include({ type: 'HELLO', version: 1, elements: [] })],
    ['an experimenter error', frame(OF.OFPT_ERROR, 'ffff 0007 00002320 0102'),
      (m) => expect(m).to.include({ type: 'ERROR', errorType: 0xffff, code: 7, experimenter: 0x2320 })],
  ];
  for (const [what, bytes, check] of roundTrips) {
    it(`${what}: decodes and re-encodes identically`, () => {
      const r = OF.decodeMessage(bytes);
      if (!r.ok) return expect.fail(r.error.reason);
      check(r.message);
      expect(encodeHex(r.message)).to.equal(bytes.toString('hex'));
    });
  }
});

describe('encodeMessage', () => {
  it('writes version 4, except HELLO which carries its own version', () => {
    expect(OF.encodeMessage(OF.barrierRequest(1))[0]).to.equal(4);
    expect(OF.encodeMessage({ type: 'HELLO', version: 1, xid: 0, elements: [] })[0]).to.equal(1);
  });

  it('keeps vlan_vid numeric with OFPVID_PRESENT, as on the wire', () => {
    const b = OF.encodeMessage(OF.flowMod({ match: { vlan_vid: OF.OFPVID_PRESENT | 10 } }));
    expect(b.subarray(56 - 8 + 4, 56 - 8 + 10).toString('hex')).to.equal('80000c02100a');
  });

  it('sets the hasmask bit and doubles the length for [value, mask]', () => {
    const b = OF.encodeMessage(OF.flowMod({ match: { eth_type: 0x0800, ipv4_dst: ['10.0.1.0', '255.255.255.0'] } }));
    expect(b.subarray(48 + 4 + 6, 48 + 4 + 6 + 12).toString('hex')).to.equal('8000190' + '8' + '0a000100ffffff00');
  });

  it('throws on values that cannot be encoded', () => {
    expect(() => OF.encodeMessage(OF.flowMod({ match: { eth_src: '02:00:00:00:01' } }))).to.throw(TypeError, /MAC/);
    expect(() => OF.encodeMessage(OF.flowMod({ match: { ipv4_src: '10.0.0.256' } }))).to.throw(TypeError, /IPv4/);
    expect(() => OF.encodeMessage(OF.flowMod({ match: { ipv6_src: '1:::2' } }))).to.throw(TypeError, /IPv6/);
    expect(() => OF.encodeMessage(OF.flowMod({ match: { nw_src: '1.2.3.4' } as OF.Match }))).to.throw(TypeError, /unknown match field/);
    expect(() => OF.encodeMessage(OF.flowMod({ match: { tcp_dst: 70000 } }))).to.throw(RangeError);
    expect(() => OF.encodeMessage(OF.echoRequest(1, new Uint8Array(0x10000)))).to.throw(RangeError, /65535/);
  });

  it('defaults output max_len to OFPCML_NO_BUFFER towards the controller and 0 elsewhere', () => {
    expect(OF.outputPort(OF.OFPP_CONTROLLER)).to.deep.equal({ type: 'OUTPUT', port: OF.OFPP_CONTROLLER, maxLen: OF.OFPCML_NO_BUFFER });
    expect(OF.outputPort(3)).to.deep.equal({ type: 'OUTPUT', port: 3, maxLen: 0 });
    const b = OF.encodeMessage(OF.packetOut({ actions: [{ type: 'OUTPUT', port: OF.OFPP_CONTROLLER }] }));
    expect(b.readUInt16BE(24 + 8)).to.equal(0xffff);
  });
});

describe('builders', () => {
  it('flowMod fills in the spec defaults', () => {
    expect(OF.flowMod()).to.deep.equal({
      type: 'FLOW_MOD', xid: 0, cookie: 0n, cookieMask: 0n, tableId: 0, command: OF.OFPFC_ADD, idleTimeout: 0, hardTimeout: 0,
      priority: 0x8000, bufferId: OF.OFP_NO_BUFFER, outPort: OF.OFPP_ANY, outGroup: OF.OFPG_ANY, flags: 0, match: {}, instructions: [],
    });
    expect(OF.flowMod({ priority: 5, match: { in_port: 1 } })).to.include({ priority: 5, command: OF.OFPFC_ADD });
  });

  it('build the small pieces', () => {
    expect(OF.setField('ipv4_dst', '10.0.2.200')).to.deep.equal({ type: 'SET_FIELD', field: 'ipv4_dst', value: '10.0.2.200' });
    expect(OF.gotoTable(2)).to.deep.equal({ type: 'GOTO_TABLE', tableId: 2 });
    expect(OF.applyActions(OF.outputPort(1))).to.deep.equal({ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 1, maxLen: 0 }] });
    expect(OF.writeMetadata(5n)).to.deep.equal({ type: 'WRITE_METADATA', metadata: 5n, mask: 0xffffffffffffffffn });
    expect(OF.barrierRequest(9)).to.deep.equal({ type: 'BARRIER_REQUEST', xid: 9 });
    expect(OF.packetOut({ actions: [] })).to.include({ bufferId: OF.OFP_NO_BUFFER, inPort: OF.OFPP_CONTROLLER });
    expect(OF.flowStatsRequest({ xid: 3 }).body).to.deep.include({ kind: 'FLOW', tableId: OF.OFPTT_ALL, outPort: OF.OFPP_ANY, outGroup: OF.OFPG_ANY });
    expect(OF.echoReply(OF.echoRequest(4, new Uint8Array([1])))).to.deep.equal({ type: 'ECHO_REPLY', xid: 4, data: new Uint8Array([1]) });
  });
});

describe('errorName', () => {
  it('names type and code from the spec', () => {
    expect(OF.errorName(OF.OFPET_BAD_MATCH, OF.OFPBMC_BAD_FIELD)).to.equal('OFPET_BAD_MATCH/OFPBMC_BAD_FIELD');
    expect(OF.errorName(OF.OFPET_FLOW_MOD_FAILED, OF.OFPFMFC_BAD_TABLE_ID)).to.equal('OFPET_FLOW_MOD_FAILED/OFPFMFC_BAD_TABLE_ID');
    expect(OF.errorName(OF.OFPET_SWITCH_CONFIG_FAILED, OF.OFPSCFC_BAD_LEN)).to.equal('OFPET_SWITCH_CONFIG_FAILED/OFPSCFC_BAD_LEN');
    expect(OF.errorName(OF.OFPET_TABLE_FEATURES_FAILED, OF.OFPTFFC_EPERM)).to.equal('OFPET_TABLE_FEATURES_FAILED/OFPTFFC_EPERM');
    expect(OF.errorName(OF.OFPET_HELLO_FAILED, OF.OFPHFC_INCOMPATIBLE)).to.equal('OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE');
    expect(OF.errorName(OF.OFPET_BAD_ACTION, 99)).to.equal('OFPET_BAD_ACTION/99');
    expect(OF.errorName(77, 1)).to.equal('OFPET_77/1');
    expect(OF.errorName(OF.OFPET_EXPERIMENTER, 3)).to.equal('OFPET_EXPERIMENTER/exp_type=3');
  });

  it('names every error OVS sent in the golden vectors', () => {
    const names = ['error-bad-prereq', 'error-match-inconsistent', 'error-bad-goto', 'error-bad-table', 'error-bad-type'].map((n) => {
      const m = loadVector(n).message;
      return m?.type === 'ERROR' ? OF.errorName(m.errorType, m.code) : '';
    });
    expect(names).to.deep.equal([
      'OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ', 'OFPET_BAD_ACTION/OFPBAC_MATCH_INCONSISTENT', 'OFPET_BAD_INSTRUCTION/OFPBIC_BAD_TABLE_ID',
      'OFPET_FLOW_MOD_FAILED/OFPFMFC_BAD_TABLE_ID', 'OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE',
    ]);
  });
});

describe('Nicira reg-move', () => {
  it('encodes the ARP responder moves exactly as ovs-ofctl did', () => {
    const m = loadVector('flow-mod-arp-responder').message;
    if (m?.type !== 'FLOW_MOD' || m.instructions[0]?.type !== 'APPLY_ACTIONS') return expect.fail();
    const ovsMoves = m.instructions[0].actions.filter((a) => a.type === 'EXPERIMENTER');
    const ours = [
      OF.nxRegMove('NXM_OF_ETH_SRC', 'NXM_OF_ETH_DST'),
      OF.nxRegMove('NXM_NX_ARP_SHA', 'NXM_NX_ARP_THA'),
      OF.nxRegMove('NXM_OF_ARP_SPA', 'NXM_OF_ARP_TPA'),
    ];
    const bytesOf = (a: OF.Action) => (a.type === 'EXPERIMENTER' ? `${a.experimenter}:${Buffer.from(a.data).toString('hex')}` : '');
    expect(ours.map(bytesOf)).to.deep.equal(ovsMoves.map(bytesOf));
  });

  it('encodes partial moves as ovs-ofctl did', () => {
    const m = loadVector('flow-mod-partial-move').message;
    if (m?.type !== 'FLOW_MOD' || m.instructions[0]?.type !== 'APPLY_ACTIONS') return expect.fail();
    const ours = [OF.nxRegMove('NXM_NX_REG0', 'NXM_NX_REG1', 16, 0, 16), OF.nxRegMove('NXM_NX_REG2', 'NXM_NX_REG3', 1, 3, 5)];
    const bytesOf = (a: OF.Action) => OF.encodeMessage(OF.packetOut({ actions: [a] })).toString('hex');
    expect(ours.map(bytesOf)).to.deep.equal(m.instructions[0].actions.map(bytesOf));
    expect(OF.parseNxRegMove(m.instructions[0].actions[0] as OF.Action)).to.deep.equal({ src: 'NXM_NX_REG0', dst: 'NXM_NX_REG1', nBits: 16, srcOfs: 0, dstOfs: 16 });
  });

  it('describes moves like ovs-ofctl', () => {
    expect(OF.describeNxAction(OF.nxRegMove('NXM_OF_ETH_SRC', 'NXM_OF_ETH_DST'))).to.equal('move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]');
    expect(OF.describeNxAction(OF.nxRegMove('NXM_OF_ARP_TPA', 'NXM_NX_REG0'))).to.equal('move:NXM_OF_ARP_TPA[]->NXM_NX_REG0[]');
    expect(OF.describeNxAction(OF.nxRegMove('NXM_NX_REG0', 'NXM_NX_REG1', 16, 0, 16))).to.equal('move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31]');
    expect(OF.describeNxAction(OF.nxRegMove('NXM_NX_REG2', 'NXM_NX_REG3', 1, 3, 5))).to.equal('move:NXM_NX_REG2[3]->NXM_NX_REG3[5]');
    expect(OF.describeNxAction(OF.outputPort(1))).to.equal(undefined);
  });

  it('refuses moves that do not fit the fields', () => {
    expect(() => OF.nxRegMove('NXM_OF_ETH_SRC', 'NXM_NX_REG0')).to.throw(RangeError);
    expect(() => OF.nxRegMove('NXM_NX_REG0', 'NXM_NX_REG1', 8, 30)).to.throw(RangeError);
  });
});

describe('readHeader', () => {
  it('reads the header of any frame for logs, even one decodeMessage refuses', () => {
    expect(OF.readHeader(hex('01140008fffffffe'))).to.deep.equal({ version: 1, type: 20, length: 8, xid: 0xfffffffe });
    expect(OF.readHeader(hex('0414'))).to.equal(undefined);
  });

  it('a frame encoded ahead is the frame encoded at send time, with each send\'s own xid', () => {
    const m = OF.flowMod({ cookie: 7n, tableId: 2, priority: 300, match: { eth_type: 0x0800, ipv4_dst: '10.0.2.200' }, instructions: [OF.applyActions(OF.setField('ipv4_dst', '10.0.1.10'), OF.outputPort(10))] });
    const fresh = (xid: number) => OF.encodeMessage({ ...m, xid });
    expect(OF.encodeFrame(m, 5)).to.deep.equal(fresh(5)); // nothing ahead: encoded now
    OF.encodeAhead(m);
    const a = OF.encodeFrame(m, 0x01020304);
    const b = OF.encodeFrame(m, 9);
    expect(a).to.deep.equal(fresh(0x01020304));
    expect(b, 'a later send is not changed by an earlier one').to.deep.equal(fresh(9));
    a.fill(0); // what the writer does with a frame never reaches the encoding kept ahead
    expect(OF.encodeFrame(m, 9)).to.deep.equal(fresh(9));
  });
});

