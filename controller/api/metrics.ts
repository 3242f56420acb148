// Prometheus text exposition (format 0.0.4): pure rendering of counters, gauges and one
// histogram. The values come from the fabric's counters and from events the server observes.

/** Upper bounds in seconds: 1 ms .. 1 s, roughly 1-2.5-5 per decade. */
export const RECONVERGENCE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    this.bounds.forEach((b, i) => { if (value <= b) this.counts[i]!++; });
  }

  snapshot(): { buckets: [number, number][]; sum: number; count: number } {
    return { buckets: this.bounds.map((b, i) => [b, this.counts[i]!]), sum: this.sum, count: this.count };
  }
}

export interface MetricsInput {
  readonly switchesConnected: number;
  readonly packetIns: number;
  readonly flowMods: number;
  readonly switchErrors: ReadonlyMap<string, number>;
  readonly bindings: number;
  readonly bindingsAway: number;
  readonly moves: number;
  readonly conflicts: number;
  readonly reconvergence: Histogram;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function metric(name: string, type: string, help: string, lines: string[]): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${lines.map((l) => l + '\n').join('')}`;
}

function simple(name: string, type: 'counter' | 'gauge', help: string, value: number): string {
  return metric(name, type, help, [`${name} ${value}`]);
}

export function renderMetrics(m: MetricsInput): string {
  const errors = [...m.switchErrors].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => `seamless_switch_errors_total{type="${escapeLabel(type)}"} ${n}`);
  const h = m.reconvergence.snapshot();
  const histogram = [
    ...h.buckets.map(([le, n]) => `seamless_reconvergence_seconds_bucket{le="${le}"} ${n}`),
    `seamless_reconvergence_seconds_bucket{le="+Inf"} ${h.count}`,
    `seamless_reconvergence_seconds_sum ${h.sum}`,
    `seamless_reconvergence_seconds_count ${h.count}`,
  ];
  return [
    simple('seamless_switches_connected', 'gauge', 'Switches connected in MAIN state.', m.switchesConnected),
    simple('seamless_packet_ins_total', 'counter', 'PACKET_IN messages received.', m.packetIns),
    simple('seamless_flow_mods_total', 'counter', 'FLOW_MOD messages sent.', m.flowMods),
    metric('seamless_switch_errors_total', 'counter', 'OFPT_ERROR messages from switches, by error type.', errors),
    simple('seamless_bindings', 'gauge', 'Bindings (endpoints known).', m.bindings),
    simple('seamless_bindings_away', 'gauge', 'Bindings outside their home subnet.', m.bindingsAway),
    simple('seamless_moves_total', 'counter', 'Completed migrations.', m.moves),
    simple('seamless_conflicts_total', 'counter', 'Conflicting claims refused.', m.conflicts),
    metric('seamless_reconvergence_seconds', 'histogram', 'From the first packet at the new switch to the rules confirmed.', histogram),
  ].join('');
}
