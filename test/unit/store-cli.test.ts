// `store-cli verify` and `store-cli migrate` on real state dirs.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runStoreCli } from '../../controller/store-cli.js';
import {
  applyEvents, bindingToJson, BindingStore, EMPTY_STATE, eventToJson, FileBindingRepository, JOURNAL_FILE, StoreFormatError, type BindingEvent,
} from '../../controller/mobility/index.js';

function history(): BindingEvent[] {
  const store = new BindingStore();
  return [
    store.add({ eid: '10.0.1.10', mac: '02:00:00:00:01:0a', homeSubnet: 'A', dpid: 1n, port: 3 }, 100),
    store.add({ eid: '10.0.1.11', mac: '02:00:00:00:01:0b', homeSubnet: 'A', dpid: 1n, port: 4 }, 110),
    store.move('10.0.1.10', { subnet: 'B', dpid: 2n, port: 3, address: '10.0.2.200' }, 200),
    store.add({ eid: '10.0.2.12', mac: '02:00:00:00:02:0c', homeSubnet: 'B', dpid: 2n, port: 5 }, 210),
    store.move('10.0.1.10', { subnet: 'C', dpid: 3n, port: 3, address: '10.0.3.200' }, 300),
  ].filter((e): e is BindingEvent => e !== undefined);
}

async function writeStore(dir: string, events: BindingEvent[], compactAt: number): Promise<void> {
  const repo = new FileBindingRepository({ dir });
  await repo.load();
  for (const e of events.slice(0, compactAt)) repo.append(e);
  await repo.compact(applyEvents(EMPTY_STATE, events.slice(0, compactAt)));
  for (const e of events.slice(compactAt)) repo.append(e);
  await repo.flush();
  await repo.close();
}

/** A state dir as the first format wrote it: a JSON snapshot and unchecked JSON lines. */
async function writeV1Store(dir: string, events: BindingEvent[], snapshotAt: number): Promise<void> {
  const state = applyEvents(EMPTY_STATE, events.slice(0, snapshotAt));
  await writeFile(join(dir, 'bindings.snapshot.json'), JSON.stringify({
    format: 'seamless-bindings', version: 1, lastSeq: snapshotAt, nextBindingId: state.nextBindingId,
    bindings: state.bindings.map(bindingToJson), released: state.released,
  }) + '\n');
  await writeFile(join(dir, 'bindings.journal.jsonl'), events.slice(snapshotAt).map((e, i) => JSON.stringify(eventToJson(e, snapshotAt + i + 1)) + '\n').join(''));
}

describe('store-cli', () => {
  let dir: string;
  const events = history();
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'seamless-cli-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('verify: prints what a sound store holds and exits 0', async () => {
    await writeStore(dir, events, 3);
    const { code, out } = await runStoreCli(['verify', dir]);
    const text = out.join('\n');
    expect(code, text).to.equal(0);
    expect(text).to.match(/lock +free/);
    expect(text).to.match(/snapshot .*: 2 bindings, 0 released addresses, covers up to seq 3/);
    expect(text).to.match(/journal .*: seq 4\.\.5 \(2 records, 2 after the snapshot/);
    expect(text).to.match(/state +3 bindings \(1 away from home\), next id 4, 1 released addresses, last seq 5/);
    expect(out.at(-1)).to.match(/^OK/);
  });

  it('verify: names the damaged file and line and exits 1', async () => {
    await writeStore(dir, events, 3);
    const journal = join(dir, JOURNAL_FILE);
    await writeFile(journal, (await readFile(journal, 'utf8')).replace('02:00:00:00:02:0c', '02:00:00:00:02:0d'));
    const { code, out } = await runStoreCli(['verify', dir]);
    expect(code).to.equal(1);
    expect(out.join('\n')).to.include(`CORRUPT  ${journal} line 2 (seq 4): checksum mismatch`);
  });

  it('verify: reports a torn last record as a warning, read-only (the file is not cut)', async () => {
    await writeStore(dir, events, 3);
    const journal = join(dir, JOURNAL_FILE);
    await appendFile(journal, '{"seq":6,"type":"BINDI');
    const before = await readFile(journal, 'utf8');
    const { code, out } = await runStoreCli(['verify', dir]);
    expect(code).to.equal(0);
    expect(out.join('\n')).to.match(/warning +torn last record at line 4 \(22 bytes/);
    expect(await readFile(journal, 'utf8')).to.equal(before);
  });

  it('verify: works beside a running controller and says so', async () => {
    await writeStore(dir, events, 3);
    const live = new FileBindingRepository({ dir });
    await live.load();
    try {
      const { code, out } = await runStoreCli(['verify', dir]);
      expect(code).to.equal(0);
      expect(out.join('\n')).to.match(new RegExp(`lock +held by pid ${process.pid} .*\\(alive\\): checked read-only`));
    } finally {
      await live.close();
    }
  });

  it('verify: exits 1 on a directory without a store, 2 on bad usage', async () => {
    expect((await runStoreCli(['verify', dir])).out.at(-1)).to.match(/^NOT FOUND/);
    expect((await runStoreCli(['verify', join(dir, 'nowhere')])).code).to.equal(1);
    expect((await runStoreCli(['verify'])).code).to.equal(2);
    expect((await runStoreCli(['check', dir])).code).to.equal(2);
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('verify: exit status and output from a real process', async () => {
    await writeStore(dir, events, 3);
    const run = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'controller/store-cli.ts', ...args])
      .then(({ stdout }) => ({ code: 0, stdout }), (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }));
    expect((await run(['verify', dir])).code).to.equal(0);
    await writeFile(join(dir, JOURNAL_FILE), (await readFile(join(dir, JOURNAL_FILE), 'utf8')).replace('"seq":5,', '"seq":6,'));
    const bad = await run(['verify', dir]);
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.match(/CORRUPT .* line 3 \(seq 5\): record has seq 6/);
  });

  it('migrate: the controller refuses a v1 store and names the command; migrate converts it and keeps the old files', async () => {
    await writeV1Store(dir, events, 2);
    const refused = await new FileBindingRepository({ dir }).load().then(() => undefined, (e: unknown) => e as Error);
    expect(refused).to.be.instanceOf(StoreFormatError);
    expect(refused?.message).to.include(`store-cli.js migrate ${dir}`);
    expect((await runStoreCli(['verify', dir])).out.at(-1)).to.match(/^OLD FORMAT/);

    const { code, out } = await runStoreCli(['migrate', dir]);
    expect(code, out.join('\n')).to.equal(0);
    expect(out[0]).to.equal(`migrated ${dir} from format v1: 3 bindings, 3 journal records (snapshot up to seq 2, last seq 5)`);
    expect((await readdir(dir)).sort()).to.deep.equal([
      'bindings.journal.jsonl.v1-migrated', 'bindings.snapshot.json.v1-migrated', 'bindings.v2.journal.jsonl', 'bindings.v2.snapshot.jsonl',
    ]);
    const repo = new FileBindingRepository({ dir });
    expect(await repo.load()).to.deep.equal(applyEvents(EMPTY_STATE, events));
    await repo.close();
    expect((await runStoreCli(['migrate', dir])).out[0]).to.match(/already holds a v2 store/);
  });

  it('migrate: refuses a v1 store whose snapshot was deleted, converting nothing', async () => {
    await writeV1Store(dir, events, 2);
    await rm(join(dir, 'bindings.snapshot.json'));
    const { code, out } = await runStoreCli(['migrate', dir]);
    expect(code).to.equal(1);
    expect(out[0]).to.match(/CORRUPT .*bindings\.journal\.jsonl line 1: the journal starts at seq 3 but the snapshot covers only up to seq 0/);
    expect(existsSync(join(dir, JOURNAL_FILE))).to.equal(false);
  });
});
