// The OpenFlow 1.3 message model: readonly data, one discriminated union keyed on `type`.
// This file is the contract between the codec and everything above it (switch sessions,
// the rule compiler, the API). Numeric fields hold spec values (see constants.ts); 64-bit
// fields are bigint; addresses are strings in the notation ovs-ofctl prints.

/** Ethernet address 'aa:bb:cc:dd:ee:ff', IPv4 dotted quad, IPv6 text. */
export type Mac = string;
export type Ipv4 = string;
export type Ipv6 = string;

/** Every OXM_OF_* field of OpenFlow 1.3 (class OFPXMC_OPENFLOW_BASIC), with its value type. */
export interface OxmFieldValues {
  in_port: number;
  in_phy_port: number;
  metadata: bigint;
  eth_dst: Mac;
  eth_src: Mac;
  eth_type: number;
  vlan_vid: number;
  vlan_pcp: number;
  ip_dscp: number;
  ip_ecn: number;
  ip_proto: number;
  ipv4_src: Ipv4;
  ipv4_dst: Ipv4;
  tcp_src: number;
  tcp_dst: number;
  udp_src: number;
  udp_dst: number;
  sctp_src: number;
  sctp_dst: number;
  icmpv4_type: number;
  icmpv4_code: number;
  arp_op: number;
  arp_spa: Ipv4;
  arp_tpa: Ipv4;
  arp_sha: Mac;
  arp_tha: Mac;
  ipv6_src: Ipv6;
  ipv6_dst: Ipv6;
  ipv6_flabel: number;
  icmpv6_type: number;
  icmpv6_code: number;
  ipv6_nd_target: Ipv6;
  ipv6_nd_sll: Mac;
  ipv6_nd_tll: Mac;
  mpls_label: number;
  mpls_tc: number;
  mpls_bos: number;
  pbb_isid: number;
  tunnel_id: bigint;
  ipv6_exthdr: number;
}
export type OxmName = keyof OxmFieldValues;

/** A value, or [value, mask] for a masked match. */
export type Masked<T> = T | readonly [value: T, mask: T];

/** An OXM TLV the codec does not model (other classes, experimenter fields): kept verbatim. */
export interface RawOxm {
  readonly oxmClass: number;
  readonly field: number;
  readonly hasMask: boolean;
  /** The payload after the 4-byte OXM header (value, then mask when hasMask). */
  readonly payload: Uint8Array;
}

/**
 * A match reads like ovs-ofctl: `{ eth_type: 0x0800, ipv4_dst: ['10.0.1.0', '255.255.255.0'] }`.
 * Encoding follows the object's key order (so decoded bytes re-encode identically); `unknown`
 * TLVs are encoded last.
 */
export type Match = { readonly [K in OxmName]?: Masked<OxmFieldValues[K]> } & {
  readonly unknown?: readonly RawOxm[];
};

/** One field assignment for OFPAT_SET_FIELD. */
export type FieldValue = { [K in OxmName]: { readonly field: K; readonly value: OxmFieldValues[K] } }[OxmName];

export type Action =
  | { readonly type: 'OUTPUT'; readonly port: number; readonly maxLen?: number }
  | { readonly type: 'COPY_TTL_OUT' }
  | { readonly type: 'COPY_TTL_IN' }
  | { readonly type: 'SET_MPLS_TTL'; readonly ttl: number }
  | { readonly type: 'DEC_MPLS_TTL' }
  | { readonly type: 'PUSH_VLAN'; readonly ethertype: number }
  | { readonly type: 'POP_VLAN' }
  | { readonly type: 'PUSH_MPLS'; readonly ethertype: number }
  | { readonly type: 'POP_MPLS'; readonly ethertype: number }
  | { readonly type: 'SET_QUEUE'; readonly queueId: number }
  | { readonly type: 'GROUP'; readonly groupId: number }
  | { readonly type: 'SET_NW_TTL'; readonly ttl: number }
  | { readonly type: 'DEC_NW_TTL' }
  | ({ readonly type: 'SET_FIELD' } & FieldValue)
  | { readonly type: 'PUSH_PBB'; readonly ethertype: number }
  | { readonly type: 'POP_PBB' }
  /** `data` is everything after the 8-byte experimenter action header (for Nicira: subtype onwards). */
  | { readonly type: 'EXPERIMENTER'; readonly experimenter: number; readonly data: Uint8Array }
  /** An action type the codec does not know: body is everything after type+len. */
  | { readonly type: 'UNKNOWN'; readonly actionType: number; readonly body: Uint8Array };

export type Instruction =
  | { readonly type: 'GOTO_TABLE'; readonly tableId: number }
  | { readonly type: 'WRITE_METADATA'; readonly metadata: bigint; readonly mask: bigint }
  | { readonly type: 'WRITE_ACTIONS'; readonly actions: readonly Action[] }
  | { readonly type: 'APPLY_ACTIONS'; readonly actions: readonly Action[] }
  | { readonly type: 'CLEAR_ACTIONS' }
  | { readonly type: 'METER'; readonly meterId: number }
  | { readonly type: 'EXPERIMENTER'; readonly experimenter: number; readonly data: Uint8Array }
  | { readonly type: 'UNKNOWN'; readonly instructionType: number; readonly body: Uint8Array };

/** Fields every message has. `xid` is the transaction id of the header. */
interface Header {
  readonly xid: number;
}

export interface HelloElementVersionBitmap {
  readonly type: 'VERSIONBITMAP';
  /** Versions the peer supports (wire version numbers, 4 = OpenFlow 1.3). */
  readonly versions: readonly number[];
}
export interface HelloElementUnknown {
  readonly type: 'UNKNOWN';
  readonly elementType: number;
  readonly body: Uint8Array;
}
export interface Hello extends Header {
  readonly type: 'HELLO';
  /** The header version (a peer may speak another version in HELLO). */
  readonly version: number;
  readonly elements: readonly (HelloElementVersionBitmap | HelloElementUnknown)[];
}

export interface ErrorMsg extends Header {
  readonly type: 'ERROR';
  /** OFPET_* (0xffff = OFPET_EXPERIMENTER). */
  readonly errorType: number;
  /** The code for the type; for OFPET_EXPERIMENTER the exp_type. */
  readonly code: number;
  /** Only for OFPET_EXPERIMENTER. */
  readonly experimenter?: number;
  /** Usually the first 64 bytes of the offending request. */
  readonly data: Uint8Array;
}

export interface EchoRequest extends Header { readonly type: 'ECHO_REQUEST'; readonly data: Uint8Array }
export interface EchoReply extends Header { readonly type: 'ECHO_REPLY'; readonly data: Uint8Array }
export interface ExperimenterMsg extends Header {
  readonly type: 'EXPERIMENTER';
  readonly experimenter: number;
  readonly expType: number;
  readonly data: Uint8Array;
}
export interface FeaturesRequest extends Header { readonly type: 'FEATURES_REQUEST' }
export interface FeaturesReply extends Header {
  readonly type: 'FEATURES_REPLY';
  readonly datapathId: bigint;
  readonly nBuffers: number;
  readonly nTables: number;
  readonly auxiliaryId: number;
  readonly capabilities: number;
  readonly reserved: number;
}
export interface GetConfigRequest extends Header { readonly type: 'GET_CONFIG_REQUEST' }
export interface GetConfigReply extends Header { readonly type: 'GET_CONFIG_REPLY'; readonly flags: number; readonly missSendLen: number }
export interface SetConfig extends Header { readonly type: 'SET_CONFIG'; readonly flags: number; readonly missSendLen: number }

export interface PacketIn extends Header {
  readonly type: 'PACKET_IN';
  readonly bufferId: number;
  readonly totalLen: number;
  /** OFPR_* */
  readonly reason: number;
  readonly tableId: number;
  readonly cookie: bigint;
  readonly match: Match;
  /** The Ethernet frame (or its first miss_send_len bytes). */
  readonly data: Uint8Array;
}
export interface PacketOut extends Header {
  readonly type: 'PACKET_OUT';
  readonly bufferId: number;
  readonly inPort: number;
  readonly actions: readonly Action[];
  readonly data: Uint8Array;
}
export interface FlowMod extends Header {
  readonly type: 'FLOW_MOD';
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly tableId: number;
  /** OFPFC_* */
  readonly command: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly priority: number;
  readonly bufferId: number;
  readonly outPort: number;
  readonly outGroup: number;
  /** OFPFF_* bits */
  readonly flags: number;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
}
export interface FlowRemoved extends Header {
  readonly type: 'FLOW_REMOVED';
  readonly cookie: bigint;
  readonly priority: number;
  /** OFPRR_* */
  readonly reason: number;
  readonly tableId: number;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly match: Match;
}

export interface Port {
  readonly portNo: number;
  readonly hwAddr: Mac;
  readonly name: string;
  readonly config: number;
  readonly state: number;
  readonly curr: number;
  readonly advertised: number;
  readonly supported: number;
  readonly peer: number;
  readonly currSpeed: number;
  readonly maxSpeed: number;
}
export interface PortStatus extends Header {
  readonly type: 'PORT_STATUS';
  /** OFPPR_ADD | OFPPR_DELETE | OFPPR_MODIFY */
  readonly reason: number;
  readonly port: Port;
}

export interface Bucket {
  readonly weight: number;
  readonly watchPort: number;
  readonly watchGroup: number;
  readonly actions: readonly Action[];
}
export interface GroupMod extends Header {
  readonly type: 'GROUP_MOD';
  /** OFPGC_* */
  readonly command: number;
  /** OFPGT_* */
  readonly groupType: number;
  readonly groupId: number;
  readonly buckets: readonly Bucket[];
}

export interface BarrierRequest extends Header { readonly type: 'BARRIER_REQUEST' }
export interface BarrierReply extends Header { readonly type: 'BARRIER_REPLY' }

export interface RoleRequest extends Header { readonly type: 'ROLE_REQUEST'; readonly role: number; readonly generationId: bigint }
export interface RoleReply extends Header { readonly type: 'ROLE_REPLY'; readonly role: number; readonly generationId: bigint }

// ---- multipart -------------------------------------------------------------------------

export interface FlowStatsRequestBody {
  readonly tableId: number;
  readonly outPort: number;
  readonly outGroup: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly match: Match;
}
export type MultipartRequestBody =
  | { readonly kind: 'DESC' }
  | ({ readonly kind: 'FLOW' } & FlowStatsRequestBody)
  | ({ readonly kind: 'AGGREGATE' } & FlowStatsRequestBody)
  | { readonly kind: 'TABLE' }
  | { readonly kind: 'PORT_STATS'; readonly portNo: number }
  | { readonly kind: 'PORT_DESC' }
  | { readonly kind: 'GROUP_DESC' }
  | { readonly kind: 'UNKNOWN'; readonly mpType: number; readonly body: Uint8Array };

export interface MultipartRequest extends Header {
  readonly type: 'MULTIPART_REQUEST';
  /** OFPMPF_REQ_MORE */
  readonly flags: number;
  readonly body: MultipartRequestBody;
}

export interface Desc {
  readonly mfrDesc: string;
  readonly hwDesc: string;
  readonly swDesc: string;
  readonly serialNum: string;
  readonly dpDesc: string;
}
export interface FlowStats {
  readonly tableId: number;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly priority: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly flags: number;
  readonly cookie: bigint;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
}
export interface AggregateStats { readonly packetCount: bigint; readonly byteCount: bigint; readonly flowCount: number }
export interface TableStats { readonly tableId: number; readonly activeCount: number; readonly lookupCount: bigint; readonly matchedCount: bigint }
export interface PortStats {
  readonly portNo: number;
  readonly rxPackets: bigint; readonly txPackets: bigint;
  readonly rxBytes: bigint; readonly txBytes: bigint;
  readonly rxDropped: bigint; readonly txDropped: bigint;
  readonly rxErrors: bigint; readonly txErrors: bigint;
  readonly rxFrameErr: bigint; readonly rxOverErr: bigint; readonly rxCrcErr: bigint;
  readonly collisions: bigint;
  readonly durationSec: number; readonly durationNsec: number;
}
export interface GroupDesc { readonly groupType: number; readonly groupId: number; readonly buckets: readonly Bucket[] }

export type MultipartReplyBody =
  | { readonly kind: 'DESC'; readonly desc: Desc }
  | { readonly kind: 'FLOW'; readonly flows: readonly FlowStats[] }
  | { readonly kind: 'AGGREGATE'; readonly stats: AggregateStats }
  | { readonly kind: 'TABLE'; readonly tables: readonly TableStats[] }
  | { readonly kind: 'PORT_STATS'; readonly ports: readonly PortStats[] }
  | { readonly kind: 'PORT_DESC'; readonly ports: readonly Port[] }
  | { readonly kind: 'GROUP_DESC'; readonly groups: readonly GroupDesc[] }
  | { readonly kind: 'UNKNOWN'; readonly mpType: number; readonly body: Uint8Array };

export interface MultipartReply extends Header {
  readonly type: 'MULTIPART_REPLY';
  /** OFPMPF_REPLY_MORE */
  readonly flags: number;
  readonly body: MultipartReplyBody;
}

/** A message type the codec does not model: the body after the 8-byte header, verbatim. */
export interface UnknownMessage extends Header {
  readonly type: 'UNKNOWN';
  readonly msgType: number;
  readonly body: Uint8Array;
}

export type OfpMessage =
  | Hello | ErrorMsg | EchoRequest | EchoReply | ExperimenterMsg
  | FeaturesRequest | FeaturesReply | GetConfigRequest | GetConfigReply | SetConfig
  | PacketIn | PacketOut | FlowMod | FlowRemoved | PortStatus | GroupMod
  | BarrierRequest | BarrierReply | RoleRequest | RoleReply
  | MultipartRequest | MultipartReply | UnknownMessage;

export type OfpMessageType = OfpMessage['type'];

/** Why a frame could not be decoded. `ofpError` says which OFPT_ERROR to answer, when the spec asks for one. */
export interface DecodeError {
  readonly reason: string;
  readonly xid?: number;
  readonly ofpError?: { readonly errorType: number; readonly code: number };
}

export type DecodeResult<T = OfpMessage> =
  | { readonly ok: true; readonly message: T }
  | { readonly ok: false; readonly error: DecodeError };
