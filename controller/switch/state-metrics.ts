// The switches as Prometheus sees them: which are up, their ports, what they send us. Counted by
// the switch layer (the registry's streams); a switch that goes takes its series with it, so
// datapath ids a peer invents cannot pile up.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from '../openflow/constants.js';
import { formatDpid } from './dpid.js';
import type { SwitchRegistry } from './registry.js';

/** A switch's error types as a bounded label: unknown numeric types share one value. */
export function errorTypeLabel(errorName: string): string {
  const type = errorName.split('/')[0] ?? errorName;
  return /^OFPET_[A-Z_]+$/.test(type) ? type : 'OFPET_UNKNOWN';
}

/** Registers the switch metrics on `registry`; returns a function that stops counting. */
export function registerSwitchStateMetrics(registry: Registry, switches: SwitchRegistry): () => void {
  new Gauge({ name: 'seamless_switches_connected', help: 'Switches connected in MAIN state.', registers: [registry], collect() { this.set(switches.list().length); } });
  new Gauge({
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
  });
  // Counted in a plain map and handed to prom-client at scrape time: a labelled inc() per packet-in
  // (label hashing, the dpid formatted) was a visible share of the packet-in path.
  const packetInCounts = new Map<bigint, number>();
  new Counter({
    name: 'seamless_packet_ins_total', help: 'PACKET_IN messages received, by switch.', labelNames: ['dpid'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [dpid, n] of packetInCounts) this.inc({ dpid: formatDpid(dpid) }, n);
    },
  });
  const errors = new Counter({ name: 'seamless_switch_errors_total', help: 'OFPT_ERROR messages from switches, by switch and error type.', labelNames: ['dpid', 'type'] as const, registers: [registry] });
  const errorTypes = new Map<string, Set<string>>();
  const subscriptions: Subscription[] = [
    switches.packetIn$.subscribe(({ dpid }) => { packetInCounts.set(dpid, (packetInCounts.get(dpid) ?? 0) + 1); }),
    switches.errors$.subscribe(({ dpid, error }) => {
      const key = formatDpid(dpid);
      const type = errorTypeLabel(error.errorName);
      errorTypes.set(key, (errorTypes.get(key) ?? new Set()).add(type));
      errors.inc({ dpid: key, type });
    }),
    switches.switchDown$.subscribe((sw) => {
      packetInCounts.delete(sw.dpid);
      for (const type of errorTypes.get(sw.dpidText) ?? []) errors.remove({ dpid: sw.dpidText, type });
      errorTypes.delete(sw.dpidText);
    }),
  ];
  return () => { for (const s of subscriptions) s.unsubscribe(); };
}
