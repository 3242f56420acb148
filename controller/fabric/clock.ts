// Time, passed in. The runtime's handlers take `now` from here once per event (as Faucet's take
// `now`), and its timers run on it, so tests drive the real runtime with fake timers.

export interface Timer {
  unref?(): unknown;
}

export interface Clock {
  /** Wall-clock time, epoch ms: bindings, intents, events. */
  now(): number;
  /** Monotonic ms for durations (reconvergence, windows). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => { clock.setTimeout(resolve, ms); });
}
