// The runtime that keeps switches' tables in step with bindings, and the learning switch.
export { Fabric, type FabricDeps } from './fabric.js';
export { DEFAULT_CACHE_IDLE_TIMEOUT_SEC, DEFAULT_FABRIC_OPTIONS, type FabricOptions } from './options.js';
export { DEFAULT_BUFFER_LIMITS, type BufferLimits } from './buffers.js';
export type { FabricCounters, FabricEvent } from './events.js';
export { systemClock, type Clock, type Timer } from './clock.js';
export type { FabricMessage, FabricSwitch, FabricSwitches } from './switches.js';
export type { VerificationMode } from './verify.js';
export { L2Learner } from './l2-learner.js';
export { MigrationLog, type MigrationRecord } from './migration-log.js';
export { TableSync, type UpdateResult } from './table-sync.js';
export { HypervisorSignals, intentForAttachment, ATTACHMENT_INTENT_TTL_MS, type AttachmentSignal } from './hypervisor.js';
