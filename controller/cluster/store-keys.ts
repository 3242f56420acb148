// The key layout of the shared binding store and of the cluster's coordination, under one
// configurable prefix (default /seamless/). Pure: names keys and parses them back.
//
//   <prefix>state/bindings/<eid>                 a binding (binding-json.ts form)
//   <prefix>state/locators/<subnet>/<address>    {"eid"}: who holds a locator address (at home: the EID)
//   <prefix>state/macs/<mac>                     {"eid"}: who is bound to a MAC
//   <prefix>state/released/<subnet>/<address>    {"releasedAt"}: a pool address resting before reuse
//   <prefix>state/intents/<eid>                  a migration intent, on a lease that ends with it
//   <prefix>state/next-binding-id                the id the next new binding gets
//   <prefix>cluster/replicas/<replica>           a live replica, on its lease
//   <prefix>cluster/masters/<dpid>               the master of a switch, on its replica's lease
//
// The locator and MAC keys are indexes that exist so a transaction can compare them: two
// replicas can never hand out one address or bind one MAC twice. Subnet and replica names are
// URI-encoded (they may hold '/'); addresses, MACs and dpids cannot.

import { isIpv4, isMac, type Ipv4, type Mac } from '../packet/address.js';
import { formatDpid } from '../switch/dpid.js';

export const DEFAULT_PREFIX = '/seamless/';

export type StateKey =
  | { readonly kind: 'binding'; readonly eid: Ipv4 }
  | { readonly kind: 'locator'; readonly subnet: string; readonly address: Ipv4 }
  | { readonly kind: 'mac'; readonly mac: Mac }
  | { readonly kind: 'released'; readonly subnet: string; readonly address: Ipv4 }
  | { readonly kind: 'intent'; readonly eid: Ipv4 }
  | { readonly kind: 'next-id' };

export class StoreKeys {
  readonly prefix: string;
  readonly state: string;
  readonly cluster: string;

  constructor(prefix: string = DEFAULT_PREFIX) {
    if (prefix.length === 0 || prefix.length > 512) throw new TypeError(`etcd key prefix must have 1 to 512 characters: ${JSON.stringify(prefix)}`);
    this.prefix = prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.state = `${this.prefix}state/`;
    this.cluster = `${this.prefix}cluster/`;
  }

  binding(eid: Ipv4): string { return `${this.state}bindings/${eid}`; }
  locator(subnet: string, address: Ipv4): string { return `${this.state}locators/${encodeURIComponent(subnet)}/${address}`; }
  mac(mac: Mac): string { return `${this.state}macs/${mac.toLowerCase()}`; }
  released(subnet: string, address: Ipv4): string { return `${this.state}released/${encodeURIComponent(subnet)}/${address}`; }
  intent(eid: Ipv4): string { return `${this.state}intents/${eid}`; }
  get nextId(): string { return `${this.state}next-binding-id`; }

  get replicas(): string { return `${this.cluster}replicas/`; }
  get masters(): string { return `${this.cluster}masters/`; }
  replica(id: string): string { return `${this.replicas}${encodeURIComponent(id)}`; }
  master(dpid: bigint): string { return `${this.masters}${formatDpid(dpid)}`; }

  /** What a key under state/ names; undefined for anything this version does not write. */
  parseState(key: string): StateKey | undefined {
    if (!key.startsWith(this.state)) return undefined;
    const rest = key.slice(this.state.length);
    if (rest === 'next-binding-id') return { kind: 'next-id' };
    const slash = rest.indexOf('/');
    if (slash < 0) return undefined;
    const family = rest.slice(0, slash);
    const tail = rest.slice(slash + 1);
    switch (family) {
      case 'bindings': return isIpv4(tail) ? { kind: 'binding', eid: tail } : undefined;
      case 'intents': return isIpv4(tail) ? { kind: 'intent', eid: tail } : undefined;
      case 'macs': return isMac(tail) && tail === tail.toLowerCase() ? { kind: 'mac', mac: tail } : undefined;
      case 'locators':
      case 'released': {
        const cut = tail.lastIndexOf('/');
        const subnet = decode(tail.slice(0, cut));
        const address = tail.slice(cut + 1);
        if (cut < 1 || subnet === undefined || !isIpv4(address)) return undefined;
        return { kind: family === 'locators' ? 'locator' : 'released', subnet, address };
      }
      default: return undefined;
    }
  }

  /** The replica a replicas/ key names. */
  parseReplica(key: string): string | undefined {
    return key.startsWith(this.replicas) ? decode(key.slice(this.replicas.length)) : undefined;
  }

  /** The dpid a masters/ key names. */
  parseMaster(key: string): bigint | undefined {
    if (!key.startsWith(this.masters)) return undefined;
    const hex = key.slice(this.masters.length);
    return /^[0-9a-f]{16}$/.test(hex) ? BigInt(`0x${hex}`) : undefined;
  }
}

/** The end of the key range that holds every key starting with `prefix` (etcd's range_end). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every key
}

function decode(text: string): string | undefined {
  try {
    const value = decodeURIComponent(text);
    return value.length > 0 && encodeURIComponent(value) === text ? value : undefined;
  } catch {
    return undefined;
  }
}
