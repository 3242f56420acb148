// The switch layer: one TCP listener, one connection per switch, a registry of switches in MAIN.
export { ConnectionState, SwitchConnection, type ConnectionOptions, type FlowStatsFilter, type Outgoing } from './connection.js';
export { SwitchListener, type SwitchListenerOptions } from './listener.js';
export { SwitchRegistry, type SwitchErrorEvent, type SwitchMessage } from './registry.js';
export { BatchError, ConnectionClosedError, OpenFlowError, RequestTimeoutError } from './errors.js';
export { formatDpid, parseDpid } from './dpid.js';
export type { ReplyFor, RequestWithReply } from './requests.js';
