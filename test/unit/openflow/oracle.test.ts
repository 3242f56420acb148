// The independent oracle: every sample message is encoded by us and decoded by Open vSwitch
// (`ovs-ofctl -O OpenFlow13 ofp-print`), and OVS's text is compared field by field with what
// the message meant. Flow-mods are checked completely: command, table, priority, cookie,
// timeouts, flags, buffer, out_port, every match field and every action.

import { expect } from 'chai';
import * as OF from '../../../controller/openflow/index.js';
import type { FlowMod, OfpMessage } from '../../../controller/openflow/index.js';
import { ofpPrintAll, ovsAvailable, type OfpPrint } from '../../vectors/ofp-print.js';
import { allSamples } from './samples.js';

const MESSAGE_NAME: Partial<Record<OfpMessage['type'], string>> = {
  HELLO: 'OFPT_HELLO', ERROR: 'OFPT_ERROR', ECHO_REQUEST: 'OFPT_ECHO_REQUEST', ECHO_REPLY: 'OFPT_ECHO_REPLY',
  FEATURES_REQUEST: 'OFPT_FEATURES_REQUEST', FEATURES_REPLY: 'OFPT_FEATURES_REPLY',
  GET_CONFIG_REQUEST: 'OFPT_GET_CONFIG_REQUEST', GET_CONFIG_REPLY: 'OFPT_GET_CONFIG_REPLY', SET_CONFIG: 'OFPT_SET_CONFIG',
  PACKET_IN: 'OFPT_PACKET_IN', PACKET_OUT: 'OFPT_PACKET_OUT', FLOW_MOD: 'OFPT_FLOW_MOD', FLOW_REMOVED: 'OFPT_FLOW_REMOVED',
  PORT_STATUS: 'OFPT_PORT_STATUS', GROUP_MOD: 'OFPT_GROUP_MOD', BARRIER_REQUEST: 'OFPT_BARRIER_REQUEST',
  BARRIER_REPLY: 'OFPT_BARRIER_REPLY', ROLE_REQUEST: 'OFPT_ROLE_REQUEST', ROLE_REPLY: 'OFPT_ROLE_REPLY',
};
const MP_NAME: Record<string, string> = {
  DESC: 'OFPST_DESC', FLOW: 'OFPST_FLOW', AGGREGATE: 'OFPST_AGGREGATE', TABLE: 'OFPST_TABLE', PORT_STATS: 'OFPST_PORT',
  PORT_DESC: 'OFPST_PORT_DESC', GROUP_DESC: 'OFPST_GROUP_DESC', UNKNOWN: 'OFPST_',
};

function expectedTitle(m: OfpMessage): string {
  if (m.type === 'MULTIPART_REQUEST') return `${MP_NAME[m.body.kind]}${m.body.kind === 'UNKNOWN' ? '' : ' request'}`;
  if (m.type === 'MULTIPART_REPLY') return `${MP_NAME[m.body.kind]} reply`;
  if (m.type === 'UNKNOWN') return 'OFPT_';
  return MESSAGE_NAME[m.type] as string;
}

// ---- OVS flow-mod text ---------------------------------------------------------------------

interface OvsFlowMod {
  command: string;
  table: number;
  match: string;
  cookie?: string;
  idle?: number;
  hard?: number;
  buf?: string;
  outPort?: string;
  flags: string[];
  actions: string;
}

const FLAG_WORDS = new Set(['send_flow_rem', 'check_overlap', 'reset_counts', 'no_packet_counts', 'no_byte_counts']);

/** Parses "OFPT_FLOW_MOD (OF1.3) (xid=0x7): ADD table:1 <match> cookie:.. idle:.. actions=..". */
function parseOvsFlowMod(line: string): OvsFlowMod {
  const head = /^OFPT_FLOW_MOD \(OF1\.3\) \(xid=0x[0-9a-f]+\): (\S+)(?: table:(\d+))? (.*?)\s*actions=(.*)$/.exec(line);
  if (!head) throw new Error(`not a flow-mod line: ${line}`);
  const fm: OvsFlowMod = { command: head[1] as string, table: Number(head[2] ?? 0), match: '', flags: [], actions: head[4] as string };
  for (const word of (head[3] as string).split(' ').filter((w) => w !== '')) {
    const [key, value] = word.split(/:(.*)/s) as [string, string | undefined];
    if (FLAG_WORDS.has(word)) fm.flags.push(word);
    else if (key === 'cookie') fm.cookie = value;
    else if (key === 'idle') fm.idle = Number(value);
    else if (key === 'hard') fm.hard = Number(value);
    else if (key === 'buf') fm.buf = value;
    else if (key === 'out_port') fm.outPort = value;
    else if (fm.match === '') fm.match = word;
    else throw new Error(`unexpected word ${word} in ${line}`);
  }
  return fm;
}

const COMMAND: Record<number, string> = {
  [OF.OFPFC_ADD]: 'ADD', [OF.OFPFC_MODIFY]: 'MOD', [OF.OFPFC_MODIFY_STRICT]: 'MOD_STRICT',
  [OF.OFPFC_DELETE]: 'DEL', [OF.OFPFC_DELETE_STRICT]: 'DEL_STRICT',
};

function checkFlowMod(text: string, m: FlowMod): void {
  const line = text.split('\n')[0] as string;
  const o = parseOvsFlowMod(line);
  expect(o.command, 'command').to.equal(COMMAND[m.command]);
  expect(o.table, 'table').to.equal(m.tableId);
  // Priority and every match field, in OVS's own order and notation.
  expect(o.match, 'match').to.equal(OF.formatMatch(m.match, m.priority));
  const isDelete = m.command === OF.OFPFC_DELETE || m.command === OF.OFPFC_DELETE_STRICT;
  const cookie = m.cookieMask !== 0n ? `0x${m.cookie.toString(16)}/0x${m.cookieMask.toString(16)}`
    : m.cookie !== 0n && !isDelete ? `0x${m.cookie.toString(16)}` : undefined;
  expect(o.cookie, 'cookie').to.equal(cookie);
  expect(o.idle, 'idle').to.equal(m.idleTimeout === 0 ? undefined : m.idleTimeout);
  expect(o.hard, 'hard').to.equal(m.hardTimeout === 0 ? undefined : m.hardTimeout);
  expect(o.buf, 'buffer').to.equal(m.bufferId === OF.OFP_NO_BUFFER ? undefined : `0x${m.bufferId.toString(16)}`);
  expect(o.outPort, 'out_port').to.equal(m.outPort === OF.OFPP_ANY ? undefined : OF.portName(m.outPort));
  const flags = [...FLAG_WORDS].filter((_w, i) => m.flags & (1 << i));
  expect(o.flags, 'flags').to.deep.equal(flags);
  // Every action and instruction; OVS drops the instructions of a delete.
  expect(o.actions, 'actions').to.equal(isDelete ? 'drop' : OF.formatInstructions(m.instructions));
}

// ---- other messages ------------------------------------------------------------------------

const ROLE: Record<number, string> = { 1: 'equal', 2: 'primary', 3: 'secondary' };
const REASON: Record<number, string> = { 0: 'no_match', 1: 'action', 2: 'invalid_ttl' };

function checkOther(text: string, m: OfpMessage): void {
  switch (m.type) {
    case 'FLOW_MOD': return checkFlowMod(text, m);
    case 'PACKET_IN':
      expect(text).to.contain(`total_len=${m.totalLen} `).and.contain(`(via ${REASON[m.reason]}) data_len=${m.data.length}`)
        .and.contain(`cookie=0x${m.cookie.toString(16)}`).and.contain(OF.formatMatch(m.match));
      if (m.tableId !== 0) expect(text).to.contain(`table_id=${m.tableId}`);
      return;
    case 'PACKET_OUT':
      expect(text).to.contain(`in_port=${OF.portName(m.inPort)} actions=${OF.formatActions(m.actions)} data_len=${m.data.length}`);
      return;
    case 'FLOW_REMOVED':
      expect(text).to.contain(`: ${OF.formatMatch(m.match, m.priority)} reason=idle table_id=${m.tableId} cookie:0x${m.cookie.toString(16)}`)
        .and.contain(`idle${m.idleTimeout} pkts${m.packetCount} bytes${m.byteCount}`)
        .and.contain(`duration${OF.formatDuration(m.durationSec, m.durationNsec)}`);
      return;
    case 'PORT_STATUS':
      expect(text).to.contain(`MOD: ${m.port.portNo}(${m.port.name}): addr:${m.port.hwAddr}`);
      return;
    case 'GROUP_MOD':
      for (const b of m.buckets) expect(text).to.contain(`actions=${OF.formatActions(b.actions)}`);
      expect(text).to.contain(`group_id=${m.groupId}`);
      return;
    case 'ERROR':
      if (m.errorType !== OF.OFPET_EXPERIMENTER) expect(text).to.contain(OF.errorName(m.errorType, m.code).split('/')[1] as string);
      return;
    case 'FEATURES_REPLY':
      expect(text).to.contain(`dpid:${m.datapathId.toString(16).padStart(16, '0')}`).and.contain(`n_tables:${m.nTables}`);
      return;
    case 'GET_CONFIG_REPLY':
    case 'SET_CONFIG':
      expect(text).to.contain(`frags=${['normal', 'drop', 'reassemble'][m.flags]} miss_send_len=${m.missSendLen}`);
      return;
    case 'ROLE_REQUEST':
    case 'ROLE_REPLY':
      expect(text).to.contain(`role=${ROLE[m.role]} generation_id=${m.generationId}`);
      return;
    case 'ECHO_REQUEST':
    case 'ECHO_REPLY':
      expect(text).to.contain(`${m.data.length} bytes of payload`);
      return;
    case 'HELLO': {
      const v = m.elements.find((e) => e.type === 'VERSIONBITMAP');
      if (v?.type === 'VERSIONBITMAP') {
        const shown = v.versions.filter((x) => x < 32).map((x) => `0x${x.toString(16).padStart(2, '0')}`).join(', ');
        expect(text).to.contain(`version bitmap: ${shown}`);
      }
      return;
    }
    case 'MULTIPART_REPLY': return checkMultipartReply(text, m);
    case 'MULTIPART_REQUEST':
      if (m.body.kind === 'FLOW') expect(text).to.contain(`table=${m.body.tableId} ${OF.formatMatch(m.body.match)}`);
      if (m.body.kind === 'PORT_STATS') expect(text).to.contain(`port_no=${m.body.portNo}`);
      return;
    default:
  }
}

function checkMultipartReply(text: string, m: OF.MultipartReply): void {
  const b = m.body;
  switch (b.kind) {
    case 'FLOW':
      // OVS prints each flow exactly as dump-flows does.
      expect(text.split('\n').slice(1).map((l) => l.trim())).to.deep.equal(b.flows.map((f) => OF.formatFlowStats(f)));
      return;
    case 'AGGREGATE':
      expect(text).to.contain(`packet_count=${b.stats.packetCount} byte_count=${b.stats.byteCount} flow_count=${b.stats.flowCount}`);
      return;
    case 'TABLE':
      for (const t of b.tables) expect(text).to.contain(`table ${t.tableId}:\n    active=${t.activeCount}, lookup=${t.lookupCount}, matched=${t.matchedCount}`);
      return;
    case 'PORT_STATS':
      for (const p of b.ports) {
        expect(text).to.contain(`port  ${p.portNo}: rx pkts=${p.rxPackets}, bytes=${p.rxBytes}, drop=${p.rxDropped}, errs=${p.rxErrors}, frame=${p.rxFrameErr}, over=${p.rxOverErr}, crc=${p.rxCrcErr}`)
          .and.contain(`tx pkts=${p.txPackets}, bytes=${p.txBytes}, drop=${p.txDropped}, errs=${p.txErrors}, coll=${p.collisions}`);
      }
      return;
    case 'PORT_DESC':
      for (const p of b.ports) expect(text).to.contain(`${OF.portName(p.portNo)}(${p.name}): addr:${p.hwAddr}`);
      if (m.flags & OF.OFPMPF_REPLY_MORE) expect(text).to.contain('flags=[more]');
      return;
    case 'DESC':
      expect(text).to.contain(`Manufacturer: ${b.desc.mfrDesc}\nHardware: ${b.desc.hwDesc}\nSoftware: ${b.desc.swDesc}\nSerial Num: ${b.desc.serialNum}\nDP Description: ${b.desc.dpDesc}`);
      return;
    case 'GROUP_DESC':
      for (const g of b.groups) expect(text).to.contain(`group_id=${g.groupId}`);
      return;
    default:
  }
}

describe('openflow encoder against ovs-ofctl ofp-print', function () {
  this.timeout(60_000);
  const samples = allSamples().filter((x) => x.ovs);
  let printed: OfpPrint[] = [];

  before(async function () {
    if (!ovsAvailable()) this.skip();
    printed = await ofpPrintAll(samples.map((s) => OF.encodeMessage(s.msg)));
  });

  samples.forEach((s, i) => {
    it(s.name, () => {
      const p = printed[i] as OfpPrint;
      expect(p.ok, p.text).to.equal(true);
      const title = p.text.split('\n')[0] as string;
      expect(title.startsWith(expectedTitle(s.msg)), title).to.equal(true);
      expect(title).to.contain(`(xid=0x${s.msg.xid.toString(16)})`);
      checkOther(p.text, s.msg);
    });
  });
});
