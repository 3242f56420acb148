// Multipart reply bodies with fixed layouts: DESC, FLOW stats, AGGREGATE, TABLE and PORT stats.

import { decodeInstructions, encodeInstructions } from './instructions.js';
import { decodeMatch, encodeMatch, matchWireLength } from './oxm.js';
import { exact, fail, need, readCString } from './reader.js';
import type { AggregateStats, Desc, FlowStats, PortStats, TableStats } from './types.js';
import type { Writer } from './writer.js';

const DESC_STR_LEN = 256;
const SERIAL_NUM_LEN = 32;
export const OFP_DESC_LEN = 4 * DESC_STR_LEN + SERIAL_NUM_LEN;
export const OFP_TABLE_STATS_LEN = 24;
export const OFP_PORT_STATS_LEN = 112;

export function encodeDesc(w: Writer, d: Desc): void {
  w.cString(d.mfrDesc, DESC_STR_LEN);
  w.cString(d.hwDesc, DESC_STR_LEN);
  w.cString(d.swDesc, DESC_STR_LEN);
  w.cString(d.serialNum, SERIAL_NUM_LEN);
  w.cString(d.dpDesc, DESC_STR_LEN);
}

export function decodeDesc(buf: Buffer, off: number, end: number): Desc {
  exact(off, OFP_DESC_LEN, end, 'ofp_desc');
  return {
    mfrDesc: readCString(buf, off, DESC_STR_LEN),
    hwDesc: readCString(buf, off + 256, DESC_STR_LEN),
    swDesc: readCString(buf, off + 512, DESC_STR_LEN),
    serialNum: readCString(buf, off + 768, SERIAL_NUM_LEN),
    dpDesc: readCString(buf, off + 800, DESC_STR_LEN),
  };
}

export function encodeFlowStats(w: Writer, flows: readonly FlowStats[]): void {
  for (const f of flows) {
    const start = w.pos;
    w.u16(0);
    w.u8(f.tableId);
    w.zeros(1);
    w.u32(f.durationSec);
    w.u32(f.durationNsec);
    w.u16(f.priority);
    w.u16(f.idleTimeout);
    w.u16(f.hardTimeout);
    w.u16(f.flags);
    w.zeros(4);
    w.u64(f.cookie);
    w.u64(f.packetCount);
    w.u64(f.byteCount);
    encodeMatch(w, f.match);
    encodeInstructions(w, f.instructions);
    w.backfill16(start, w.pos - start);
  }
}

export function decodeFlowStats(buf: Buffer, off: number, end: number): FlowStats[] {
  const flows: FlowStats[] = [];
  while (off < end) {
    need(off, 48, end, 'ofp_flow_stats');
    const len = buf.readUInt16BE(off);
    if (len < 56 || off + len > end) fail(`ofp_flow_stats length ${len}`);
    const entryEnd = off + len;
    const insOff = off + 48 + matchWireLength(buf, off + 48, entryEnd);
    flows.push({
      tableId: buf[off + 2] as number,
      durationSec: buf.readUInt32BE(off + 4),
      durationNsec: buf.readUInt32BE(off + 8),
      priority: buf.readUInt16BE(off + 12),
      idleTimeout: buf.readUInt16BE(off + 14),
      hardTimeout: buf.readUInt16BE(off + 16),
      flags: buf.readUInt16BE(off + 18),
      cookie: buf.readBigUInt64BE(off + 24),
      packetCount: buf.readBigUInt64BE(off + 32),
      byteCount: buf.readBigUInt64BE(off + 40),
      match: decodeMatch(buf, off + 48),
      instructions: decodeInstructions(buf, insOff, entryEnd),
    });
    off = entryEnd;
  }
  return flows;
}

export function encodeAggregate(w: Writer, s: AggregateStats): void {
  w.u64(s.packetCount);
  w.u64(s.byteCount);
  w.u32(s.flowCount);
  w.zeros(4);
}

export function decodeAggregate(buf: Buffer, off: number, end: number): AggregateStats {
  exact(off, 24, end, 'ofp_aggregate_stats_reply');
  return { packetCount: buf.readBigUInt64BE(off), byteCount: buf.readBigUInt64BE(off + 8), flowCount: buf.readUInt32BE(off + 16) };
}

export function encodeTableStats(w: Writer, tables: readonly TableStats[]): void {
  for (const t of tables) {
    w.u8(t.tableId);
    w.zeros(3);
    w.u32(t.activeCount);
    w.u64(t.lookupCount);
    w.u64(t.matchedCount);
  }
}

export function decodeTableStats(buf: Buffer, off: number, end: number): TableStats[] {
  if ((end - off) % OFP_TABLE_STATS_LEN !== 0) fail(`ofp_table_stats array of ${end - off} bytes`);
  const tables: TableStats[] = [];
  for (let p = off; p < end; p += OFP_TABLE_STATS_LEN) {
    tables.push({
      tableId: buf[p] as number,
      activeCount: buf.readUInt32BE(p + 4),
      lookupCount: buf.readBigUInt64BE(p + 8),
      matchedCount: buf.readBigUInt64BE(p + 16),
    });
  }
  return tables;
}

/** The twelve 64-bit counters of ofp_port_stats, in wire order. */
const PORT_COUNTERS = [
  'rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxDropped', 'txDropped',
  'rxErrors', 'txErrors', 'rxFrameErr', 'rxOverErr', 'rxCrcErr', 'collisions',
] as const;

export function encodePortStats(w: Writer, ports: readonly PortStats[]): void {
  for (const p of ports) {
    w.u32(p.portNo);
    w.zeros(4);
    for (const c of PORT_COUNTERS) w.u64(p[c]);
    w.u32(p.durationSec);
    w.u32(p.durationNsec);
  }
}

export function decodePortStats(buf: Buffer, off: number, end: number): PortStats[] {
  if ((end - off) % OFP_PORT_STATS_LEN !== 0) fail(`ofp_port_stats array of ${end - off} bytes`);
  const ports: PortStats[] = [];
  for (let p = off; p < end; p += OFP_PORT_STATS_LEN) {
    const s: Record<string, unknown> = { portNo: buf.readUInt32BE(p) };
    PORT_COUNTERS.forEach((c, i) => { s[c] = buf.readBigUInt64BE(p + 8 + 8 * i); });
    s.durationSec = buf.readUInt32BE(p + 104);
    s.durationNsec = buf.readUInt32BE(p + 108);
    ports.push(s as unknown as PortStats);
  }
  return ports;
}
