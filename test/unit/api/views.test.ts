// The pure views: domain values in, JSON out, and every view conforms to its OpenAPI schema.

import { expect } from 'chai';
import { SCHEMAS, validate } from '../../../controller/api/index.js';
import {
  bindingView, bindingViews, bridgeName, flowView, flowViews, intentView, migrationView, portView, subnetView, switchView, tableViews,
} from '../../../controller/api/views.js';
import { fabricEventView, portStatusEventView, sseFrame } from '../../../controller/api/events.js';
import { timelineMark, TimelineMarks } from '../../../controller/api/timeline.js';
import { tableDecl } from '../../../controller/pipeline/tables.js';
import { parseSubnets, type Binding } from '../../../controller/mobility/index.js';
import { applyActions, gotoTable, setField } from '../../../controller/openflow/build.js';
import { OFPP_LOCAL, OFPPC_PORT_DOWN, OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY, OFPPS_LINK_DOWN } from '../../../controller/openflow/constants.js';
import type { FlowStats, Port } from '../../../controller/openflow/types.js';
import { bindingCookie, COOKIE_BASE, COOKIE_LEARNER } from '../../../controller/pipeline/cookie.js';

const conforms = (value: unknown, schema: object) => expect(validate(value, schema)).to.deep.equal([]);

const home: Binding = {
  id: 7, eid: '10.0.1.10', mac: '02:00:00:00:01:0a', homeSubnet: 'A',
  locator: { subnet: 'A', dpid: 1n, port: 10, address: '10.0.1.10' }, version: 1, lastSeen: 1000, createdAt: 900,
};
const away: Binding = { ...home, locator: { subnet: 'B', dpid: 2n, port: 10, address: '10.0.2.200' }, version: 2, lastSeen: 2000 };

function flow(fields: Partial<FlowStats>): FlowStats {
  return {
    tableId: 1, durationSec: 3, durationNsec: 500_000_000, priority: 200, idleTimeout: 0, hardTimeout: 0, flags: 0,
    cookie: 0n, packetCount: 5n, byteCount: 420n, match: {}, instructions: [], ...fields,
  };
}

function port(portNo: number, state = 0, config = 0): Port {
  return { portNo, hwAddr: '02:00:00:00:00:01', name: `p${portNo}`, config, state, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0 };
}

describe('api views', () => {
  describe('flowView', () => {
    const rewrite = flow({
      cookie: bindingCookie(7, 2), match: { eth_type: 0x0800, ipv4_dst: '10.0.1.10' },
      instructions: [applyActions(setField('ipv4_dst', '10.0.2.200')), gotoTable(2)],
    });

    it('renders the rule as dump-flows prints it, and names the binding that owns it', () => {
      const v = flowView(rewrite, (id) => (id === 7 ? '10.0.1.10' : undefined));
      expect(v).to.include({ table: 1, priority: 200, cookie: '0x700000002', kind: 'binding', binding: '10.0.1.10', packets: 5, bytes: 420 });
      expect(v.match).to.equal('priority=200,ip,nw_dst=10.0.1.10');
      expect(v.instructions).to.equal('set_field:10.0.2.200->ip_dst,goto_table:2');
      expect(v.text).to.equal('cookie=0x700000002, duration=3.500s, table=1, n_packets=5, n_bytes=420, priority=200,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,goto_table:2');
      expect(v.durationSec).to.equal(3.5);
      // What ovs-ofctl --no-stats dump-flows prints: it does not change while the rule does not.
      expect(v.rule).to.equal('cookie=0x700000002, table=1, priority=200,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,goto_table:2');
      conforms(v, SCHEMAS.Flow);
    });

    it('classifies base, learner and foreign cookies, with no owner', () => {
      const kinds = [COOKIE_BASE | 1n, COOKIE_LEARNER | 3n, 0n, 0xffff_0000_0000_0001n].map((cookie) => flowView(flow({ cookie }), () => 'x'));
      expect(kinds.map((k) => k.kind)).to.deep.equal(['base', 'learner', 'foreign', 'foreign']);
      expect(kinds.every((k) => k.binding === null)).to.equal(true);
    });

    it('a binding cookie whose binding is gone has no owner', () => {
      expect(flowView(rewrite, () => undefined).binding).to.equal(null);
    });

    it('orders by table, then highest priority first', () => {
      const views = flowViews([flow({ tableId: 2, priority: 5 }), flow({ tableId: 0, priority: 1 }), flow({ tableId: 0, priority: 9 })], () => undefined);
      expect(views.map((v) => [v.table, v.priority])).to.deep.equal([[0, 9], [0, 1], [2, 5]]);
    });
  });

  it('tableViews keeps the tables in use unless asked for all', () => {
    const stats = [
      { tableId: 0, activeCount: 3, lookupCount: 10n, matchedCount: 9n },
      { tableId: 1, activeCount: 0, lookupCount: 0n, matchedCount: 0n },
    ];
    expect(tableViews(stats)).to.deep.equal([{ table: 0, name: 'ingress', purpose: tableDecl(0)!.purpose, active: 3, lookups: 10, matched: 9 }]);
    expect(tableViews(stats, { all: true })).to.have.length(2);
  });

  it('tableViews names each table as the pipeline declares it; a table it does not declare has no name', () => {
    const stats = [0, 1, 2, 3, 7].map((tableId) => ({ tableId, activeCount: 1, lookupCount: 0n, matchedCount: 0n }));
    const views = tableViews(stats);
    expect(views.map((v) => v.name)).to.deep.equal(['ingress', 'src_rewrite', 'dst_rewrite', 'l2_forward', null]);
    expect(views[2]!.purpose).to.match(/EID -> locator/);
    for (const v of views) conforms(v, SCHEMAS.Table);
  });

  it('portView and switchView: port states, dpid text, place in the topology', () => {
    expect(portView(port(1))).to.include({ up: true, linkDown: false, adminDown: false });
    expect(portView(port(2, OFPPS_LINK_DOWN))).to.include({ up: false, linkDown: true });
    expect(portView(port(3, 0, OFPPC_PORT_DOWN))).to.include({ up: false, adminDown: true });
    const sw = {
      dpid: 0xabn, remote: '127.0.0.1:5000', state: 'MAIN', features: { nTables: 254 },
      desc: { mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch', swDesc: '3.1.0', serialNum: 'None', dpDesc: 'br0' },
      ports: new Map([[2, port(2)], [1, port(1)]]),
    };
    const v = switchView(sw, { subnet: 'A', routerPort: 2, uplinkPorts: [] });
    expect(v).to.deep.include({ dpid: '00000000000000ab', bridge: 'br0', subnet: 'A', routerPort: 2, tables: 254 });
    expect(v.ports.map((p) => p.portNo)).to.deep.equal([1, 2]);
    conforms(v, SCHEMAS.Switch);
  });

  it('bridgeName: the LOCAL port\'s name (OVS names it after the bridge), else a dp_desc that says something', () => {
    const desc = (dpDesc: string) => ({ mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch', swDesc: '3.1.0', serialNum: 'None', dpDesc });
    const local = { ...port(OFPP_LOCAL), name: 'x1s1' };
    expect(bridgeName({ ports: new Map([[OFPP_LOCAL, local]]), desc: desc('rack 4 leaf') })).to.equal('x1s1');
    expect(bridgeName({ ports: new Map([[1, port(1)]]), desc: desc('x1s2') })).to.equal('x1s2');
    expect(bridgeName({ ports: new Map([[1, port(1)]]), desc: desc('None') })).to.equal(null);
    expect(bridgeName({ ports: new Map(), desc: undefined })).to.equal(null);
  });

  it('bindingView marks a binding away from home; bindingViews sorts by address', () => {
    expect(bindingView(home).away).to.equal(false);
    const v = bindingView(away);
    expect(v).to.deep.include({ away: true, version: 2, locator: { subnet: 'B', dpid: '0000000000000002', port: 10, address: '10.0.2.200' } });
    conforms(v, SCHEMAS.Binding);
    const later = { ...home, id: 8, eid: '10.0.1.9', mac: '02:00:00:00:01:09' };
    expect(bindingViews([home, later]).map((b) => b.eid)).to.deep.equal(['10.0.1.9', '10.0.1.10']);
  });

  it('bindingView says since when a lost binding is looked for, null for the others', () => {
    expect(bindingView(home).lostSince).to.equal(null);
    const other = { ...home, id: 8, eid: '10.0.1.9', mac: '02:00:00:00:01:09' };
    const lost = bindingViews([home, other], (b) => (b.id === home.id ? 1234 : undefined));
    expect(lost.map((b) => [b.eid, b.lostSince])).to.deep.equal([[other.eid, null], [home.eid, 1234]]);
    for (const v of lost) conforms(v, SCHEMAS.Binding);
  });

  it('subnetView: prefix, gateway (configured or learned), edges and pool', () => {
    const [a] = parseSubnets([{ name: 'A', prefix: '10.0.1.0/24', gateway: { ip: '10.0.1.1' }, edges: [{ dpid: 1 }], locatorPool: '10.0.1.200-10.0.1.250' }]);
    const v = subnetView(a!, { gatewayMac: '02:00:00:00:01:01', routerPort: () => 4, connected: () => true, pool: { size: 51, used: 1, available: 50 } });
    expect(v).to.deep.equal({
      name: 'A', prefix: '10.0.1.0/24', gateway: { ip: '10.0.1.1', mac: '02:00:00:00:01:01' },
      edges: [{ dpid: '0000000000000001', routerPort: 4, uplinkPorts: [], connected: true }],
      pool: { range: '10.0.1.200-10.0.1.250', size: 51, used: 1, available: 50 },
    });
    conforms(v, SCHEMAS.Subnet);
  });

  it('migrationView and intentView', () => {
    const m = migrationView({
      id: 1, eid: '10.0.1.10', mac: home.mac, from: home.locator, to: away.locator, version: 2, reason: 'intent', trigger: 'rarp',
      detectedAt: 5, reconvergenceMs: 12.5, rounds: 2, releaseMs: 5, plannedAhead: false, confirmMs: 8, flowMods: 21, switches: 3, failures: [],
    });
    expect(m.to.dpid).to.equal('0000000000000002');
    conforms(m, SCHEMAS.Migration);
    conforms(intentView({ eid: '10.0.1.10', toDpid: 2n, expiresAt: 10 }), SCHEMAS.Intent);
    expect(intentView({ eid: '10.0.1.10', toSubnet: 'B', expiresAt: 10 })).to.deep.equal({ eid: '10.0.1.10', toDpid: null, toPort: null, toSubnet: 'B', expiresAt: 10, phase: 'migrating', source: 'api', lossFree: false, stoppedAt: null });
    conforms(intentView({ eid: '10.0.1.10', toDpid: 2n, toPort: 4, expiresAt: 10, phase: 'stopping', source: 'ovsdb', lossFree: true, stoppedAt: 9 }), SCHEMAS.Intent);
    conforms(intentView({ eid: '10.0.1.10', expiresAt: 10, phase: 'resumed', source: 'api' }), SCHEMAS.Intent);
  });

  it('fabric events become API events, framed for SSE', () => {
    const moved = fabricEventView({ type: 'BINDING_MOVED', binding: away, previous: home, at: 3 });
    expect(moved).to.deep.include({ type: 'binding-moved', at: 3 });
    expect(moved.type === 'binding-moved' && moved.from.subnet).to.equal('A');
    expect(fabricEventView({ type: 'RULES_UPDATED', dpids: ['0000000000000001'], flowMods: 4, at: 1 }).type).to.equal('rules-updated');
    expect(fabricEventView({ type: 'ENDPOINT_LOST', eid: home.eid, mac: home.mac, dpid: '0000000000000001', port: 10, since: 7, at: 9 }))
      .to.deep.equal({ type: 'endpoint-lost', eid: home.eid, mac: home.mac, dpid: '0000000000000001', port: 10, since: 7, at: 9 });
    expect(sseFrame({ id: 9, event: moved })).to.match(/^id: 9\nevent: binding-moved\ndata: \{.*\}\n\n$/);
  });

  it('a PORT_STATUS becomes a port-status event with the port as it is now', () => {
    const down = portStatusEventView(1n, { reason: OFPPR_MODIFY, port: port(3, OFPPS_LINK_DOWN) }, 7);
    expect(down).to.deep.equal({ type: 'port-status', dpid: '0000000000000001', reason: 'modify', port: portView(port(3, OFPPS_LINK_DOWN)), at: 7 });
    expect(portStatusEventView(1n, { reason: OFPPR_ADD, port: port(4) }, 7)).to.include({ reason: 'add' });
    expect(portStatusEventView(1n, { reason: OFPPR_DELETE, port: port(4) }, 7)).to.include({ reason: 'delete' });
    expect(portStatusEventView(1n, { reason: 9, port: port(4) }, 7)).to.include({ reason: 'modify' });
  });

  it('fabric events that are no moves become timeline marks; the rest leave none', () => {
    const conflict = timelineMark({ type: 'CONFLICT', eid: '10.0.1.10', mac: home.mac, reason: 'eid-bound-to-other-mac', detail: 'claimed by 02:00:00:00:02:99', dpid: '0000000000000002', port: 1, at: 5 });
    expect(conflict).to.deep.equal({ type: 'conflict', eid: '10.0.1.10', at: 5, detail: 'eid-bound-to-other-mac: claimed by 02:00:00:00:02:99', dpid: '0000000000000002' });
    conforms(conflict, SCHEMAS.TimelineMark);
    const staged = timelineMark({ type: 'MOVE_STAGED', eid: '10.0.1.10', dpid: '0000000000000002', port: 10, locator: '10.0.2.200', at: 6 });
    expect(staged).to.include({ type: 'move-staged', dpid: '0000000000000002' });
    conforms(staged, SCHEMAS.TimelineMark);
    conforms(timelineMark({ type: 'MIGRATION_FAILED', eid: '10.0.1.10', mac: home.mac, error: 'pool exhausted', at: 7 }), SCHEMAS.TimelineMark);
    conforms(timelineMark({ type: 'ENDPOINT_SUSPENDED', eid: '10.0.1.10', mac: home.mac, until: 9, at: 8 }), SCHEMAS.TimelineMark);
    const lost = timelineMark({ type: 'ENDPOINT_LOST', eid: '10.0.1.10', mac: home.mac, dpid: '0000000000000001', port: 10, since: 7, at: 9 });
    expect(lost).to.include({ type: 'endpoint-lost', dpid: '0000000000000001', at: 9 });
    conforms(lost, SCHEMAS.TimelineMark);
    expect(timelineMark({ type: 'RULES_UPDATED', dpids: [], flowMods: 1, at: 1 })).to.equal(undefined);
    expect(timelineMark({ type: 'BINDING_ADDED', binding: home, at: 1 })).to.equal(undefined);

    const marks = new TimelineMarks(2);
    for (const at of [1, 2, 3]) marks.add({ ...conflict!, at });
    expect(marks.list().map((m) => m.at), 'bounded, oldest dropped').to.deep.equal([2, 3]);
  });
});
