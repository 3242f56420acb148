// StateDirLock: one controller per state dir. Taken before anything in the dir is read, so a
// second instance fails at once and never opens the live journal.
//
// Why a lock file of our own rather than proper-lockfile: proper-lockfile decides a lock is
// stale by its age (an mtime its owner refreshes every few seconds), so a controller that is
// paused (SIGSTOP, a debugger, a long GC) loses its lock silently to a newcomer, and both then
// write the journal. Here the lock names its owner exactly (pid, the process's start time in
// /proc, the boot id, the host) and is stale only when that process no longer exists: no
// timer, no false takeover. OS locks (flock) would need a native addon, which we avoid.
// The file is created complete and atomically (written to a private name, then link(2), which
// fails if the lock exists). A stale lock is moved aside (rename) and removed only if what was
// moved is what was judged stale; a lock created meanwhile by a live instance is put back.
// Limits: a lock written on another host (a shared volume) cannot be judged and is refused, not
// broken; two starts racing to break the same stale lock while a third starts could both
// proceed (needs three starts within the same few microseconds).

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { silentLogger, type Logger } from '../log.js';

export const LOCK_FILE = 'seamless.lock';

export class StateDirLockedError extends Error {
  override readonly name = 'StateDirLockedError';
  constructor(readonly dir: string, readonly owner: LockOwner | undefined, why: string) {
    super(`state dir ${dir} is in use: ${why}. Two controllers on one state dir would corrupt it; stop the other one, or give this one its own --state-dir`);
  }
}

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** /proc/sys/kernel/random/boot_id: a pid from an earlier boot is no one. */
  readonly bootId?: string;
  /** Field 22 of /proc/PID/stat: tells a reused pid from the owner. */
  readonly startTicks?: string;
  readonly since: string;
}

export type OwnerStatus = 'alive' | 'gone' | 'unknown';

export class StateDirLock {
  private released = false;

  private constructor(readonly dir: string, readonly path: string, private readonly content: string) {}

  static async acquire(dir: string, log: Logger = silentLogger): Promise<StateDirLock> {
    const path = join(dir, LOCK_FILE);
    const content = JSON.stringify(await currentOwner()) + '\n';
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await createExclusive(path, content)) return new StateDirLock(dir, path, content);
      const found = await StateDirLock.inspect(dir);
      if (found === undefined) continue; // released in the meantime
      if (found.status !== 'gone') {
        throw new StateDirLockedError(dir, found.owner, describe(found.owner, found.status, path));
      }
      if (await breakStale(path, found.text)) log.warn('removed a stale state dir lock (its owner is gone)', { lock: path, owner: found.owner });
    }
    throw new StateDirLockedError(dir, undefined, `could not take ${path} (other instances keep taking it)`);
  }

  /** Who holds the dir, without taking it (for read-only tools); undefined when nobody does. */
  static async inspect(dir: string): Promise<{ owner?: LockOwner; status: OwnerStatus; text: string } | undefined> {
    const path = join(dir, LOCK_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const owner = parseOwner(text);
    return owner === undefined ? { status: 'unknown', text } : { owner, status: await ownerStatus(owner), text };
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const text = await readFile(this.path, 'utf8').catch(() => undefined);
    if (text === this.content) await unlink(this.path).catch(() => undefined);
  }
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fh = await open(temp, 'wx');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Moves a stale lock aside and removes it if it is the one judged stale; true when removed. */
async function breakStale(path: string, staleText: string): Promise<boolean> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== staleText) await link(aside, path).catch(() => undefined); // a live lock: put it back
  await unlink(aside).catch(() => undefined);
  return moved === staleText;
}

async function currentOwner(): Promise<LockOwner> {
  const [bootId, startTicks] = await Promise.all([readBootId(), readStartTicks(process.pid)]);
  return {
    pid: process.pid, host: hostname(), since: new Date().toISOString(),
    ...(bootId === undefined ? {} : { bootId }), ...(startTicks === undefined ? {} : { startTicks }),
  };
}

export async function ownerStatus(owner: LockOwner): Promise<OwnerStatus> {
  if (owner.host !== hostname()) return 'unknown';
  const bootId = await readBootId();
  if (owner.bootId !== undefined && bootId !== undefined && owner.bootId !== bootId) return 'gone';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    // EPERM: the pid exists (another user's process); go on to compare start times.
  }
  const startTicks = await readStartTicks(owner.pid);
  if (owner.startTicks !== undefined && startTicks !== undefined && owner.startTicks !== startTicks) return 'gone';
  if (owner.startTicks !== undefined && startTicks === undefined && bootId !== undefined) return 'gone'; // /proc works but has no such process
  return 'alive';
}

function describe(owner: LockOwner | undefined, status: OwnerStatus, path: string): string {
  if (owner === undefined) return `${path} is unreadable; if no controller uses this dir, remove that file`;
  if (status === 'unknown') return `locked by pid ${owner.pid} on host ${owner.host} since ${owner.since}, which cannot be checked from here; if it is gone, remove ${path}`;
  return `locked by pid ${owner.pid} (running since ${owner.since})`;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0 || typeof o.host !== 'string' || typeof o.since !== 'string') return undefined;
    return o as LockOwner;
  } catch {
    return undefined;
  }
}

async function readBootId(): Promise<string | undefined> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined))?.trim();
}

async function readStartTicks(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}
