// ARP probes across replicas. A claim is verified by probing the endpoint's old port (fabric/verify.ts),
// which only the old switch's master may do (a slave can send no PACKET_OUT, and the answer is a
// PACKET_IN to the master). A replica that needs such a probe writes a request under
// <prefix>cluster/probes/<dpid>/<id>; the switch's master runs it and writes the verdict under
// <prefix>cluster/probe-results/<id>; the requester reads it (or falls back to counters on timeout).

import { randomBytes } from 'node:crypto';
import type { Etcd3, Watcher } from 'etcd3';
import type { Verdict } from '../fabric/verify.js';
import { silentLogger, type Logger } from '../log.js';
import type { ActivityCheck } from '../mobility/index.js';
import { isIpv4, isMac } from '../packet/address.js';
import { formatDpid, parseDpid } from '../switch/dpid.js';
import { StoreKeys } from './store-keys.js';

export interface RemoteProbesOptions {
  readonly client: Etcd3;
  readonly prefix?: string;
  readonly log?: Logger;
  readonly pollMs?: number;
}

export class EtcdRemoteProbes {
  private readonly client: Etcd3;
  private readonly requests: string;
  private readonly results: string;
  private readonly log: Logger;
  private readonly pollMs: number;
  private watcher: Watcher | undefined;

  constructor(options: RemoteProbesOptions) {
    this.client = options.client;
    const cluster = new StoreKeys(options.prefix).cluster;
    this.requests = `${cluster}probes/`;
    this.results = `${cluster}probe-results/`;
    this.log = options.log ?? silentLogger;
    this.pollMs = options.pollMs ?? 5;
  }

  /** Asks the master of `check.dpid` to probe; undefined when no verdict came within `timeoutMs`. */
  async request(check: ActivityCheck, timeoutMs: number): Promise<Verdict | undefined> {
    const id = randomBytes(8).toString('hex');
    const requestKey = `${this.requests}${formatDpid(check.dpid)}/${id}`;
    const resultKey = `${this.results}${id}`;
    try {
      await this.client.put(requestKey).value(JSON.stringify({ eid: check.eid, mac: check.mac, port: check.port })).exec();
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const verdict = await this.client.get(resultKey).string();
        if (verdict === 'active' || verdict === 'silent') return verdict;
        await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      }
      return undefined;
    } catch (error) {
      this.log.warn('remote probe failed', { dpid: formatDpid(check.dpid), error: (error as Error).message });
      return undefined;
    } finally {
      this.client.delete().key(requestKey).exec().catch(() => undefined);
      this.client.delete().key(resultKey).exec().catch(() => undefined);
    }
  }

  /** Runs the probes other replicas ask of the switches `mine` says this replica masters. */
  async serve(mine: (dpid: bigint) => boolean, probe: (check: ActivityCheck) => Promise<Verdict>): Promise<void> {
    this.watcher = await this.client.watch().prefix(this.requests).create();
    this.watcher.on('put', (kv) => {
      const key = kv.key.toString();
      const [dpidText, id] = key.slice(this.requests.length).split('/');
      let dpid: bigint;
      try { dpid = parseDpid(dpidText ?? ''); } catch { return; }
      if (id === undefined || !mine(dpid)) return;
      const check = parseRequest(kv.value.toString(), dpid);
      if (check === undefined) return;
      probe(check)
        .then((verdict) => this.client.put(`${this.results}${id}`).value(verdict).exec())
        .catch((error: Error) => this.log.warn('could not answer a remote probe', { dpid: dpidText, error: error.message }));
    });
    this.watcher.on('error', (error: Error) => this.log.warn('remote probe watch failed', { error: error.message }));
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel().catch(() => undefined);
  }
}

function parseRequest(text: string, dpid: bigint): ActivityCheck | undefined {
  try {
    const o = JSON.parse(text) as { eid?: unknown; mac?: unknown; port?: unknown };
    if (!isIpv4(o.eid) || !isMac(o.mac) || typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 1) return undefined;
    return { eid: o.eid, mac: o.mac.toLowerCase(), port: o.port, dpid };
  } catch {
    return undefined;
  }
}
