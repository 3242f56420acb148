// Bindings: EID -> locator, and the events their mutations produce (each carries the previous value).

import { isMulticastMac, ZERO_MAC, type Ipv4, type Mac } from '../packet/address.js';

export interface Locator {
  readonly subnet: string;
  readonly dpid: bigint;
  readonly port: number;
  /** The address routable in `subnet`: the EID itself at home, a pool address elsewhere. */
  readonly address: Ipv4;
}

export interface Binding {
  /** Stable, never reused: flow cookies carry it. */
  readonly id: number;
  readonly eid: Ipv4;
  readonly mac: Mac;
  readonly homeSubnet: string;
  readonly locator: Locator;
  /** 1 when learned, +1 on every move. */
  readonly version: number;
  readonly lastSeen: number;
  readonly createdAt: number;
}

export type BindingEvent =
  | { readonly type: 'BINDING_ADDED'; readonly binding: Binding; readonly at: number }
  | { readonly type: 'BINDING_MOVED'; readonly binding: Binding; readonly previous: Binding; readonly at: number }
  /** `binding` and `previous` are both the removed value. */
  | { readonly type: 'BINDING_REMOVED'; readonly binding: Binding; readonly previous: Binding; readonly at: number };

export type BindingEventType = BindingEvent['type'];

/** Away from home: the only case that needs rewriting rules. */
export function isAway(b: Binding): boolean {
  return b.locator.subnet !== b.homeSubnet;
}

export function sameAttachment(a: Locator, b: Pick<Locator, 'dpid' | 'port'>): boolean {
  return a.dpid === b.dpid && a.port === b.port;
}

/** Binding ids live in the upper 32 bits of a flow cookie, below the range Seamless keeps for itself. */
export const MAX_BINDING_ID = 0x5e9fffff;

/**
 * A MAC that can identify an endpoint: not the all-zero address (a placeholder, so whoever claims
 * it squats everyone) and not a group (multicast or broadcast). Checked where a sighting is made,
 * where a binding is made, and where a stored one is read back.
 */
export function isIdentityMac(mac: Mac): boolean {
  return !isMulticastMac(mac) && mac !== ZERO_MAC;
}
