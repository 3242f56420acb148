// The Prometheus registry: one per controller, created in main.ts and handed to every layer that
// counts something. A layer registers its own metrics on it, named seamless_<what>_<unit>, with
// a `dpid` label (16 hex digits) where the count is per switch:
//
//   const flowMods = new Counter({ name: 'seamless_flow_mods_total', help: 'FLOW_MODs sent, by switch and command.',
//     labelNames: ['dpid', 'command'] as const, registers: [metrics] });
//   flowMods.inc({ dpid: sw.dpidText, command: 'add' });
//
// and removes a switch's series when it leaves for good (`counter.remove({ dpid })`), so a peer
// inventing datapath ids cannot grow the page without bound. /metrics renders whatever is
// registered here.

import { collectDefaultMetrics, Registry } from 'prom-client';

export type MetricsRegistry = Registry;

/** Gauges prom-client names with a `_total` suffix, which Prometheus reserves for counters. */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** A registry with the process and runtime metrics (CPU, memory, heap, GC, event loop, handles). */
export function createMetricsRegistry(): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  // The same counts stay available, by type, as nodejs_active_handles{type} etc.
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  return registry;
}
