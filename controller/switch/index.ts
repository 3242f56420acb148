// The switch layer: one TCP or TLS listener, one connection per switch, a registry of switches in MAIN.
export { ConnectionState, SwitchConnection, type ConnectionContext, type ConnectionOptions, type FlowStatsFilter, type Outgoing } from './connection.js';
export { SwitchListener, type SwitchListenerOptions } from './listener.js';
export { SwitchRegistry, type SwitchErrorEvent, type SwitchMessage, type SwitchRegistryOptions } from './registry.js';
export { BatchError, ConnectionClosedError, MultipartLimitError, OpenFlowError, RequestTimeoutError } from './errors.js';
export { OPENFLOW_LIMIT_DEFAULTS } from './limits.js';
export { OpenFlowMetrics, type MultipartLimit, type RefusalReason } from './metrics.js';
export type { DpidPin, DpidPinning, DuplicateDpidPolicy, PeerIdentity } from './admission.js';
export type { TlsFiles } from './tls.js';
export type { MultipartLimits } from './requests.js';
export { peerText } from './peer-text.js';
export { formatDpid, parseDpid } from './dpid.js';
export type { ReplyFor, RequestWithReply } from './requests.js';
