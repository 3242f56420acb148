import { expect } from 'chai';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../controller/log.js';
import {
  applyEvents, BindingStore, EMPTY_STATE, FileBindingRepository, JOURNAL_FILE,
  StoreCorruptError, type BindingEvent, type CompactionStep, type Locator,
} from '../../../controller/mobility/index.js';

const VM = { eid: '10.0.1.10', mac: '02:00:00:00:01:0a', homeSubnet: 'A', dpid: 1n, port: 3 };
const inB: Locator = { subnet: 'B', dpid: 2n, port: 3, address: '10.0.2.200' };
const inC: Locator = { subnet: 'C', dpid: 0xfedcba9876543210n, port: 7, address: '10.0.3.192' };

/** A realistic event sequence: learn two endpoints, move one A -> B -> C, remove the other. */
function history(): { events: BindingEvent[]; store: BindingStore } {
  const store = new BindingStore();
  const events = [
    store.add(VM, 100),
    store.add({ eid: '10.0.2.20', mac: '02:00:00:00:02:14', homeSubnet: 'B', dpid: 2n, port: 2 }, 110),
    store.move(VM.eid, inB, 200),
    store.move(VM.eid, inC, 300),
    store.remove('10.0.2.20', 400),
  ].filter((e): e is BindingEvent => e !== undefined);
  return { events, store };
}

describe('mobility/repository', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'seamless-repo-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('folds events into state, releasing locators a move or removal leaves behind', () => {
    const { events, store } = history();
    const state = applyEvents(EMPTY_STATE, events);
    expect(state.bindings).to.deep.equal(store.list());
    expect(state.nextBindingId).to.equal(3);
    expect(state.released).to.deep.equal([{ subnet: 'B', address: '10.0.2.200', releasedAt: 300 }]);
  });

  it('writes, reopens and compares (bigint dpids included)', async () => {
    const { events, store } = history();
    const repo = new FileBindingRepository({ dir });
    expect(await repo.load()).to.deep.equal(EMPTY_STATE);
    for (const e of events) repo.append(e);
    await repo.flush();
    await repo.close();
    const reopened = new FileBindingRepository({ dir });
    const state = await reopened.load();
    await reopened.close();
    expect(state.bindings).to.deep.equal(store.list());
    expect(state.bindings[0]!.locator.dpid).to.equal(0xfedcba9876543210n);
    expect(state.nextBindingId).to.equal(3);
  });

  it('is durable only after flush', async () => {
    const { events } = history();
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    repo.append(events[0]!);
    await repo.flush();
    repo.append(events[1]!); // never flushed
    await repo.close();
    const again = new FileBindingRepository({ dir });
    expect((await again.load()).bindings.map((b) => b.eid)).to.deep.equal([VM.eid]);
    await again.close();
  });

  it('drops a torn last line with a warning and appends cleanly after it', async () => {
    const { events } = history();
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    repo.append(events[0]!);
    repo.append(events[1]!);
    await repo.flush();
    await repo.close();
    const journal = join(dir, JOURNAL_FILE);
    const full = await readFile(journal, 'utf8');
    await appendFile(journal, full.split('\n')[1]!.slice(0, 37)); // a crash in the middle of a write
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', sink: (l) => lines.push(l) });
    const reopened = new FileBindingRepository({ dir, log });
    const state = await reopened.load();
    expect(state.bindings).to.have.length(2);
    expect(lines.join('\n')).to.match(/torn last record/);
    expect((await stat(journal)).size).to.equal(Buffer.byteLength(full));
    reopened.append(events[2]!);
    await reopened.flush();
    await reopened.close();
    const third = new FileBindingRepository({ dir });
    expect((await third.load()).bindings.find((b) => b.eid === VM.eid)?.locator).to.deep.equal(inB);
    await third.close();
  });

  it('refuses a journal corrupted before its last line', async () => {
    const { events } = history();
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    for (const e of events) repo.append(e);
    await repo.flush();
    await repo.close();
    const journal = join(dir, JOURNAL_FILE);
    const lines = (await readFile(journal, 'utf8')).split('\n');
    lines[2] = '{"garbage":';
    await writeFile(journal, lines.join('\n'));
    let error: unknown;
    try { await new FileBindingRepository({ dir }).load(); } catch (e) { error = e; }
    expect(error).to.be.instanceOf(StoreCorruptError);
    expect((error as Error).message).to.match(/line 3 \(seq 2\)/);
  });

  it('compacts into a snapshot, starts a new journal after it, and keeps appending', async () => {
    const { events, store } = history();
    const repo = new FileBindingRepository({ dir, compactAfterBytes: 600 });
    await repo.load();
    for (const e of events.slice(0, 4)) repo.append(e);
    await repo.flush();
    expect(repo.needsCompaction()).to.equal(true);
    await repo.compact(applyEvents(EMPTY_STATE, events.slice(0, 4)));
    expect(repo.needsCompaction()).to.equal(false);
    const journal = await readFile(join(dir, JOURNAL_FILE), 'utf8');
    expect(journal.split('\n')).to.have.length(2); // the header, then nothing
    expect(journal).to.match(/"follows":4,/);
    repo.append(events[4]!);
    await repo.flush();
    await repo.close();
    const reopened = new FileBindingRepository({ dir });
    const state = await reopened.load();
    await reopened.close();
    expect(state.bindings).to.deep.equal(store.list());
    expect(state.released).to.deep.equal([{ subnet: 'B', address: '10.0.2.200', releasedAt: 300 }]);
  });

  const steps: CompactionStep[] = ['journal-flush', 'snapshot-write', 'snapshot-rename', 'snapshot-dir-sync', 'journal-write', 'journal-rename', 'journal-dir-sync'];
  for (const step of steps) {
    it(`loads the right state after a crash before the compaction step ${step}`, async () => {
      const { events, store } = history();
      const first = new FileBindingRepository({ dir });
      await first.load();
      for (const e of events.slice(0, 2)) first.append(e);
      await first.flush();
      await first.close();
      // Records 3 and 4 are appended but not flushed when the compaction starts: it must write
      // them before the snapshot that covers them. Then the process "dies" at `step`.
      const crashing = new FileBindingRepository({ dir, beforeStep: (s) => { if (s === step) throw new Error(`crash before ${s}`); } });
      await crashing.load();
      for (const e of events.slice(2, 4)) crashing.append(e);
      const error = await crashing.compact(applyEvents(EMPTY_STATE, events.slice(0, 4))).then(() => undefined, (e: unknown) => e as Error);
      expect(error?.message).to.equal(`crash before ${step}`);
      await crashing.close(); // writes nothing more: the files are as the crash left them
      const after = new FileBindingRepository({ dir });
      const durable = step === 'journal-flush' ? 2 : 4; // the journal flush is the first step
      expect(await after.load()).to.deep.equal(applyEvents(EMPTY_STATE, events.slice(0, durable)));
      // The store goes on from there, and a later compaction completes.
      for (const e of events.slice(durable)) after.append(e);
      await after.flush();
      await after.compact(applyEvents(EMPTY_STATE, events));
      await after.close();
      const last = new FileBindingRepository({ dir });
      expect((await last.load()).bindings).to.deep.equal(store.list());
      await last.close();
    });
  }

  it('keeps appending after a compaction that failed half-way, and loads all of it', async () => {
    const { events, store } = history();
    let fail = true;
    const repo = new FileBindingRepository({ dir, beforeStep: (s) => { if (fail && s === 'journal-rename') throw new Error('disk full'); } });
    await repo.load();
    for (const e of events.slice(0, 3)) repo.append(e);
    const error = await repo.compact(applyEvents(EMPTY_STATE, events.slice(0, 3))).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).to.equal('disk full');
    fail = false;
    for (const e of events.slice(3)) repo.append(e);
    await repo.flush();
    await repo.close();
    const again = new FileBindingRepository({ dir });
    expect((await again.load()).bindings).to.deep.equal(store.list());
    await again.close();
  });

  it('numbers records after a reopen past the snapshot, so new events are not mistaken for covered ones', async () => {
    const { events, store } = history();
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    for (const e of events.slice(0, 4)) repo.append(e);
    await repo.flush();
    await repo.compact(applyEvents(EMPTY_STATE, events.slice(0, 4)));
    await repo.close();
    const second = new FileBindingRepository({ dir });
    await second.load();
    second.append(events[4]!);
    await second.flush();
    await second.close();
    const third = new FileBindingRepository({ dir });
    expect((await third.load()).bindings).to.deep.equal(store.list());
    await third.close();
  });

  it('serialises flushes and compactions in call order', async () => {
    const { events, store } = history();
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    repo.append(events[0]!);
    const f1 = repo.flush();
    repo.append(events[1]!);
    const c = repo.compact(applyEvents(EMPTY_STATE, events.slice(0, 2)));
    for (const e of events.slice(2)) repo.append(e);
    const f2 = repo.flush();
    await Promise.all([f1, c, f2]);
    await repo.close();
    const reopened = new FileBindingRepository({ dir });
    expect((await reopened.load()).bindings).to.deep.equal(store.list());
    await reopened.close();
  });
});

describe('mobility/file-repository: appends during a write', () => {
  it('keeps a record appended while a flush is writing, and writes it with the next flush (found by the e2e restart: a gap in the journal)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'seamless-append-race-'));
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    const flushes: Promise<void>[] = [];
    for (let i = 1; i <= 40; i++) {
      const eid = `10.0.1.${i + 20}`;
      const mac = `02:00:00:00:01:${(i + 20).toString(16).padStart(2, '0')}`;
      repo.append({ type: 'BINDING_ADDED', binding: { id: i, eid, mac, homeSubnet: 'A', locator: { subnet: 'A', dpid: 1n, port: i, address: eid }, version: 1, lastSeen: 0, createdAt: 0 }, at: i });
      flushes.push(repo.flush());
      await new Promise((resolve) => setImmediate(resolve)); // the write is in flight when the next record comes
    }
    await Promise.all(flushes);
    await repo.close();
    const again = new FileBindingRepository({ dir });
    try {
      expect((await again.load()).bindings).to.have.length(40);
    } finally {
      await again.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
