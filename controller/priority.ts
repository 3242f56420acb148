// The controller's scheduling priority. On a hypervisor host the controller shares the cores with
// Open vSwitch, which ovs-ctl starts at nice -10: at nice 0 the controller's thread waits behind
// Open vSwitch's threads whenever both are busy, and both are busy during every migration (the
// switches apply the move's rules while the controller waits for their barriers). Measured in the
// lab (docs/benchmarks.md): 50 moves, the controller's thread waited 3.6 s on the run queue at nice
// 0 against 2.5 s of running; at -10, 1.6 s.
//
// os.setPriority(0, n) sets the calling thread's nice value on Linux: the event loop's thread, and
// the threads it starts later (libuv's pool). V8's own helper threads keep theirs.

import { getPriority, setPriority } from 'node:os';
import type { Logger } from './log.js';

export interface PriorityOutcome {
  readonly nice: number;
  /** Why the wanted priority could not be taken (then `nice` is the one kept). */
  readonly problem?: string;
}

/** Takes the configured priority ('keep': the one the process was started with) and says which one it has. */
export function applyPriority(wanted: number | 'keep', log: Logger, os: { get: () => number; set: (n: number) => void } = { get: () => getPriority(0), set: (n) => setPriority(0, n) }): PriorityOutcome {
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
