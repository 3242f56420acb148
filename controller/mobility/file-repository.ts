// FileBindingRepository: an append-only JSON-lines journal fsync'd on flush, compacted into a
// snapshot written atomically (temp file, fsync, rename, fsync of the directory).
// Every journal record has a sequence number and the snapshot remembers the last one it
// covers, so a crash between the snapshot's rename and the journal's truncation replays nothing
// twice. A torn last line (a crash in the middle of a write) is dropped with a warning.

import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../log.js';
import type { BindingEvent } from './binding.js';
import {
  applyEvents, EMPTY_STATE, eventFromJson, eventToJson, stateFromJson, stateToJson,
  type BindingRepository, type PersistedState,
} from './repository.js';

export const SNAPSHOT_FILE = 'bindings.snapshot.json';
export const JOURNAL_FILE = 'bindings.journal.jsonl';

export class JournalCorruptError extends Error {
  override readonly name = 'JournalCorruptError';
}

export interface FileBindingRepositoryOptions {
  readonly dir: string;
  /** Journal size after which needsCompaction() says yes. Default 1 MiB. */
  readonly compactAfterBytes?: number;
  readonly log?: Logger;
}

export class FileBindingRepository implements BindingRepository {
  private readonly dir: string;
  private readonly compactAfterBytes: number;
  private readonly log: Logger;
  private journal: FileHandle | undefined;
  private journalBytes = 0;
  private seq = 0;
  private pending: string[] = [];
  /** File operations run one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(options: FileBindingRepositoryOptions) {
    this.dir = options.dir;
    this.compactAfterBytes = options.compactAfterBytes ?? 1 << 20;
    this.log = options.log ?? silentLogger;
  }

  get snapshotPath(): string { return join(this.dir, SNAPSHOT_FILE); }
  get journalPath(): string { return join(this.dir, JOURNAL_FILE); }

  async load(): Promise<PersistedState> {
    await mkdir(this.dir, { recursive: true });
    const snapshot = await this.readSnapshot();
    const { events, lastSeq, goodBytes } = await this.readJournal(snapshot.lastSeq);
    this.seq = lastSeq;
    await this.journal?.close();
    this.journal = await open(this.journalPath, 'a');
    const size = (await this.journal.stat()).size;
    if (size > goodBytes) {
      // Cut the torn tail so the next record starts on a line of its own.
      await this.journal.truncate(goodBytes);
      await this.journal.sync();
    }
    this.journalBytes = goodBytes;
    return applyEvents(snapshot.state, events);
  }

  append(event: BindingEvent): void {
    this.seq++;
    this.pending.push(JSON.stringify(eventToJson(event, this.seq)) + '\n');
  }

  flush(): Promise<void> {
    const text = this.pending.join('');
    this.pending = [];
    return this.enqueue(async () => {
      if (text === '') return;
      const fh = this.requireOpen();
      await fh.write(text);
      await fh.sync();
      this.journalBytes += Buffer.byteLength(text);
    });
  }

  compact(state: PersistedState): Promise<void> {
    const lastSeq = this.seq;
    this.pending = []; // covered by `state`
    return this.enqueue(async () => {
      const tmp = `${this.snapshotPath}.tmp`;
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(JSON.stringify(stateToJson(state, lastSeq)) + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.snapshotPath);
      await syncDir(this.dir);
      const journal = this.requireOpen();
      await journal.truncate(0);
      await journal.sync();
      this.journalBytes = 0;
    });
  }

  needsCompaction(): boolean {
    return this.journalBytes > this.compactAfterBytes;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.journal?.close();
    this.journal = undefined;
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

  private async readSnapshot(): Promise<{ state: PersistedState; lastSeq: number }> {
    const text = await readIfExists(this.snapshotPath);
    if (text === undefined) return { state: EMPTY_STATE, lastSeq: 0 };
    try {
      return stateFromJson(JSON.parse(text));
    } catch (error) {
      throw new JournalCorruptError(`${this.snapshotPath}: ${(error as Error).message}`);
    }
  }

  private async readJournal(afterSeq: number): Promise<{ events: BindingEvent[]; lastSeq: number; goodBytes: number }> {
    const text = (await readIfExists(this.journalPath)) ?? '';
    const lines = text.split('\n');
    const events: BindingEvent[] = [];
    let lastSeq = afterSeq;
    let goodBytes = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const complete = i < lines.length - 1;
      if (line === '' && !complete) break;
      const record = parseRecord(line);
      if (record === undefined || !complete) {
        if (i < lines.length - 2) throw new JournalCorruptError(`${this.journalPath}: unreadable record on line ${i + 1}`);
        this.log.warn('binding journal: dropping a torn last record', { file: this.journalPath, line: i + 1, bytes: Buffer.byteLength(line) });
        break;
      }
      goodBytes += Buffer.byteLength(line) + 1;
      if (record.seq <= afterSeq) continue; // already in the snapshot
      events.push(record.event);
      lastSeq = Math.max(lastSeq, record.seq);
    }
    return { events, lastSeq, goodBytes };
  }
}

function parseRecord(line: string): ReturnType<typeof eventFromJson> | undefined {
  try {
    return eventFromJson(JSON.parse(line));
  } catch {
    return undefined;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
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
