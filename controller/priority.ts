// The controller's scheduling priority. On a hypervisor host the controller shares the cores with
// Open vSwitch, which ovs-ctl starts at nice -10: at nice 0 the controller's thread waits behind
// Open vSwitch's threads whenever both are busy, and both are busy during every migration (the
// switches apply the move's rules while the controller waits for their barriers). Measured in the
// lab (docs/benchmarks.md): 50 moves, the controller's thread waited 3.6 s on the run queue at nice
// 0 against 2.5 s of running; at -10, 1.5-2.1 s.
//
// On Linux a nice value belongs to a thread, and a new thread inherits its creator's: so every
// thread the process has at start takes it (the event loop's, and V8's helpers that scavenge and
// mark in parallel with it: left behind at 0 they make its garbage-collection pauses wait), and
// the threads started later inherit it.

import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { Logger } from './log.js';

/** This process's threads (Linux: /proc/self/task), the calling one first; elsewhere only the calling one (0). */
export function ownThreads(): number[] {
  try {
    const tids = readdirSync('/proc/self/task').map(Number).filter((t) => Number.isInteger(t) && t > 0);
    return [0, ...tids.filter((t) => t !== process.pid)];
  } catch {
    return [0];
  }
}

export interface PriorityOutcome {
  readonly nice: number;
  /** Why the wanted priority could not be taken (then `nice` is the one kept). */
  readonly problem?: string;
}

/** Takes the configured priority ('keep': the one the process was started with) and says which one it has. */
export function applyPriority(wanted: number | 'keep', log: Logger, os: { get: () => number; set: (n: number) => void } = { get: () => getPriority(0), set: setEveryThread }): PriorityOutcome {
  const before = os.get();
  if (wanted === 'keep' || wanted === before) return { nice: before };
  try {
    os.set(wanted);
  } catch (error) {
    const problem = (error as Error).message;
    log.warn('could not take the configured scheduling priority: the controller competes with Open vSwitch for the cores at the one it has (process.nice; a negative value needs root or CAP_SYS_NICE)', { wanted, nice: before, error: problem });
    return { nice: before, problem };
  }
  const nice = os.get();
  log.info('scheduling priority set', { nice, was: before });
  return { nice };
}

/** The calling thread first (its failure is the one reported), then the others; a thread that ended meanwhile is skipped. */
function setEveryThread(nice: number): void {
  const [self, ...others] = ownThreads();
  setPriority(self!, nice);
  for (const tid of others) {
    try {
      setPriority(tid, nice);
    } catch {
      // gone since the listing, or not ours to change: the event loop's thread has it, which is what counts most
    }
  }
}
