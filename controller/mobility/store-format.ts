// The file store's on-disk format, version 2: JSON lines, every byte covered by a SHA-256.
//
//   bindings.v2.snapshot.jsonl   header {format, version, store, lastSeq, head, nextBindingId, bindings: n, released: m}
//                                n binding lines, m released-address lines,
//                                trailer {"sha256": SHA-256 of every byte before the trailer}
//   bindings.v2.journal.jsonl    header {format, version, store, follows, head, sha256}
//                                records {seq, type, at, binding, previous?, sha256}, seq = follows+1, +2, ...
//
// A journal record's sha256 is SHA-256(previous sum ‖ the record's line without its sha256
// member): the sums form a chain, so a record that is changed, dropped, duplicated or moved
// breaks it where it happened. The chain starts at the journal header's `head`. A snapshot
// names the last record it covers (`lastSeq`) and that record's sum (`head`), so a snapshot
// fits exactly one history: a missing, older or foreign snapshot does not match the journal.
// `store` is a random id given to a state dir when it is created, in both files.
// SHA-256 rather than CRC32C: node:crypto has it (no dependency), it is as fast as we need
// (~0.1 s for a 100k-binding snapshot) and an operator can recompute it with standard tools.

import { createHash, randomBytes } from 'node:crypto';
import type { PersistedState } from './repository.js';
import { bindingToJson } from './binding-json.js';

export const FORMAT_VERSION = 2;
export const SNAPSHOT_FILE = 'bindings.v2.snapshot.jsonl';
export const JOURNAL_FILE = 'bindings.v2.journal.jsonl';
/** The first format's files (no checksums): refused, never read as state (see docs/security.md). */
export const V1_FILES = ['bindings.snapshot.json', 'bindings.journal.jsonl'] as const;
/** No record comes near this (a move is ~0.6 KB); a longer line is damage, not data. */
export const MAX_RECORD_BYTES = 64 * 1024;

const SNAPSHOT_FORMAT = 'seamless-bindings-snapshot';
const JOURNAL_FORMAT = 'seamless-bindings-journal';
const HEX64 = /^[0-9a-f]{64}$/;
const SEAL = /,"sha256":"([0-9a-f]{64})"\}$/;

export function newStoreId(): string {
  return randomBytes(16).toString('hex');
}

/** Where the chain of a new store starts. */
export function genesisHead(storeId: string): string {
  return createHash('sha256').update(`seamless-bindings ${storeId}`).digest('hex');
}

/** Adds the checksum member to a JSON object text (chained to `chain` when given). */
export function seal(json: string, chain?: string): { line: string; sum: string } {
  if (!json.endsWith('}') || json === '{}') throw new TypeError('seal: not a non-empty JSON object');
  const sum = checksum(json, chain);
  return { line: `${json.slice(0, -1)},"sha256":"${sum}"}`, sum };
}

/** The JSON object text without its checksum member, if the checksum holds. */
export function unseal(line: string, chain?: string): { json: string; sum: string } | { problem: string } {
  const m = SEAL.exec(line);
  if (m === null) return { problem: 'no checksum (the line is cut or altered)' };
  const json = `${line.slice(0, m.index)}}`;
  const sum = m[1] as string;
  if (checksum(json, chain) !== sum) return { problem: 'checksum mismatch (the record was altered, or is out of place)' };
  return { json, sum };
}

function checksum(json: string, chain: string | undefined): string {
  const hash = createHash('sha256');
  if (chain !== undefined) hash.update(Buffer.from(chain, 'hex'));
  return hash.update(json).digest('hex');
}

// ---- journal header ----------------------------------------------------------------------

export interface JournalHeader {
  readonly store: string;
  /** The last seq before this journal's first record. */
  readonly follows: number;
  /** The chain value at `follows` (the first record's sum chains from it). */
  readonly head: string;
}

export function journalHeaderLine(h: JournalHeader): string {
  return seal(JSON.stringify({ format: JOURNAL_FORMAT, version: FORMAT_VERSION, store: h.store, follows: h.follows, head: h.head })).line;
}

export function journalHeaderFromJson(raw: unknown): JournalHeader {
  const o = raw as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || o.format !== JOURNAL_FORMAT) throw new TypeError('not a binding journal header');
  if (o.version !== FORMAT_VERSION) throw new TypeError(`journal format version ${String(o.version)}, this controller reads ${FORMAT_VERSION}`);
  if (!isStoreId(o.store) || !Number.isSafeInteger(o.follows) || (o.follows as number) < 0 || !isHex64(o.head)) {
    throw new TypeError('journal header lacks store, follows or head');
  }
  return { store: o.store, follows: o.follows as number, head: o.head };
}

// ---- snapshot ----------------------------------------------------------------------------

export interface SnapshotHeader {
  readonly store: string;
  readonly lastSeq: number;
  readonly head: string;
  readonly nextBindingId: number;
  readonly bindings: number;
  readonly released: number;
}

/** The whole snapshot file, trailer included. */
export function encodeSnapshot(h: Omit<SnapshotHeader, 'nextBindingId' | 'bindings' | 'released'>, state: PersistedState): string {
  const lines = [JSON.stringify({
    format: SNAPSHOT_FORMAT, version: FORMAT_VERSION, store: h.store, lastSeq: h.lastSeq, head: h.head,
    nextBindingId: state.nextBindingId, bindings: state.bindings.length, released: state.released.length,
  })];
  for (const b of state.bindings) lines.push(JSON.stringify(bindingToJson(b)));
  for (const r of state.released) lines.push(JSON.stringify({ subnet: r.subnet, address: r.address, releasedAt: r.releasedAt }));
  const body = lines.join('\n') + '\n';
  return `${body}${JSON.stringify({ sha256: createHash('sha256').update(body).digest('hex') })}\n`;
}

export function snapshotHeaderFromJson(raw: unknown): SnapshotHeader {
  const o = raw as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || o.format !== SNAPSHOT_FORMAT) throw new TypeError('not a binding snapshot header');
  if (o.version !== FORMAT_VERSION) throw new TypeError(`snapshot format version ${String(o.version)}, this controller reads ${FORMAT_VERSION}`);
  const counts = [o.lastSeq, o.bindings, o.released].every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
  if (!isStoreId(o.store) || !isHex64(o.head) || !counts || !Number.isSafeInteger(o.nextBindingId) || (o.nextBindingId as number) < 1) {
    throw new TypeError('snapshot header lacks store, lastSeq, head, nextBindingId or counts');
  }
  return {
    store: o.store, lastSeq: o.lastSeq as number, head: o.head, nextBindingId: o.nextBindingId as number,
    bindings: o.bindings as number, released: o.released as number,
  };
}

/** The trailer's sum, or undefined when the line is not a trailer. */
export function snapshotTrailerSum(raw: unknown): string | undefined {
  const o = raw as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || Object.keys(o).length !== 1 || !isHex64(o.sha256)) return undefined;
  return o.sha256;
}

function isHex64(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

function isStoreId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value);
}
