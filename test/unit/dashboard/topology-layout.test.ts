// The topology drawing's layout: a column per subnet with its edge switches by bridge name,
// endpoints under the switch they are bound at, a moved VM in its new subnet tied to its home.

import { expect } from 'chai';
import type { BindingView, SubnetView } from '../../../controller/api/views.js';
import { HOSTS_PER_SWITCH, layoutTopology, type Box } from '../../../controller/dashboard/topology-layout.js';

const dpid = (n: number) => n.toString(16).padStart(16, '0');
function subnet(name: string, n: number, connected = true): SubnetView {
  return {
    name, prefix: `10.0.${n}.0/24`, gateway: { ip: `10.0.${n}.1`, mac: null },
    edges: [{ dpid: dpid(n), routerPort: 2, uplinkPorts: [], connected }], pool: { range: '', size: 51, used: 0, available: 51 },
  };
}
const sw = (n: number) => ({ dpid: dpid(n), bridge: `x1s${n}`, routerPort: 2 });
function binding(eid: string, home: string, at: { subnet: string; n: number; port: number; address?: string }): BindingView {
  return {
    id: 1, eid, mac: '02:00:00:00:01:0a', homeSubnet: home, version: 1, lastSeen: 0, createdAt: 0, away: at.subnet !== home, lostSince: null,
    locator: { subnet: at.subnet, dpid: dpid(at.n), port: at.port, address: at.address ?? eid },
  };
}
const inside = (inner: Box, outer: Box) => inner.x >= outer.x && inner.x + inner.w <= outer.x + outer.w && inner.y >= outer.y && inner.y + inner.h <= outer.y + outer.h;
const subnets = [subnet('A', 1), subnet('B', 2), subnet('C', 3)];
const switches = [sw(1), sw(2), sw(3)];

describe('dashboard: topology layout', () => {
  it('a column per subnet, left to right, each with its edge switch named by bridge; the router above, linked to each', () => {
    const t = layoutTopology({ subnets, switches, bindings: [] }, { width: 720 });
    expect(t.subnets.map((s) => s.name)).to.deep.equal(['A', 'B', 'C']);
    expect(t.subnets[0]!.x).to.be.below(t.subnets[1]!.x);
    expect(t.switches.map((s) => [s.name, s.detail, s.subnet])).to.deep.equal([['x1s1', 'dpid 1', 'A'], ['x1s2', 'dpid 2', 'B'], ['x1s3', 'dpid 3', 'C']]);
    t.switches.forEach((s, i) => expect(inside(s, t.subnets[i]!), s.name).to.equal(true));
    expect(t.router.y + t.router.h).to.be.below(t.subnets[0]!.y);
    expect(t.links.filter((l) => l.kind === 'router').map((l) => [l.key, l.label])).to.deep.equal([1, 2, 3].map((n) => [`router:${dpid(n)}`, 'port 2']));
    expect(t.subnets.every((s) => s.x + s.w <= 720)).to.equal(true);
  });

  it('draws each endpoint under the switch it is bound at, in port order', () => {
    const t = layoutTopology({ subnets, switches, bindings: [binding('10.0.1.10', 'A', { subnet: 'A', n: 1, port: 10 }), binding('10.0.1.20', 'A', { subnet: 'A', n: 1, port: 1 })] });
    expect(t.hosts.map((h) => [h.eid, h.lines[1]!.split(' · ')[0]])).to.deep.equal([['10.0.1.20', 'port 1'], ['10.0.1.10', 'port 10']]);
    const s1 = t.switches[0]!;
    for (const h of t.hosts) {
      expect(h.y).to.be.above(s1.y + s1.h);
      expect(inside(h, t.subnets[0]!)).to.equal(true);
      expect(h.away).to.equal(false);
    }
    expect(t.links.filter((l) => l.kind === 'home')).to.deep.equal([]);
  });

  it('after a move, the VM sits in its new subnet with its locator, tied to its home switch (the home anchor) by a dashed line', () => {
    const t = layoutTopology({ subnets, switches, bindings: [binding('10.0.1.10', 'A', { subnet: 'B', n: 2, port: 10, address: '10.0.2.200' })] });
    const vm = t.hosts.find((h) => h.eid === '10.0.1.10')!;
    expect(vm.key).to.equal('host:10.0.1.10');
    expect(vm.away).to.equal(true);
    expect(inside(vm, t.subnets[1]!)).to.equal(true);
    expect(vm.lines).to.deep.equal(['10.0.1.10 (home A)', 'port 10 · as 10.0.2.200']);
    const home = t.links.find((l) => l.kind === 'home')!;
    expect(home.key).to.equal('home:10.0.1.10');
    const end = /(-?[\d.]+),(-?[\d.]+)$/.exec(home.d)!;
    const s1 = t.switches[0]!;
    expect(Number(end[1])).to.be.closeTo(s1.x + s1.w, 0.1);
    expect(Number(end[2])).to.be.closeTo(s1.y + s1.h / 2, 0.1);
  });

  it('a lost endpoint is drawn where its binding says, marked lost; the others are not', () => {
    const vm = { ...binding('10.0.1.10', 'A', { subnet: 'B', n: 2, port: 10, address: '10.0.2.200' }), lostSince: 1_700_000_000_000 };
    const t = layoutTopology({ subnets, switches, bindings: [vm, binding('10.0.1.20', 'A', { subnet: 'A', n: 1, port: 1 })] });
    const drawn = t.hosts.find((h) => h.eid === '10.0.1.10')!;
    expect([drawn.lost, drawn.dpid, drawn.port]).to.deep.equal([true, dpid(2), 10]);
    expect(drawn.lines[1]).to.equal('port 10 · lost');
    expect(drawn.title).to.include('lost');
    expect(t.hosts.find((h) => h.eid === '10.0.1.20')!.lost).to.equal(false);
  });

  it('a disconnected edge is drawn as such, by dpid; switches in no subnet get their own column', () => {
    const t = layoutTopology({ subnets: [subnet('A', 1), subnet('B', 2, false)], switches: [sw(1), sw(9)], bindings: [] });
    expect(t.switches.map((s) => [s.name, s.connected])).to.deep.equal([['x1s1', true], ['dpid 2', false], ['x1s9', true]]);
    expect(t.subnets.map((s) => s.name)).to.deep.equal(['A', 'B', null]);
  });

  it('bounds the endpoints drawn per switch and says how many more there are', () => {
    const many = Array.from({ length: 20 }, (_, i) => binding(`10.0.1.${100 + i}`, 'A', { subnet: 'A', n: 1, port: 100 + i }));
    const t = layoutTopology({ subnets, switches, bindings: many });
    expect(t.hosts).to.have.length(HOSTS_PER_SWITCH);
    expect(t.hosts.at(-1)!.lines).to.deep.equal([`+${20 - HOSTS_PER_SWITCH + 1} more`]);
    expect(t.height).to.be.below(600);
  });
});
