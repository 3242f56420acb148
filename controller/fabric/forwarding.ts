// Ordinary traffic: the learning-switch part of the runtime. A frame that is not a move is
// learned where learning is safe, then sent back through the pipeline (marked: it never comes
// back to the controller). Which frames may be learned, and how far, is decided here:
//   - a moved VM at its new port is the compiled gate's, never the learner's;
//   - on a managed edge's host port, only endpoints (bindings) are learned fully; a host that is
//     not one yet gets an IPv6-only fast path, so its first ARP or IPv4 still comes up and makes
//     it an endpoint (Linux sends NDP/MLD before any of those at link-up);
//   - the router's port, uplinks and unmanaged switches are learned fully.

import type { Logger } from '../log.js';
import { isAway, type BindingService, type SubnetMap } from '../mobility/index.js';
import type { Mac, PacketIn } from '../openflow/index.js';
import { isMulticastMac, type Packet } from '../packet/index.js';
import type { L2Learner, LearnScope } from './l2-learner.js';
import type { Outbox } from './outbox.js';
import type { FabricSwitch } from './switches.js';

export interface ForwardingDeps {
  readonly subnets: SubnetMap;
  readonly bindings: BindingService;
  readonly learner: L2Learner;
  readonly outbox: Outbox;
  readonly log: Logger;
  /** false = the plain L2 baseline: everything is learned fully. */
  readonly rewrite: boolean;
  readonly routerPort: (dpid: bigint) => number | undefined;
}

export class Forwarding {
  private refusalsLogged = 0;

  constructor(private readonly deps: ForwardingDeps) {}

  /** Learns what may be learned of the frame's source, then lets the pipeline forward it. */
  forward(sw: FabricSwitch, inPort: number, packet: Packet, message: PacketIn, now: number): void {
    const scope = this.scope(sw.dpid, inPort, packet);
    if (scope !== undefined) this.learn(sw, inPort, packet.eth.src, scope, now);
    this.reinject(sw, inPort, packet, message);
  }

  /** Sends a frame back through the pipeline; RARP announces only teach us where a MAC is. */
  reinject(sw: FabricSwitch, inPort: number, packet: Packet, message: PacketIn): void {
    if (packet.kind === 'rarp') return;
    this.deps.outbox.reinject(sw, inPort, message.data);
  }

  /** Learns `mac` fully at (sw, port): an endpoint back at home after its rules are confirmed. */
  learnEndpoint(sw: FabricSwitch, port: number, mac: Mac, now: number): void {
    this.learn(sw, port, mac, 'full', now);
  }

  /** How far the frame's source may be learned here; undefined = not at all. */
  scope(dpid: bigint, inPort: number, packet: Packet): LearnScope | undefined {
    const mac = packet.eth.src;
    if (isMulticastMac(mac)) return undefined;
    const { rewrite, subnets, bindings } = this.deps;
    if (!rewrite) return 'full';
    const edge = subnets.edge(dpid);
    if (edge === undefined || this.deps.routerPort(dpid) === inPort || edge.uplinkPorts?.includes(inPort) === true) return 'full';
    const binding = bindings.byMac(mac);
    if (binding === undefined) return packet.kind === 'other' && packet.eth.ethertype === 0x86dd ? 'ipv6' : undefined;
    const here = binding.locator.dpid === dpid && binding.locator.port === inPort;
    if (!here) return undefined;
    return isAway(binding) ? undefined : 'full';
  }

  private learn(sw: FabricSwitch, port: number, mac: Mac, scope: LearnScope, now: number): void {
    const result = this.deps.learner.learn(sw.dpid, port, mac, now, scope);
    if (result.refused !== undefined) {
      // Logged for the first few and then every 1000th: MAC flooding must not flood the log too.
      if (this.refusalsLogged++ < 10 || this.refusalsLogged % 1000 === 0) {
        this.deps.log.warn('MAC not learned: learner bound reached', { dpid: sw.dpidText, port, mac, bound: result.refused, refusals: this.refusalsLogged });
      }
      return;
    }
    this.deps.outbox.send(sw, result.mods);
  }
}
