// Makes journaled binding events durable, off the packet-in path. Flushes are coalesced: while
// one runs, later requests share the next one, so a burst of new endpoints costs two fsyncs,
// not one per endpoint.

import type { Logger } from '../log.js';

export class Persister {
  private flushing: Promise<void> | undefined;
  private again = false;
  failures = 0;

  constructor(private readonly flush: () => Promise<void>, private readonly log: Logger) {}

  /** Never rejects: a failed flush is logged and counted (the next one retries what is queued). */
  request(): Promise<void> {
    if (this.flushing !== undefined) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          await this.flush();
        } while (this.again);
      } catch (error) {
        this.failures++;
        this.log.error('could not persist bindings', { error: (error as Error).message });
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  /** Resolves when no flush is running. */
  async idle(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }
}
