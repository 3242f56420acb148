// The binding store with real processes: one controller per state dir (the lock), and kill -9
// in the middle of writes (every acknowledged binding comes back, nothing else does).

import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../controller/log.js';
import { FileBindingRepository, JOURNAL_FILE, LOCK_FILE, StateDirLockedError } from '../../../controller/mobility/index.js';
import { opsDone, workloadState } from '../../lib/store-child.js';
import { waitUntil } from '../../lib/wait.js';

const CHILD = join(import.meta.dirname, '../../lib/store-child.ts');

interface Child {
  readonly proc: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

function startChild(mode: 'hold' | 'append', dir: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, lines, exited };
}

async function killHard(child: Child): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  await child.exited;
}

describe('mobility/store with real processes', function () {
  this.timeout(240_000);
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'seamless-procs-')); });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(killHard));
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second instance on a live state dir before reading its journal', async () => {
    const holder = startChild('hold', dir);
    children.push(holder);
    await waitUntil(() => holder.lines.includes('ready'), { what: 'the first instance to load', timeoutMs: 30_000 });
    // Damage the live journal: an instance that read it would fail on that, not on the lock.
    const journal = join(dir, JOURNAL_FILE);
    await writeFile(journal, 'not a journal\n');
    const repo = new FileBindingRepository({ dir });
    const error = await repo.load().then(() => undefined, (e: unknown) => e as Error);
    expect(error).to.be.instanceOf(StateDirLockedError);
    expect(error?.message).to.include(`pid ${holder.proc.pid}`);
    expect(error?.message).to.include(dir);
    expect(await readFile(journal, 'utf8')).to.equal('not a journal\n');
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid).to.equal(holder.proc.pid);
  });

  it('lets exactly one of two instances started together have the dir', async () => {
    const a = startChild('hold', dir);
    const b = startChild('hold', dir);
    children.push(a, b);
    await waitUntil(() => [a, b].some((c) => c.lines.includes('ready')) && [a, b].some((c) => c.proc.exitCode !== null),
      { what: 'one instance ready and the other refused', timeoutMs: 30_000 });
    const [winner, loser] = a.lines.includes('ready') ? [a, b] : [b, a];
    expect(loser.proc.exitCode).to.equal(3);
    expect(loser.lines.join('\n')).to.match(/StateDirLockedError: state dir .* is in use: locked by pid \d+/);
    expect(winner.proc.exitCode).to.equal(null);
  });

  it('takes over the lock of an instance killed with -9, and releases its own on close', async () => {
    const holder = startChild('hold', dir);
    await waitUntil(() => holder.lines.includes('ready'), { what: 'the first instance to load', timeoutMs: 30_000 });
    await killHard(holder);
    const warnings: string[] = [];
    const repo = new FileBindingRepository({ dir, log: createLogger({ level: 'warn', sink: (l) => warnings.push(l) }) });
    await repo.load();
    expect(warnings.join('\n')).to.match(/stale state dir lock/);
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).pid).to.equal(process.pid);
    await repo.close();
    const again = new FileBindingRepository({ dir });
    await again.load(); // our own lock is gone: no stale-lock path, no refusal
    await again.close();
  });

  it('recovers every acknowledged binding and nothing else after 22 kill -9 during writes and compactions', async () => {
    let acked = 0;
    let compactions = 0;
    for (let run = 0; run < 22; run++) {
      const child = startChild('append', dir);
      children.push(child);
      await waitUntil(() => child.lines.some((l) => l.startsWith('ack ')) || child.proc.exitCode !== null, { what: `run ${run} to write`, timeoutMs: 30_000 });
      expect(child.lines.filter((l) => l.startsWith('error'))).to.deep.equal([]);
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 250));
      await killHard(child);
      children.pop();
      for (const l of child.lines) if (l.startsWith('ack ')) acked = Math.max(acked, Number(l.slice(4)));
      const journal = await readFile(join(dir, JOURNAL_FILE), 'utf8');
      if (!journal.includes('"follows":0,')) compactions++;
      const repo = new FileBindingRepository({ dir });
      const state = await repo.load();
      await repo.close();
      const done = opsDone(state);
      // Everything acknowledged is there; beyond that at most the batch that was being written.
      expect(done, `run ${run}: ops recovered vs acknowledged`).to.be.within(acked, acked + 3);
      expect(state).to.deep.equal(workloadState(done));
      acked = done; // the next run continues from what is stored
    }
    expect(acked).to.be.greaterThan(100);
    expect(compactions).to.be.greaterThan(0);
  });
});
