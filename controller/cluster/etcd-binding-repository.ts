// The binding store shared by replicas, in etcd (v3 API). Key layout: store-keys.ts; one event
// as one compare-and-swap transaction: binding-txn.ts; the change feed: change-feed.ts.
//
// load() reads everything under <prefix>state/ at one revision (paged, the later pages pinned
// to the first page's revision) and refuses a state that no sequence of transactions could
// have made: every value is checked against its key, the bindings through BindingLedger, and
// the MAC and locator indexes against the bindings. changes(revision) delivers, in order and
// exactly once, every revision after it, decoded, for BindingRegistry.observe().

import type { Etcd3, IKeyValue } from 'etcd3';
import { map, type Observable } from 'rxjs';
import { silentLogger, type Logger } from '../log.js';
import type { Ipv4 } from '../packet/address.js';
import {
  BindingLedger, BindingStateError, StoreCorruptError,
  type Binding, type BindingEvent, type CommitOutcome, type MigrationIntent, type ReleasedAddress,
  type RevisionChanges, type SharedBindingRepository, type SharedSnapshot, type StoreChange,
} from '../mobility/index.js';
import { bindingTxn, conflictOf } from './binding-txn.js';
import { changeFeed, type ChangeFeedOptions, type WatchedRevision } from './change-feed.js';
import { storeCall } from './etcd-client.js';
import { prefixEnd, StoreKeys } from './store-keys.js';
import { decodeEntry, encodeIntent, encodeNextId, type StateEntry } from './store-values.js';

export interface EtcdBindingRepositoryOptions {
  /** A client from connectEtcd(); the repository does not close it. */
  readonly client: Etcd3;
  readonly prefix?: string;
  readonly log?: Logger;
  /** Keys per range request of load(). */
  readonly pageSize?: number;
  /** Told the duration of every commit (ms) and whether it went through: store latency metrics. */
  readonly onCommit?: (ms: number, outcome: 'committed' | 'conflict' | 'unavailable') => void;
}

export class EtcdBindingRepository implements SharedBindingRepository {
  readonly shared = true;
  readonly keys: StoreKeys;
  private readonly client: Etcd3;
  private readonly log: Logger;
  private readonly pageSize: number;
  private readonly onCommit: NonNullable<EtcdBindingRepositoryOptions['onCommit']>;

  constructor(options: EtcdBindingRepositoryOptions) {
    this.client = options.client;
    this.keys = new StoreKeys(options.prefix);
    this.log = options.log ?? silentLogger;
    this.pageSize = options.pageSize ?? 1000;
    this.onCommit = options.onCommit ?? (() => undefined);
  }

  async load(): Promise<SharedSnapshot> {
    await this.initialize();
    const { revision, kvs } = await this.readState();
    const snapshot = this.verify(revision, kvs);
    this.log.info('binding store loaded from etcd', { prefix: this.keys.prefix, revision, bindings: snapshot.bindings.length, intents: snapshot.intents.length });
    return snapshot;
  }

  async commit(event: BindingEvent, expectedRevision: number): Promise<CommitOutcome> {
    const txn = bindingTxn(this.keys, event, expectedRevision);
    const started = performance.now();
    let outcome: CommitOutcome;
    try {
      const res = await storeCall('commit', () => this.client.kv.txn(txn.request));
      outcome = res.succeeded
        ? { ok: true, revision: Number(res.header.revision) }
        : { ok: false, conflict: conflictOf(this.keys, txn, event, expectedRevision, res) };
    } catch (error) {
      this.onCommit(performance.now() - started, 'unavailable');
      throw error;
    }
    this.onCommit(performance.now() - started, outcome.ok ? 'committed' : 'conflict');
    return outcome;
  }

  /** Every change after `revision`, decoded; ends with StoreCorruptError on a value it cannot vouch for. */
  changes(revision: number, options: ChangeFeedOptions = {}): Observable<RevisionChanges> {
    return changeFeed(this.client, this.keys.state, revision, options).pipe(map((r) => this.decodeRevision(r)));
  }

  /** Stores an intent on a lease that ends a second after it does (etcd cleans up expired ones). */
  async putIntent(intent: MigrationIntent, now: number = Date.now()): Promise<number> {
    const ttl = Math.max(1, Math.ceil((intent.expiresAt - now) / 1000) + 1);
    return storeCall('put intent', async () => {
      const lease = await this.client.leaseClient.leaseGrant({ TTL: ttl });
      const res = await this.client.kv.put({ key: Buffer.from(this.keys.intent(intent.eid)), value: Buffer.from(encodeIntent(intent)), lease: lease.ID });
      return Number(res.header.revision);
    });
  }

  async deleteIntent(eid: Ipv4): Promise<number> {
    return storeCall('delete intent', async () => Number((await this.client.kv.deleteRange({ key: Buffer.from(this.keys.intent(eid)) })).header.revision));
  }

  async close(): Promise<void> {}

  /** An empty store gets its next binding id; a store that has anything is left as it is. */
  private async initialize(): Promise<void> {
    await storeCall('load', () => this.client.kv.txn({
      compare: [{ key: Buffer.from(this.keys.state), range_end: prefixEnd(this.keys.state), target: 'Version', result: 'Equal', version: 0 }],
      success: [{ request_put: { key: Buffer.from(this.keys.nextId), value: Buffer.from(encodeNextId(1)) } }],
    }));
  }

  private async readState(): Promise<{ revision: number; kvs: IKeyValue[] }> {
    const end = prefixEnd(this.keys.state);
    const kvs: IKeyValue[] = [];
    let key = Buffer.from(this.keys.state);
    let revision = 0;
    for (;;) {
      const res = await storeCall('load', () => this.client.kv.range({ key, range_end: end, limit: this.pageSize, ...(revision > 0 ? { revision } : {}) }));
      if (revision === 0) revision = Number(res.header.revision);
      kvs.push(...res.kvs);
      const lastKv = res.kvs[res.kvs.length - 1];
      if (!res.more || lastKv === undefined) return { revision, kvs };
      key = Buffer.concat([lastKv.key, Buffer.from([0])]);
    }
  }

  private verify(revision: number, kvs: readonly IKeyValue[]): SharedSnapshot {
    const bindings: Binding[] = [];
    const bindingRevisions = new Map<Ipv4, number>();
    const macs = new Map<string, { key: string; eid: Ipv4 }>();
    const locators = new Map<string, { key: string; eid: Ipv4 }>();
    const released: ReleasedAddress[] = [];
    const intents: MigrationIntent[] = [];
    let nextBindingId: number | undefined;
    for (const kv of kvs) {
      const key = kv.key.toString('utf8');
      const entry = this.decode(key, kv.value);
      switch (entry.kind) {
        case 'binding': bindings.push(entry.binding); bindingRevisions.set(entry.eid, Number(kv.mod_revision)); break;
        case 'mac': macs.set(key, { key, eid: entry.eid }); break;
        case 'locator': locators.set(key, { key, eid: entry.eid }); break;
        case 'released': released.push({ subnet: entry.subnet, address: entry.address, releasedAt: entry.releasedAt }); break;
        case 'intent': intents.push(entry.intent); break;
        case 'next-id': nextBindingId = entry.nextBindingId; break;
      }
    }
    if (nextBindingId === undefined) throw new StoreCorruptError(this.keys.nextId, 'missing, while the store holds bindings');
    const state = { nextBindingId, bindings: bindings.sort((a, b) => a.id - b.id), released };
    try {
      BindingLedger.of(state);
    } catch (error) {
      if (error instanceof BindingStateError) throw new StoreCorruptError(`etcd ${this.keys.state}`, error.message);
      throw error;
    }
    for (const b of bindings) {
      this.expectIndex(macs, this.keys.mac(b.mac), b.eid);
      this.expectIndex(locators, this.keys.locator(b.locator.subnet, b.locator.address), b.eid);
    }
    const orphan = [...macs.values(), ...locators.values()][0];
    if (orphan !== undefined) throw new StoreCorruptError(orphan.key, `names ${orphan.eid}, whose binding does not hold it`);
    return { ...state, revision, bindingRevisions, intents };
  }

  /** The index key must name this EID; it is taken off the map (what is left names no binding). */
  private expectIndex(index: Map<string, { key: string; eid: Ipv4 }>, key: string, eid: Ipv4): void {
    const entry = index.get(key);
    if (entry === undefined) throw new StoreCorruptError(key, `missing for the binding of ${eid}`);
    if (entry.eid !== eid) throw new StoreCorruptError(key, `names ${entry.eid}, but the binding of ${eid} holds it`);
    index.delete(key);
  }

  private decode(key: string, value: Buffer): StateEntry {
    const parsed = this.keys.parseState(key);
    if (parsed === undefined) throw new StoreCorruptError(key, 'not a key this version of Seamless writes');
    return decodeEntry(key, parsed, value);
  }

  private decodeRevision(r: WatchedRevision): RevisionChanges {
    const changes: StoreChange[] = [];
    for (const e of r.events) {
      const parsed = this.keys.parseState(e.key);
      if (parsed === undefined) throw new StoreCorruptError(e.key, 'not a key this version of Seamless writes');
      if (e.type === 'delete') {
        if (parsed.kind === 'binding') changes.push({ kind: 'binding', eid: parsed.eid, binding: undefined, modRevision: e.modRevision });
        if (parsed.kind === 'intent') changes.push({ kind: 'intent', eid: parsed.eid, intent: undefined });
        continue;
      }
      const entry = decodeEntry(e.key, parsed, e.value);
      if (entry.kind === 'binding') changes.push({ kind: 'binding', eid: entry.eid, binding: entry.binding, modRevision: e.modRevision });
      if (entry.kind === 'released') changes.push({ kind: 'released', subnet: entry.subnet, address: entry.address, releasedAt: entry.releasedAt });
      if (entry.kind === 'intent') changes.push({ kind: 'intent', eid: entry.eid, intent: entry.intent });
    }
    return { revision: r.revision, changes };
  }
}
