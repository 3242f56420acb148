// Rate-limited logging of what peers make us say. Every event is counted by the caller; only a
// sample reaches the log, so a hostile peer (or a thousand of them) cannot fill the disk. The
// budget is per kind of event (the log message), shared by every connection of a listener.

import type { LogFields, Logger } from '../log.js';

export interface LogThrottleOptions {
  /** Lines of one kind logged per window; the rest are dropped and counted. */
  readonly linesPerWindow: number;
  readonly windowMs: number;
  /** Called for every line dropped (a metric). */
  readonly onSuppressed?: (msg: string) => void;
  readonly now?: () => number;
}

interface Window {
  start: number;
  lines: number;
  suppressed: number;
}

export class LogThrottle {
  // Keys are log messages written in code, so this map holds a fixed handful of entries.
  private readonly windows = new Map<string, Window>();
  private readonly now: () => number;

  constructor(private readonly options: LogThrottleOptions) {
    this.now = options.now ?? Date.now;
  }

  warn(log: Logger, msg: string, fields: LogFields = {}): boolean {
    return this.write(msg, (extra) => log.warn(msg, { ...fields, ...extra }));
  }

  info(log: Logger, msg: string, fields: LogFields = {}): boolean {
    return this.write(msg, (extra) => log.info(msg, { ...fields, ...extra }));
  }

  error(log: Logger, msg: string, fields: LogFields = {}): boolean {
    return this.write(msg, (extra) => log.error(msg, { ...fields, ...extra }));
  }

  /** Lines of this kind dropped in the current window. */
  suppressed(msg: string): number {
    return this.windows.get(msg)?.suppressed ?? 0;
  }

  /** The first line of a new window says how many of its kind were dropped before it. */
  private write(msg: string, emit: (extra: LogFields) => void): boolean {
    const now = this.now();
    let window = this.windows.get(msg);
    if (window === undefined || now - window.start >= this.options.windowMs) {
      const dropped = window?.suppressed ?? 0;
      window = { start: now, lines: 0, suppressed: 0 };
      this.windows.set(msg, window);
      if (dropped > 0) {
        window.lines++;
        emit({ suppressedBefore: dropped });
        return true;
      }
    }
    if (window.lines >= this.options.linesPerWindow) {
      window.suppressed++;
      this.options.onSuppressed?.(msg);
      return false;
    }
    window.lines++;
    emit({});
    return true;
  }
}
