// The OpenFlow 1.3 wire codec: pure functions and data, no I/O.
//   encodeMessage(msg) -> Buffer          decodeMessage(frame) -> DecodeResult (never throws)
//   Framer: TCP chunks -> whole frames    constants: spec names (OFPT_*, OFPP_*, OFPET_* ...)
//   builders (flowMod, setField, ...), Nicira moves (nxRegMove), ovs-ofctl notation (formatFlowStats)
// Byte fields of decoded messages are views into the frame they were decoded from.

export * from './types.js';
export * from './constants.js';
export * from './error-codes.js';
export { encodeAhead, encodeFrame, encodeMessage, decodeMessage, messageTypeCode } from './codec.js';
export { readHeader, type OfpHeader } from './header.js';
export { multipartReplyKind } from './multipart.js';
export { Framer, type FramerOptions, type FramerResult } from './framer.js';
export { OXM_FIELDS, OXM_BY_NAME, type OxmField, type OxmKind } from './oxm.js';
export * from './build.js';
export {
  nxRegMove, parseNxRegMove, describeNxAction, NX_VENDOR_ID, NXAST_REG_MOVE, NXM_FIELDS,
  type NxmFieldName, type NxRegMove,
} from './nicira.js';
export {
  formatMatch, formatAction, formatActions, formatInstructions, formatFlowStats, formatFlowMod, formatDuration, portName,
  type FlowStatsFormatOptions,
} from './ofctl-format.js';
