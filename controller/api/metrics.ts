// Metrics on the controller's prom-client registry (controller/metrics.ts).
// - The HTTP server's own: request duration, event-stream clients.
// - registerControllerMetrics(): the counters the fabric and the switch layer keep today, read at
//   scrape time, plus per-switch counts observed from the switch streams. This is a bridge: each of
//   these belongs in the layer that counts (docs/api.md says where each one goes) and moves there
//   as those layers are rebuilt; the names and labels stay.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { filter, type Subscription } from 'rxjs';
import type { Fabric } from '../fabric/fabric.js';
import { isAway, type MigrationIntents } from '../mobility/index.js';
import { OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from '../openflow/constants.js';
import { formatDpid, type SwitchRegistry } from '../switch/index.js';
import type { EventStream } from './sse.js';

/** Upper bounds in seconds: 1 ms .. 1 s, roughly 1-2.5-5 per decade. */
export const RECONVERGENCE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;
export const HTTP_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10] as const;

/** Registers a metric, replacing one of the same name (a second server on one registry, in tests). */
function fresh<T>(registry: Registry, name: string, make: () => T): T {
  registry.removeSingleMetric(name);
  return make();
}

export type HttpLabel = 'method' | 'route' | 'status_code';

/** seamless_http_request_duration_seconds{method, route, status_code}: route is the pattern, never the raw path. */
export function httpRequestDuration(registry: Registry): Histogram<HttpLabel> {
  const name = 'seamless_http_request_duration_seconds';
  return fresh(registry, name, () => new Histogram<HttpLabel>({
    name, help: 'HTTP API requests by method, route pattern and status, from arrival to the last byte of the response.',
    labelNames: ['method', 'route', 'status_code'], buckets: [...HTTP_DURATION_BUCKETS], registers: [registry],
  }));
}

/** A counter whose value is read from elsewhere when Prometheus scrapes. */
function counterFrom(registry: Registry, name: string, help: string, read: () => number): void {
  fresh(registry, name, () => new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } }));
}

function gaugeFrom(registry: Registry, name: string, help: string, read: () => number): void {
  fresh(registry, name, () => new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } }));
}

export function registerEventStreamMetrics(registry: Registry, stream: EventStream): void {
  gaugeFrom(registry, 'seamless_sse_clients', 'Event-stream (/api/events) clients connected.', () => stream.size);
  counterFrom(registry, 'seamless_sse_clients_dropped_total', 'Event-stream clients dropped because they fell behind (unwritten bytes over http.sseMaxBufferedBytes).', () => stream.dropped);
  counterFrom(registry, 'seamless_sse_clients_refused_total', 'Event-stream clients refused with 503 (http.sseMaxClients reached).', () => stream.rejected);
  counterFrom(registry, 'seamless_sse_events_total', 'Events published on the event stream.', () => stream.published);
}

export interface ControllerMetricsDeps {
  readonly fabric: Fabric;
  readonly switches: SwitchRegistry;
  readonly intents: MigrationIntents;
  readonly now?: () => number;
}

/** A switch's error types as a bounded label: unknown numeric types share one value. */
export function errorTypeLabel(errorName: string): string {
  const type = errorName.split('/')[0] ?? errorName;
  return /^OFPET_[A-Z_]+$/.test(type) ? type : 'OFPET_UNKNOWN';
}

/** The bridge described at the top of this file. Returns a function that stops the observers. */
export function registerControllerMetrics(registry: Registry, deps: ControllerMetricsDeps): () => void {
  const { fabric, switches, intents } = deps;
  const now = deps.now ?? Date.now;
  const packetIns = new Map<string, number>();
  const errors = new Map<string, Map<string, number>>();

  const reconvergence = fresh(registry, 'seamless_reconvergence_seconds', () => new Histogram({
    name: 'seamless_reconvergence_seconds', help: 'Migrations: from the first packet at the new switch to every barrier of the send side confirmed.',
    buckets: [...RECONVERGENCE_BUCKETS], registers: [registry],
  }));

  const subscriptions: Subscription[] = [
    switches.packetIn$.subscribe(({ dpid }) => {
      const key = formatDpid(dpid);
      packetIns.set(key, (packetIns.get(key) ?? 0) + 1);
    }),
    switches.errors$.subscribe(({ dpid, error }) => {
      const key = formatDpid(dpid);
      const byType = errors.get(key) ?? new Map<string, number>();
      errors.set(key, byType);
      const type = errorTypeLabel(error.errorName);
      byType.set(type, (byType.get(type) ?? 0) + 1);
    }),
    // A switch that is gone takes its series with it: datapath ids a peer invents cannot pile up.
    switches.switchDown$.subscribe((sw) => {
      packetIns.delete(sw.dpidText);
      errors.delete(sw.dpidText);
    }),
    fabric.events$.pipe(filter((e) => e.type === 'MIGRATION_COMPLETED')).subscribe((e) => {
      if (e.type === 'MIGRATION_COMPLETED') reconvergence.observe(e.migration.reconvergenceMs / 1000);
    }),
  ];

  gaugeFrom(registry, 'seamless_switches_connected', 'Switches connected in MAIN state.', () => switches.list().length);
  fresh(registry, 'seamless_switch_ports', () => new Gauge({
    name: 'seamless_switch_ports', help: 'Ports of each connected switch, by state (up = link up and not administratively down).',
    labelNames: ['dpid', 'state'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const sw of switches.list()) {
        const ports = [...sw.ports.values()];
        const up = ports.filter((p) => (p.state & OFPPS_LINK_DOWN) === 0 && (p.config & OFPPC_PORT_DOWN) === 0).length;
        this.set({ dpid: sw.dpidText, state: 'up' }, up);
        this.set({ dpid: sw.dpidText, state: 'down' }, ports.length - up);
      }
    },
  }));
  fresh(registry, 'seamless_packet_ins_total', () => new Counter({
    name: 'seamless_packet_ins_total', help: 'PACKET_IN messages received, by switch.', labelNames: ['dpid'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [dpid, n] of packetIns) this.inc({ dpid }, n);
    },
  }));
  fresh(registry, 'seamless_switch_errors_total', () => new Counter({
    name: 'seamless_switch_errors_total', help: 'OFPT_ERROR messages from switches, by switch and error type.', labelNames: ['dpid', 'type'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [dpid, byType] of errors) for (const [type, n] of byType) this.inc({ dpid, type }, n);
    },
  }));
  fresh(registry, 'seamless_flow_mods_total', () => new Counter({
    name: 'seamless_flow_mods_total', help: 'FLOW_MODs sent, by switch (every one that leaves through the fabric\'s outbox).',
    labelNames: ['dpid'] as const, registers: [registry],
    collect() {
      this.reset();
      // Connected switches only: the outbox keeps a count for every dpid it has ever seen.
      for (const sw of switches.list()) this.inc({ dpid: sw.dpidText }, fabric.outbox.flowModsByDpid.get(sw.dpidText) ?? 0);
    },
  }));
  const { outbox } = fabric;
  counterFrom(registry, 'seamless_packet_outs_total', 'PACKET_OUTs sent (re-injected frames and ARP probes included).', () => outbox.counters.packetOuts);
  counterFrom(registry, 'seamless_reinjected_packets_total', 'Held frames sent back through a switch\'s pipeline once their rules were in place.', () => outbox.counters.reinjected);
  counterFrom(registry, 'seamless_arp_probes_total', 'ARP probes sent to verify that an old attachment is gone.', () => outbox.counters.probes);
  counterFrom(registry, 'seamless_messages_dropped_total', 'FLOW_MODs and PACKET_OUTs not sent because their switch had gone.', () => outbox.counters.dropped);
  counterFrom(registry, 'seamless_malformed_frames_total', 'PACKET_IN payloads the packet parser rejected.', () => fabric.counters.malformedFrames);
  counterFrom(registry, 'seamless_looped_frames_total', 'Re-injected frames that came back to the controller (dropped: no loop can form).', () => fabric.counters.looped);
  counterFrom(registry, 'seamless_failed_moves_total', 'Moves decided but not applied (locator pool exhausted, store refused).', () => fabric.counters.failedMoves);
  counterFrom(registry, 'seamless_staged_moves_total', 'Moves whose receive side was staged ahead from an intent.', () => fabric.counters.staged);
  counterFrom(registry, 'seamless_claims_limited_total', 'Claims dropped because their switch port exceeded its claim rate.', () => fabric.counters.claimsLimited);
  counterFrom(registry, 'seamless_moves_total', 'Completed migrations.', () => fabric.counters.moves);
  counterFrom(registry, 'seamless_conflicts_total', 'Conflicting claims refused.', () => fabric.counters.conflicts);
  gaugeFrom(registry, 'seamless_bindings', 'Bindings (endpoints known).', () => fabric.bindings.list().length);
  gaugeFrom(registry, 'seamless_bindings_away', 'Bindings outside their home subnet (their traffic is rewritten).',
    () => fabric.bindings.list().filter(isAway).length);
  fresh(registry, 'seamless_switch_bindings', () => new Gauge({
    name: 'seamless_switch_bindings', help: 'Bindings located at each switch.', labelNames: ['dpid'] as const, registers: [registry],
    collect() {
      this.reset();
      const at = new Map<string, number>();
      for (const b of fabric.bindings.list()) at.set(formatDpid(b.locator.dpid), (at.get(formatDpid(b.locator.dpid)) ?? 0) + 1);
      for (const [dpid, n] of at) this.set({ dpid }, n);
    },
  }));
  gaugeFrom(registry, 'seamless_intents', 'Live migration intents.', () => intents.list(now()).length);

  return () => { for (const s of subscriptions) s.unsubscribe(); };
}
