// The switches in MAIN, by datapath id, and the streams applications subscribe to. One Subject
// per source (lifecycle, messages, errors); the per-type streams are derived from them.

import type { Registry } from 'prom-client';
import { filter, Subject, type Observable } from 'rxjs';
import type { FlowRemoved, OfpMessage, PacketIn, PortStatus } from '../openflow/types.js';
import type { Logger } from '../log.js';
import { ConnectionState, type SwitchConnection } from './connection.js';
import { parseDpid } from './dpid.js';
import type { OpenFlowError } from './errors.js';
import { OpenFlowMetrics } from './metrics.js';

export interface SwitchRegistryOptions {
  /** The prom-client registry the seamless_openflow_* counters join; default: a private one. */
  readonly metrics?: Registry;
  /** Distinct dpid label values in those counters before the rest count as 'other'. Default 1024. */
  readonly maxDpidLabels?: number;
}

/** A message from a switch, with the switch it came from. */
export interface SwitchMessage<M extends OfpMessage = OfpMessage> {
  readonly sw: SwitchConnection;
  readonly dpid: bigint;
  readonly message: M;
}

/** An ERROR not matched to a pending request (`error.request` names the message when known). */
export interface SwitchErrorEvent {
  readonly sw: SwitchConnection;
  readonly dpid: bigint;
  readonly error: OpenFlowError;
}

export class SwitchRegistry {
  /** A switch reached MAIN (its dpid, features, desc and ports are known). */
  readonly switchUp$: Observable<SwitchConnection>;
  /** A switch that was up is gone; `sw.closeReason` says why. */
  readonly switchDown$: Observable<SwitchConnection>;
  /** Every asynchronous message of every switch in MAIN. */
  readonly messages$: Observable<SwitchMessage>;
  readonly packetIn$: Observable<SwitchMessage<PacketIn>>;
  readonly portStatus$: Observable<SwitchMessage<PortStatus>>;
  readonly flowRemoved$: Observable<SwitchMessage<FlowRemoved>>;
  readonly errors$: Observable<SwitchErrorEvent>;
  /** Counters of the OpenFlow side: refusals, bounds that bit, undecodable messages, ... */
  readonly metrics: OpenFlowMetrics;

  private readonly up = new Subject<SwitchConnection>();
  private readonly down = new Subject<SwitchConnection>();
  private readonly messages = new Subject<SwitchMessage>();
  private readonly errors = new Subject<SwitchErrorEvent>();
  private readonly byDpid = new Map<bigint, SwitchConnection>();

  constructor(private readonly log: Logger, options: SwitchRegistryOptions = {}) {
    this.metrics = new OpenFlowMetrics({ registry: options.metrics, maxDpidLabels: options.maxDpidLabels });
    this.switchUp$ = this.up.asObservable();
    this.switchDown$ = this.down.asObservable();
    this.messages$ = this.messages.asObservable();
    this.packetIn$ = this.messages$.pipe(filter(isType('PACKET_IN')));
    this.portStatus$ = this.messages$.pipe(filter(isType('PORT_STATUS')));
    this.flowRemoved$ = this.messages$.pipe(filter(isType('FLOW_REMOVED')));
    this.errors$ = this.errors.asObservable();
  }

  /** Follows a new connection; it joins the registry when it reaches MAIN. Call before conn.start(). */
  attach(sw: SwitchConnection): void {
    sw.state$.subscribe((state) => {
      if (state === ConnectionState.MAIN) this.onUp(sw);
      else if (state === ConnectionState.DEAD) this.onDead(sw);
    });
    sw.messages$.subscribe((message) => this.messages.next({ sw, dpid: sw.dpid, message }));
    // An ERROR before FEATURES_REPLY has no datapath to name; the connection has logged it.
    sw.errors$.pipe(filter(() => sw.features !== undefined)).subscribe((error) => this.errors.next({ sw, dpid: sw.dpid, error }));
  }

  /** The connected switch with this datapath id (bigint or hex text). */
  get(dpid: bigint | string): SwitchConnection | undefined {
    return this.byDpid.get(parseDpid(dpid));
  }

  list(): SwitchConnection[] {
    return [...this.byDpid.values()];
  }

  /** Ends every stream (call after the listener closed the connections). */
  complete(): void {
    for (const subject of [this.up, this.down, this.messages, this.errors]) subject.complete();
  }

  private onUp(sw: SwitchConnection): void {
    const previous = this.byDpid.get(sw.dpid);
    if (previous !== undefined && previous !== sw) {
      // Only under the 'replace' policy (the listener refuses duplicates otherwise): the new one wins.
      this.log.info('switch reconnected, closing its previous connection', { dpid: sw.dpidText, previous: previous.remote });
      previous.close('replaced by a new connection from the same datapath');
    }
    this.byDpid.set(sw.dpid, sw);
    this.up.next(sw);
  }

  private onDead(sw: SwitchConnection): void {
    if (sw.features === undefined || this.byDpid.get(sw.dpid) !== sw) return;
    this.byDpid.delete(sw.dpid);
    this.down.next(sw);
  }
}

function isType<T extends OfpMessage['type']>(type: T) {
  return (event: SwitchMessage): event is SwitchMessage<Extract<OfpMessage, { type: T }>> => event.message.type === type;
}
