// Learning from the hypervisor's own signals where a VM is about to appear: an OVSDB (RFC 7047)
// client that watches Open vSwitch's Interface rows for the external_ids libvirt and OpenStack write.

export {
  ATTACHMENT_COLUMNS, deriveAttachments, diffAttachments, normaliseMac, sameAttachment,
  type AttachmentDerivation, type AttachmentProblem, type AttachmentRecord, type VmAttachment,
} from './attachments.js';
export { VmAttachmentWatcher, type VmAttachmentWatcherOptions, type WatcherCounters, type WatcherState } from './attachment-watcher.js';
export { OvsdbConnection, OvsdbRpcError, type OvsdbConnectionHandlers, type OvsdbConnectionOptions } from './connection.js';
export { JsonMessageSplitter, type SplitResult, type SplitterOptions } from './json-splitter.js';
export { OvsdbReplica, type OvsdbRow, type ReplicaView } from './replica.js';
export { DEFAULT_OVSDB_SOCKET, formatOvsdbTarget, parseOvsdbTarget, resolveOvsdbTargets, type OvsdbTarget } from './target.js';
