// Golden vectors: bytes captured from Open vSwitch 3.1 decode to the expected objects, and
// re-encode byte for byte; the dump-flows formatter reproduces OVS's own text for them.

import { expect } from 'chai';
import {
  decodeMessage, encodeMessage, formatFlowStats, formatInstructions, formatMatch, OFPBRC_BAD_VERSION, OFPET_BAD_REQUEST,
  type FlowMod, type FlowStats,
} from '../../../controller/openflow/index.js';
import { toTagged } from '../../vectors/vector-json.js';
import { loadDumpFlows, loadVector, loadVectors } from './vectors.js';

const vectors = loadVectors();

describe('openflow golden vectors (Open vSwitch 3.1)', () => {
  it('has vectors of every message family captured', () => {
    const types = new Set(vectors.map((v) => v.message?.type));
    for (const t of ['HELLO', 'ERROR', 'ECHO_REQUEST', 'ECHO_REPLY', 'FEATURES_REQUEST', 'FEATURES_REPLY', 'GET_CONFIG_REQUEST',
      'GET_CONFIG_REPLY', 'PACKET_IN', 'PACKET_OUT', 'FLOW_MOD', 'FLOW_REMOVED', 'PORT_STATUS', 'GROUP_MOD',
      'BARRIER_REQUEST', 'BARRIER_REPLY', 'ROLE_REPLY', 'MULTIPART_REQUEST', 'MULTIPART_REPLY']) {
      expect(types, t).to.include(t);
    }
    const kinds = new Set(vectors.flatMap((v) => (v.message?.type === 'MULTIPART_REPLY' ? [v.message.body.kind] : [])));
    expect([...kinds].sort()).to.deep.equal(['AGGREGATE', 'DESC', 'FLOW', 'GROUP_DESC', 'PORT_DESC', 'PORT_STATS', 'TABLE']);
  });

  for (const v of vectors) {
    describe(v.name, () => {
      if (v.message) {
        it('decodes to the expected message', () => {
          const r = decodeMessage(v.bytes);
          if (!r.ok) expect.fail(r.error.reason);
          expect(toTagged(r.message)).to.deep.equal(toTagged(v.message));
        });
        it('re-encodes byte for byte', () => {
          const r = decodeMessage(v.bytes);
          if (!r.ok) expect.fail(r.error.reason);
          expect(encodeMessage(r.message).toString('hex')).to.equal(v.hex);
        });
        it('was printed by ofp-print without errors', () => {
          // An ERROR quotes the offending (bad) request, which OVS may fail to print: header line only.
          const text = v.message?.type === 'ERROR' ? (v.ofpPrint.split('\n')[0] as string) : v.ofpPrint;
          expect(text).not.to.match(/decode error|truncated/i);
        });
      } else {
        it('is refused with the recorded error', () => {
          const r = decodeMessage(v.bytes);
          expect(r.ok).to.equal(false);
          if (!r.ok) expect(toTagged(r.error)).to.deep.equal(toTagged(v.decodeError));
        });
      }
    });
  }

  it('answers a wrong version with OFPET_BAD_REQUEST/OFPBRC_BAD_VERSION', () => {
    const v = loadVector('error-bad-version');
    const r = decodeMessage(v.bytes);
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.error.ofpError).to.deep.equal({ errorType: OFPET_BAD_REQUEST, code: OFPBRC_BAD_VERSION });
  });

  it('decodes the ARP PACKET_IN as OVS describes it', () => {
    const v = loadVector('packet-in-arp');
    const m = v.message;
    if (m?.type !== 'PACKET_IN') return expect.fail('not a packet-in');
    expect(v.ofpPrint).to.contain('cookie=0x42').and.contain('in_port=3').and.contain('(via action)');
    expect(m.cookie).to.equal(0x42n);
    expect(m.match).to.deep.equal({ in_port: 3 });
    expect(m.totalLen).to.equal(m.data.length);
    expect(Buffer.from(m.data).readUInt16BE(12)).to.equal(0x0806);
  });
});

describe('ovs-ofctl notation against captured OVS text', () => {
  const normalise = (line: string) => line.replace(/duration=[0-9.]+s/, 'duration=*');

  it('formatFlowStats prints every captured flow exactly as `ovs-ofctl dump-flows` did', () => {
    const m = loadVector('multipart-reply-flow').message;
    if (m?.type !== 'MULTIPART_REPLY' || m.body.kind !== 'FLOW') return expect.fail('not a flow stats reply');
    const ours = m.body.flows.map((f: FlowStats) => normalise(formatFlowStats(f))).sort();
    const theirs = loadDumpFlows().map(normalise).sort();
    expect(ours).to.deep.equal(theirs);
  });

  it('formatFlowStats without stats drops cookie 0, table 0 and counters', () => {
    const m = loadVector('multipart-reply-flow').message;
    if (m?.type !== 'MULTIPART_REPLY' || m.body.kind !== 'FLOW') return expect.fail('not a flow stats reply');
    const goto = m.body.flows.find((f) => f.tableId === 1) as FlowStats;
    expect(formatFlowStats(goto, { showStats: false }))
      .to.equal('cookie=0x1, table=1, priority=200,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,goto_table:2');
  });

  for (const v of vectors.filter((x) => x.message?.type === 'FLOW_MOD')) {
    it(`formats the match and actions of ${v.name} as OVS printed them`, () => {
      const fm = v.message as FlowMod;
      const line = v.ofpPrint.split('\n')[0] as string;
      expect(line.endsWith(` actions=${formatInstructions(fm.instructions)}`), line).to.equal(true);
      const match = formatMatch(fm.match, fm.priority);
      if (match !== '') expect(line.split(' '), line).to.include(match);
    });
  }
});
