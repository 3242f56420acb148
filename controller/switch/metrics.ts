// Counters of the OpenFlow side, registered in a prom-client Registry (the process's shared one
// when the composition root passes it, a private one otherwise). Every bound that bites counts
// here. Datapath labels only name switches that were admitted (reached MAIN), and at most
// `maxDpidLabels` of them: a peer must not be able to grow the label set by claiming dpids.

import { Counter, Gauge, Registry } from 'prom-client';

export type RefusalReason = 'max_connections' | 'max_connections_per_address' | 'tls' | 'duplicate_dpid' | 'pin_mismatch';
export type MultipartLimit = 'parts' | 'bytes' | 'time' | 'total';

export interface OpenFlowMetricsOptions {
  /** Where the counters are registered; default: a registry of their own. */
  readonly registry?: Registry;
  /** Distinct dpid label values before the rest are counted as 'other'. Default 1024. */
  readonly maxDpidLabels?: number;
}

export class OpenFlowMetrics {
  readonly registry: Registry;
  /** Open sockets on the listener, in any state. */
  readonly connections: Gauge;
  /** Connections closed at accept or at admission, by reason. */
  readonly connectionsRefused: Counter<'reason'>;
  /** Peers closed because they had not reached MAIN in time, by the state they were stuck in. */
  readonly handshakeTimeouts: Counter<'state'>;
  /** A second connection for a dpid that is up: refused or replacing, per the policy. */
  readonly duplicateDpids: Counter<'dpid' | 'action'>;
  readonly pinMismatches: Counter<'dpid'>;
  /** Multipart requests failed by a bound (parts, bytes or total time). */
  readonly multipartLimits: Counter<'dpid' | 'limit'>;
  /** Peers closed because their output queue passed its bound. */
  readonly outputOverflows: Counter<'dpid'>;
  readonly earlyMessagesDropped: Counter<'dpid'>;
  readonly repliesWithheld: Counter<'dpid'>;
  readonly undecodableMessages: Counter<'dpid'>;
  /** ERRORs no request was waiting for. */
  readonly unsolicitedErrors: Counter<'dpid'>;
  readonly logLinesSuppressed: Counter<'event'>;

  private readonly dpidLabels = new Set<string>();
  private readonly maxDpidLabels: number;

  constructor(options: OpenFlowMetricsOptions = {}) {
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    this.maxDpidLabels = options.maxDpidLabels ?? 1024;
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name: `seamless_openflow_${name}`, help, labelNames, registers: [registry] });
    this.connections = new Gauge({ name: 'seamless_openflow_connections', help: 'Open OpenFlow connections (any state)', registers: [registry] });
    this.connectionsRefused = counter('connections_refused_total', 'Connections refused at accept or admission, by reason', ['reason']);
    this.handshakeTimeouts = counter('handshake_timeouts_total', 'Peers closed for not reaching MAIN within the handshake deadline', ['state']);
    this.duplicateDpids = counter('duplicate_dpid_total', 'Connections claiming the dpid of a switch that is up (action: refused or replaced)', ['dpid', 'action']);
    this.pinMismatches = counter('pin_mismatch_total', 'Connections refused because their address or certificate does not match the dpid pin', ['dpid']);
    this.multipartLimits = counter('multipart_limit_total', 'Multipart requests failed by a bound on parts, bytes or time', ['dpid', 'limit']);
    this.outputOverflows = counter('output_queue_overflows_total', 'Peers closed because their output queue passed its bound', ['dpid']);
    this.earlyMessagesDropped = counter('early_messages_dropped_total', 'Asynchronous messages dropped before MAIN (count or byte bound)', ['dpid']);
    this.repliesWithheld = counter('replies_withheld_total', 'Echo replies and error replies not sent to a peer that does not read what it was sent', ['dpid']);
    this.undecodableMessages = counter('undecodable_messages_total', 'Messages that did not decode', ['dpid']);
    this.unsolicitedErrors = counter('unsolicited_errors_total', 'OFPT_ERROR messages no request was waiting for', ['dpid']);
    this.logLinesSuppressed = counter('log_lines_suppressed_total', 'Log lines about peers dropped by the rate limit', ['event']);
  }

  /** The label for a switch: '' while unknown or not admitted, 'other' past the label bound. */
  dpidLabel(dpid: string | undefined): string {
    if (dpid === undefined || dpid === '') return '';
    if (this.dpidLabels.has(dpid)) return dpid;
    if (this.dpidLabels.size >= this.maxDpidLabels) return 'other';
    this.dpidLabels.add(dpid);
    return dpid;
  }

  /** The sum of a counter over the label sets that contain `labels` (for tests and reports). */
  async total(counter: Counter<string> | Gauge, labels: Readonly<Record<string, string>> = {}): Promise<number> {
    const { values } = await counter.get();
    return values
      .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
