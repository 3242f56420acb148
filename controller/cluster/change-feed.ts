// Every change under a key prefix after a revision, exactly once and in order, across member
// failures and reconnects: an rxjs stream of revisions, each with its events in the order its
// transaction made them.
//
// The feed remembers the last revision it delivered and, whenever its stream breaks, opens a
// new one from the next revision (on whichever member answers); an event at or below the last
// delivered revision is dropped, so a replay is never delivered twice. etcd never splits one
// revision across two responses, so "delivered" is per revision. A member that hangs (SIGSTOP,
// a dead host whose TCP connection stays open) sends nothing and no error: the feed asks for a
// progress report every livenessMs/3 and treats a stream silent for livenessMs as broken.
// If the revision to resume from has been compacted away, the feed ends with
// FeedCompactedError: the consumer must load the state again.

import type { Etcd3, IEvent, IWatchResponse } from 'etcd3';
import { Observable } from 'rxjs';
import { prefixEnd } from './store-keys.js';

export interface WatchedEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  /** Empty for a delete. */
  readonly value: Buffer;
  readonly modRevision: number;
  readonly createRevision: number;
  /** The lease the key is attached to ('0': none). */
  readonly lease: string;
}

export interface WatchedRevision {
  readonly revision: number;
  readonly events: readonly WatchedEvent[];
}

export class FeedCompactedError extends Error {
  override readonly name = 'FeedCompactedError';
  constructor(readonly resumeFrom: number, readonly compactRevision: number) {
    super(`etcd history before revision ${compactRevision} is compacted; cannot resume from ${resumeFrom}: reload the state`);
  }
}

export type FeedState =
  | { readonly connected: true; readonly from: number }
  | { readonly connected: false; readonly error: Error };

export interface ChangeFeedOptions {
  /** A stream that answers nothing for this long is dropped and opened again elsewhere. */
  readonly livenessMs?: number;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /** Told when the feed connects or loses its stream (metrics, logs, the API's etcd health). */
  readonly onState?: (state: FeedState) => void;
}

type WatchStream = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;

/** Changes of keys starting with `prefix`, from revision `after + 1` on. */
export function changeFeed(client: Etcd3, prefix: string, after: number, options: ChangeFeedOptions = {}): Observable<WatchedRevision> {
  const livenessMs = options.livenessMs ?? 3000;
  const retryMinMs = options.retryMinMs ?? 50;
  const retryMaxMs = options.retryMaxMs ?? 1000;
  return new Observable<WatchedRevision>((subscriber) => {
    let last = after;
    let stream: WatchStream | undefined;
    let closed = false;
    let backoff = retryMinMs;
    let lastHeard = Date.now();
    let retry: NodeJS.Timeout | undefined;

    const broken = (from: WatchStream | undefined, error: Error) => {
      if (closed || from !== stream) return;
      stream = undefined;
      from?.cancel();
      options.onState?.({ connected: false, error });
      retry = setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, retryMaxMs);
    };

    const deliver = (events: readonly IEvent[]) => {
      let batch: WatchedEvent[] = [];
      let revision = 0;
      const flush = () => {
        if (batch.length > 0) {
          last = revision;
          subscriber.next({ revision, events: batch });
        }
        batch = [];
      };
      for (const e of events) {
        const r = Number(e.kv.mod_revision);
        if (r <= last) continue; // a replay of what was delivered already
        if (r !== revision) flush();
        revision = r;
        batch.push({
          type: e.type === 'Delete' ? 'delete' : 'put', key: e.kv.key.toString('utf8'), value: e.kv.value,
          modRevision: r, createRevision: Number(e.kv.create_revision), lease: String(e.kv.lease),
        });
      }
      flush();
    };

    const answer = (from: WatchStream, res: IWatchResponse) => {
      if (closed || from !== stream) return;
      lastHeard = Date.now();
      if (res.canceled) {
        const compacted = Number(res.compact_revision);
        if (compacted > 0) {
          closed = true;
          from.cancel();
          subscriber.error(new FeedCompactedError(last + 1, compacted));
        } else {
          broken(from, new Error(`watch canceled by etcd: ${res.cancel_reason || 'no reason given'}`));
        }
        return;
      }
      if (res.created) {
        backoff = retryMinMs;
        options.onState?.({ connected: true, from: last + 1 });
      }
      deliver(res.events);
    };

    const connect = () => {
      retry = undefined;
      if (closed) return;
      client.watchClient.watch().then((s) => {
        if (closed) {
          s.cancel();
          return;
        }
        stream = s;
        lastHeard = Date.now();
        s.on('data', (res: IWatchResponse) => answer(s, res));
        s.on('error', (error: Error) => broken(s, error));
        s.on('end', () => broken(s, new Error('watch stream ended')));
        s.write({ create_request: { key: Buffer.from(prefix), range_end: prefixEnd(prefix), start_revision: last + 1 } });
      }, (error: Error) => {
        stream = undefined;
        broken(undefined, error);
      });
    };

    const liveness = setInterval(() => {
      if (stream === undefined) return;
      if (Date.now() - lastHeard > livenessMs) broken(stream, new Error(`watch stream silent for ${livenessMs} ms`));
      else stream.write({ progress_request: {} });
    }, Math.max(50, Math.floor(livenessMs / 3)));

    connect();
    return () => {
      closed = true;
      clearInterval(liveness);
      if (retry !== undefined) clearTimeout(retry);
      stream?.cancel();
      stream = undefined;
    };
  });
}
