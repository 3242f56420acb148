// Where the router is: each subnet's gateway MAC and, per edge switch, the port that leads to
// the router. Configured values win; otherwise they are learned from the router's own ARP
// (sender IP = the subnet's gateway address). Pure state: the Fabric feeds it packets.

import type { Mac } from '../openflow/index.js';
import type { SubnetMap } from '../mobility/index.js';
import type { Packet } from '../packet/index.js';

export interface GatewayLearned {
  readonly subnet: string;
  readonly mac: Mac;
  readonly dpid: bigint;
  readonly port: number;
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

  /** Learns from the router's ARP; returns what changed (the rules depend on it), or undefined. */
  observe(dpid: bigint, port: number, packet: Packet): GatewayLearned | undefined {
    if (packet.kind !== 'arp') return undefined;
    const subnet = this.subnets.ofDpid(dpid);
    if (subnet === undefined || packet.arp.spa !== subnet.gateway.ip) return undefined;
    const macChanged = subnet.gateway.mac === undefined && this.macs.get(subnet.name) !== packet.arp.sha;
    const portChanged = this.subnets.edge(dpid)?.routerPort === undefined && this.ports.get(dpid) !== port;
    if (!macChanged && !portChanged) return undefined;
    if (macChanged) this.macs.set(subnet.name, packet.arp.sha);
    if (portChanged) this.ports.set(dpid, port);
    return { subnet: subnet.name, mac: packet.arp.sha, dpid, port };
  }
}
