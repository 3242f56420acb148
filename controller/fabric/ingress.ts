// Packet-in handling, following the data: classify -> (learn | sight -> decide -> act). Each kind
// of event goes to the module that owns it: probe answers to the verifier, locator misses to the
// map-cache, claims to the mover, ordinary frames to forwarding. Time is read once per event.

import type { Logger } from '../log.js';
import {
  isAway, sightingFromPacket, type Binding, type BindingRegistry, type MoveDecision, type MoveDetector, type Sighting,
} from '../mobility/index.js';
import type { Mac, PacketIn } from '../openflow/index.js';
import type { Packet } from '../packet/index.js';
import { classifyPacketIn, isProbeAnswer } from './classify.js';
import type { FrameBuffers } from './buffers.js';
import type { ClaimLimiter } from './claim-limiter.js';
import type { Clock } from './clock.js';
import type { ConflictReporter } from './conflicts.js';
import type { FabricCounters, FabricEvent } from './events.js';
import type { Flights, Held } from './flights.js';
import type { Forwarding } from './forwarding.js';
import type { Gateways } from './gateways.js';
import type { MapCache } from './map-cache.js';
import type { Mover } from './moves.js';
import type { FabricMessage } from './switches.js';
import type { MoveVerifier } from './verify.js';

export interface IngressDeps {
  readonly registry: BindingRegistry;
  readonly detector: MoveDetector;
  readonly verifier: MoveVerifier;
  readonly flights: Flights;
  readonly forwarding: Forwarding;
  readonly gateways: Gateways;
  readonly mapCache: MapCache;
  readonly mover: Mover;
  readonly buffers: FrameBuffers;
  readonly clock: Clock;
  readonly log: Logger;
  readonly counters: FabricCounters;
  readonly conflicts: ConflictReporter;
  readonly limiter: ClaimLimiter;
  readonly rewrite: boolean;
  readonly probeMac: Mac;
  /** Is an answer to a probe (this MAC, this EID) one to a lost endpoint's search? Then it is where the endpoint is. */
  readonly searchAnswered: (mac: Mac, eid: string) => boolean;
  readonly emit: (event: FabricEvent) => void;
  readonly persist: () => void;
  /** The router's MAC or port was learned: the rules that depend on it must follow. */
  readonly onGatewayLearned: () => void;
  /** A stopped VM whose move was made ahead shows up where it was moved to: it runs again. */
  readonly onResumed: (binding: Binding) => void;
}

export class Ingress {
  private malformedLogged = 0;

  constructor(private readonly deps: IngressDeps) {}

  handle({ sw, message }: FabricMessage<PacketIn>): void {
    const { counters } = this.deps;
    counters.packetIns++;
    const c = classifyPacketIn(message, this.deps.probeMac);
    switch (c.kind) {
      case 'no-port':
        return;
      case 'malformed':
        counters.malformedFrames++;
        if (this.malformedLogged++ < 10 || this.malformedLogged % 1000 === 0) {
          this.deps.log.warn('malformed frame in packet-in, ignored', { dpid: sw.dpidText, port: c.inPort, error: c.reason, total: counters.malformedFrames });
        }
        return;
      case 'looped':
        counters.looped++;
        return;
      case 'probe-reply':
        // A check of an old attachment claims its answers first; a lost endpoint's answer is its sighting.
        if (!this.deps.verifier.isChecking(c.mac) && this.deps.searchAnswered(c.mac, c.ip)) return this.frame({ sw, inPort: c.inPort, message }, c.packet);
        return this.deps.verifier.onProbeReply(sw.dpid, c.inPort, c.mac, c.ip);
      case 'buffered': {
        const binding = this.deps.registry.bindings.byId(c.bindingId);
        if (binding !== undefined) this.deps.buffers.onFrame(binding, message.data, sw.dpid, c.inPort);
        return;
      }
      case 'locator-miss':
        this.deps.mapCache.onMiss(sw, c.inPort, c.source, message).catch((e: Error) => this.deps.log.warn('map-cache fill failed', { dpid: sw.dpidText, error: e.message }));
        return;
      case 'frame':
        return this.frame({ sw, inPort: c.inPort, message }, c.packet);
    }
  }

  /** A frame that may say where an endpoint is. */
  frame(held: Held, packet: Packet): void {
    const { sw, inPort, message } = held;
    const { deps } = this;
    const now = deps.clock.now();
    const gateway = deps.gateways.observe(sw.dpid, inPort, packet);
    if (gateway?.kind === 'learned') deps.onGatewayLearned();
    if (gateway?.kind === 'conflict') {
      return deps.conflicts.report({ eid: gateway.ip, mac: gateway.mac, reason: 'gateway-claim', detail: gateway.detail, dpid: sw.dpid, port: inPort, now });
    }
    const ip = packet.kind === 'arp' ? packet.arp.spa : packet.kind === 'ipv4' ? packet.ipv4.src : undefined;
    deps.verifier.onActivity(sw.dpid, inPort, packet.eth.src, ip);
    const flight = deps.flights.get(packet.eth.src);
    if (flight !== undefined) return deps.flights.hold(flight, held);
    if (deps.gateways.isRouterSide(sw.dpid, inPort, packet)) return deps.forwarding.forward(sw, inPort, packet, message, deps.clock.monotonic());
    const sighting = sightingFromPacket(packet, sw.dpid, inPort, now);
    if (sighting === undefined) return deps.forwarding.forward(sw, inPort, packet, message, deps.clock.monotonic());
    const decision = deps.detector.decide(deps.registry.bindings, sighting, deps.mover.evidence(sighting));
    if (isClaim(decision) && deps.rewrite && !deps.limiter.allow(sw.dpid, inPort, now)) {
      deps.counters.claimsLimited++;
      return;
    }
    this.act(decision, sighting, held, packet);
  }

  private act(decision: MoveDecision, sighting: Sighting, held: Held, packet: Packet): void {
    const { sw, inPort, message } = held;
    const { deps } = this;
    switch (decision.kind) {
      case 'refused':
        if (!deps.rewrite) return this.forward(held, packet);
        return deps.conflicts.report({ eid: decision.eid, mac: decision.mac, reason: decision.reason, detail: decision.detail, dpid: sw.dpid, port: inPort, now: sighting.now });
      case 'verify-port':
        if (!deps.rewrite) return this.forward(held, packet);
        return deps.mover.verifyPort(decision, sighting, held, (next, s, h) => this.act(next, s, h, packet));
      case 'ignore':
        return this.forward(held, packet);
      case 'learn-new': {
        if (deps.registry.shared) {
          // A shared store decides (another replica may learn it first): the frame goes on meanwhile.
          deps.registry.commit(decision, sighting.now).then((r) => {
            if (r.status !== 'committed') return;
            deps.emit(r.event);
            deps.log.info('endpoint learned', { eid: decision.eid, mac: decision.mac, dpid: sw.dpidText, port: inPort });
          }, (e: Error) => deps.log.warn('could not record a new endpoint', { eid: decision.eid, error: e.message }));
          return this.forward(held, packet);
        }
        const event = deps.registry.apply(decision, sighting.now);
        if (event !== undefined) {
          deps.emit(event);
          deps.persist();
          deps.log.info('endpoint learned', { eid: decision.eid, mac: decision.mac, dpid: sw.dpidText, port: inPort });
        }
        return this.forward(held, packet);
      }
      case 'same-place':
        deps.registry.apply(decision, sighting.now);
        if (deps.buffers.isAhead(decision.binding.id)) deps.onResumed(decision.binding);
        // The endpoint's own announcements (RARP, its ARP for its EID) were for us: they stop here.
        if (isAnnouncement(packet, decision.binding.eid)) return;
        if (deps.rewrite && isAway(decision.binding)) return deps.forwarding.reinject(sw, inPort, packet, message);
        return this.forward(held, packet);
      case 'move':
      case 'pending':
        if (!deps.rewrite) return this.forward(held, packet);
        return deps.mover.claim(decision, sighting, held);
      case 'conflict':
        if (!deps.rewrite) return this.forward(held, packet);
        return deps.mover.refuse(decision.binding, decision.reason, decision.detail, sighting);
    }
  }

  /** Not a closure in act(): that runs for every packet-in. An answer to our probe goes no further. */
  private forward({ sw, inPort, message }: Held, packet: Packet): void {
    if (isProbeAnswer(packet, this.deps.probeMac)) return;
    this.deps.forwarding.forward(sw, inPort, packet, message, this.deps.clock.monotonic());
  }
}

/** Decisions that would create or move a binding, or refuse one: what a port's claim budget pays for. */
function isClaim(d: MoveDecision): boolean {
  return d.kind === 'learn-new' || d.kind === 'move' || d.kind === 'pending' || d.kind === 'conflict' || d.kind === 'refused' || d.kind === 'verify-port';
}

/**
 * A frame by which an endpoint announces itself: QEMU's RARP, or its own ARP for its EID (a
 * gratuitous ARP or an ARP probe). Seen by the controller, they have done their job.
 */
export function isAnnouncement(packet: Packet, eid: string): boolean {
  return packet.kind === 'rarp' || (packet.kind === 'arp' && packet.arp.tpa === eid && packet.arp.sha === packet.eth.src);
}
