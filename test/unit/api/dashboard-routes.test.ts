// The routes and events the dashboard reads, through fastify.inject: flow and table stats reads
// shared by every client (counted on /metrics), the port table, the timeline, bridge names and
// table names, and PORT_STATUS on the event stream.

import { expect } from 'chai';
import { buildApiServer, SCHEMAS, validate, type ApiApp } from '../../../controller/api/index.js';
import { createMetricsRegistry } from '../../../controller/metrics.js';
import { silentLogger } from '../../../controller/log.js';
import { OFPP_LOCAL, OFPPR_MODIFY, OFPPS_LINK_DOWN } from '../../../controller/openflow/constants.js';
import type { FlowStats, Port, TableStats } from '../../../controller/openflow/types.js';
import type { SwitchConnection } from '../../../controller/switch/index.js';
import { fakeDeps, VM, type FakeDeps } from './fake-deps.js';

function port(portNo: number, name: string, state = 0): Port {
  return { portNo, hwAddr: '02:00:00:00:00:01', name, config: 0, state, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0 };
}

function flow(tableId: number, priority: number): FlowStats {
  return { tableId, durationSec: 1, durationNsec: 0, priority, idleTimeout: 0, hardTimeout: 0, flags: 0, cookie: 0n, packetCount: 0n, byteCount: 0n, match: {}, instructions: [] };
}

/** A connected switch whose live reads the test counts and can hold. */
function fakeSwitch(dpid: bigint, bridge: string) {
  const reads = { flows: 0, tables: 0 };
  let hold: Promise<void> = Promise.resolve();
  const ports = new Map<number, Port>([[1, port(1, `${bridge}-eth1`)], [10, port(10, `${bridge}-eth10`)], [OFPP_LOCAL, port(OFPP_LOCAL, bridge, OFPPS_LINK_DOWN)]]);
  const sw = {
    dpid, dpidText: dpid.toString(16).padStart(16, '0'), remote: '127.0.0.1:1', state: 'MAIN', features: { nTables: 254 },
    desc: { mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch', swDesc: '3.1.0', serialNum: 'None', dpDesc: 'None' },
    get ports() { return ports; },
    flowStats: async () => { reads.flows++; await hold; return [flow(0, 0), flow(1, 200), flow(2, 300)]; },
    tableStats: async (): Promise<TableStats[]> => { reads.tables++; await hold; return [{ tableId: 2, activeCount: 1, lookupCount: 5n, matchedCount: 4n }]; },
  };
  return {
    sw: sw as unknown as SwitchConnection, reads, ports,
    holdUntil(p: Promise<void>) { hold = p; },
  };
}

describe('api for the dashboard (inject)', () => {
  let deps: FakeDeps;
  let api: ApiApp;
  let s1: ReturnType<typeof fakeSwitch>;
  const metrics = createMetricsRegistry();
  const get = (url: string) => api.app.inject({ method: 'GET', url });
  const counter = async (name: string) => Number(new RegExp(`^${name}\\{dpid="0000000000000001",kind="flow_stats"\\} (\\S+)$`, 'm').exec(await metrics.metrics())?.[1] ?? 0);

  beforeEach(async () => {
    deps = fakeDeps();
    s1 = fakeSwitch(1n, 'x1s1');
    deps.connected.set(1n, s1.sw);
    api = await buildApiServer(deps, { host: '127.0.0.1', port: 0, token: null, log: silentLogger, metrics, liveReadTtlMs: 300 });
  });
  afterEach(() => api.close());

  it('many clients polling one switch cost it one flow-stats read per window, counted on /metrics', async () => {
    let release!: () => void;
    s1.holdUntil(new Promise((r) => { release = r; }));
    const answers = Array.from({ length: 10 }, () => get('/api/switches/1/flows'));
    await new Promise((r) => setTimeout(r, 20));
    release();
    const done = await Promise.all(answers);
    expect(done.map((r) => r.statusCode)).to.deep.equal(Array(10).fill(200));
    expect(new Set(done.map((r) => r.body)).size, 'every client gets the same table').to.equal(1);
    expect((await get('/api/switches/1/flows?table=1')).json().map((f: { table: number }) => f.table), 'a table filter is served from the shared read').to.deep.equal([1]);
    expect(s1.reads.flows).to.equal(1);
    expect(await counter('seamless_switch_stats_reads_total')).to.equal(1);
    expect(await counter('seamless_switch_stats_reads_shared_total')).to.equal(10);

    await new Promise((r) => setTimeout(r, 350));
    await get('/api/switches/1/flows');
    expect(s1.reads.flows, 'after the window, a new read').to.equal(2);
  });

  it('a rule change ends the window at once: a client reacting to rules-updated gets the new table', async () => {
    await get('/api/switches/1/flows');
    await get('/api/switches/1/flows');
    expect(s1.reads.flows).to.equal(1);
    deps.fabricEvents.next({ type: 'RULES_UPDATED', dpids: ['0000000000000001'], flowMods: 2, at: 1 });
    await get('/api/switches/1/flows');
    expect(s1.reads.flows).to.equal(2);
  });

  it('table stats are shared the same way and carry the pipeline\'s table names', async () => {
    const [a, b] = await Promise.all([get('/api/switches/1/tables'), get('/api/switches/1/tables')]);
    expect(s1.reads.tables).to.equal(1);
    expect(a!.json()).to.deep.equal(b!.json());
    expect(a!.json()[0]).to.include({ table: 2, name: 'dst_rewrite' });
  });

  it('a switch that leaves takes its shared reads with it', async () => {
    await get('/api/switches/1/flows');
    deps.connected.delete(1n);
    deps.switchDown.next(s1.sw);
    expect(await counter('seamless_switch_stats_reads_total')).to.equal(0);
    expect((await get('/api/switches/1/flows')).statusCode).to.equal(404);
  });

  it('names the bridge of each switch from its LOCAL port', async () => {
    const res = await get('/api/switches');
    expect(res.json()[0]).to.include({ dpid: '0000000000000001', bridge: 'x1s1' });
  });

  it('serves the port table with the endpoints bound to each port', async () => {
    const res = await get('/api/switches/1/ports');
    expect(res.statusCode).to.equal(200);
    const rows = res.json() as { portNo: number; role: string; endpoints: { eid: string }[] }[];
    expect(rows.map((r) => [r.portNo, r.role, r.endpoints.map((e) => e.eid)])).to.deep.equal([[1, 'access', []], [10, 'access', [VM.eid]], [OFPP_LOCAL, 'local', []]]);
    for (const r of rows) expect(validate(r, SCHEMAS.PortRow)).to.deep.equal([]);
    expect((await get('/api/switches/9/ports')).statusCode).to.equal(404);
  });

  it('serves the timeline: migrations and the marks events left (conflicts, staged moves)', async () => {
    deps.fabricEvents.next({ type: 'MOVE_STAGED', eid: VM.eid, dpid: '0000000000000002', port: 10, locator: '10.0.2.200', at: 10 });
    deps.fabricEvents.next({ type: 'CONFLICT', eid: VM.eid, mac: VM.mac, reason: 'eid-bound-to-other-mac', detail: 'x', dpid: '0000000000000002', port: 1, at: 11 });
    deps.fabricEvents.next({ type: 'RULES_UPDATED', dpids: [], flowMods: 1, at: 12 });
    const body = (await get('/api/timeline')).json();
    expect(validate(body, SCHEMAS.Timeline)).to.deep.equal([]);
    expect(body.marks.map((m: { type: string }) => m.type)).to.deep.equal(['move-staged', 'conflict']);
    expect(body.migrations).to.deep.equal([]);
  });

  it('puts PORT_STATUS on the event stream as port-status', async () => {
    const down = port(1, 'x1s1-eth1', OFPPS_LINK_DOWN);
    s1.ports.set(1, down);
    deps.portStatuses.next({ sw: s1.sw, dpid: 1n, message: { type: 'PORT_STATUS', xid: 0, reason: OFPPR_MODIFY, port: down } } as never);
    const events = api.hub.since(0).map((e) => e.event);
    expect(events).to.have.length(1);
    expect(events[0]).to.deep.include({ type: 'port-status', dpid: '0000000000000001', reason: 'modify' });
    expect(events[0]!.type === 'port-status' && events[0]!.port).to.include({ portNo: 1, up: false, linkDown: true });
  });
});
