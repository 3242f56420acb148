import { expect } from 'chai';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../controller/log.js';
import {
  applyEvents, BindingStore, EMPTY_STATE, FileBindingRepository, JOURNAL_FILE, JournalCorruptError, SNAPSHOT_FILE,
  stateToJson, type BindingEvent, type Locator, type PersistedState,
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
    await appendFile(journal, full.split('\n')[0]!.slice(0, 37)); // a crash in the middle of a write
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
    lines[1] = '{"garbage":';
    await writeFile(journal, lines.join('\n'));
    let error: unknown;
    try { await new FileBindingRepository({ dir }).load(); } catch (e) { error = e; }
    expect(error).to.be.instanceOf(JournalCorruptError);
    expect((error as Error).message).to.match(/line 2/);
  });

  it('compacts into a snapshot, empties the journal, and keeps appending after it', async () => {
    const { events, store } = history();
    const repo = new FileBindingRepository({ dir, compactAfterBytes: 100 });
    await repo.load();
    for (const e of events.slice(0, 4)) repo.append(e);
    await repo.flush();
    expect(repo.needsCompaction()).to.equal(true);
    const mid = applyEvents(EMPTY_STATE, events.slice(0, 4));
    await repo.compact(mid);
    expect(repo.needsCompaction()).to.equal(false);
    expect((await stat(join(dir, JOURNAL_FILE))).size).to.equal(0);
    repo.append(events[4]!);
    await repo.flush();
    await repo.close();
    const reopened = new FileBindingRepository({ dir });
    const state = await reopened.load();
    await reopened.close();
    expect(state.bindings).to.deep.equal(store.list());
    expect(state.released).to.deep.equal([{ subnet: 'B', address: '10.0.2.200', releasedAt: 300 }]);
  });

  it('replays nothing twice after a crash between the snapshot and the journal truncation', async () => {
    const { events, store } = history();
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    for (const e of events) repo.append(e);
    await repo.flush();
    await repo.close();
    // The snapshot covering seq 1..3 landed, the journal (seq 1..5) was not truncated yet.
    const covered: PersistedState = applyEvents(EMPTY_STATE, events.slice(0, 3));
    await writeFile(join(dir, SNAPSHOT_FILE), JSON.stringify(stateToJson(covered, 3)));
    const reopened = new FileBindingRepository({ dir });
    const state = await reopened.load();
    await reopened.close();
    expect(state.bindings).to.deep.equal(store.list());
    expect(state.bindings.find((b) => b.eid === VM.eid)?.version).to.equal(3);
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
