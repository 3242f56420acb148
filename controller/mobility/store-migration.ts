// Converting a state dir from the first format (v1: a JSON snapshot and JSON-lines journal, no
// checksums) to v2. Never automatic: v1 cannot be verified, so a silent conversion would give
// whatever damage it holds the checksums of a sound store. The operator runs it once and reads
// what it found; it checks what v1 allows (records consecutive and continuing the snapshot,
// every binding valid, the history consistent: the same BindingLedger as a v2 load) and
// refuses otherwise. The v1 files are kept, renamed *.v1-migrated.

import { access, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { BindingLedger, BindingStateError } from './binding-ledger.js';
import { bindingFromJson, eventFromJson, releasedFromJson } from './binding-json.js';
import { writeNewStore } from './file-repository.js';
import { StoreCorruptError, type PersistedState } from './repository.js';
import { JOURNAL_FILE, SNAPSHOT_FILE, V1_FILES } from './store-format.js';

export const V1_BACKUP_SUFFIX = '.v1-migrated';

export interface V1Store {
  readonly state: PersistedState;
  readonly lastSeq: number;
  readonly snapshotSeq: number;
  readonly records: number;
  /** A torn last journal line (dropped). */
  readonly tornLine?: number;
}

/** Reads and checks a v1 store; undefined when `dir` has none. The caller holds the dir's lock. */
export async function readV1Store(dir: string): Promise<V1Store | undefined> {
  const [snapshotPath, journalPath] = await Promise.all(V1_FILES.map((f) => v1Source(dir, f)));
  if (snapshotPath === undefined && journalPath === undefined) return undefined;
  let ledger = new BindingLedger();
  let snapshotSeq = 0;
  if (snapshotPath !== undefined) {
    const at = (what: string) => new StoreCorruptError(snapshotPath, what);
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(await readFile(snapshotPath, 'utf8')) as Record<string, unknown>;
    } catch {
      throw at('not JSON (cut or altered)');
    }
    if (o?.format !== 'seamless-bindings' || o.version !== 1 || !Number.isSafeInteger(o.lastSeq) || !Array.isArray(o.bindings) || !Array.isArray(o.released)) {
      throw at('not a v1 binding snapshot');
    }
    snapshotSeq = o.lastSeq as number;
    try {
      ledger = new BindingLedger(o.nextBindingId as number);
      o.bindings.forEach((b, i) => { try { ledger.addBinding(bindingFromJson(b)); } catch (e) { throw new Error(`binding ${i + 1}: ${(e as Error).message}`); } });
      for (const r of o.released) ledger.addReleased(releasedFromJson(r));
    } catch (error) {
      throw at((error as Error).message);
    }
  }
  let seq = snapshotSeq;
  let records = 0;
  let tornLine: number | undefined;
  if (journalPath !== undefined) {
    const lines = (await readFile(journalPath, 'utf8')).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      const last = i === lines.length - 1;
      if (last && line === '') break;
      const where = `${journalPath} line ${i + 1}`;
      let record: ReturnType<typeof eventFromJson>;
      try {
        record = eventFromJson(JSON.parse(line));
        if (last) throw new Error('unterminated');
      } catch (error) {
        if (last) { tornLine = i + 1; break; } // a crash during an append, as v1 itself tolerated
        throw new StoreCorruptError(where, (error as Error).message);
      }
      if (records === 0 && record.seq > snapshotSeq + 1) {
        throw new StoreCorruptError(where, `the journal starts at seq ${record.seq} but the snapshot covers only up to seq ${snapshotSeq}: records are missing (a deleted or older snapshot)`);
      }
      if (records > 0 && record.seq !== seq + 1) throw new StoreCorruptError(where, `seq ${record.seq} after seq ${seq}: a record is missing, repeated or out of order`);
      records++;
      seq = record.seq;
      if (record.seq <= snapshotSeq) continue;
      try {
        ledger.apply(record.event);
      } catch (error) {
        if (!(error instanceof BindingStateError)) throw error;
        throw new StoreCorruptError(where, `does not follow from the state before it: ${error.message}`);
      }
    }
  }
  return { state: ledger.state(), lastSeq: Math.max(seq, snapshotSeq), snapshotSeq, records, ...(tornLine === undefined ? {} : { tornLine }) };
}

/**
 * Writes the checked v1 state as a new v2 store, then renames the v1 files away. A crash at any
 * point leaves the v1 files in place (so the controller keeps refusing) or a finished store;
 * running it again starts over from the v1 files (or their backups, if it stopped half-way).
 */
export async function migrateV1Store(dir: string, v1: V1Store): Promise<void> {
  await writeNewStore(dir, v1.state, v1.lastSeq);
  for (const f of V1_FILES) {
    const path = join(dir, f);
    if (await exists(path)) await rename(path, `${path}${V1_BACKUP_SUFFIX}`);
  }
}

/** A v1 file, or its backup when an earlier migration stopped after renaming it. */
async function v1Source(dir: string, file: string): Promise<string | undefined> {
  const path = join(dir, file);
  if (await exists(path)) return path;
  const v2 = await Promise.all([SNAPSHOT_FILE, JOURNAL_FILE].map((f) => exists(join(dir, f))));
  const otherOriginals = await Promise.all(V1_FILES.map((f) => exists(join(dir, f))));
  // Only in a half-done migration (v2 written, some v1 original still there) is a backup a source.
  if (v2.every(Boolean) && otherOriginals.some(Boolean) && (await exists(`${path}${V1_BACKUP_SUFFIX}`))) return `${path}${V1_BACKUP_SUFFIX}`;
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
