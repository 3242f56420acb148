// Small verb-first builders for the messages and actions applications send most.

import * as C from './constants.js';
import { defaultMaxLen } from './actions.js';
import type {
  Action, BarrierRequest, EchoReply, EchoRequest, FeaturesRequest, FlowMod, FlowStatsRequestBody, Hello, Instruction,
  MultipartRequest, OxmFieldValues, OxmName, PacketOut, SetConfig,
} from './types.js';

const EMPTY = new Uint8Array(0);
const ALL_ONES_64 = 0xffffffffffffffffn;

// ---- actions and instructions ---------------------------------------------------------------

/** Output to a port; to the controller the whole packet is sent unless maxLen says otherwise. */
export function outputPort(port: number, maxLen: number = defaultMaxLen(port)): Action {
  return { type: 'OUTPUT', port, maxLen };
}

export function setField<K extends OxmName>(field: K, value: OxmFieldValues[K]): Action {
  return { type: 'SET_FIELD', field, value } as Action;
}

export function gotoTable(tableId: number): Instruction {
  return { type: 'GOTO_TABLE', tableId };
}

export function applyActions(...actions: Action[]): Instruction {
  return { type: 'APPLY_ACTIONS', actions };
}

export function writeActions(...actions: Action[]): Instruction {
  return { type: 'WRITE_ACTIONS', actions };
}

export function clearActions(): Instruction {
  return { type: 'CLEAR_ACTIONS' };
}

export function writeMetadata(metadata: bigint, mask: bigint = ALL_ONES_64): Instruction {
  return { type: 'WRITE_METADATA', metadata, mask };
}

// ---- messages ------------------------------------------------------------------------------

export type FlowModFields = Partial<Omit<FlowMod, 'type'>>;

/** A FLOW_MOD with the spec's defaults: OFPFC_ADD, priority 0x8000, no buffer, any port/group. */
export function flowMod(fields: FlowModFields = {}): FlowMod {
  return {
    type: 'FLOW_MOD',
    xid: 0,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: C.OFPFC_ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: C.OFP_DEFAULT_PRIORITY,
    bufferId: C.OFP_NO_BUFFER,
    outPort: C.OFPP_ANY,
    outGroup: C.OFPG_ANY,
    flags: 0,
    match: {},
    instructions: [],
    ...fields,
  };
}

/** A FLOW_MOD deleting every flow of `tableId` (default all tables) that matches `match`. */
export function deleteFlows(fields: FlowModFields = {}): FlowMod {
  return flowMod({ command: C.OFPFC_DELETE, tableId: C.OFPTT_ALL, ...fields });
}

export interface PacketOutFields {
  readonly xid?: number;
  readonly inPort?: number;
  readonly bufferId?: number;
  readonly actions: readonly Action[];
  readonly data?: Uint8Array;
}

/** A PACKET_OUT of `data` (unbuffered by default), in from OFPP_CONTROLLER unless told. */
export function packetOut(fields: PacketOutFields): PacketOut {
  return {
    type: 'PACKET_OUT',
    xid: fields.xid ?? 0,
    bufferId: fields.bufferId ?? C.OFP_NO_BUFFER,
    inPort: fields.inPort ?? C.OFPP_CONTROLLER,
    actions: fields.actions,
    data: fields.data ?? EMPTY,
  };
}

export function barrierRequest(xid: number): BarrierRequest {
  return { type: 'BARRIER_REQUEST', xid };
}

export function hello(xid: number, versions: readonly number[] = [C.OFP_VERSION]): Hello {
  return { type: 'HELLO', version: C.OFP_VERSION, xid, elements: [{ type: 'VERSIONBITMAP', versions }] };
}

export function echoRequest(xid: number, data: Uint8Array = EMPTY): EchoRequest {
  return { type: 'ECHO_REQUEST', xid, data };
}

/** The reply to an echo request: same xid, same data. */
export function echoReply(request: EchoRequest): EchoReply {
  return { type: 'ECHO_REPLY', xid: request.xid, data: request.data };
}

export function featuresRequest(xid: number): FeaturesRequest {
  return { type: 'FEATURES_REQUEST', xid };
}

export function setConfig(xid: number, missSendLen: number = C.OFPCML_NO_BUFFER, flags: number = C.OFPC_FRAG_NORMAL): SetConfig {
  return { type: 'SET_CONFIG', xid, flags, missSendLen };
}

export type FlowStatsRequestFields = Partial<FlowStatsRequestBody> & { readonly xid?: number };

function flowStatsBody(fields: FlowStatsRequestFields): FlowStatsRequestBody {
  return {
    tableId: fields.tableId ?? C.OFPTT_ALL,
    outPort: fields.outPort ?? C.OFPP_ANY,
    outGroup: fields.outGroup ?? C.OFPG_ANY,
    cookie: fields.cookie ?? 0n,
    cookieMask: fields.cookieMask ?? 0n,
    match: fields.match ?? {},
  };
}

/** OFPMP_FLOW request; by default every flow of every table. */
export function flowStatsRequest(fields: FlowStatsRequestFields = {}): MultipartRequest {
  return { type: 'MULTIPART_REQUEST', xid: fields.xid ?? 0, flags: 0, body: { kind: 'FLOW', ...flowStatsBody(fields) } };
}

export function aggregateStatsRequest(fields: FlowStatsRequestFields = {}): MultipartRequest {
  return { type: 'MULTIPART_REQUEST', xid: fields.xid ?? 0, flags: 0, body: { kind: 'AGGREGATE', ...flowStatsBody(fields) } };
}

export function portDescRequest(xid: number): MultipartRequest {
  return { type: 'MULTIPART_REQUEST', xid, flags: 0, body: { kind: 'PORT_DESC' } };
}

export function portStatsRequest(xid: number, portNo: number = C.OFPP_ANY): MultipartRequest {
  return { type: 'MULTIPART_REQUEST', xid, flags: 0, body: { kind: 'PORT_STATS', portNo } };
}

export function descRequest(xid: number): MultipartRequest {
  return { type: 'MULTIPART_REQUEST', xid, flags: 0, body: { kind: 'DESC' } };
}
