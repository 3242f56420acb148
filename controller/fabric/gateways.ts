// Where the router is: each subnet's gateway MAC and, per edge switch, the port that leads to
// the router. Configured values win; otherwise they are learned from the router's own ARP
// (sender IP = the subnet's gateway address) and then locked: a later ARP with the gateway's
// address from another MAC or another port is a conflict (any host can send one), not a change.
// Only the configuration or an operator (forget()) changes them. Pure state: the runtime feeds it.

import type { Mac } from '../openflow/index.js';
import type { SubnetMap } from '../mobility/index.js';
import type { Packet } from '../packet/index.js';

export interface GatewayLearned {
  readonly kind: 'learned';
  readonly subnet: string;
  readonly mac: Mac;
  readonly dpid: bigint;
  readonly port: number;
}

export interface GatewayClaim {
  readonly kind: 'conflict';
  readonly subnet: string;
  readonly ip: string;
  readonly mac: Mac;
  readonly dpid: bigint;
  readonly port: number;
  readonly detail: string;
}

export class Gateways {
  private readonly macs = new Map<string, Mac>();
  private readonly ports = new Map<bigint, number>();

  constructor(private readonly subnets: SubnetMap) {}

  routerPort(dpid: bigint): number | undefined {
    return this.subnets.edge(dpid)?.routerPort ?? this.ports.get(dpid);
  }

  gatewayMac(subnet: string): Mac | undefined {
    return this.subnets.get(subnet)?.gateway.mac ?? this.macs.get(subnet);
  }

  /** Learned gateway MACs by subnet (configured ones are resolved by the compiler). */
  learnedMacs(): ReadonlyMap<string, Mac> {
    return this.macs;
  }

  learnedRouterPort(dpid: bigint): number | undefined {
    return this.ports.get(dpid);
  }

  /** Does this frame come from the router (its port, or its MAC)? Such frames say nothing about endpoints. */
  isRouterSide(dpid: bigint, port: number, packet: Packet): boolean {
    if (this.routerPort(dpid) === port) return true;
    const subnet = this.subnets.ofDpid(dpid);
    return subnet !== undefined && this.gatewayMac(subnet.name) === packet.eth.src;
  }

  /**
   * Learns from the router's ARP; returns what changed (the rules depend on it), a conflict when
   * the gateway's address is claimed from another MAC or port than the one learned or configured,
   * or undefined.
   */
  observe(dpid: bigint, port: number, packet: Packet): GatewayLearned | GatewayClaim | undefined {
    if (packet.kind !== 'arp') return undefined;
    const subnet = this.subnets.ofDpid(dpid);
    if (subnet === undefined || packet.arp.spa !== subnet.gateway.ip) return undefined;
    const mac = packet.arp.sha;
    const knownMac = this.gatewayMac(subnet.name);
    const knownPort = this.routerPort(dpid);
    const conflict = (detail: string): GatewayClaim => ({ kind: 'conflict', subnet: subnet.name, ip: subnet.gateway.ip, mac, dpid, port, detail });
    if (knownMac !== undefined && knownMac !== mac) return conflict(`${mac} claims ${subnet.name}'s gateway ${subnet.gateway.ip}, which is ${knownMac}`);
    if (knownPort !== undefined && knownPort !== port) return conflict(`the gateway ${subnet.gateway.ip} claimed on port ${port}; the router is on port ${knownPort}`);
    if (knownMac !== undefined && knownPort !== undefined) return undefined;
    if (knownMac === undefined) this.macs.set(subnet.name, mac);
    if (knownPort === undefined) this.ports.set(dpid, port);
    return { kind: 'learned', subnet: subnet.name, mac, dpid, port };
  }

  /** An operator unlocks what was learned of a subnet's gateway (the router was replaced). */
  forget(subnet: string): boolean {
    const s = this.subnets.get(subnet);
    if (s === undefined) return false;
    this.macs.delete(subnet);
    for (const edge of s.edges) this.ports.delete(edge.dpid);
    return true;
  }
}
