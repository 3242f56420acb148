// The cluster panel's pure pieces, from GET /api/cluster: who masters which switch (per replica,
// and the switches nobody masters now), etcd's members, and the one-line state an operator reads
// first (can this replica move VMs now, and if not, why).

/** "1.2 MB": an etcd backend size. */
export function bytes(n) {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * One row per replica, live ones in the API's order, then any replica named as a master that is
 * no longer live (its lease not expired yet): its switches, and whether it is this one.
 */
export function replicaRows(view) {
  const byReplica = new Map(view.replicas.map((r) => [r, []]));
  for (const s of view.switches) {
    if (s.master === null) continue;
    if (!byReplica.has(s.master)) byReplica.set(s.master, []);
    byReplica.get(s.master).push(s.dpid);
  }
  return [...byReplica].map(([replica, switches]) => ({
    replica, switches, here: replica === view.replica, live: view.replicas.includes(replica),
  }));
}

/** The switches nobody masters now (a failover under way, or no quorum). */
export function unmastered(view) {
  return view.switches.filter((s) => s.master === null).map((s) => s.dpid);
}

/** What an etcd member is: leader, follower, or why it does not count. */
export function memberState(m) {
  if (!m.reachable) return 'unreachable';
  if (!m.quorum) return 'no quorum';
  return m.leader ? 'leader' : 'follower';
}

/**
 * The state line: 'ok' when this replica can commit moves and master switches (etcd has a
 * quorum, its lease is alive, its feed follows), else 'bad' with the reasons.
 */
export function clusterHealth(view) {
  const problems = [];
  if (view.etcd !== null && !view.etcd.quorum) problems.push(`etcd has no quorum (${view.etcd.reachable}/${view.etcd.members.length} members answer): no VM can move, switches forward on the rules they hold`);
  else if (view.etcd !== null && view.etcd.reachable < view.etcd.members.length) problems.push(`etcd: ${view.etcd.members.length - view.etcd.reachable} of ${view.etcd.members.length} members down`);
  if (view.lease !== null && !view.lease.alive) problems.push('this replica\'s lease is not alive: it writes no switch');
  if (view.feed !== null && !view.feed.connected) problems.push(`change feed: ${view.feed.error ?? 'not connected'}`);
  const orphans = unmastered(view);
  if (orphans.length > 0) problems.push(`${orphans.length} switch${orphans.length === 1 ? '' : 'es'} without a master`);
  return { ok: problems.length === 0, problems };
}

/** The header's short form: "replica c1 of 3 · etcd quorum". */
export function clusterSummary(view) {
  if (view.mode !== 'cluster') return '';
  const etcd = view.etcd === null ? '' : view.etcd.quorum ? ' · etcd quorum' : ' · etcd NO QUORUM';
  return `replica ${view.replica} of ${view.replicas.length}${etcd}`;
}
