// The cluster panel (GET /api/cluster, shown only when the controller runs as a replica of a
// cluster): the state line (can this replica move VMs now), who masters which switch, and etcd's
// members as this replica sees them. Rows are keyed and updated in place.

import { switchName } from './format.js';
import { el, setText, syncKeyed } from './dom.js';
import { bytes, clusterHealth, memberState, replicaRows, unmastered } from './cluster.js';

export class ClusterPanelView {
  /** `panel`: the section shown in cluster mode; the tables inside it by id. */
  constructor(panel) {
    this.panel = panel;
    this.status = panel.querySelector('#cluster-status');
    this.replicas = panel.querySelector('#cluster-replicas tbody');
    this.members = panel.querySelector('#etcd-members tbody');
    this.self = panel.querySelector('#cluster-self');
  }

  /** `view`: GET /api/cluster; `switches`: dpid -> switch view (for bridge names). */
  render(view, switches) {
    this.panel.hidden = view === null || view.mode !== 'cluster';
    if (this.panel.hidden) return;
    const health = clusterHealth(view);
    this.status.className = `cluster-status ${health.ok ? 'ok' : 'bad'}`;
    setText(this.status, health.ok ? 'etcd has a quorum, this replica\'s lease is alive, every switch has a master: moves go through' : health.problems.join(' · '));
    const lease = view.lease === null ? '' : `lease ${view.lease.id ?? '(being granted)'} ${view.lease.alive ? 'alive' : 'NOT alive'}, TTL ${view.lease.ttlMs} ms`;
    const feed = view.feed === null ? '' : view.feed.connected ? 'change feed following' : `change feed stopped: ${view.feed.error ?? ''}`;
    const liveness = view.liveness === null || view.liveness === undefined ? '' : `liveness ${view.liveness.address}, watching ${view.liveness.verified.length === 0 ? 'no peer' : view.liveness.verified.join(', ')}`;
    setText(this.self, [`this replica: ${view.replica}`, lease, feed, liveness].filter(Boolean).join(' · '));
    this.renderReplicas(view, switches);
    this.renderMembers(view);
  }

  renderReplicas(view, switches) {
    const name = (dpid) => switchName(switches.get(dpid), dpid);
    const rows = replicaRows(view);
    const orphans = unmastered(view);
    if (orphans.length > 0) rows.push({ replica: '', switches: orphans, here: false, live: true, nobody: true });
    syncKeyed(this.replicas, rows, (r) => (r.nobody ? '(none)' : r.replica), () => el('tr', {}, el('td'), el('td', { class: 'num' }), el('td', { class: 'mono' })), (tr, r) => {
      tr.dataset.replica = r.nobody ? '' : r.replica;
      tr.classList.toggle('here', r.here);
      tr.classList.toggle('gone', !r.live);
      tr.classList.toggle('nobody', r.nobody === true);
      setText(tr.cells[0], r.nobody ? 'no master' : `${r.replica}${r.here ? ' (this one)' : ''}${r.live ? '' : ' (lease expiring)'}`);
      setText(tr.cells[1], r.switches.length);
      setText(tr.cells[2], r.switches.map(name).sort().join(', ') || '–');
    });
  }

  renderMembers(view) {
    const members = view.etcd?.members ?? [];
    syncKeyed(this.members, members, (m) => m.endpoint, () => el('tr', {}, ...Array.from({ length: 6 }, (_, i) => el('td', { class: i >= 3 && i <= 4 ? 'num' : '' }))), (tr, m) => {
      const state = memberState(m);
      tr.dataset.state = state;
      tr.classList.toggle('bad', state === 'unreachable' || state === 'no quorum');
      const cells = [m.endpoint, state, m.version ?? '', m.raftTerm ?? '', bytes(m.dbSizeBytes), m.error ?? ''];
      cells.forEach((text, i) => setText(tr.cells[i], text));
    });
  }
}
