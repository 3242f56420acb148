/**
 * What this Node process created for QEMU guests (QEMU pids, taps, scratch directories), so that an
 * exiting or interrupted process still removes it, synchronously. The normal path removes each
 * resource itself and forgets it here; this is the safety net for test timeouts, Ctrl-C and crashes.
 * (QEMU is also started with a parent-death signal, so it dies with this process even on SIGKILL.)
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const pids = new Set<number>();
const taps = new Set<string>();
const dirs = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', removeAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      removeAllSync();
      // Another listener (mocha's) decides what happens next; alone, do what the signal would have done.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export const labResources = {
  addPid(pid: number): void {
    hook();
    pids.add(pid);
  },
  forgetPid(pid: number): void {
    pids.delete(pid);
  },
  addTap(name: string): void {
    hook();
    taps.add(name);
  },
  forgetTap(name: string): void {
    taps.delete(name);
  },
  addDir(path: string): void {
    hook();
    dirs.add(path);
  },
  forgetDir(path: string): void {
    dirs.delete(path);
  },
  /** What is still registered (for tests that prove cleanup). */
  snapshot(): { pids: number[]; taps: string[]; dirs: string[] } {
    return { pids: [...pids], taps: [...taps], dirs: [...dirs] };
  },
};

export function removeAllSync(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const tap of taps) {
    quietly('ovs-vsctl', ['--timeout=5', '--if-exists', 'del-port', tap]);
    quietly('ip', ['link', 'del', 'dev', tap]);
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  pids.clear();
  taps.clear();
  dirs.clear();
}

function quietly(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // best effort at exit
  }
}
