// The runtime's metrics, owned here: what it counts (read from its counters when Prometheus
// scrapes) and how long its work takes (histograms it observes itself). The registry is the
// process's shared one when the composition root passes it, a private one otherwise.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BufferCounters } from './buffers.js';
import type { FabricCounters } from './events.js';
import type { Flights } from './flights.js';
import type { L2Learner } from './l2-learner.js';
import type { Outbox } from './outbox.js';
import type { SearchCounters } from './search.js';

/** Seconds: 100 µs .. 1 s. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;

export interface FabricMetricSources {
  readonly counters: FabricCounters;
  readonly outbox: Outbox;
  readonly flights: Flights;
  readonly learner: L2Learner;
  /** The loss-free buffers' counters and the frames they hold now (created after the metrics). */
  readonly buffers: () => { readonly counters: BufferCounters; readonly held: number };
  /** The lost-endpoint search's counters and how many endpoints are lost now (created after the metrics). */
  readonly search: () => { readonly counters: SearchCounters; readonly lost: number };
  /** Datapath ids (text) of the switches that are up: per-switch series name only those. */
  readonly connected: () => readonly string[];
}

export class FabricMetrics {
  readonly registry: Registry;
  /** From a PACKET_IN's arrival at the runtime to its handler returning (decisions, learned rules, re-injection queued). */
  readonly packetInHandling: Histogram;
  /** One switch's barrier round: its FLOW_MODs written to its confirmation, by plan step. */
  readonly barrierWait: Histogram<'step'>;
  readonly reconvergence: Histogram;
  readonly release: Histogram;

  constructor(registry: Registry | undefined, src: FabricMetricSources) {
    const r = (this.registry = registry ?? new Registry());
    const registers = [r];
    const from = (name: string, help: string, read: () => number) =>
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    const { counters, outbox, flights, learner } = src;
    from('seamless_malformed_frames_total', 'PACKET_IN payloads the packet parser rejected.', () => counters.malformedFrames);
    from('seamless_looped_frames_total', 'Re-injected frames that came back to the controller (dropped: no loop can form).', () => counters.looped);
    from('seamless_moves_total', 'Completed migrations.', () => counters.moves);
    from('seamless_failed_moves_total', 'Moves decided but not applied (locator pool exhausted, store refused).', () => counters.failedMoves);
    from('seamless_staged_moves_total', 'Moves whose receive side was staged ahead from an intent.', () => counters.staged);
    from('seamless_conflicts_total', 'Conflicting claims refused.', () => counters.conflicts);
    from('seamless_claims_limited_total', 'Claims dropped because their switch port exceeded its claim rate.', () => counters.claimsLimited);
    from('seamless_held_frames_dropped_total', 'Frames of an endpoint in flight dropped (beyond the hold bound, or claimed from the wrong place).', () => flights.dropped);
    from('seamless_learner_refused_total', 'MACs the L2 learner did not learn because a per-port or per-switch bound was reached.', () => learner.refused);
    from('seamless_packet_outs_total', 'PACKET_OUTs sent (re-injected frames and ARP probes included).', () => outbox.counters.packetOuts);
    from('seamless_reinjected_packets_total', 'Frames sent back through a switch\'s pipeline (held frames once their rules were in place, learned traffic).', () => outbox.counters.reinjected);
    from('seamless_arp_probes_total', 'ARP probes sent (PACKET_OUTs): to verify that an old attachment is gone, or to look for a lost endpoint.', () => outbox.counters.probes);
    from('seamless_messages_dropped_total', 'FLOW_MODs and PACKET_OUTs not sent because their switch had gone.', () => outbox.counters.dropped);
    new Counter({
      name: 'seamless_flow_mods_total', help: 'FLOW_MODs sent, by switch (every one leaves through the outbox).', labelNames: ['dpid'] as const, registers,
      collect() {
        this.reset();
        for (const dpid of src.connected()) this.inc({ dpid }, outbox.flowModsByDpid.get(dpid) ?? 0);
      },
    });
    const buffer = (name: keyof BufferCounters) => () => src.buffers().counters[name];
    from('seamless_buffer_copied_frames_total', 'Loss-free migration: frames for a migrating VM copied to the controller (they reached it too).', buffer('copied'));
    from('seamless_buffer_recovered_frames_total', 'Loss-free migration: copied frames taken into the buffer at the stop signal (sent after the VM stopped).', buffer('recovered'));
    from('seamless_buffer_held_frames_total', 'Loss-free migration: frames held for a stopped VM.', buffer('buffered'));
    from('seamless_buffer_delivered_frames_total', 'Loss-free migration: held frames delivered to the VM (at its new place, or where it resumed).', buffer('delivered'));
    from('seamless_buffer_dropped_frames_total', 'Loss-free migration: frames dropped because a buffer bound (frames, bytes) was reached or the switch had gone.', buffer('dropped'));
    from('seamless_buffer_resent_frames_total', 'Loss-free migration: frames of a replay given to the VM\'s port again because it dropped some of their burst (bufferReplayPortBacklog).', buffer('resent'));
    from('seamless_buffer_refused_total', 'Loss-free migration: copies and holds not begun because bufferMaxVms VMs were buffered already (the migration went on without a buffer).', buffer('refused'));
    from('seamless_buffer_expired_total', 'Loss-free migration: holds ended by the time bound (frames went to where the VM is).', buffer('expired'));
    new Gauge({ name: 'seamless_buffer_frames', help: 'Loss-free migration: frames waiting at the controller now.', registers, collect() { this.set(src.buffers().held); } });
    from('seamless_lost_endpoint_rounds_total', 'Rounds of ARP probes at every edge port for endpoints whose port went with no move to follow.', () => src.search().counters.rounds);
    from('seamless_lost_endpoints_found_total', 'Lost endpoints whose answer to a round was taken as their sighting.', () => src.search().counters.answers);
    new Gauge({ name: 'seamless_lost_endpoints', help: 'Endpoints whose port is down or gone with no move to follow (looked for), as of the last look (every second).', registers, collect() { this.set(src.search().lost); } });
    new Gauge({ name: 'seamless_endpoints_in_flight', help: 'Endpoints whose move is being verified or applied (their frames are held).', registers, collect() { this.set(flights.size); } });
    this.packetInHandling = new Histogram({ name: 'seamless_packet_in_handling_seconds', help: 'PACKET_IN handling time in the runtime.', buckets: [...LATENCY_BUCKETS], registers });
    this.barrierWait = new Histogram({ name: 'seamless_barrier_wait_seconds', help: 'A switch\'s barrier round in a plan step (FLOW_MODs written to confirmation).', labelNames: ['step'] as const, buckets: [...LATENCY_BUCKETS], registers });
    this.reconvergence = new Histogram({ name: 'seamless_reconvergence_seconds', help: 'Migrations: from the first packet at the new switch to every barrier of the send side confirmed.', buckets: [...LATENCY_BUCKETS], registers });
    this.release = new Histogram({ name: 'seamless_release_seconds', help: 'Migrations: from the first packet at the new switch to its held packets going on (send side queued).', buckets: [...LATENCY_BUCKETS], registers });
  }
}
