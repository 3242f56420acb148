// The etcd connection every cluster module shares: endpoints, TLS, per-request deadlines and
// fault handling.
//
// Client: `etcd3` (npm; Microsoft's, maintained by its original author; TypeScript types; the
// v3 gRPC API over @grpc/grpc-js, pure JavaScript, so nothing to build on Node 20). It talks to
// etcd 3.4 (Debian's etcd-server) unchanged. We use its pooled gRPC clients and its raw
// KV/Lease/Watch calls, not its Election and Watcher helpers: the election has no per-switch
// spreading, and the watcher resumes from the response header's revision, which can skip
// events still queued after a reconnect (change-feed.ts keeps its own position instead).

import { readFileSync } from 'node:fs';
import { circuitBreaker, ConsecutiveBreaker, handleWhen, isBrokenCircuitError, retry } from 'cockatiel';
import { ClientRuntimeError, Etcd3, EtcdError, GRPCGenericError, isRecoverableError, type IOptions } from 'etcd3';
import { StoreUnavailableError } from '../mobility/index.js';

export interface EtcdTlsFiles {
  /** PEM files: the CA that signed the members' certificates; a client certificate and key if they ask for one. */
  readonly ca?: string | null;
  readonly cert?: string | null;
  readonly key?: string | null;
}

export interface EtcdConnectionOptions {
  /** http://host:2379 or https://host:2379 (with TLS). */
  readonly endpoints: readonly string[];
  readonly tls?: EtcdTlsFiles;
  /**
   * Deadline of one request to one member. A request that fails for want of a member (down,
   * hung, no quorum) is tried once more on another one, so a call gives up after about twice
   * this.
   */
  readonly requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 1000;

export function connectEtcd(options: EtcdConnectionOptions): Etcd3 {
  if (options.endpoints.length === 0) throw new TypeError('etcd: no endpoints');
  for (const e of options.endpoints) {
    if (!/^https?:\/\/[^/\s]+$/.test(e)) throw new TypeError(`etcd endpoint must look like http://host:port: ${JSON.stringify(e)}`);
  }
  const tls = options.tls;
  const secure = options.endpoints.some((e) => e.startsWith('https:'));
  if (tls?.ca && options.endpoints.some((e) => e.startsWith('http:'))) throw new TypeError('etcd: with a TLS CA, every endpoint must be https://');
  if (secure && !tls?.ca) throw new TypeError('etcd: https:// endpoints need the CA file (state.etcd.tls.ca)');
  if (Boolean(tls?.cert) !== Boolean(tls?.key)) throw new TypeError('etcd: a client certificate needs its key, and a key its certificate');
  const timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const config: IOptions = {
    hosts: [...options.endpoints],
    dialTimeout: timeout,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    faultHandling: {
      // A member that failed twice in a row is left alone for a second, then tried again.
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(2) }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 1 }),
    },
  };
  if (tls?.ca) {
    config.credentials = {
      rootCertificate: readFileSync(tls.ca),
      ...(tls.key ? { privateKey: readFileSync(tls.key) } : {}),
      ...(tls.cert ? { certChain: readFileSync(tls.cert) } : {}),
    };
  }
  return new Etcd3(config);
}

/** Runs an etcd call; a failure of the call itself (no member, no quorum, deadline) becomes StoreUnavailableError. */
export async function storeCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isEtcdFailure(error)) throw new StoreUnavailableError(operation, error);
    throw error;
  }
}

export function isEtcdFailure(error: unknown): boolean {
  return error instanceof GRPCGenericError || error instanceof EtcdError || error instanceof ClientRuntimeError || isBrokenCircuitError(error);
}
