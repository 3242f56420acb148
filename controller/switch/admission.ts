// Who may be switch X: the duplicate-dpid policy and the optional pinning of a datapath id to
// the address or the TLS certificate it first connected with (or to one named in the config).
// Pure decisions; the listener applies them.

import { isIPv4 } from 'node:net';
import { formatDpid, parseDpid } from './dpid.js';

/** keep-established: a second connection for a dpid that is up is refused. replace: it wins. */
export type DuplicateDpidPolicy = 'keep-established' | 'replace';
/** Trust on first use: the first identity a dpid reaches MAIN with is the only one it may use later. */
export type DpidPinning = 'none' | 'address' | 'certificate';

/** A pin from the config: the dpid may only come from this address and/or with this certificate. */
export interface DpidPin {
  readonly dpid: string;
  readonly address?: string;
  /** The certificate's subject CN, one of its subjectAltName values, or its SHA-256 fingerprint. */
  readonly certificate?: string;
}

export interface PeerCertificate {
  readonly subjectCN: string | undefined;
  /** subjectAltName values without their kind: 'sw1.example', '10.0.0.1', ... */
  readonly altNames: readonly string[];
  /** SHA-256 fingerprint, upper-case hex pairs separated by colons (as node prints it). */
  readonly fingerprint256: string;
}

/** What we know of a peer before it says who it is. */
export interface PeerIdentity {
  /** Source IP address (IPv4-mapped IPv6 written as IPv4). */
  readonly address: string;
  readonly certificate?: PeerCertificate;
}

export interface AdmissionOptions {
  readonly duplicateDpid: DuplicateDpidPolicy;
  readonly pinning: DpidPinning;
  readonly pins: readonly DpidPin[];
  /** Dpids remembered by trust-on-first-use pinning; new dpids are refused past it. */
  readonly maxLearnedPins?: number;
}

export type AdmissionDecision =
  | { readonly ok: true; readonly replaces: boolean }
  | { readonly ok: false; readonly kind: 'duplicate_dpid' | 'pin_mismatch'; readonly reason: string };

export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '?';
  const mapped = /^::ffff:(.+)$/i.exec(address);
  return mapped && isIPv4(mapped[1]!) ? mapped[1]! : address.toLowerCase();
}

function normalizeFingerprint(text: string): string {
  return text.replace(/^sha256:/i, '').replace(/:/g, '').toUpperCase();
}

/** True when `pin` names this certificate: its CN, one of its SAN values, or its fingerprint. */
export function certificateMatches(pin: string, cert: PeerCertificate | undefined): boolean {
  if (cert === undefined) return false;
  if (pin === cert.subjectCN || cert.altNames.includes(pin)) return true;
  const hex = normalizeFingerprint(pin);
  return /^[0-9A-F]{64}$/.test(hex) && hex === normalizeFingerprint(cert.fingerprint256);
}

export class DpidAdmission {
  private readonly staticPins = new Map<bigint, DpidPin>();
  /** Trust on first use: dpid -> address or certificate fingerprint. Lives as long as the process. */
  private readonly learned = new Map<bigint, string>();
  private readonly maxLearned: number;

  constructor(private readonly options: AdmissionOptions) {
    for (const pin of options.pins) this.staticPins.set(parseDpid(pin.dpid), pin);
    this.maxLearned = options.maxLearnedPins ?? 100_000;
  }

  /**
   * May a peer with `identity` be switch `dpid`? `established` says whether another live
   * connection holds that dpid now.
   */
  check(dpid: bigint, identity: PeerIdentity, established: boolean): AdmissionDecision {
    const pinned = this.checkPins(dpid, identity);
    if (pinned !== undefined) return { ok: false, kind: 'pin_mismatch', reason: pinned };
    if (!established) return { ok: true, replaces: false };
    if (this.options.duplicateDpid === 'replace') return { ok: true, replaces: true };
    return { ok: false, kind: 'duplicate_dpid', reason: `datapath ${formatDpid(dpid)} is already connected (policy keep-established)` };
  }

  /** Records the identity of a switch that reached MAIN (trust-on-first-use pinning). */
  learn(dpid: bigint, identity: PeerIdentity): void {
    if (this.options.pinning === 'none' || this.learned.has(dpid)) return;
    const value = this.identityValue(identity);
    if (value !== undefined) this.learned.set(dpid, value);
  }

  /** The pin a dpid is held to, if any (for logs and tests). */
  pinOf(dpid: bigint): string | undefined {
    return this.learned.get(dpid);
  }

  private identityValue(identity: PeerIdentity): string | undefined {
    if (this.options.pinning === 'address') return identity.address;
    if (this.options.pinning === 'certificate') return identity.certificate?.fingerprint256;
    return undefined;
  }

  /** A reason to refuse, or undefined when every pin of the dpid holds. */
  private checkPins(dpid: bigint, identity: PeerIdentity): string | undefined {
    const name = formatDpid(dpid);
    const pin = this.staticPins.get(dpid);
    if (pin?.address !== undefined && normalizeAddress(pin.address) !== identity.address) {
      return `datapath ${name} is pinned to address ${pin.address}, not ${identity.address}`;
    }
    if (pin?.certificate !== undefined && !certificateMatches(pin.certificate, identity.certificate)) {
      return `datapath ${name} is pinned to certificate ${pin.certificate}, peer presented ${identity.certificate?.subjectCN ?? 'none'}`;
    }
    if (this.options.pinning === 'none') return undefined;
    const learned = this.learned.get(dpid);
    const value = this.identityValue(identity);
    if (value === undefined) return `datapath ${name}: ${this.options.pinning} pinning needs a ${this.options.pinning} (none presented)`;
    if (learned !== undefined && learned !== value) {
      return `datapath ${name} first connected with ${this.options.pinning} ${learned}, not ${value}`;
    }
    if (learned === undefined && this.learned.size >= this.maxLearned) {
      return `datapath ${name}: ${this.maxLearned} datapaths are pinned already (a new one is refused)`;
    }
    return undefined;
  }
}
