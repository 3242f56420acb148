// The agreement on a move's receive side among replicas (fabric/roles.ts MoveCoordination), in
// etcd: the master of each switch writes <prefix>cluster/acks/<binding>/<version>/<dpid> once the
// receive side is confirmed there; a replica waiting to install its send side reads the keys of
// that (binding, version) until every switch of the move has one. Keys of older versions of a
// binding are deleted when a newer one is confirmed, and a replica deletes its own keys a while after
// a move is done (a slow replica may still be reading them).

import type { Etcd3 } from 'etcd3';
import { silentLogger, type Logger } from '../log.js';
import type { MoveCoordination } from '../fabric/roles.js';
import { formatDpid } from '../switch/dpid.js';
import { storeCall } from './etcd-client.js';
import { StoreKeys } from './store-keys.js';

export interface MoveAcksOptions {
  readonly client: Etcd3;
  readonly prefix?: string;
  readonly replicaId: string;
  readonly log?: Logger;
  /** How often a waiting replica reads the acks (ms). */
  readonly pollMs?: number;
  /** How long a replica's acks stay after its part of the move is done (ms). */
  readonly keepMs?: number;
}

export class EtcdMoveAcks implements MoveCoordination {
  private readonly client: Etcd3;
  private readonly root: string;
  private readonly log: Logger;
  private readonly pollMs: number;
  private readonly keepMs: number;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: MoveAcksOptions) {
    this.client = options.client;
    this.root = `${new StoreKeys(options.prefix).cluster}acks/`;
    this.log = options.log ?? silentLogger;
    this.pollMs = options.pollMs ?? 5;
    this.keepMs = options.keepMs ?? 10_000;
  }

  private versionPrefix(bindingId: number, version: number): string {
    return `${this.root}${bindingId}/${version}/`;
  }

  async confirmReceive(bindingId: number, version: number, dpids: readonly bigint[]): Promise<void> {
    const base = this.versionPrefix(bindingId, version);
    await Promise.all(dpids.map((d) => storeCall('move ack', () => this.client.put(`${base}${formatDpid(d)}`).value(this.options.replicaId).exec())));
    // Older versions of this binding are settled: their keys can go.
    if (version > 1) await storeCall('move ack cleanup', () => this.client.delete().prefix(this.versionPrefix(bindingId, version - 1)).exec()).catch(() => undefined);
  }

  async receiveConfirmed(bindingId: number, version: number, dpids: readonly bigint[], timeoutMs: number): Promise<boolean> {
    if (dpids.length === 0) return true;
    const base = this.versionPrefix(bindingId, version);
    const wanted = dpids.map((d) => `${base}${formatDpid(d)}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const have = await this.client.getAll().prefix(base).keys();
        const present = new Set(have);
        if (wanted.every((k) => present.has(k))) return true;
      } catch (error) {
        this.log.warn('could not read move acks', { bindingId, version, error: (error as Error).message });
      }
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  done(bindingId: number, version: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.client.delete().prefix(this.versionPrefix(bindingId, version)).exec().catch(() => undefined);
    }, this.keepMs);
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
