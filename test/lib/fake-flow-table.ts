// FakeFlowTable: one switch's OpenFlow 1.3 tables in memory. It applies FLOW_MODs (ADD overwrite,
// MODIFY, DELETE / DELETE_STRICT with cookie masks) and answers "this packet enters on this
// port: which rules fire, where does it leave, with which headers?" It models what the
// Seamless pipeline uses: matches (masked too), set_field, goto_table, output (ports, IN_PORT,
// CONTROLLER, FLOOD), drop, and Nicira reg moves on Ethernet/ARP fields and reg0.
// Two rules of one priority matching one packet is an error here (OpenFlow leaves it undefined).

import {
  OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPP_ANY, OFPP_CONTROLLER,
  OFPP_FLOOD, OFPP_IN_PORT, OFPTT_ALL, parseNxRegMove,
  type Action, type FlowMod, type Instruction, type Match, type NxmFieldName, type OxmFieldValues,
} from '../../controller/openflow/index.js';
import { canonicalMatch } from '../../controller/pipeline/plan.js';

/** A packet's header fields under OXM names, plus reg0 and the IPv4 TTL (for routers in tests). */
export type Headers = Partial<OxmFieldValues> & { reg0?: number; ip_ttl?: number; tag?: string };

export interface FakeFlow {
  readonly table: number;
  readonly priority: number;
  readonly match: Match;
  instructions: readonly Instruction[];
  cookie: bigint;
  idleTimeout: number;
  packets: number;
}

export interface Output {
  readonly port: number;
  readonly headers: Headers;
}

export interface ProcessResult {
  /** Frames leaving through physical ports (IN_PORT resolved; FLOOD expanded). */
  readonly outputs: Output[];
  /** Packet-ins: the table that sent it and the headers at that point. */
  readonly toController: { table: number; priority: number; cookie: bigint; headers: Headers; metadata?: bigint }[];
  /** Every rule that fired, in order. */
  readonly trace: { table: number; priority: number; cookie: bigint }[];
  /** Outputs to the input port itself, which OVS drops silently. */
  readonly suppressed: Output[];
}

export class FakeFlowTable {
  private readonly tables = new Map<number, FakeFlow[]>();
  readonly ports: Set<number>;

  constructor(readonly dpid: bigint, ports: Iterable<number> = []) {
    this.ports = new Set(ports);
  }

  applyAll(mods: Iterable<FlowMod>): void {
    for (const m of mods) this.apply(m);
  }

  apply(mod: FlowMod): void {
    switch (mod.command) {
      case OFPFC_ADD: return this.add(mod);
      case OFPFC_MODIFY:
      case OFPFC_MODIFY_STRICT:
        for (const f of this.select(mod, mod.command === OFPFC_MODIFY_STRICT)) f.instructions = mod.instructions;
        return;
      case OFPFC_DELETE:
      case OFPFC_DELETE_STRICT: {
        const doomed = new Set(this.select(mod, mod.command === OFPFC_DELETE_STRICT));
        for (const [id, flows] of this.tables) this.tables.set(id, flows.filter((f) => !doomed.has(f)));
        return;
      }
      default: throw new Error(`FakeFlowTable: unsupported flow-mod command ${mod.command}`);
    }
  }

  flows(table?: number): FakeFlow[] {
    const all = [...this.tables.values()].flat();
    return table === undefined ? all : all.filter((f) => f.table === table);
  }

  /** Runs a packet through the pipeline from table 0 (or `startTable`). */
  process(inPort: number, headers: Headers, startTable = 0): ProcessResult {
    const result: ProcessResult = { outputs: [], toController: [], trace: [], suppressed: [] };
    let packet: Headers = { ...headers, in_port: inPort };
    let table: number | undefined = startTable;
    while (table !== undefined) {
      const flow = this.lookup(table, packet);
      if (flow === undefined) break; // no table-miss rule: dropped
      flow.packets++;
      result.trace.push({ table, priority: flow.priority, cookie: flow.cookie });
      let next: number | undefined;
      for (const i of flow.instructions) {
        if (i.type === 'APPLY_ACTIONS') packet = this.run(i.actions, packet, inPort, flow, result);
        else if (i.type === 'GOTO_TABLE') {
          if (i.tableId <= table) throw new Error(`goto_table:${i.tableId} from table ${table}`);
          next = i.tableId;
        } else throw new Error(`FakeFlowTable: unsupported instruction ${i.type}`);
      }
      table = next;
    }
    return result;
  }

  private add(mod: FlowMod): void {
    const flows = this.tables.get(mod.tableId) ?? [];
    const key = canonicalMatch(mod.match);
    const kept = flows.filter((f) => !(f.priority === mod.priority && canonicalMatch(f.match) === key));
    kept.push({
      table: mod.tableId, priority: mod.priority, match: mod.match, instructions: mod.instructions,
      cookie: mod.cookie, idleTimeout: mod.idleTimeout, packets: 0,
    });
    this.tables.set(mod.tableId, kept);
  }

  /** Flows a MODIFY/DELETE applies to: strict = same priority and match; else match narrower or equal. */
  private select(mod: FlowMod, strict: boolean): FakeFlow[] {
    return this.flows().filter((f) =>
      (mod.tableId === OFPTT_ALL || f.table === mod.tableId) &&
      (f.cookie & mod.cookieMask) === (mod.cookie & mod.cookieMask) &&
      (strict ? f.priority === mod.priority && canonicalMatch(f.match) === canonicalMatch(mod.match) : narrowerOrEqual(f.match, mod.match)) &&
      (mod.outPort === OFPP_ANY || mod.outPort === undefined || outputsTo(f, mod.outPort)));
  }

  private lookup(table: number, packet: Headers): FakeFlow | undefined {
    const candidates = (this.tables.get(table) ?? []).filter((f) => matches(f.match, packet));
    if (candidates.length === 0) return undefined;
    const top = Math.max(...candidates.map((f) => f.priority));
    const best = candidates.filter((f) => f.priority === top);
    if (best.length > 1) {
      throw new Error(`ambiguous: ${best.length} rules of priority ${top} in table ${table} match ${JSON.stringify(packet)}: ${best.map((f) => canonicalMatch(f.match)).join(' | ')}`);
    }
    return best[0];
  }

  private run(actions: readonly Action[], packet: Headers, inPort: number, flow: FakeFlow, result: ProcessResult): Headers {
    let h = packet;
    for (const a of actions) {
      switch (a.type) {
        case 'SET_FIELD':
          if ((h as Record<string, unknown>)[a.field] === undefined) throw new Error(`set_field:${a.field} on a packet without that field`);
          h = { ...h, [a.field]: a.value };
          break;
        case 'EXPERIMENTER':
          h = regMove(a, h);
          break;
        case 'OUTPUT':
          this.output(a.port, h, inPort, flow, result);
          break;
        case 'DEC_NW_TTL':
          h = { ...h, ip_ttl: (h.ip_ttl ?? 64) - 1 };
          break;
        default:
          throw new Error(`FakeFlowTable: unsupported action ${a.type}`);
      }
    }
    return h;
  }

  private output(port: number, h: Headers, inPort: number, flow: FakeFlow, result: ProcessResult): void {
    const frame = withoutMeta(h);
    if (port === OFPP_CONTROLLER) {
      result.toController.push({ table: flow.table, priority: flow.priority, cookie: flow.cookie, headers: frame, ...(h.metadata ? { metadata: h.metadata } : {}) });
    }
    else if (port === OFPP_IN_PORT) result.outputs.push({ port: inPort, headers: frame });
    else if (port === OFPP_FLOOD) {
      for (const p of [...this.ports].sort((a, b) => a - b)) if (p !== inPort) result.outputs.push({ port: p, headers: frame });
    } else if (port === inPort) result.suppressed.push({ port, headers: frame });
    else result.outputs.push({ port, headers: frame });
  }
}

/** in_port, metadata and reg0 are pipeline fields, not part of the frame that leaves. */
function withoutMeta(h: Headers): Headers {
  const { in_port: _in, reg0: _reg, metadata: _meta, ...frame } = h;
  return frame;
}

function matches(match: Match, packet: Headers): boolean {
  for (const [field, want] of Object.entries(match)) {
    if (field === 'unknown') throw new Error('FakeFlowTable: raw OXM matches are not modelled');
    const have = (packet as Record<string, unknown>)[field];
    if (have === undefined || !fieldEquals(have, want)) return false;
  }
  return true;
}

function fieldEquals(have: unknown, want: unknown): boolean {
  if (Array.isArray(want)) {
    const [value, mask] = want as [unknown, unknown];
    return masked(have, mask) === masked(value, mask);
  }
  return norm(have) === norm(want);
}

function norm(v: unknown): string {
  return typeof v === 'string' ? v.toLowerCase() : String(v);
}

function masked(v: unknown, mask: unknown): string {
  if (typeof v === 'number' && typeof mask === 'number') return String((v & mask) >>> 0);
  const sep = String(v).includes(':') ? ':' : '.';
  const radix = sep === ':' ? 16 : 10;
  const ms = String(mask).split(sep);
  return String(v).split(sep).map((p, i) => (parseInt(p, radix) & parseInt(ms[i] ?? '0', radix)).toString(radix)).join(sep);
}

/** Non-strict selection: every constraint of `filter` appears in `flow` with the same value. */
function narrowerOrEqual(flow: Match, filter: Match): boolean {
  return Object.entries(filter).every(([k, v]) => {
    const have = (flow as Record<string, unknown>)[k];
    return have !== undefined && JSON.stringify(have) === JSON.stringify(v);
  });
}

function outputsTo(f: FakeFlow, port: number): boolean {
  return f.instructions.some((i) => i.type === 'APPLY_ACTIONS' && i.actions.some((a) => a.type === 'OUTPUT' && a.port === port));
}

// ---- Nicira reg moves over header fields -------------------------------------------------------

const NXM_HEADER_FIELD: Partial<Record<NxmFieldName, keyof Headers>> = {
  NXM_OF_ETH_SRC: 'eth_src', NXM_OF_ETH_DST: 'eth_dst', NXM_OF_ARP_SPA: 'arp_spa', NXM_OF_ARP_TPA: 'arp_tpa',
  NXM_NX_ARP_SHA: 'arp_sha', NXM_NX_ARP_THA: 'arp_tha', NXM_NX_REG0: 'reg0', NXM_OF_IP_SRC: 'ipv4_src', NXM_OF_IP_DST: 'ipv4_dst',
};

function regMove(a: Action, h: Headers): Headers {
  const move = parseNxRegMove(a);
  if (move === undefined) throw new Error('FakeFlowTable: unsupported experimenter action');
  const src = NXM_HEADER_FIELD[move.src];
  const dst = NXM_HEADER_FIELD[move.dst];
  if (src === undefined || dst === undefined) throw new Error(`FakeFlowTable: move ${move.src}->${move.dst} not modelled`);
  if (move.srcOfs !== 0 || move.dstOfs !== 0) throw new Error('FakeFlowTable: partial moves not modelled');
  const value = (h as Record<string, unknown>)[src];
  if (value === undefined) throw new Error(`move from ${move.src} on a packet without it`);
  return { ...h, [dst]: convert(toBits(value), dst) };
}

function toBits(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  const s = String(v);
  if (s.includes(':')) return BigInt('0x' + s.replace(/:/g, ''));
  return s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function convert(bits: bigint, field: keyof Headers): unknown {
  if (field === 'reg0') return Number(bits & 0xffffffffn);
  if (field === 'eth_src' || field === 'eth_dst' || field === 'arp_sha' || field === 'arp_tha') {
    return bits.toString(16).padStart(12, '0').match(/../g)!.join(':');
  }
  const v = Number(bits & 0xffffffffn);
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join('.');
}
