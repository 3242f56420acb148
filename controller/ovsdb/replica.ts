// An in-memory copy of the monitored OVSDB tables, kept by folding `monitor` replies and `update`
// notifications into it (RFC 7047 4.1.5-4.1.6: <table-updates> = table -> row uuid -> {old?, new?};
// "new" without "old" is an initial row or an insert, both a modify, "old" alone a delete).
// An update is checked whole before any of it is applied: a malformed one changes nothing.

import { isUuid } from './datum.js';

/** A row as ovsdb-server sends it: column name -> OVSDB JSON value. */
export type OvsdbRow = Readonly<Record<string, unknown>>;

export type ReplicaTable = ReadonlyMap<string, OvsdbRow>;

/** What derivations read: the rows of each monitored table by uuid. */
export interface ReplicaView {
  table(name: string): ReplicaTable;
}

export interface ApplyOutcome {
  /** Rows inserted, modified or deleted. */
  readonly changed: number;
  /** Set when the update was malformed; nothing was applied then. */
  readonly error?: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Why `value` is not a well-formed <table-updates>, or undefined when it is. */
export function checkTableUpdates(value: unknown): string | undefined {
  if (!isObject(value)) return 'table updates: not an object';
  for (const [table, rows] of Object.entries(value)) {
    if (!isObject(rows)) return `table updates: ${table}: not an object`;
    for (const [uuid, change] of Object.entries(rows)) {
      if (!isUuid(uuid)) return `table updates: ${table}: ${JSON.stringify(uuid.slice(0, 60))} is not a row uuid`;
      if (!isObject(change)) return `table updates: ${table} ${uuid}: not a row update`;
      if (change.new !== undefined && !isObject(change.new)) return `table updates: ${table} ${uuid}: "new" is not a row`;
      if (change.old !== undefined && !isObject(change.old)) return `table updates: ${table} ${uuid}: "old" is not a row`;
      if (change.new === undefined && change.old === undefined) return `table updates: ${table} ${uuid}: neither "old" nor "new"`;
    }
  }
  return undefined;
}

export class OvsdbReplica implements ReplicaView {
  private readonly tables = new Map<string, Map<string, OvsdbRow>>();

  /** `tables`: the monitored tables; updates for any other table are ignored. */
  constructor(tables: readonly string[]) {
    for (const name of tables) this.tables.set(name, new Map());
  }

  table(name: string): ReplicaTable {
    return this.tables.get(name) ?? new Map();
  }

  /** Rows in all tables. */
  get size(): number {
    let n = 0;
    for (const rows of this.tables.values()) n += rows.size;
    return n;
  }

  /** Folds a <table-updates> (the monitor reply or an update notification's second parameter). */
  apply(updates: unknown): ApplyOutcome {
    const error = checkTableUpdates(updates);
    if (error !== undefined) return { changed: 0, error };
    let changed = 0;
    for (const [table, changes] of Object.entries(updates as Record<string, Record<string, { new?: OvsdbRow }>>)) {
      const rows = this.tables.get(table);
      if (rows === undefined) continue;
      for (const [uuid, change] of Object.entries(changes)) {
        const key = uuid.toLowerCase();
        // Monitor v1 sends every monitored column in "new"; merging also suits a server that
        // sends only the changed ones.
        if (change.new !== undefined) rows.set(key, { ...rows.get(key), ...change.new });
        else rows.delete(key);
        changed++;
      }
    }
    return { changed };
  }
}
