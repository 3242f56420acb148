// The cluster panel's pure pieces: who masters which switch per replica (this one, a replica whose
// lease has not expired yet, switches with no master), etcd members' states, and the state line
// that says whether this replica can move VMs now.

import { expect } from 'chai';
import { clusterView, type ClusterApiView } from '../../../controller/api/views.js';
import type { EtcdHealthView, EtcdMemberHealth } from '../../../controller/cluster/etcd-health.js';
import { bytes, clusterHealth, clusterSummary, memberState, replicaRows, unmastered } from '../../../controller/dashboard/cluster.js';

const S = (n: number) => n.toString(16).padStart(16, '0');
const member = (n: number, over: Partial<EtcdMemberHealth> = {}): EtcdMemberHealth => ({
  endpoint: `http://127.0.0.1:2${n}379`, reachable: true, quorum: true, leader: n === 1, version: '3.4.23', raftTerm: 2, dbSizeBytes: 20480, error: null, ...over,
});
const etcd = (members: EtcdMemberHealth[]): EtcdHealthView => ({ members, reachable: members.filter((m) => m.reachable).length, quorum: members.some((m) => m.quorum), checkedAt: 0 });

function view(masters: Record<string, string>, over: { replicas?: string[]; leaseAlive?: boolean; feed?: boolean; etcd?: EtcdHealthView } = {}): ClusterApiView {
  return clusterView([S(1), S(2), S(3)], {
    view: {
      replica: 'c1', replicas: over.replicas ?? ['c1', 'c2', 'c3'], masters,
      mastered: Object.keys(masters).filter((d) => masters[d] === 'c1'), leaseAlive: over.leaseAlive ?? true,
      lease: { id: '694d7a1b', ttlMs: 2000 }, feed: over.feed === false ? { connected: false, error: 'UNAVAILABLE' } : { connected: true },
    },
    etcd: over.etcd ?? etcd([member(1), member(2), member(3)]),
  });
}

describe('dashboard: cluster panel', () => {
  it('lists the switches each replica masters, this one marked, in the order of the live replicas', () => {
    const rows = replicaRows(view({ [S(1)]: 'c2', [S(2)]: 'c1', [S(3)]: 'c2' }));
    expect(rows).to.deep.equal([
      { replica: 'c1', switches: [S(2)], here: true, live: true },
      { replica: 'c2', switches: [S(1), S(3)], here: false, live: true },
      { replica: 'c3', switches: [], here: false, live: true },
    ]);
  });

  it('a master that is no longer a live replica (its lease not expired yet) gets a row of its own; switches without a master are listed apart', () => {
    const v = view({ [S(1)]: 'c3', [S(2)]: 'c1' }, { replicas: ['c1', 'c2'] });
    expect(replicaRows(v).map((r) => [r.replica, r.switches, r.live])).to.deep.equal([['c1', [S(2)], true], ['c2', [], true], ['c3', [S(1)], false]]);
    expect(unmastered(v)).to.deep.equal([S(3)]);
    expect(clusterHealth(v)).to.deep.equal({ ok: false, problems: ['1 switch without a master'] });
  });

  it('all well: ok, no problem; the summary names this replica among the live ones and the quorum', () => {
    const v = view({ [S(1)]: 'c1', [S(2)]: 'c2', [S(3)]: 'c3' });
    expect(clusterHealth(v)).to.deep.equal({ ok: true, problems: [] });
    expect(clusterSummary(v)).to.equal('replica c1 of 3 · etcd quorum');
  });

  it('one member down: still ok to move, but said; quorum lost: no move, forwarding goes on, the lease and the masters are gone too', () => {
    const oneDown = view({ [S(1)]: 'c1', [S(2)]: 'c2', [S(3)]: 'c3' }, { etcd: etcd([member(1, { reachable: false, quorum: false, error: 'deadline' }), member(2, { leader: true }), member(3)]) });
    expect(clusterHealth(oneDown).problems).to.deep.equal(['etcd: 1 of 3 members down']);
    expect(oneDown.etcd!.members.map(memberState)).to.deep.equal(['unreachable', 'leader', 'follower']);

    const lost = view({}, {
      leaseAlive: false, feed: false,
      etcd: etcd([member(1, { reachable: false, quorum: false }), member(2, { reachable: false, quorum: false }), member(3, { leader: false, quorum: false })]),
    });
    const { ok, problems } = clusterHealth(lost);
    expect(ok).to.equal(false);
    expect(problems[0]).to.match(/^etcd has no quorum \(1\/3 members answer\): no VM can move, switches forward on the rules they hold$/);
    expect(problems.slice(1)).to.deep.equal(['this replica\'s lease is not alive: it writes no switch', 'change feed: UNAVAILABLE', '3 switches without a master']);
    expect(lost.etcd!.members.map(memberState)).to.deep.equal(['unreachable', 'unreachable', 'no quorum']);
    expect(clusterSummary(lost)).to.equal('replica c1 of 3 · etcd NO QUORUM');
  });

  it('a single process has no cluster summary; sizes read as an operator reads them', () => {
    expect(clusterSummary(clusterView([S(1)]))).to.equal('');
    expect([bytes(null), bytes(512), bytes(20480), bytes(3 * 1024 * 1024)]).to.deep.equal(['', '512 B', '20.0 kB', '3.0 MB']);
  });
});
