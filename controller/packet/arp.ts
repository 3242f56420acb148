// ARP (RFC 826) and RARP (RFC 903) for Ethernet/IPv4, plus the three frames the controller and
// the tests emit: an ARP reply, a gratuitous ARP and the RARP announce a hypervisor sends after
// live migration (QEMU's announce_self).

import { BROADCAST_MAC, ipv4FromBytes, ipv4ToBytes, macFromBytes, macToBytes, ZERO_IPV4, ZERO_MAC, type Ipv4, type Mac } from './address.js';
import { buildEthernet, ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_RARP, type VlanTag } from './ethernet.js';
import { fail, ok, putU16, u16, type ParseResult } from './result.js';

export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
export const RARP_OP_REQUEST = 3;
export const RARP_OP_REPLY = 4;

const ARP_LEN = 28;
const HTYPE_ETHERNET = 1;

export interface ArpPacket {
  readonly op: number;
  readonly sha: Mac;
  readonly spa: Ipv4;
  readonly tha: Mac;
  readonly tpa: Ipv4;
}

/** Parses the ARP/RARP body; `rarp` says which ethertype carried it (and so which ops are valid). */
export function parseArp(bytes: Uint8Array, rarp = false): ParseResult<ArpPacket> {
  if (bytes.length < ARP_LEN) return fail('arp', `ARP body of ${bytes.length} bytes (need ${ARP_LEN})`);
  if (u16(bytes, 0) !== HTYPE_ETHERNET || u16(bytes, 2) !== ETH_TYPE_IPV4) {
    return fail('arp', `unsupported hardware/protocol type ${u16(bytes, 0)}/0x${u16(bytes, 2).toString(16)}`);
  }
  if (bytes[4] !== 6 || bytes[5] !== 4) return fail('arp', `unsupported address lengths ${bytes[4]}/${bytes[5]}`);
  const op = u16(bytes, 6);
  const valid = rarp ? op === RARP_OP_REQUEST || op === RARP_OP_REPLY : op === ARP_OP_REQUEST || op === ARP_OP_REPLY;
  if (!valid) return fail('arp', `unknown ${rarp ? 'RARP' : 'ARP'} operation ${op}`);
  return ok({
    op,
    sha: macFromBytes(bytes, 8),
    spa: ipv4FromBytes(bytes, 14),
    tha: macFromBytes(bytes, 18),
    tpa: ipv4FromBytes(bytes, 24),
  });
}

export function buildArpBody(arp: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_LEN);
  putU16(out, 0, HTYPE_ETHERNET);
  putU16(out, 2, ETH_TYPE_IPV4);
  out[4] = 6;
  out[5] = 4;
  putU16(out, 6, arp.op);
  out.set(macToBytes(arp.sha), 8);
  out.set(ipv4ToBytes(arp.spa), 14);
  out.set(macToBytes(arp.tha), 18);
  out.set(ipv4ToBytes(arp.tpa), 24);
  return out;
}

export interface ArpFrameSpec extends ArpPacket {
  readonly ethDst: Mac;
  readonly ethSrc: Mac;
  readonly vlans?: readonly VlanTag[];
}

export function buildArpFrame(spec: ArpFrameSpec): Uint8Array {
  const rarp = spec.op === RARP_OP_REQUEST || spec.op === RARP_OP_REPLY;
  return buildEthernet({
    dst: spec.ethDst,
    src: spec.ethSrc,
    ethertype: rarp ? ETH_TYPE_RARP : ETH_TYPE_ARP,
    vlans: spec.vlans ?? [],
    payload: buildArpBody(spec),
  });
}

/** A broadcast who-has request. */
export function buildArpRequest(args: { readonly senderMac: Mac; readonly senderIp: Ipv4; readonly targetIp: Ipv4 }): Uint8Array {
  return buildArpFrame({
    ethDst: BROADCAST_MAC, ethSrc: args.senderMac,
    op: ARP_OP_REQUEST, sha: args.senderMac, spa: args.senderIp, tha: ZERO_MAC, tpa: args.targetIp,
  });
}

/** "`ip` is at `mac`", unicast to the requester. */
export function buildArpReply(args: {
  readonly mac: Mac; readonly ip: Ipv4; readonly requesterMac: Mac; readonly requesterIp: Ipv4;
}): Uint8Array {
  return buildArpFrame({
    ethDst: args.requesterMac, ethSrc: args.mac,
    op: ARP_OP_REPLY, sha: args.mac, spa: args.ip, tha: args.requesterMac, tpa: args.requesterIp,
  });
}

/** Gratuitous ARP: spa = tpa = the announced address, broadcast (a request, as Linux sends it). */
export function buildGratuitousArp(args: { readonly mac: Mac; readonly ip: Ipv4; readonly op?: number }): Uint8Array {
  const op = args.op ?? ARP_OP_REQUEST;
  return buildArpFrame({
    ethDst: BROADCAST_MAC, ethSrc: args.mac,
    op, sha: args.mac, spa: args.ip, tha: op === ARP_OP_REPLY ? args.mac : ZERO_MAC, tpa: args.ip,
  });
}

/** The RARP "reverse request" QEMU broadcasts after migration: it carries only the MAC. */
export function buildRarpAnnounce(mac: Mac): Uint8Array {
  return buildArpFrame({
    ethDst: BROADCAST_MAC, ethSrc: mac,
    op: RARP_OP_REQUEST, sha: mac, spa: ZERO_IPV4, tha: mac, tpa: ZERO_IPV4,
  });
}

/**
 * An ARP probe (RFC 5227: sender address 0.0.0.0) unicast to `targetMac`, asking whether it
 * still holds `targetIp`. A Linux host answers it without touching its neighbour cache; the
 * answer goes to `senderMac`.
 */
export function buildArpProbe(args: { readonly senderMac: Mac; readonly targetMac: Mac; readonly targetIp: Ipv4 }): Uint8Array {
  return buildArpFrame({
    ethDst: args.targetMac, ethSrc: args.senderMac,
    op: ARP_OP_REQUEST, sha: args.senderMac, spa: ZERO_IPV4, tha: ZERO_MAC, tpa: args.targetIp,
  });
}
