// Types of cluster.js for the TypeScript unit tests (the page loads the .js as it is).
import type { ClusterApiView } from '../api/views.js';
import type { EtcdMemberHealth } from '../cluster/etcd-health.js';

export interface ReplicaRow { readonly replica: string; readonly switches: string[]; readonly here: boolean; readonly live: boolean }
export function bytes(n: number | null | undefined): string;
export function replicaRows(view: ClusterApiView): ReplicaRow[];
export function unmastered(view: ClusterApiView): string[];
export function memberState(m: EtcdMemberHealth): 'unreachable' | 'no quorum' | 'leader' | 'follower';
export function clusterHealth(view: ClusterApiView): { ok: boolean; problems: string[] };
export function clusterSummary(view: ClusterApiView): string;
