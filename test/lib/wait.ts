/**
 * Waiting on conditions instead of sleeping: a test says what it waits for, and a timeout names it.
 */

export interface WaitOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Time between two evaluations of the predicate (default 20 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message: "cnA to reach the VM". */
  what?: string;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastError?: unknown,
  ) {
    const cause = lastError === undefined ? '' : ` (last attempt failed: ${describe(lastError)})`;
    super(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Resolve as soon as `predicate` returns true; reject with a WaitTimeoutError naming `what` when it
 * has not within `timeoutMs`. A predicate that throws counts as "not yet"; the last error is kept
 * for the timeout message. The predicate is evaluated at least once, even with a zero timeout.
 */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const { timeoutMs = 5000, intervalMs = 20, what = 'a condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(what, timeoutMs, lastError);
    await delay(Math.min(intervalMs, left));
  }
}

/** Like waitUntil, for a producer that returns undefined until the value is there. */
export async function waitFor<T>(
  produce: () => T | undefined | Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  let value: T | undefined;
  await waitUntil(async () => {
    value = await produce();
    return value !== undefined;
  }, options);
  return value as T;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
