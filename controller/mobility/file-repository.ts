// FileBindingRepository: the binding store of one process, in a state dir (format in
// store-format.ts). load() locks the dir before reading anything, then verifies every byte
// (store-reader.ts); a torn last record is cut with a warning, anything else is refused.
// Events are journaled as checksummed, chained JSON lines, fsync'd on flush; a compaction
// writes a snapshot atomically and starts a new journal after it:
//   journal-flush     records up to the snapshot's seq are written and fsync'd first
//   snapshot-write    temp file, fsync
//   snapshot-rename   over the old snapshot (a crash from here on: the old journal still
//   snapshot-dir-sync holds the snapshot's last record, so the pair still verifies)
//   journal-write     the new journal (a header following the snapshot) in a temp file, fsync
//   journal-rename    over the old journal
//   journal-dir-sync
// A crash between any two steps leaves a state dir that loads to the same bindings.

import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../log.js';
import type { BindingEvent } from './binding.js';
import { eventToJson } from './binding-json.js';
import type { BindingRepository, PersistedState } from './repository.js';
import { EMPTY_STATE } from './repository.js';
import { StateDirLock } from './state-dir-lock.js';
import { encodeSnapshot, genesisHead, JOURNAL_FILE, journalHeaderLine, newStoreId, seal, SNAPSHOT_FILE } from './store-format.js';
import { readStore } from './store-reader.js';

export type CompactionStep =
  | 'journal-flush' | 'snapshot-write' | 'snapshot-rename' | 'snapshot-dir-sync'
  | 'journal-write' | 'journal-rename' | 'journal-dir-sync';

export interface FileBindingRepositoryOptions {
  readonly dir: string;
  /** Journal size after which needsCompaction() says yes. Default 1 MiB. */
  readonly compactAfterBytes?: number;
  readonly log?: Logger;
  /** Called before each step of a compaction (tests throw here to stop it as a crash would). */
  readonly beforeStep?: (step: CompactionStep) => void;
}

interface PendingRecord {
  readonly seq: number;
  readonly text: string;
}

export class FileBindingRepository implements BindingRepository {
  private readonly dir: string;
  private readonly compactAfterBytes: number;
  private readonly log: Logger;
  private readonly beforeStep: (step: CompactionStep) => void;
  private lock: StateDirLock | undefined;
  private journal: FileHandle | undefined;
  private storeId = '';
  private journalBytes = 0;
  /** The last appended record and its chain value (the next record chains from it). */
  private seq = 0;
  private head = '';
  private pending: PendingRecord[] = [];
  /** Set when a failed write could not be undone: the journal's end is unknown. */
  private broken: Error | undefined;
  /** File operations run one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(options: FileBindingRepositoryOptions) {
    this.dir = options.dir;
    this.compactAfterBytes = options.compactAfterBytes ?? 1 << 20;
    this.log = options.log ?? silentLogger;
    this.beforeStep = options.beforeStep ?? (() => undefined);
  }

  get snapshotPath(): string { return join(this.dir, SNAPSHOT_FILE); }
  get journalPath(): string { return join(this.dir, JOURNAL_FILE); }

  async load(): Promise<PersistedState> {
    if (this.lock !== undefined) throw new Error('FileBindingRepository: already loaded');
    await mkdir(this.dir, { recursive: true });
    this.lock = await StateDirLock.acquire(this.dir, this.log);
    try {
      return await this.open();
    } catch (error) {
      await this.journal?.close().catch(() => undefined);
      this.journal = undefined;
      await this.lock.release();
      this.lock = undefined;
      throw error;
    }
  }

  append(event: BindingEvent): void {
    this.seq++;
    const { line, sum } = seal(JSON.stringify(eventToJson(event, this.seq)), this.head);
    this.head = sum;
    this.pending.push({ seq: this.seq, text: `${line}\n` });
  }

  flush(): Promise<void> {
    // Only what was appended before this call: a record appended later may belong after a
    // compaction queued in between, in the journal that compaction starts.
    const upTo = this.seq;
    return this.enqueue(() => this.writePending(upTo));
  }

  compact(state: PersistedState): Promise<void> {
    const lastSeq = this.seq;
    const head = this.head;
    return this.enqueue(async () => {
      this.beforeStep('journal-flush');
      await this.writePending(lastSeq);
      this.beforeStep('snapshot-write');
      await writeSynced(`${this.snapshotPath}.tmp`, encodeSnapshot({ store: this.storeId, lastSeq, head }, state));
      this.beforeStep('snapshot-rename');
      await rename(`${this.snapshotPath}.tmp`, this.snapshotPath);
      this.beforeStep('snapshot-dir-sync');
      await syncDir(this.dir);
      await this.startJournal(lastSeq, head);
    });
  }

  needsCompaction(): boolean {
    return this.journalBytes > this.compactAfterBytes;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.journal?.close();
    this.journal = undefined;
    await this.lock?.release();
    this.lock = undefined;
  }

  private async open(): Promise<PersistedState> {
    let image = await readStore(this.dir);
    if (image === undefined) {
      await this.create();
      image = await readStore(this.dir);
      if (image === undefined) throw new Error(`${this.dir}: the new binding store vanished`);
    }
    const { journal } = image;
    if (journal.fromTemp) { // a creation that stopped before its last rename: finish it
      await rename(journal.file, this.journalPath);
      await syncDir(this.dir);
    }
    await this.removeTemp(`${this.snapshotPath}.tmp`);
    await this.removeTemp(`${this.journalPath}.tmp`);
    this.journal = await open(this.journalPath, 'r+');
    if (journal.torn !== undefined) {
      // Cut the torn tail so the next record starts on a line of its own.
      this.log.warn('binding journal: dropping a torn last record (a crash during an append)', { file: this.journalPath, line: journal.torn.line, bytes: journal.torn.bytes });
      await this.journal.truncate(journal.goodBytes);
      await this.journal.sync();
    }
    this.storeId = image.storeId;
    this.seq = journal.lastSeq;
    this.head = journal.head;
    this.journalBytes = journal.goodBytes;
    this.log.info('binding store verified', {
      dir: this.dir, bindings: image.state.bindings.length, snapshotSeq: image.snapshot.lastSeq,
      journalRecords: journal.records, lastSeq: journal.lastSeq,
    });
    return image.state;
  }

  private async create(): Promise<void> {
    const store = await writeNewStore(this.dir, EMPTY_STATE, 0);
    this.log.info('binding store created', { dir: this.dir, store });
  }

  /** Replaces the journal by an empty one that follows `lastSeq` (the snapshot just written). */
  private async startJournal(lastSeq: number, head: string): Promise<void> {
    const temp = `${this.journalPath}.tmp`;
    this.beforeStep('journal-write');
    const header = `${journalHeaderLine({ store: this.storeId, follows: lastSeq, head })}\n`;
    const fh = await open(temp, 'w+');
    try {
      await fh.write(header);
      await fh.sync();
      this.beforeStep('journal-rename');
      await rename(temp, this.journalPath);
    } catch (error) {
      await fh.close();
      throw error;
    }
    // From the rename on, the new file is the journal: later records go there whatever follows.
    await this.journal?.close().catch(() => undefined);
    this.journal = fh;
    this.journalBytes = Buffer.byteLength(header);
    this.beforeStep('journal-dir-sync');
    await syncDir(this.dir);
  }

  /** Writes the pending records up to `upTo` and fsyncs; on failure they stay pending. */
  private async writePending(upTo: number): Promise<void> {
    if (this.broken !== undefined) throw new Error(`binding journal unusable since a failed write (${this.broken.message}); restart the controller to recover`);
    const count = this.pending.findIndex((r) => r.seq > upTo);
    // A copy: records appended while this write is in flight must stay pending, not be counted as written.
    const batch = this.pending.slice(0, count === -1 ? this.pending.length : count);
    if (batch.length === 0) return;
    const fh = this.requireOpen();
    const text = batch.map((r) => r.text).join('');
    try {
      await fh.write(text, this.journalBytes);
      await fh.sync();
    } catch (error) {
      // Undo a partial write so the retry starts on a clean line.
      await fh.truncate(this.journalBytes).catch((undo: unknown) => { this.broken = undo as Error; });
      throw error;
    }
    this.pending = this.pending.slice(batch.length);
    this.journalBytes += Buffer.byteLength(text);
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private requireOpen(): FileHandle {
    if (this.journal === undefined) throw new Error('FileBindingRepository: load() first');
    return this.journal;
  }

  private async removeTemp(path: string): Promise<void> {
    await unlink(path).catch((error: NodeJS.ErrnoException) => { if (error.code !== 'ENOENT') throw error; });
  }
}

/**
 * Writes a new store holding `state` as of `lastSeq` (0 for an empty one; a migration carries
 * its old numbering on): the journal's temp file, then the snapshot, then the journal's rename.
 * A crash before the snapshot's rename leaves no store; after it, load() finishes the rename.
 * Returns the new store's id.
 */
export async function writeNewStore(dir: string, state: PersistedState, lastSeq: number): Promise<string> {
  const store = newStoreId();
  const head = genesisHead(store);
  const snapshotPath = join(dir, SNAPSHOT_FILE);
  const journalPath = join(dir, JOURNAL_FILE);
  await writeSynced(`${journalPath}.tmp`, `${journalHeaderLine({ store, follows: lastSeq, head })}\n`);
  await writeSynced(`${snapshotPath}.tmp`, encodeSnapshot({ store, lastSeq, head }, state));
  await rename(`${snapshotPath}.tmp`, snapshotPath);
  await syncDir(dir);
  await rename(`${journalPath}.tmp`, journalPath);
  await syncDir(dir);
  return store;
}

async function writeSynced(path: string, text: string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
