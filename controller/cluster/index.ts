// Several replicas, one fabric: the binding store shared in etcd, the change feed that keeps
// every replica's registry current, and switch mastership through etcd leases.

export * from './binding-txn.js';
export * from './change-feed.js';
export * from './etcd-binding-repository.js';
export * from './etcd-client.js';
export * from './mastership.js';
export * from './mastership-rules.js';
export * from './peer-liveness.js';
export * from './replica-lease.js';
export * from './store-keys.js';
export * from './store-values.js';
export * from './move-acks.js';
export * from './replica.js';
export * from './remote-probes.js';
export * from './etcd-health.js';
export * from './switch-role.js';
