// The runtime that keeps switches' tables in step with bindings, and the learning switch.
export { Fabric, DEFAULT_FABRIC_OPTIONS, type FabricCounters, type FabricEvent, type FabricOptions } from './fabric.js';
export { L2Learner } from './l2-learner.js';
export { MigrationLog, type MigrationRecord } from './migration-log.js';
export { TableSync, type UpdateResult } from './table-sync.js';
