// MoveDetector: pure. Given the bindings, the subnets, a sighting and whatever evidence the
// caller has about the old attachment, decide what the sighting means. It changes nothing;
// the caller applies the decision (BindingRegistry.apply) or runs the check a `pending` asks for.

import { ipv4ToInt, type Ipv4 } from '../packet/address.js';
import { sameAttachment, type Binding } from './binding.js';
import type { BindingService } from './binding-store.js';
import { intentMatches, type MigrationIntent } from './migration-intents.js';
import { prefixContains, prefixRange } from './prefix.js';
import type { Sighting } from './sighting.js';
import type { Subnet, SubnetMap } from './subnet.js';

export interface MoveEvidence {
  /** The binding's current (old) port is down or gone (PORT_STATUS). */
  readonly oldPortDown?: boolean;
  /** The live intent for the EID, if any; the detector checks its destination and expiry. */
  readonly intent?: MigrationIntent;
  /**
   * What a verification of the old attachment found, after a `pending`: the VM answered there
   * (an ARP probe answered, or its rule counted packets) or it stayed silent. Undefined = not checked.
   */
  readonly oldAttachment?: 'active' | 'silent';
  /** The endpoint moved too often lately (damping): its claims are refused for a while. */
  readonly flapping?: boolean;
}

export interface Attachment {
  readonly subnet: string;
  readonly dpid: bigint;
  readonly port: number;
}

/** How the move's locator address is obtained: the EID (home), the current one (same foreign subnet), or a new one. */
export type LocatorChoice = 'home' | 'keep' | 'allocate';

export type MoveReason = 'intent' | 'old-port-down' | 'old-attachment-silent';

export type ConflictReason =
  /** The MAC and the IP of the claim belong to two different bindings (spoofing). */
  | 'mac-and-eid-disagree'
  /** The EID is bound to another MAC. */
  | 'eid-bound-to-other-mac'
  /** The MAC is bound to another EID. */
  | 'mac-bound-to-other-eid'
  /** A claim from a new attachment while the old one is still active. */
  | 'old-attachment-active'
  /** The endpoint moves too often (flap damping): claims are refused until it settles. */
  | 'flapping';

export type IgnoreReason =
  | 'unmanaged-switch'
  | 'router-port'
  | 'uplink-port'
  | 'unknown-mac'
  /** First sight of an IP outside the switch's subnet with no binding: nobody to move. */
  | 'foreign-unknown'
  | 'locator-address'
  | 'not-a-host-address';

export type MoveDecision =
  | { readonly kind: 'learn-new'; readonly eid: Ipv4; readonly mac: string; readonly at: Attachment }
  | { readonly kind: 'same-place'; readonly binding: Binding }
  | { readonly kind: 'move'; readonly binding: Binding; readonly to: Attachment; readonly locator: LocatorChoice; readonly reason: MoveReason }
  | { readonly kind: 'conflict'; readonly binding: Binding; readonly other?: Binding; readonly reason: ConflictReason; readonly detail: string }
  | { readonly kind: 'pending'; readonly binding: Binding; readonly to: Attachment; readonly locator: LocatorChoice; readonly check: ActivityCheck }
  | { readonly kind: 'ignore'; readonly reason: IgnoreReason; readonly detail: string }
  /** A new claim that is refused although no binding is at stake (yet): it would squat an address. */
  | { readonly kind: 'refused'; readonly reason: RefusalReason; readonly eid: Ipv4; readonly mac: string; readonly detail: string }
  /** A new endpoint at a port that already holds one: is that one still there? */
  | { readonly kind: 'verify-port'; readonly eid: Ipv4; readonly mac: string; readonly at: Attachment; readonly check: ActivityCheck };

export type RefusalReason =
  /** A host other than the router claims a gateway address. */
  | 'gateway-claim'
  /** The EID is reserved for another MAC (a static endpoint of the config). */
  | 'static-endpoint'
  /** The port already holds as many endpoints as allowed, and the one there still answers. */
  | 'port-holds-endpoint';

/** What to find out before deciding: is the endpoint still at its old attachment? */
export interface ActivityCheck {
  readonly eid: Ipv4;
  readonly mac: string;
  readonly dpid: bigint;
  readonly port: number;
}

export interface MoveDetectorOptions {
  /**
   * Endpoints one switch port may hold. A new claim at a port that holds this many is learned only
   * when the one there is verified gone (squatting: one port claiming address after address).
   */
  readonly maxEndpointsPerPort: number;
}

export class MoveDetector {
  private readonly maxEndpointsPerPort: number;

  constructor(private readonly subnets: SubnetMap, options: Partial<MoveDetectorOptions> = {}) {
    this.maxEndpointsPerPort = options.maxEndpointsPerPort ?? 1;
  }

  decide(bindings: BindingService, s: Sighting, evidence: MoveEvidence = {}): MoveDecision {
    const subnet = this.subnets.ofDpid(s.dpid);
    if (subnet === undefined) return ignore('unmanaged-switch', `dpid ${s.dpid.toString(16)} is in no subnet`);
    const edge = this.subnets.edge(s.dpid);
    if (edge?.routerPort === s.port) return ignore('router-port', `port ${s.port} leads to the router`);
    if (edge?.uplinkPorts?.includes(s.port) === true) return ignore('uplink-port', `port ${s.port} leads to another switch`);
    const byMac = bindings.byMac(s.mac);
    const byIp = s.ip === undefined ? undefined : bindings.byEid(s.ip);
    const mismatch = identityConflict(s, byMac, byIp);
    if (mismatch !== undefined) return mismatch;
    const binding = byIp ?? byMac;
    if (binding === undefined) return this.firstSight(s, subnet, bindings, evidence);
    if (sameAttachment(binding.locator, s)) return { kind: 'same-place', binding };
    return this.elsewhere(binding, s, subnet, evidence);
  }

  private firstSight(s: Sighting, subnet: Subnet, bindings: BindingService, evidence: MoveEvidence): MoveDecision {
    if (s.ip === undefined) return ignore('unknown-mac', `${s.kind} from ${s.mac}, which no binding has`);
    if (!prefixContains(subnet.prefix, s.ip)) return ignore('foreign-unknown', `${s.ip} is outside ${subnet.name} and has no binding`);
    if (s.ip === subnet.gateway.ip) return refuse('gateway-claim', s, `${s.mac} at ${s.dpid.toString(16)}:${s.port} claims the gateway address ${s.ip}`);
    if (this.subnets.poolOf(s.ip) !== undefined) return ignore('locator-address', `${s.ip} is in a locator pool`);
    const range = prefixRange(subnet.prefix);
    const v = ipv4ToInt(s.ip);
    if (subnet.prefix.length <= 30 && (v === range.first || v === range.last)) return ignore('not-a-host-address', `${s.ip} is ${subnet.name}'s network or broadcast address`);
    const reserved = subnet.staticEndpoints.get(s.ip);
    if (reserved !== undefined && reserved !== s.mac) return refuse('static-endpoint', s, `${s.ip} is reserved for ${reserved}, claimed by ${s.mac}`);
    const at: Attachment = { subnet: subnet.name, dpid: s.dpid, port: s.port };
    const occupants = bindings.atAttachment(s.dpid, s.port);
    if (occupants.length >= this.maxEndpointsPerPort && evidence.oldAttachment !== 'silent') {
      const held = occupants[0]!;
      if (evidence.oldAttachment === 'active') return refuse('port-holds-endpoint', s, `${s.dpid.toString(16)}:${s.port} holds ${held.eid} (${held.mac}), which still answers`);
      return { kind: 'verify-port', eid: s.ip, mac: s.mac, at, check: { eid: held.eid, mac: held.mac, dpid: s.dpid, port: s.port } };
    }
    return { kind: 'learn-new', eid: s.ip, mac: s.mac, at };
  }

  /**
   * A known endpoint at a new attachment is a move only on evidence that it left the old one:
   * an intent for this destination, the old port down, or a verification that found it silent.
   * A claim while the old attachment still answers is a conflict (hijack protection).
   */
  private elsewhere(binding: Binding, s: Sighting, subnet: Subnet, evidence: MoveEvidence): MoveDecision {
    const to: Attachment = { subnet: subnet.name, dpid: s.dpid, port: s.port };
    const locator: LocatorChoice = subnet.name === binding.homeSubnet ? 'home' : subnet.name === binding.locator.subnet ? 'keep' : 'allocate';
    const move = (reason: MoveReason): MoveDecision => ({ kind: 'move', binding, to, locator, reason });
    const where = `${binding.eid} claimed at ${s.dpid.toString(16)}:${s.port}`;
    if (evidence.flapping === true) return { kind: 'conflict', binding, reason: 'flapping', detail: `${where}: it moved too often lately (damped)` };
    if (intentMatches(evidence.intent, binding.eid, s.dpid, subnet.name, s.now, s.port)) return move('intent');
    if (evidence.oldPortDown === true) return move('old-port-down');
    if (evidence.oldAttachment === 'silent') return move('old-attachment-silent');
    if (evidence.oldAttachment === 'active') {
      return {
        kind: 'conflict', binding, reason: 'old-attachment-active',
        detail: `${where} while it still answers at ${binding.locator.dpid.toString(16)}:${binding.locator.port}`,
      };
    }
    return { kind: 'pending', binding, to, locator, check: { eid: binding.eid, mac: binding.mac, dpid: binding.locator.dpid, port: binding.locator.port } };
  }
}

/** A claim whose MAC and IP do not tell the same story. */
function identityConflict(s: Sighting, byMac: Binding | undefined, byIp: Binding | undefined): MoveDecision | undefined {
  if (byMac !== undefined && byIp !== undefined && byMac !== byIp) {
    return { kind: 'conflict', binding: byIp, other: byMac, reason: 'mac-and-eid-disagree', detail: `${s.mac} is ${byMac.eid}'s MAC but claims ${byIp.eid}` };
  }
  if (byIp !== undefined && byMac === undefined) {
    return { kind: 'conflict', binding: byIp, reason: 'eid-bound-to-other-mac', detail: `${s.ip} is bound to ${byIp.mac}, claimed by ${s.mac}` };
  }
  if (byMac !== undefined && s.ip !== undefined && byIp === undefined) {
    return { kind: 'conflict', binding: byMac, reason: 'mac-bound-to-other-eid', detail: `${s.mac} is bound to ${byMac.eid}, claims ${s.ip}` };
  }
  return undefined;
}

function refuse(reason: RefusalReason, s: Sighting, detail: string): MoveDecision {
  return { kind: 'refused', reason, eid: s.ip ?? '0.0.0.0', mac: s.mac, detail };
}

function ignore(reason: IgnoreReason, detail: string): MoveDecision {
  return { kind: 'ignore', reason, detail };
}
