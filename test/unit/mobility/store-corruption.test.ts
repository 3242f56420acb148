// The store-corruption cases of issue 9: each damages a real state dir the way an operator, a
// disk or a bad restore would, and expects load() to refuse it naming the file and the line.
// Written against the repository's public surface only, so the same file shows the old store
// loading these silently.

import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, unlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyEvents, BindingStore, EMPTY_STATE, FileBindingRepository, JOURNAL_FILE, SNAPSHOT_FILE, type BindingEvent,
} from '../../../controller/mobility/index.js';

/** Learn four endpoints, move two of them (one twice), remove one: 9 events. */
function history(): BindingEvent[] {
  const store = new BindingStore();
  const add = (i: number, subnet: string) => store.add({ eid: `10.0.${subnet === 'A' ? 1 : 2}.${10 + i}`, mac: `02:00:00:00:0${i}:0a`, homeSubnet: subnet, dpid: BigInt(i), port: 3 }, 100 + i);
  return [
    add(1, 'A'), add(2, 'A'), add(3, 'B'), add(4, 'B'),
    store.move('10.0.1.11', { subnet: 'B', dpid: 2n, port: 4, address: '10.0.2.200' }, 200),
    store.move('10.0.1.12', { subnet: 'B', dpid: 2n, port: 5, address: '10.0.2.201' }, 210),
    store.move('10.0.1.11', { subnet: 'C', dpid: 3n, port: 4, address: '10.0.3.200' }, 220),
    store.remove('10.0.2.13', 230),
    add(5, 'A'),
  ].filter((e): e is BindingEvent => e !== undefined);
}

async function writeStore(dir: string, events: BindingEvent[], compactAfter?: number): Promise<void> {
  const repo = new FileBindingRepository({ dir });
  await repo.load();
  events.forEach((e, i) => {
    repo.append(e);
    if (i + 1 === compactAfter) repo.compact(applyEvents(EMPTY_STATE, events.slice(0, compactAfter))).catch(() => undefined); // its failure shows in the load below
  });
  await repo.flush();
  await repo.close();
}

async function loadError(dir: string): Promise<Error | undefined> {
  const repo = new FileBindingRepository({ dir });
  try {
    await repo.load();
  } catch (error) {
    return error as Error;
  } finally {
    await repo.close();
  }
  return undefined;
}

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n');
}

/** The 1-based line of the journal record with this seq. */
function recordLine(all: string[], seq: number): number {
  const i = all.findIndex((l) => l.startsWith(`{"seq":${seq},`));
  if (i < 0) throw new Error(`no record ${seq}`);
  return i + 1;
}

async function editLine(path: string, seq: number, edit: (line: string) => string): Promise<number> {
  const all = await lines(path);
  const n = recordLine(all, seq);
  all[n - 1] = edit(all[n - 1] as string);
  await writeFile(path, all.join('\n'));
  return n;
}

describe('mobility/store corruption (issue 9, row 9)', () => {
  let dir: string;
  let journal: string;
  let snapshot: string;
  const events = history();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seamless-corrupt-'));
    journal = join(dir, JOURNAL_FILE);
    snapshot = join(dir, SNAPSHOT_FILE);
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  function expectRefused(error: Error | undefined, file: string, line?: number): void {
    expect(error, 'load() must refuse the damaged store').to.be.instanceOf(Error);
    expect(error?.name).to.equal('StoreCorruptError');
    expect(error?.message).to.include(file);
    if (line !== undefined) expect(error?.message).to.include(`line ${line}`);
  }

  it('loads the undamaged store (the baseline every case departs from)', async () => {
    await writeStore(dir, events, 5);
    const repo = new FileBindingRepository({ dir });
    const state = await repo.load();
    await repo.close();
    expect(state).to.deep.equal(applyEvents(EMPTY_STATE, events));
  });

  it('refuses a deleted snapshot (the journal alone would lose the bindings it held)', async () => {
    await writeStore(dir, events, 5);
    await unlink(snapshot);
    expectRefused(await loadError(dir), snapshot);
  });

  it('refuses a flipped digit in a sequence number', async () => {
    await writeStore(dir, events);
    const line = await editLine(journal, 4, (l) => l.replace('"seq":4,', '"seq":7,'));
    expectRefused(await loadError(dir), journal, line);
  });

  it('refuses a flipped digit in a MAC (still a valid MAC)', async () => {
    await writeStore(dir, events);
    const line = await editLine(journal, 3, (l) => l.replace('02:00:00:00:03:0a', '02:00:00:00:08:0a'));
    expectRefused(await loadError(dir), journal, line);
  });

  it('refuses a flipped digit in an IP address (still a valid address)', async () => {
    await writeStore(dir, events);
    const line = await editLine(journal, 5, (l) => l.replaceAll('10.0.2.200', '10.0.2.209'));
    expectRefused(await loadError(dir), journal, line);
  });

  it('refuses a duplicate EID (a second BINDING_ADDED for a bound address)', async () => {
    await writeStore(dir, events);
    const all = await lines(journal);
    const first = all[recordLine(all, 1) - 1] as string;
    const copy = first.replace('"seq":1,', `"seq":${events.length + 1},`).replace('"id":1,', '"id":9,').replace('02:00:00:00:01:0a', '02:00:00:00:09:0a');
    all.splice(all.length - 1, 0, copy);
    await writeFile(journal, all.join('\n'));
    expectRefused(await loadError(dir), journal, all.length - 1);
  });

  it('refuses a truncated middle record', async () => {
    await writeStore(dir, events);
    const line = await editLine(journal, 4, (l) => l.slice(0, Math.floor(l.length / 2)));
    expectRefused(await loadError(dir), journal, line);
  });

  it('refuses swapped records', async () => {
    await writeStore(dir, events);
    const all = await lines(journal);
    const a = recordLine(all, 5);
    [all[a - 1], all[a]] = [all[a] as string, all[a - 1] as string];
    await writeFile(journal, all.join('\n'));
    expectRefused(await loadError(dir), journal, a);
  });

  it('refuses a deleted middle record', async () => {
    await writeStore(dir, events);
    const all = await lines(journal);
    const n = recordLine(all, 6);
    all.splice(n - 1, 1);
    await writeFile(journal, all.join('\n'));
    expectRefused(await loadError(dir), journal, n);
  });

  it('refuses a snapshot from another state dir with the same history length', async () => {
    await writeStore(dir, events, 5);
    const other = await mkdtemp(join(tmpdir(), 'seamless-other-'));
    try {
      await writeStore(other, [...events.slice(0, 4), events[7]!, events[8]!].slice(0, 5), 5);
      await copyFile(join(other, SNAPSHOT_FILE), snapshot);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    expectRefused(await loadError(dir), snapshot);
  });

  it('refuses an older snapshot put back over a newer one', async () => {
    await writeStore(dir, events.slice(0, 5), 3);
    const older = await readFile(snapshot);
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    for (const e of events.slice(5)) repo.append(e);
    await repo.compact(applyEvents(EMPTY_STATE, events));
    await repo.close();
    await writeFile(snapshot, older);
    expectRefused(await loadError(dir), snapshot);
  });

  it('refuses a flipped digit inside the snapshot', async () => {
    await writeStore(dir, events, 7);
    const text = await readFile(snapshot, 'utf8');
    expect(text).to.include('10.0.3.200');
    await writeFile(snapshot, text.replace('10.0.3.200', '10.0.3.201'));
    expectRefused(await loadError(dir), snapshot);
  });

  it('refuses a snapshot cut short', async () => {
    await writeStore(dir, events, 7);
    const text = await readFile(snapshot, 'utf8');
    await writeFile(snapshot, text.slice(0, Math.floor(text.length * 0.6)));
    expectRefused(await loadError(dir), snapshot);
  });

  it('tolerates a torn last record only: cut with a warning, the others kept', async () => {
    await writeStore(dir, events);
    const text = await readFile(journal, 'utf8');
    const all = text.split('\n');
    const last = all[recordLine(all, events.length) - 1] as string;
    await writeFile(journal, text.slice(0, text.length - last.length - 1) + last.slice(0, 40));
    const repo = new FileBindingRepository({ dir });
    const state = await repo.load();
    await repo.close();
    expect(state).to.deep.equal(applyEvents(EMPTY_STATE, events.slice(0, -1)));
  });

  it('leaves no files but its own after refusing (the journal is not rewritten)', async () => {
    await writeStore(dir, events);
    await editLine(journal, 4, (l) => l.replace('"seq":4,', '"seq":7,'));
    const before = await readFile(journal, 'utf8');
    await loadError(dir);
    expect(await readFile(journal, 'utf8')).to.equal(before);
    expect((await readdir(dir)).sort()).to.deep.equal([JOURNAL_FILE, SNAPSHOT_FILE].sort());
  });
});
