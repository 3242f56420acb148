// OpenFlow 1.3.5 protocol numbers, spec names verbatim (openflow.h). Error types and codes live
// in error-codes.ts. Plain `const` exports keep the literal types and let callers import only
// what they use.

export const OFP_VERSION = 4;
export const OFP_HEADER_LEN = 8;
/** The largest message the 16-bit length field allows. */
export const OFP_MAX_MESSAGE_LEN = 0xffff;

// ---- ofp_type ------------------------------------------------------------------------------
export const OFPT_HELLO = 0;
export const OFPT_ERROR = 1;
export const OFPT_ECHO_REQUEST = 2;
export const OFPT_ECHO_REPLY = 3;
export const OFPT_EXPERIMENTER = 4;
export const OFPT_FEATURES_REQUEST = 5;
export const OFPT_FEATURES_REPLY = 6;
export const OFPT_GET_CONFIG_REQUEST = 7;
export const OFPT_GET_CONFIG_REPLY = 8;
export const OFPT_SET_CONFIG = 9;
export const OFPT_PACKET_IN = 10;
export const OFPT_FLOW_REMOVED = 11;
export const OFPT_PORT_STATUS = 12;
export const OFPT_PACKET_OUT = 13;
export const OFPT_FLOW_MOD = 14;
export const OFPT_GROUP_MOD = 15;
export const OFPT_PORT_MOD = 16;
export const OFPT_TABLE_MOD = 17;
export const OFPT_MULTIPART_REQUEST = 18;
export const OFPT_MULTIPART_REPLY = 19;
export const OFPT_BARRIER_REQUEST = 20;
export const OFPT_BARRIER_REPLY = 21;
export const OFPT_QUEUE_GET_CONFIG_REQUEST = 22;
export const OFPT_QUEUE_GET_CONFIG_REPLY = 23;
export const OFPT_ROLE_REQUEST = 24;
export const OFPT_ROLE_REPLY = 25;
export const OFPT_GET_ASYNC_REQUEST = 26;
export const OFPT_GET_ASYNC_REPLY = 27;
export const OFPT_SET_ASYNC = 28;
export const OFPT_METER_MOD = 29;

// ---- hello elements ------------------------------------------------------------------------
export const OFPHET_VERSIONBITMAP = 1;

// ---- ports (ofp_port_no) -------------------------------------------------------------------
export const OFPP_MAX = 0xffffff00;
export const OFPP_IN_PORT = 0xfffffff8;
export const OFPP_TABLE = 0xfffffff9;
export const OFPP_NORMAL = 0xfffffffa;
export const OFPP_FLOOD = 0xfffffffb;
export const OFPP_ALL = 0xfffffffc;
export const OFPP_CONTROLLER = 0xfffffffd;
export const OFPP_LOCAL = 0xfffffffe;
export const OFPP_ANY = 0xffffffff;

// ofp_port_config
export const OFPPC_PORT_DOWN = 1 << 0;
export const OFPPC_NO_RECV = 1 << 2;
export const OFPPC_NO_FWD = 1 << 5;
export const OFPPC_NO_PACKET_IN = 1 << 6;
// ofp_port_state
export const OFPPS_LINK_DOWN = 1 << 0;
export const OFPPS_BLOCKED = 1 << 1;
export const OFPPS_LIVE = 1 << 2;
// ofp_port_features
export const OFPPF_10MB_HD = 1 << 0;
export const OFPPF_10MB_FD = 1 << 1;
export const OFPPF_100MB_HD = 1 << 2;
export const OFPPF_100MB_FD = 1 << 3;
export const OFPPF_1GB_HD = 1 << 4;
export const OFPPF_1GB_FD = 1 << 5;
export const OFPPF_10GB_FD = 1 << 6;
export const OFPPF_40GB_FD = 1 << 7;
export const OFPPF_100GB_FD = 1 << 8;
export const OFPPF_1TB_FD = 1 << 9;
export const OFPPF_OTHER = 1 << 10;
export const OFPPF_COPPER = 1 << 11;
export const OFPPF_FIBER = 1 << 12;
export const OFPPF_AUTONEG = 1 << 13;
export const OFPPF_PAUSE = 1 << 14;
export const OFPPF_PAUSE_ASYM = 1 << 15;
// ofp_port_reason
export const OFPPR_ADD = 0;
export const OFPPR_DELETE = 1;
export const OFPPR_MODIFY = 2;

// ---- buffers and controller max_len --------------------------------------------------------
export const OFP_NO_BUFFER = 0xffffffff;
export const OFPCML_MAX = 0xffe5;
export const OFPCML_NO_BUFFER = 0xffff;

// ---- switch features capabilities and config flags -----------------------------------------
export const OFPC_FLOW_STATS = 1 << 0;
export const OFPC_TABLE_STATS = 1 << 1;
export const OFPC_PORT_STATS = 1 << 2;
export const OFPC_GROUP_STATS = 1 << 3;
export const OFPC_IP_REASM = 1 << 5;
export const OFPC_QUEUE_STATS = 1 << 6;
export const OFPC_PORT_BLOCKED = 1 << 8;
export const OFPC_FRAG_NORMAL = 0;
export const OFPC_FRAG_DROP = 1;
export const OFPC_FRAG_REASM = 2;
export const OFPC_FRAG_MASK = 3;

// ---- tables --------------------------------------------------------------------------------
export const OFPTT_MAX = 0xfe;
export const OFPTT_ALL = 0xff;

// ---- flow mod ------------------------------------------------------------------------------
export const OFPFC_ADD = 0;
export const OFPFC_MODIFY = 1;
export const OFPFC_MODIFY_STRICT = 2;
export const OFPFC_DELETE = 3;
export const OFPFC_DELETE_STRICT = 4;

export const OFPFF_SEND_FLOW_REM = 1 << 0;
export const OFPFF_CHECK_OVERLAP = 1 << 1;
export const OFPFF_RESET_COUNTS = 1 << 2;
export const OFPFF_NO_PKT_COUNTS = 1 << 3;
export const OFPFF_NO_BYT_COUNTS = 1 << 4;

export const OFP_DEFAULT_PRIORITY = 0x8000;
export const OFP_FLOW_PERMANENT = 0;

// ---- packet-in / flow-removed reasons ------------------------------------------------------
export const OFPR_NO_MATCH = 0;
export const OFPR_ACTION = 1;
export const OFPR_INVALID_TTL = 2;

export const OFPRR_IDLE_TIMEOUT = 0;
export const OFPRR_HARD_TIMEOUT = 1;
export const OFPRR_DELETE = 2;
export const OFPRR_GROUP_DELETE = 3;

// ---- match ---------------------------------------------------------------------------------
export const OFPMT_STANDARD = 0;
export const OFPMT_OXM = 1;

export const OFPXMC_NXM_0 = 0x0000;
export const OFPXMC_NXM_1 = 0x0001;
export const OFPXMC_OPENFLOW_BASIC = 0x8000;
export const OFPXMC_EXPERIMENTER = 0xffff;

export const OFPXMT_OFB_IN_PORT = 0;
export const OFPXMT_OFB_IN_PHY_PORT = 1;
export const OFPXMT_OFB_METADATA = 2;
export const OFPXMT_OFB_ETH_DST = 3;
export const OFPXMT_OFB_ETH_SRC = 4;
export const OFPXMT_OFB_ETH_TYPE = 5;
export const OFPXMT_OFB_VLAN_VID = 6;
export const OFPXMT_OFB_VLAN_PCP = 7;
export const OFPXMT_OFB_IP_DSCP = 8;
export const OFPXMT_OFB_IP_ECN = 9;
export const OFPXMT_OFB_IP_PROTO = 10;
export const OFPXMT_OFB_IPV4_SRC = 11;
export const OFPXMT_OFB_IPV4_DST = 12;
export const OFPXMT_OFB_TCP_SRC = 13;
export const OFPXMT_OFB_TCP_DST = 14;
export const OFPXMT_OFB_UDP_SRC = 15;
export const OFPXMT_OFB_UDP_DST = 16;
export const OFPXMT_OFB_SCTP_SRC = 17;
export const OFPXMT_OFB_SCTP_DST = 18;
export const OFPXMT_OFB_ICMPV4_TYPE = 19;
export const OFPXMT_OFB_ICMPV4_CODE = 20;
export const OFPXMT_OFB_ARP_OP = 21;
export const OFPXMT_OFB_ARP_SPA = 22;
export const OFPXMT_OFB_ARP_TPA = 23;
export const OFPXMT_OFB_ARP_SHA = 24;
export const OFPXMT_OFB_ARP_THA = 25;
export const OFPXMT_OFB_IPV6_SRC = 26;
export const OFPXMT_OFB_IPV6_DST = 27;
export const OFPXMT_OFB_IPV6_FLABEL = 28;
export const OFPXMT_OFB_ICMPV6_TYPE = 29;
export const OFPXMT_OFB_ICMPV6_CODE = 30;
export const OFPXMT_OFB_IPV6_ND_TARGET = 31;
export const OFPXMT_OFB_IPV6_ND_SLL = 32;
export const OFPXMT_OFB_IPV6_ND_TLL = 33;
export const OFPXMT_OFB_MPLS_LABEL = 34;
export const OFPXMT_OFB_MPLS_TC = 35;
export const OFPXMT_OFB_MPLS_BOS = 36;
export const OFPXMT_OFB_PBB_ISID = 37;
export const OFPXMT_OFB_TUNNEL_ID = 38;
export const OFPXMT_OFB_IPV6_EXTHDR = 39;

/** The "VLAN present" bit of vlan_vid (kept in the value, as on the wire). */
export const OFPVID_PRESENT = 0x1000;
export const OFPVID_NONE = 0x0000;

// ---- actions -------------------------------------------------------------------------------
export const OFPAT_OUTPUT = 0;
export const OFPAT_COPY_TTL_OUT = 11;
export const OFPAT_COPY_TTL_IN = 12;
export const OFPAT_SET_MPLS_TTL = 15;
export const OFPAT_DEC_MPLS_TTL = 16;
export const OFPAT_PUSH_VLAN = 17;
export const OFPAT_POP_VLAN = 18;
export const OFPAT_PUSH_MPLS = 19;
export const OFPAT_POP_MPLS = 20;
export const OFPAT_SET_QUEUE = 21;
export const OFPAT_GROUP = 22;
export const OFPAT_SET_NW_TTL = 23;
export const OFPAT_DEC_NW_TTL = 24;
export const OFPAT_SET_FIELD = 25;
export const OFPAT_PUSH_PBB = 26;
export const OFPAT_POP_PBB = 27;
export const OFPAT_EXPERIMENTER = 0xffff;

// ---- instructions --------------------------------------------------------------------------
export const OFPIT_GOTO_TABLE = 1;
export const OFPIT_WRITE_METADATA = 2;
export const OFPIT_WRITE_ACTIONS = 3;
export const OFPIT_APPLY_ACTIONS = 4;
export const OFPIT_CLEAR_ACTIONS = 5;
export const OFPIT_METER = 6;
export const OFPIT_EXPERIMENTER = 0xffff;

// ---- groups --------------------------------------------------------------------------------
export const OFPG_MAX = 0xffffff00;
export const OFPG_ALL = 0xfffffffc;
export const OFPG_ANY = 0xffffffff;

export const OFPGC_ADD = 0;
export const OFPGC_MODIFY = 1;
export const OFPGC_DELETE = 2;

export const OFPGT_ALL = 0;
export const OFPGT_SELECT = 1;
export const OFPGT_INDIRECT = 2;
export const OFPGT_FF = 3;

// ---- multipart -----------------------------------------------------------------------------
export const OFPMP_DESC = 0;
export const OFPMP_FLOW = 1;
export const OFPMP_AGGREGATE = 2;
export const OFPMP_TABLE = 3;
export const OFPMP_PORT_STATS = 4;
export const OFPMP_QUEUE = 5;
export const OFPMP_GROUP = 6;
export const OFPMP_GROUP_DESC = 7;
export const OFPMP_GROUP_FEATURES = 8;
export const OFPMP_METER = 9;
export const OFPMP_METER_CONFIG = 10;
export const OFPMP_METER_FEATURES = 11;
export const OFPMP_TABLE_FEATURES = 12;
export const OFPMP_PORT_DESC = 13;
export const OFPMP_EXPERIMENTER = 0xffff;

export const OFPMPF_REQ_MORE = 1 << 0;
export const OFPMPF_REPLY_MORE = 1 << 0;

// ---- controller roles ----------------------------------------------------------------------
export const OFPCR_ROLE_NOCHANGE = 0;
export const OFPCR_ROLE_EQUAL = 1;
export const OFPCR_ROLE_MASTER = 2;
export const OFPCR_ROLE_SLAVE = 3;

// ---- fixed struct sizes (OFP_ASSERT in openflow.h) ------------------------------------------
export const OFP_SIZES = {
  ofp_header: 8,
  ofp_hello_elem_header: 4,
  ofp_switch_features: 32,
  ofp_switch_config: 12,
  ofp_match: 8,
  ofp_oxm_header: 4,
  ofp_port: 64,
  ofp_port_status: 80,
  ofp_packet_in: 32,
  ofp_packet_out: 24,
  ofp_flow_mod: 56,
  ofp_flow_removed: 56,
  ofp_group_mod: 16,
  ofp_bucket: 16,
  ofp_role_request: 24,
  ofp_error_msg: 12,
  ofp_error_experimenter_msg: 16,
  ofp_experimenter_header: 16,
  ofp_multipart_request: 16,
  ofp_multipart_reply: 16,
  ofp_desc: 1056,
  ofp_flow_stats_request: 40,
  ofp_flow_stats: 56,
  ofp_aggregate_stats_request: 40,
  ofp_aggregate_stats_reply: 24,
  ofp_table_stats: 24,
  ofp_port_stats_request: 8,
  ofp_port_stats: 112,
  ofp_group_desc: 8,
  ofp_action_header: 8,
  ofp_action_output: 16,
  ofp_action_generic: 8,
  ofp_action_set_field: 8,
  ofp_action_experimenter_header: 8,
  ofp_instruction_goto_table: 8,
  ofp_instruction_write_metadata: 24,
  ofp_instruction_actions: 8,
  ofp_instruction_meter: 8,
  ofp_instruction_experimenter: 8,
} as const;
