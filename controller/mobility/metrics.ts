// Bindings and intents as Prometheus gauges, read when scraped.

import { Gauge, type Registry } from 'prom-client';
import { formatDpid } from '../switch/dpid.js';
import { isAway } from './binding.js';
import type { BindingService } from './binding-store.js';
import type { MigrationIntents } from './migration-intents.js';

export function registerBindingMetrics(registry: Registry, bindings: BindingService, intents: MigrationIntents, now: () => number = Date.now): void {
  new Gauge({ name: 'seamless_bindings', help: 'Bindings (endpoints known).', registers: [registry], collect() { this.set(bindings.size); } });
  new Gauge({ name: 'seamless_bindings_away', help: 'Bindings outside their home subnet (their traffic is rewritten).', registers: [registry], collect() { this.set(bindings.list().filter(isAway).length); } });
  new Gauge({
    name: 'seamless_switch_bindings', help: 'Bindings located at each switch.', labelNames: ['dpid'] as const, registers: [registry],
    collect() {
      this.reset();
      const at = new Map<string, number>();
      for (const b of bindings.list()) at.set(formatDpid(b.locator.dpid), (at.get(formatDpid(b.locator.dpid)) ?? 0) + 1);
      for (const [dpid, n] of at) this.set({ dpid }, n);
    },
  });
  new Gauge({ name: 'seamless_intents', help: 'Live migration intents.', registers: [registry], collect() { this.set(intents.list(now()).length); } });
}
