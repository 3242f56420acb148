// The HTTP server's own metrics (request duration, event-stream clients) on the controller's
// prom-client registry (controller/metrics.ts). The other layers register theirs themselves:
// fabric/metrics.ts, switch/metrics.ts and switch/state-metrics.ts, mobility/metrics.ts.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EventStream } from './sse.js';

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
