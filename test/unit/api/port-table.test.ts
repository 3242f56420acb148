// The port table: roles, endpoints bound to each port, and the paused source a migration leaves
// behind (up, nobody bound, its endpoint moved away), as the dashboard shows it.

import { expect } from 'chai';
import { SCHEMAS, validate } from '../../../controller/api/index.js';
import { portRole, portTable } from '../../../controller/api/port-table.js';
import type { MigrationRecord } from '../../../controller/fabric/index.js';
import type { Binding, Locator } from '../../../controller/mobility/index.js';
import { OFPP_LOCAL, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from '../../../controller/openflow/constants.js';
import type { Port } from '../../../controller/openflow/types.js';

function port(portNo: number, state = 0, config = 0): Port {
  return { portNo, hwAddr: '02:00:00:00:00:01', name: `s1-eth${portNo}`, config, state, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0 };
}

const at = (subnet: string, dpid: bigint, p: number, address: string): Locator => ({ subnet, dpid, port: p, address });
const A10 = at('A', 1n, 10, '10.0.1.10');
const B10 = at('B', 2n, 10, '10.0.2.200');
const A11 = at('A', 1n, 11, '10.0.1.10');

function binding(eid: string, mac: string, locator: Locator, homeSubnet = 'A'): Binding {
  return { id: 1, eid, mac, homeSubnet, locator, version: 1, lastSeen: 0, createdAt: 0 };
}

let nextId = 1;
function move(eid: string, from: Locator, to: Locator, detectedAt: number): MigrationRecord {
  return {
    id: nextId++, eid, mac: '02:00:00:00:01:0a', from, to, version: 2, reason: 'intent', trigger: 'rarp', detectedAt,
    reconvergenceMs: 10, confirmMs: 5, rounds: 2, releaseMs: 4, plannedAhead: false, flowMods: 10, switches: 3, failures: [],
  };
}

const VM = '10.0.1.10';
const CN = '10.0.1.20';
const s1 = (...ports: Port[]) => ({ dpid: 1n, ports: new Map(ports.map((p) => [p.portNo, p])) });
const place = { routerPort: 2, uplinkPorts: [5] };

describe('port table', () => {
  it('names each port\'s role: the bridge itself, the router, an uplink, an access port', () => {
    expect([OFPP_LOCAL, 2, 5, 1].map((p) => portRole(p, place))).to.deep.equal(['local', 'router', 'uplink', 'access']);
  });

  it('shows the endpoints bound to each port now, and conforms to its schema', () => {
    const rows = portTable(s1(port(10), port(1), port(2), { ...port(OFPP_LOCAL, OFPPS_LINK_DOWN, OFPPC_PORT_DOWN), name: 's1' }), place,
      [binding(VM, '02:00:00:00:01:0a', A10), binding(CN, '02:00:00:00:01:14', at('A', 1n, 1, CN)), binding('10.0.2.20', '02:00:00:00:02:14', at('B', 2n, 1, '10.0.2.20'), 'B')], []);
    expect(rows.map((r) => [r.portNo, r.role, r.endpoints.map((e) => e.eid)])).to.deep.equal([
      [1, 'access', [CN]], [2, 'router', []], [10, 'access', [VM]], [OFPP_LOCAL, 'local', []],
    ]);
    expect(rows.every((r) => r.departed === null && !r.pausedSource)).to.equal(true);
    for (const r of rows) expect(validate(r, SCHEMAS.PortRow)).to.deep.equal([]);
  });

  it('a port still up after its VM moved away is the paused source, named with where the VM is now', () => {
    const vm = binding(VM, '02:00:00:00:01:0a', B10);
    const [row] = portTable(s1(port(10)), place, [vm], [move(VM, A10, B10, 5000)]);
    expect(row!.pausedSource).to.equal(true);
    expect(row!.departed).to.deep.include({ eid: VM, at: 5000, now: { subnet: 'B', dpid: '0000000000000002', port: 10, address: '10.0.2.200' } });
    expect(row!.endpoints).to.deep.equal([]);
    expect(validate(row, SCHEMAS.PortRow)).to.deep.equal([]);
  });

  it('once the source quits (link down or admin down) the port is no paused source, but remembers who left', () => {
    const vm = binding(VM, '02:00:00:00:01:0a', B10);
    const rows = portTable(s1(port(10, OFPPS_LINK_DOWN), port(11, 0, OFPPC_PORT_DOWN)), place, [vm], [move(VM, A10, B10, 1), move(VM, B10, A11, 2), move(VM, A11, B10, 3)]);
    expect(rows.map((r) => [r.portNo, r.up, r.pausedSource, r.departed?.eid])).to.deep.equal([[10, false, false, VM], [11, false, false, VM]]);
  });

  it('a VM back on the port it left is no departure; a removed binding leaves none', () => {
    const back = portTable(s1(port(10)), place, [binding(VM, '02:00:00:00:01:0a', A10)], [move(VM, A10, B10, 1), move(VM, B10, A10, 2)]);
    expect(back[0]).to.deep.include({ departed: null, pausedSource: false });
    expect(back[0]!.endpoints.map((e) => e.eid)).to.deep.equal([VM]);
    const removed = portTable(s1(port(10)), place, [], [move(VM, A10, B10, 1)]);
    expect(removed[0]).to.deep.include({ departed: null, pausedSource: false });
  });

  it('another endpoint on the port since is no paused source; the router port never is', () => {
    const other = binding('10.0.1.30', '02:00:00:00:01:1e', A10);
    const rows = portTable(s1(port(10), port(2)), place, [binding(VM, '02:00:00:00:01:0a', B10), other],
      [move(VM, A10, B10, 1), move(VM, at('A', 1n, 2, VM), B10, 2)]);
    expect(rows.map((r) => [r.portNo, r.pausedSource, r.departed?.eid ?? null])).to.deep.equal([[2, false, VM], [10, false, VM]]);
  });
});
