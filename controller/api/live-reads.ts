// Live reads from a switch (flow stats, table stats) shared by every HTTP client. A dashboard
// polls the flow table of the switch it shows every few seconds; ten open tabs must not cost the
// switch ten multipart requests per poll. So per switch and kind there is at most one read in
// flight, every request that arrives meanwhile waits for it, and its result answers requests for
// `ttlMs` after it arrived (1 s by default: shorter than any poll, longer than a burst of tabs).
// A change of the rules (RULES_UPDATED) ends the window at once, so that a client reacting to that
// event never gets the table from before it. A failed read is shared by its waiters, never kept.

import { Counter, type Registry } from 'prom-client';

export type LiveReadKind = 'flow_stats' | 'table_stats';

export interface LiveReadsOptions {
  /** How long a result answers later requests (ms). */
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Where the two counters are registered (none: not counted). */
  readonly metrics?: Registry;
}

/** What identifies a switch connection: a reconnected switch is a new one and shares nothing with the old. */
export interface LiveReadSource {
  readonly dpidText: string;
}

interface Entry {
  readonly source: LiveReadSource;
  readonly generation: number;
  readonly result: Promise<unknown>;
  /** When the read answered; undefined while it is in flight. */
  settledAt: number | undefined;
}

export const DEFAULT_LIVE_READ_TTL_MS = 1_000;

export class LiveReads {
  private readonly entries = new Map<string, Entry>();
  /** Per switch: bumped by invalidate(); entries of an older generation are not shared. */
  private readonly generations = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly sent: Counter<'dpid' | 'kind'> | undefined;
  private readonly shared: Counter<'dpid' | 'kind'> | undefined;

  constructor(options: LiveReadsOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_LIVE_READ_TTL_MS;
    this.now = options.now ?? Date.now;
    const registry = options.metrics;
    if (registry !== undefined) {
      this.sent = counter(registry, 'seamless_switch_stats_reads_total',
        'Flow-stats and table-stats requests sent to switches for API clients (at most one per switch and kind in flight, its answer shared for a short time).');
      this.shared = counter(registry, 'seamless_switch_stats_reads_shared_total',
        'API requests for flow or table stats answered by a read already in flight or just answered, without a request to the switch.');
    }
  }

  /** The result of `read()` for this switch and kind, or of the read in flight or just answered. */
  read<T>(source: LiveReadSource, kind: LiveReadKind, read: () => Promise<T>): Promise<T> {
    const key = `${source.dpidText}/${kind}`;
    const labels = { dpid: source.dpidText, kind };
    const generation = this.generations.get(source.dpidText) ?? 0;
    const current = this.entries.get(key);
    if (current !== undefined && current.source === source && current.generation === generation && this.fresh(current)) {
      this.shared?.inc(labels);
      return current.result as Promise<T>;
    }
    this.sent?.inc(labels);
    const result = read();
    const entry: Entry = { source, generation, result, settledAt: undefined };
    this.entries.set(key, entry);
    result.then(
      () => { entry.settledAt = this.now(); },
      () => { if (this.entries.get(key) === entry) this.entries.delete(key); },
    );
    return result;
  }

  /** The switch's rules changed: the next request reads afresh. */
  invalidate(dpidText: string): void {
    this.generations.set(dpidText, (this.generations.get(dpidText) ?? 0) + 1);
    for (const kind of KINDS) this.entries.delete(`${dpidText}/${kind}`);
  }

  /** The switch is gone: its entries and counter series go with it. */
  forget(dpidText: string): void {
    this.generations.delete(dpidText);
    for (const kind of KINDS) {
      this.entries.delete(`${dpidText}/${kind}`);
      this.sent?.remove({ dpid: dpidText, kind });
      this.shared?.remove({ dpid: dpidText, kind });
    }
  }

  /** Switches with a cached or pending read (bounded by the connected ones; tests). */
  get size(): number {
    return this.entries.size;
  }

  private fresh(entry: Entry): boolean {
    return entry.settledAt === undefined || this.now() - entry.settledAt < this.ttlMs;
  }
}

const KINDS: readonly LiveReadKind[] = ['flow_stats', 'table_stats'];

function counter(registry: Registry, name: string, help: string): Counter<'dpid' | 'kind'> {
  registry.removeSingleMetric(name);
  return new Counter({ name, help, labelNames: ['dpid', 'kind'] as const, registers: [registry] });
}
