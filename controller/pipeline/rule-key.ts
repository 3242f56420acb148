// Canonical text forms of matches and instructions, so that a rule we compiled and the same
// rule read back from a switch (flow stats: other field order, masks, max_len) compare equal.

import { OFPCML_NO_BUFFER, OFPP_CONTROLLER, parseNxRegMove, type Action, type Instruction, type Match } from '../openflow/index.js';

const FULL_MASKS = new Set(['255.255.255.255', 'ff:ff:ff:ff:ff:ff']);

/** Rule identity on one switch: table, priority and match (what OFPFC_ADD overwrites). */
export function ruleKey(rule: { readonly table: number; readonly priority: number; readonly match: Match }): string {
  return `${rule.table}/${rule.priority}/${canonicalMatch(rule.match)}`;
}

// Matches and instruction lists are immutable once built (compiled, or decoded from flow stats), and
// the same objects are keyed again and again: by a plan, by TableSync's mirror and its cleanups, and
// by a move planned when it was staged. Each is canonicalised once.
const matchKeys = new WeakMap<Match, string>();
const instructionKeys = new WeakMap<readonly Instruction[], string>();

export function canonicalMatch(match: Match): string {
  let key = matchKeys.get(match);
  if (key === undefined) matchKeys.set(match, (key = canonicalMatchOnce(match)));
  return key;
}

function canonicalMatchOnce(match: Match): string {
  const parts: string[] = [];
  for (const key of Object.keys(match).sort()) {
    const value = (match as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key === 'unknown') {
      for (const raw of value as NonNullable<Match['unknown']>) parts.push(`raw:${raw.oxmClass}:${raw.field}:${raw.hasMask}:${hex(raw.payload)}`);
      continue;
    }
    parts.push(`${key}=${canonicalValue(value)}`);
  }
  return parts.join(',');
}

function canonicalValue(value: unknown): string {
  if (!Array.isArray(value)) return scalar(value);
  const [v, mask] = value as [unknown, unknown];
  const m = scalar(mask);
  if (FULL_MASKS.has(m)) return scalar(v);
  return `${applyMask(v, mask)}/${m}`;
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return v.toLowerCase();
  if (v instanceof Uint8Array) return hex(v);
  return String(v);
}

/** The value with its host bits cleared, so '10.0.1.5'/24 and '10.0.1.0'/24 are one match. */
function applyMask(v: unknown, mask: unknown): string {
  if (typeof v === 'number' && typeof mask === 'number') return String((v & mask) >>> 0);
  if (typeof v === 'bigint' && typeof mask === 'bigint') return String(v & mask);
  if (typeof v === 'string' && typeof mask === 'string') {
    const sep = v.includes(':') ? ':' : '.';
    const radix = sep === ':' ? 16 : 10;
    const vs = v.split(sep);
    const ms = mask.split(sep);
    return vs.map((p, i) => {
      const x = parseInt(p, radix) & parseInt(ms[i] ?? '0', radix);
      return radix === 16 ? x.toString(16).padStart(2, '0') : String(x);
    }).join(sep);
  }
  return scalar(v);
}

export function canonicalInstructions(instructions: readonly Instruction[]): string {
  let key = instructionKeys.get(instructions);
  if (key === undefined) instructionKeys.set(instructions, (key = instructions.map(canonicalInstruction).join(';')));
  return key;
}

function canonicalInstruction(i: Instruction): string {
  switch (i.type) {
    case 'GOTO_TABLE': return `goto:${i.tableId}`;
    case 'APPLY_ACTIONS': return `apply(${i.actions.map(canonicalAction).join(',')})`;
    case 'WRITE_ACTIONS': return `write(${i.actions.map(canonicalAction).join(',')})`;
    case 'CLEAR_ACTIONS': return 'clear';
    case 'WRITE_METADATA': return `meta:${i.metadata}/${i.mask}`;
    case 'METER': return `meter:${i.meterId}`;
    case 'EXPERIMENTER': return `exp:${i.experimenter}:${hex(i.data)}`;
    case 'UNKNOWN': return `unknown:${i.instructionType}:${hex(i.body)}`;
  }
}

function canonicalAction(a: Action): string {
  switch (a.type) {
    // max_len only means something for the controller port.
    case 'OUTPUT': return a.port === OFPP_CONTROLLER ? `out:${a.port}:${a.maxLen ?? OFPCML_NO_BUFFER}` : `out:${a.port}`;
    case 'SET_FIELD': return `set:${a.field}=${scalar(a.value)}`;
    case 'EXPERIMENTER': {
      const move = parseNxRegMove(a);
      return move === undefined ? `exp:${a.experimenter}:${hex(a.data)}` : `move:${move.src}[${move.srcOfs}+${move.nBits}]->${move.dst}[${move.dstOfs}]`;
    }
    default:
      return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? hex(v) : v));
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
