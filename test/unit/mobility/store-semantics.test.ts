// Beyond checksums: files whose checksums are all recomputed (as a buggy writer or a careful
// forger would leave them) must still describe a history a BindingStore could have produced.

import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyEvents, BindingStore, EMPTY_STATE, FileBindingRepository, JOURNAL_FILE, seal, SNAPSHOT_FILE, StoreCorruptError, type BindingEvent,
} from '../../../controller/mobility/index.js';

type Rec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function history(): BindingEvent[] {
  const store = new BindingStore();
  return [
    store.add({ eid: '10.0.1.10', mac: '02:00:00:00:01:0a', homeSubnet: 'A', dpid: 1n, port: 3 }, 100),
    store.add({ eid: '10.0.1.11', mac: '02:00:00:00:01:0b', homeSubnet: 'A', dpid: 1n, port: 4 }, 110),
    store.move('10.0.1.10', { subnet: 'B', dpid: 2n, port: 3, address: '10.0.2.200' }, 200),
    store.move('10.0.1.11', { subnet: 'B', dpid: 2n, port: 4, address: '10.0.2.201' }, 210),
  ].filter((e): e is BindingEvent => e !== undefined);
}

/** Rewrites the journal's records through `edit`, then renumbers and re-seals the chain. */
async function rewriteJournal(path: string, edit: (records: Rec[]) => Rec[]): Promise<void> {
  const [headerLine, ...rest] = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
  let chain = (JSON.parse(headerLine!) as Rec).head as string;
  const records = edit(rest.map((l) => { const o = JSON.parse(l) as Rec; delete o.sha256; return o; }));
  const follows = (JSON.parse(headerLine!) as Rec).follows as number;
  const lines = records.map((r, i) => {
    const { line, sum } = seal(JSON.stringify({ ...r, seq: follows + i + 1 }), chain);
    chain = sum;
    return line;
  });
  await writeFile(path, [headerLine, ...lines].join('\n') + '\n');
}

/** Rewrites the snapshot's lines (header counts and trailer recomputed). */
async function rewriteSnapshot(path: string, edit: (bindings: Rec[]) => Rec[]): Promise<void> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
  const header = JSON.parse(lines[0]!) as Rec;
  const bindings = edit(lines.slice(1, 1 + header.bindings).map((l) => JSON.parse(l) as Rec));
  const released = lines.slice(1 + header.bindings, -1);
  const body = [JSON.stringify({ ...header, bindings: bindings.length }), ...bindings.map((b) => JSON.stringify(b)), ...released].join('\n') + '\n';
  await writeFile(path, body + JSON.stringify({ sha256: createHash('sha256').update(body).digest('hex') }) + '\n');
}

describe('mobility/store consistency under valid checksums', () => {
  let dir: string;
  const events = history();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seamless-semantic-'));
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    for (const e of events) repo.append(e);
    await repo.flush();
    await repo.close();
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  async function refusal(): Promise<StoreCorruptError> {
    const repo = new FileBindingRepository({ dir });
    const error = await repo.load().then(() => undefined, (e: unknown) => e);
    await repo.close();
    expect(error).to.be.instanceOf(StoreCorruptError);
    return error as StoreCorruptError;
  }

  it('re-sealing by itself changes nothing (the helper is faithful)', async () => {
    await rewriteJournal(join(dir, JOURNAL_FILE), (r) => r);
    const repo = new FileBindingRepository({ dir });
    expect(await repo.load()).to.deep.equal(applyEvents(EMPTY_STATE, events));
    await repo.close();
  });

  const cases: { name: string; edit: (r: Rec[]) => Rec[]; line: number; problem: RegExp }[] = [
    { name: 'a duplicate EID', line: 6, problem: /10\.0\.1\.10, which is already bound/,
      edit: (r) => [...r, { ...r[0], binding: { ...r[0]!.binding, id: 3, mac: '02:00:00:00:01:0c', locator: { ...r[0]!.binding.locator, address: '10.0.1.10' } } }] },
    { name: 'a duplicate locator address', line: 5, problem: /takes locator 10\.0\.2\.200, held by 10\.0\.1\.10/,
      edit: (r) => r.map((x, i) => (i === 3 ? { ...x, binding: { ...x.binding, locator: { ...x.binding.locator, address: '10.0.2.200' } } } : x)) },
    { name: 'a duplicate MAC', line: 3, problem: /MAC 02:00:00:00:01:0a .* already bound to 10\.0\.1\.10/,
      edit: (r) => r.map((x, i) => (i === 1 ? { ...x, binding: { ...x.binding, mac: '02:00:00:00:01:0a' } } : x)).slice(0, 2) },
    { name: 'an all-zero MAC (row 12)', line: 2, problem: /mac \(not an endpoint MAC\) "00:00:00:00:00:00"/,
      edit: (r) => [{ ...r[0], binding: { ...r[0]!.binding, mac: '00:00:00:00:00:00' } }] },
    { name: 'an invalid IP address', line: 2, problem: /eid "10\.0\.1\.300"/,
      edit: (r) => [{ ...r[0], binding: { ...r[0]!.binding, eid: '10.0.1.300' } }] },
    { name: 'a reused binding id', line: 3, problem: /reuses id 1/,
      edit: (r) => [r[0]!, { ...r[1], binding: { ...r[1]!.binding, id: 1 } }] },
    { name: 'a move from a state the binding was never in', line: 4, problem: /BINDING_MOVED of 10\.0\.1\.10 starts from version 1 at 10\.0\.1\.10, but the binding is at version 2/,
      edit: (r) => [r[0]!, r[2]!, r[2]!] },
    { name: 'a lost BINDING_ADDED (records renumbered around the hole)', line: 3, problem: /BINDING_MOVED of 10\.0\.1\.10, which is not bound/,
      edit: (r) => [r[1]!, r[2]!, r[3]!] },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, naming the line and seq`, async () => {
      await rewriteJournal(join(dir, JOURNAL_FILE), c.edit);
      const error = await refusal();
      expect(error.where).to.equal(`${join(dir, JOURNAL_FILE)} line ${c.line} (seq ${c.line - 1})`);
      expect(error.problem).to.match(c.problem);
    });
  }

  it('refuses a snapshot with a duplicate EID or MAC, naming its line', async () => {
    const repo = new FileBindingRepository({ dir });
    await repo.load();
    await repo.compact(applyEvents(EMPTY_STATE, events));
    await repo.close();
    const snapshot = join(dir, SNAPSHOT_FILE);
    const original = await readFile(snapshot, 'utf8');
    await rewriteSnapshot(snapshot, (b) => [...b, { ...b[0], id: 2, mac: '02:00:00:00:01:0c', locator: { ...b[0]!.locator, address: '10.0.2.210' } }]);
    expect((await refusal()).message).to.equal(`${snapshot} line 4: EID 10.0.1.10 is bound twice`);
    await writeFile(snapshot, original);
    await rewriteSnapshot(snapshot, (b) => [b[0]!, { ...b[1], mac: b[0]!.mac }]);
    expect((await refusal()).message).to.match(new RegExp(`line 3: MAC 02:00:00:00:01:0a of 10.0.1.11 is already bound to 10.0.1.10`));
  });
});
