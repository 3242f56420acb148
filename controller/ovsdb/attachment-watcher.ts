// Watches one ovsdb-server and tells where VMs are (about to be) attached: monitors Bridge, Port
// and Interface, folds the updates into a replica, derives the attachments after each one and
// emits the difference as VmAttachment events. When the session ends (ovsdb-server restarted,
// malformed input, silent peer) it reconnects with backoff and monitors again from scratch; the
// fresh snapshot is diffed against what was known before, so an attachment that came or went
// during the outage is reported exactly once and nothing is reported twice.

import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import { silentLogger, type Logger } from '../log.js';
import {
  ATTACHMENT_COLUMNS, ATTACHMENT_TABLES, deriveAttachments, diffAttachments, normaliseMac,
  type AttachmentProblem, type AttachmentRecord, type VmAttachment,
} from './attachments.js';
import { OvsdbConnection, type OvsdbConnectionOptions } from './connection.js';
import { OvsdbReplica } from './replica.js';
import { formatOvsdbTarget, type OvsdbTarget } from './target.js';
import { WarningThrottle } from './warning-throttle.js';

export interface VmAttachmentWatcherOptions {
  readonly target: OvsdbTarget;
  readonly log?: Logger;
  readonly now?: () => number;
  /** Reconnect backoff: first delay, doubled per failed attempt up to the maximum (100 ms, 5 s). */
  readonly reconnect?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly connection?: OvsdbConnectionOptions;
}

export type WatcherState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

/** Counters for metrics and tests. */
export interface WatcherCounters {
  connects: number;
  disconnects: number;
  updates: number;
  events: number;
}

const DATABASE = 'Open_vSwitch';
const MONITOR_ID = 'seamless-attachments';

function monitorRequests(): Record<string, { columns: string[] }> {
  return Object.fromEntries(Object.entries(ATTACHMENT_COLUMNS).map(([table, columns]) => [table, { columns: [...columns] }]));
}

export class VmAttachmentWatcher {
  /** Attachments appearing ('added') and going away ('removed'). */
  readonly attachments$: Observable<VmAttachment>;
  /** The session's state; starts as 'disconnected'. */
  readonly state$: Observable<WatcherState>;
  readonly counters: WatcherCounters = { connects: 0, disconnects: 0, updates: 0, events: 0 };

  private readonly events = new Subject<VmAttachment>();
  private readonly state = new BehaviorSubject<WatcherState>('disconnected');
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly where: string;
  private readonly throttle = new WarningThrottle();
  private known = new Map<string, AttachmentRecord>();
  private reported = new Set<string>();
  private firstSnapshot = true;
  private session: OvsdbConnection | undefined;
  private replica: OvsdbReplica | undefined;
  /** Updates that arrive before the monitor reply is folded in (same chunk, say) wait here. */
  private early: unknown[] | undefined;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly options: VmAttachmentWatcherOptions) {
    this.log = (options.log ?? silentLogger).child({ component: 'ovsdb', target: formatOvsdbTarget(options.target) });
    this.now = options.now ?? Date.now;
    this.where = formatOvsdbTarget(options.target);
    this.attachments$ = this.events.asObservable();
    this.state$ = this.state.asObservable();
  }

  /** Connects, and keeps reconnecting until stop(). Idempotent. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.reconnect();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.session?.close();
    this.state.next('stopped');
    this.state.complete();
    this.events.complete();
  }

  /** The attachments as last seen (kept through an outage: they are probably still there). */
  attachments(): AttachmentRecord[] {
    return [...this.known.values()];
  }

  /** The attachments of one MAC (several while a VM migrates between two bridges of this host). */
  byMac(mac: string): AttachmentRecord[] {
    const wanted = normaliseMac(mac);
    return this.attachments().filter((a) => a.mac === wanted);
  }

  /** connect() with an owner for its failures (it handles its own; anything else is a bug, logged). */
  private reconnect(): void {
    this.connect().catch((e: Error) => this.log.error('ovsdb watcher failed', { error: e.message }));
  }

  private async connect(): Promise<void> {
    this.state.next('connecting');
    let session: OvsdbConnection;
    try {
      session = await OvsdbConnection.open(this.options.target, {
        onNotification: (method, params) => this.onNotification(session, method, params),
        onClose: (reason) => this.onClose(session, reason),
      }, this.options.connection);
    } catch (error) {
      this.retry(error as Error);
      return;
    }
    if (this.stopped) return session.close();
    this.session = session;
    this.replica = new OvsdbReplica(ATTACHMENT_TABLES);
    this.early = [];
    let initial: unknown;
    try {
      initial = await session.request('monitor', [DATABASE, MONITOR_ID, monitorRequests()]);
    } catch (error) {
      session.close(error as Error); // onClose schedules the retry
      return;
    }
    if (session !== this.session) return;
    for (const updates of [initial, ...this.early]) if (!this.fold(session, updates)) return;
    this.early = undefined;
    this.counters.connects++;
    const attempts = this.failures;
    this.failures = 0;
    this.publish(this.firstSnapshot);
    this.firstSnapshot = false;
    this.state.next('connected');
    this.log.info('ovsdb monitor started', { rows: this.replica.size, attachments: this.known.size, ...(attempts > 0 ? { afterAttempts: attempts } : {}) });
  }

  private onNotification(session: OvsdbConnection, method: string, params: readonly unknown[]): void {
    if (session !== this.session || method !== 'update' || params[0] !== MONITOR_ID) return;
    if (this.early !== undefined) {
      this.early.push(params[1]);
      return;
    }
    this.counters.updates++;
    if (this.fold(session, params[1])) this.publish(false);
  }

  /** Folds one <table-updates>; a malformed one ends the session (we re-monitor from scratch). */
  private fold(session: OvsdbConnection, updates: unknown): boolean {
    const outcome = this.replica!.apply(updates);
    if (outcome.error === undefined) return true;
    session.close(new Error(`${this.where}: malformed update from ovsdb-server: ${outcome.error}`));
    return false;
  }

  private publish(initial: boolean): void {
    const { attachments, problems } = deriveAttachments(this.replica!);
    const events = diffAttachments(this.known, attachments, this.now(), initial);
    this.known = new Map(attachments);
    this.reportProblems(problems);
    this.counters.events += events.length;
    for (const event of events) this.events.next(event);
  }

  /** New problems only (a row stays malformed across many updates), and few lines per minute. */
  private reportProblems(problems: readonly AttachmentProblem[]): void {
    const current = new Set<string>();
    for (const problem of problems) {
      const key = `${problem.interfaceUuid} ${problem.reason}`;
      current.add(key);
      if (this.reported.has(key)) continue;
      const verdict = this.throttle.admit(this.now());
      if (verdict.write) {
        this.log.warn('ignoring an Interface row with malformed hypervisor data', {
          interface: problem.interfaceName, uuid: problem.interfaceUuid, reason: problem.reason,
          ...(verdict.suppressed > 0 ? { suppressedSinceLast: verdict.suppressed } : {}),
        });
      }
    }
    this.reported = current;
  }

  private onClose(session: OvsdbConnection, reason: Error | undefined): void {
    if (session !== this.session) return;
    this.session = undefined;
    this.replica = undefined;
    this.early = undefined;
    if (this.stopped) return;
    this.counters.disconnects++;
    this.retry(reason ?? new Error(`${this.where}: closed`));
  }

  private retry(reason: Error): void {
    if (this.stopped) return;
    this.failures++;
    const initialMs = this.options.reconnect?.initialMs ?? 100;
    const maxMs = this.options.reconnect?.maxMs ?? 5000;
    const delayMs = Math.min(maxMs, initialMs * 2 ** Math.min(this.failures - 1, 20));
    // One warning per outage; the attempts that follow are debug lines.
    const line = this.failures === 1 ? this.log.warn : this.log.debug;
    line.call(this.log, 'ovsdb unavailable, retrying', { error: reason.message, retryInMs: delayMs, attempt: this.failures });
    this.state.next('disconnected');
    this.retryTimer = setTimeout(() => this.reconnect(), delayMs);
    this.retryTimer.unref();
  }
}
