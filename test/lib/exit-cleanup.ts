// What a test or benchmark started and must not leave behind if the run dies first: child
// processes (killed by PID with SIGKILL) and temporary directories (removed), at process exit
// however it comes. Only what was registered here is touched; each owner unregisters what it
// ended itself.

import { rmSync } from 'node:fs';

const pids = new Set<number>();
const dirs = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Kills the child at exit, unless untrackPid() says it ended before. */
export function killAtExit(pid: number): void {
  hook();
  pids.add(pid);
}

export function untrackPid(pid: number): void {
  pids.delete(pid);
}

/** Removes the directory at exit, unless untrackDir() says its owner removed it. */
export function removeAtExit(dir: string): void {
  hook();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}
