// Reads and verifies a state dir without changing it: the snapshot (checksum, counts, every
// binding valid and unique), the journal (header, consecutive seqs, the checksum chain, every
// event following from the state before it) and how the two fit together. Anything wrong is
// a StoreCorruptError naming the file and the line (and seq); only a torn last journal record
// (a crash in the middle of an append) is reported for the caller to cut. The file store loads
// through it and `store-cli verify` prints what it found.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { BindingLedger, BindingStateError } from './binding-ledger.js';
import { bindingFromJson, brief, eventFromJson, releasedFromJson } from './binding-json.js';
import { StoreCorruptError, type PersistedState } from './repository.js';
import {
  JOURNAL_FILE, journalHeaderFromJson, MAX_RECORD_BYTES, SNAPSHOT_FILE, snapshotHeaderFromJson, snapshotTrailerSum,
  unseal, V1_FILES, type JournalHeader, type SnapshotHeader,
} from './store-format.js';

/** The state dir holds a format this controller does not load (the first one, or a newer one). */
export class StoreFormatError extends Error {
  override readonly name = 'StoreFormatError';
}

export interface StoreImage {
  readonly storeId: string;
  readonly state: PersistedState;
  readonly snapshot: { readonly file: string; readonly lastSeq: number; readonly bindings: number; readonly released: number; readonly bytes: number };
  readonly journal: {
    readonly file: string;
    /** The journal is still under its temporary name (a crash while the store was created). */
    readonly fromTemp: boolean;
    readonly follows: number;
    readonly lastSeq: number;
    /** The chain value at lastSeq: the next record chains from it. */
    readonly head: string;
    readonly records: number;
    /** Records after the snapshot (the others were written before a compaction finished). */
    readonly applied: number;
    /** Bytes up to the end of the last whole record. */
    readonly goodBytes: number;
    /** An unterminated last line: a crash in the middle of an append. */
    readonly torn?: { readonly line: number; readonly bytes: number };
  };
}

/** The verified contents of `dir`, or undefined when it holds no binding store at all. */
export async function readStore(dir: string): Promise<StoreImage | undefined> {
  const v1 = await existing(V1_FILES.map((f) => join(dir, f)));
  if (v1.length > 0) {
    throw new StoreFormatError(`${v1.join(', ')}: a binding store in the first format (no checksums, so it cannot be verified). `
      + `Check and convert it with 'node dist/controller/store-cli.js migrate ${dir}' (the old files are kept), or move them away to start empty.`);
  }
  const snapshotPath = join(dir, SNAPSHOT_FILE);
  const journalPath = join(dir, JOURNAL_FILE);
  const [hasSnapshot, hasJournal, hasTemp] = await Promise.all([exists(snapshotPath), exists(journalPath), exists(`${journalPath}.tmp`)]);
  if (!hasSnapshot && !hasJournal) return undefined; // a temp file alone: a creation that never finished, nothing was stored
  if (!hasSnapshot) {
    const header = await readJournalHeader(journalPath).catch(() => undefined);
    const after = header === undefined ? '' : ` (the journal follows seq ${header.follows} of store ${header.store})`;
    throw new StoreCorruptError(snapshotPath, `missing${after}: the snapshot was deleted or lost, so the bindings it held cannot be restored from the journal alone`);
  }
  const snapshot = await readSnapshot(snapshotPath);
  let file = journalPath;
  if (!hasJournal) {
    const temp = hasTemp ? await readJournalHeader(`${journalPath}.tmp`).catch(() => undefined) : undefined;
    if (temp === undefined || temp.store !== snapshot.header.store || temp.follows !== snapshot.header.lastSeq || temp.head !== snapshot.header.head) {
      throw new StoreCorruptError(journalPath, `missing: the snapshot covers up to seq ${snapshot.header.lastSeq}, the records after it were deleted or lost`);
    }
    file = `${journalPath}.tmp`;
  }
  const journal = await readJournal(file, snapshot.header, snapshot.ledger, snapshotPath);
  return {
    storeId: snapshot.header.store,
    state: snapshot.ledger.state(),
    snapshot: { file: snapshotPath, lastSeq: snapshot.header.lastSeq, bindings: snapshot.header.bindings, released: snapshot.header.released, bytes: snapshot.bytes },
    journal: { ...journal, file, fromTemp: file !== journalPath },
  };
}

// ---- snapshot ----------------------------------------------------------------------------

async function readSnapshot(path: string): Promise<{ header: SnapshotHeader; ledger: BindingLedger; bytes: number }> {
  const hash = createHash('sha256');
  let header: SnapshotHeader | undefined;
  let ledger = new BindingLedger();
  let problem: { line: number; text: string } | undefined;
  let trailer: Line | undefined;
  let last: Line | undefined;
  for await (const batch of readLineBatches(path)) {
    for (const line of batch) {
      last = line;
      // The trailer is the last line and covers every byte before it; no other line starts so.
      if (line.text.startsWith(TRAILER_START)) { trailer ??= line; continue; }
      if (trailer !== undefined) problem ??= { line: line.number, text: 'a line after the checksum trailer' };
      hash.update(line.bytes);
      if (problem !== undefined) continue; // keep hashing: a checksum mismatch says more than the first bad line
      try {
        if (line.number === 1) {
          header = snapshotHeaderFromJson(parse(line));
          ledger = new BindingLedger(header.nextBindingId);
        } else if (header !== undefined && line.number <= 1 + header.bindings) {
          ledger.addBinding(bindingFromJson(parse(line)));
        } else if (header !== undefined && line.number <= 1 + header.bindings + header.released) {
          ledger.addReleased(releasedFromJson(parse(line)));
        }
      } catch (error) {
        problem = { line: line.number, text: (error as Error).message };
      }
    }
  }
  const at = (line: number | undefined): string => (line === undefined ? path : `${path} line ${line}`);
  if (last === undefined) throw new StoreCorruptError(path, 'empty');
  const sum = trailer?.terminated === true ? snapshotTrailerSum(tryParse(trailer.text)) : undefined;
  if (sum === undefined) throw new StoreCorruptError(at(last.number), `no checksum trailer: the snapshot is cut short${problem === undefined ? '' : ` (and line ${problem.line}: ${problem.text})`}`);
  if (hash.digest('hex') !== sum) throw new StoreCorruptError(path, `checksum mismatch: the snapshot was altered or damaged${problem === undefined ? '' : ` (first bad line ${problem.line}: ${problem.text})`}`);
  if (problem !== undefined) throw new StoreCorruptError(at(problem.line), problem.text);
  if (header === undefined) throw new StoreCorruptError(path, 'no header');
  const lines = header.bindings + header.released + 2;
  if (last.number !== lines) throw new StoreCorruptError(path, `${last.number} lines, the header announces ${header.bindings} bindings and ${header.released} released addresses (${lines} lines)`);
  return { header, ledger, bytes: last.end };
}

const TRAILER_START = '{"sha256":';

// ---- journal -----------------------------------------------------------------------------

async function readJournalHeader(path: string): Promise<JournalHeader> {
  for await (const line of readLines(path)) return headerOf(line, path);
  throw new StoreCorruptError(path, 'empty: no header');
}

function headerOf(line: Line, path: string): JournalHeader {
  if (!line.terminated) throw new StoreCorruptError(`${path} line 1`, 'the header is cut short');
  const opened = unseal(line.text);
  if ('problem' in opened) throw new StoreCorruptError(`${path} line 1`, `header: ${opened.problem}`);
  try {
    return journalHeaderFromJson(JSON.parse(opened.json));
  } catch (error) {
    throw new StoreCorruptError(`${path} line 1`, (error as Error).message);
  }
}

async function readJournal(path: string, snapshot: SnapshotHeader, ledger: BindingLedger, snapshotPath: string): Promise<Omit<StoreImage['journal'], 'file' | 'fromTemp'>> {
  let header: JournalHeader | undefined;
  let chain = '';
  let seq = 0;
  let applied = 0;
  let goodBytes = 0;
  let torn: { line: number; bytes: number } | undefined;
  for await (const batch of readLineBatches(path)) for (const line of batch) {
    if (header === undefined) {
      header = headerOf(line, path);
      checkFits(header, snapshot, path, snapshotPath);
      chain = header.head;
      seq = header.follows;
      goodBytes = line.end;
      continue;
    }
    if (!line.terminated) {
      torn = { line: line.number, bytes: line.end - line.start };
      break;
    }
    const expected = seq + 1;
    const where = `${path} line ${line.number} (seq ${expected})`;
    const raw = tryParse(line.text) as { seq?: unknown } | undefined;
    if (raw === undefined) throw new StoreCorruptError(where, 'not a JSON record (cut or altered)');
    if (raw.seq !== expected) throw new StoreCorruptError(where, `record has seq ${brief(raw.seq)}: a record is missing, repeated or out of order`);
    const opened = unseal(line.text, chain);
    if ('problem' in opened) throw new StoreCorruptError(where, opened.problem);
    try {
      const { event } = eventFromJson(raw);
      if (expected > snapshot.lastSeq) {
        ledger.apply(event);
        applied++;
      }
    } catch (error) {
      const what = error instanceof BindingStateError ? 'does not follow from the state before it' : 'invalid';
      throw new StoreCorruptError(where, `${what}: ${(error as Error).message}`);
    }
    if (expected === snapshot.lastSeq && opened.sum !== snapshot.head) {
      throw new StoreCorruptError(snapshotPath, `does not belong to this journal: it covers seq ${expected}, whose checksum in ${path} line ${line.number} differs (a snapshot from another history)`);
    }
    chain = opened.sum;
    seq = expected;
    goodBytes = line.end;
  }
  if (header === undefined) throw new StoreCorruptError(path, 'empty: no header');
  if (seq < snapshot.lastSeq) {
    throw new StoreCorruptError(snapshotPath, `covers up to seq ${snapshot.lastSeq}, but the journal ends at seq ${seq}: the snapshot is from another history, or the journal lost records`);
  }
  return { follows: header.follows, lastSeq: seq, head: chain, records: seq - header.follows, applied, goodBytes, ...(torn === undefined ? {} : { torn }) };
}

/** A journal continues exactly the snapshot, or starts before it (a compaction that stopped half-way). */
function checkFits(journal: JournalHeader, snapshot: SnapshotHeader, path: string, snapshotPath: string): void {
  if (journal.store !== snapshot.store) {
    throw new StoreCorruptError(snapshotPath, `belongs to store ${snapshot.store}, the journal ${path} to store ${journal.store}`);
  }
  if (journal.follows > snapshot.lastSeq) {
    throw new StoreCorruptError(snapshotPath, `covers up to seq ${snapshot.lastSeq}, but the journal starts after seq ${journal.follows}: the snapshot is older than the journal (replaced or restored from a backup); records ${snapshot.lastSeq + 1}..${journal.follows} are missing`);
  }
  if (journal.follows === snapshot.lastSeq && journal.head !== snapshot.head) {
    throw new StoreCorruptError(snapshotPath, `does not belong to this journal: both are at seq ${snapshot.lastSeq} but their checksums differ (a snapshot from another history)`);
  }
}

// ---- lines -------------------------------------------------------------------------------

interface Line {
  readonly text: string;
  readonly bytes: Buffer;
  /** 1-based. */
  readonly number: number;
  /** Byte offsets: where the line starts, and where the next one does. */
  readonly start: number;
  readonly end: number;
  /** Ends with '\n' (false only for the last line). */
  readonly terminated: boolean;
}

/**
 * The lines of a file, streamed with their byte offsets, a chunk's worth at a time (one await per
 * megabyte, not per line); a line past MAX_RECORD_BYTES is damage.
 */
async function* readLines(path: string): AsyncGenerator<Line> {
  for await (const batch of readLineBatches(path)) yield* batch;
}

async function* readLineBatches(path: string): AsyncGenerator<Line[]> {
  let carry = Buffer.alloc(0);
  let offset = 0;
  let number = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    const batch: Line[] = [];
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl !== -1; nl = buf.indexOf(10, from)) {
      number++;
      if (nl + 1 - from > MAX_RECORD_BYTES) throw new StoreCorruptError(`${path} line ${number}`, `longer than ${MAX_RECORD_BYTES} bytes`);
      batch.push({ text: buf.toString('utf8', from, nl), bytes: buf.subarray(from, nl + 1), number, start: offset + from, end: offset + nl + 1, terminated: true });
      from = nl + 1;
    }
    yield batch;
    offset += from;
    carry = Buffer.from(buf.subarray(from));
    if (carry.length > MAX_RECORD_BYTES) throw new StoreCorruptError(`${path} line ${number + 1}`, `longer than ${MAX_RECORD_BYTES} bytes`);
  }
  if (carry.length > 0) yield [{ text: carry.toString('utf8'), bytes: carry, number: number + 1, start: offset, end: offset + carry.length, terminated: false }];
}

function parse(line: Line): unknown {
  if (!line.terminated) throw new TypeError('cut short');
  try {
    return JSON.parse(line.text);
  } catch {
    throw new TypeError('not JSON (cut or altered)');
  }
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function existing(paths: string[]): Promise<string[]> {
  const found = await Promise.all(paths.map(exists));
  return paths.filter((_, i) => found[i]);
}
