// The HTTP API against a whole controller started in-process and a real OVS bridge (dpid 1 =
// the edge of subnet A) with one host in a namespace: every endpoint, the errors on bad input,
// the event stream (including a resume with Last-Event-ID) and the metrics.

import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../controller/config.js';
import { silentLogger } from '../../controller/log.js';
import { startController, type Controller } from '../../controller/main.js';
import { parseSubnets } from '../../controller/mobility/index.js';
import { SCHEMAS, startApiServer, validate } from '../../controller/api/index.js';
import { flowMod, gotoTable } from '../../controller/openflow/build.js';
import { ofctl, OvsLab, ovsAvailable, sh, type NetnsPort } from '../lib/ovs.js';
import { waitUntil } from '../lib/wait.js';

const TOKEN = 'lab-token';
const HOST_EID = '10.0.1.10';
const HOST_MAC = '02:00:00:00:01:0a';
const DPID = '0000000000000001';

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

interface SseEvent {
  id: number;
  type: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Reads a server-sent-events stream into `events` until aborted. */
function followEvents(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const abort = new AbortController();
  const done = (async () => {
    const res = await fetch(url, { headers, signal: abort.signal });
    const reader = res.body!.getReader();
    let buffer = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      buffer += new TextDecoder().decode(value);
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const field = (name: string) => frame.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
        const data = field('data');
        if (data !== undefined) events.push({ id: Number(field('id')), type: field('event') ?? 'message', data: JSON.parse(data) });
      }
    }
  })().catch(() => undefined);
  return { events, close: () => { abort.abort(); return done; }, contentType: undefined as string | undefined };
}

function expectSchema(value: unknown, schema: object): void {
  expect(validate(value, schema)).to.deep.equal([]);
}

describe('integration: HTTP API (in-process controller, real OVS)', function () {
  this.timeout(60_000);
  let controller: Controller;
  let lab: OvsLab;
  let bridge: string;
  let host: NetnsPort;
  let stateDir: string;
  let base: string;
  let stream: ReturnType<typeof followEvents>;

  const call = async (method: string, path: string, options: { body?: string; token?: string | null; contentType?: string } = {}): Promise<Reply> => {
    const headers: Record<string, string> = options.body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' };
    const token = options.token === undefined ? TOKEN : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { method, headers, ...(options.body === undefined ? {} : { body: options.body }) });
    const text = await res.text();
    let body: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
    return { status: res.status, body, headers: res.headers };
  };

  const expectError = (reply: Reply, status: number, message?: RegExp) => {
    expect(reply.status, JSON.stringify(reply.body)).to.equal(status);
    expectSchema(reply.body, SCHEMAS.Error);
    if (message) expect(reply.body.message).to.match(message);
  };

  before(async function () {
    if (!(await ovsAvailable())) this.skip();
    stateDir = mkdtempSync(join(tmpdir(), 'seamless-api-'));
    const config = loadConfig(
      ['--openflow-host', '127.0.0.1', '--openflow-port', '0', '--http-port', '0', '--http-token', TOKEN, '--state-dir', stateDir],
      {}, { stdoutIsTTY: false, validateSubnets: (raw) => void parseSubnets(raw) },
    );
    controller = await startController(config, silentLogger);
    base = `http://127.0.0.1:${controller.http.port}`;
    // From the first event on, even if the bridge connects before this request is served (a busy machine).
    stream = followEvents(`${base}/api/events?lastEventId=0`, { authorization: `Bearer ${TOKEN}` });
    lab = new OvsLab('ap');
    bridge = await lab.bridge({ dpid: 1n, controllerPort: controller.listener.address().port });
    host = await lab.netnsPort(bridge, 1, HOST_MAC);
    await waitUntil(() => controller.switches.get(1n) !== undefined, { timeoutMs: 15_000, what: 'the bridge to connect' });
    // The host ARPs for its gateway: the controller learns its binding.
    await sh('ip', ['netns', 'exec', host.ns, 'ip', 'addr', 'add', `${HOST_EID}/24`, 'dev', host.ifname]);
    await waitUntil(async () => {
      await sh('ip', ['netns', 'exec', host.ns, 'ping', '-c1', '-W1', '10.0.1.1']).catch(() => '');
      return controller.fabric.bindings.byEid(HOST_EID) !== undefined;
    }, { timeoutMs: 20_000, intervalMs: 100, what: 'the host binding' });
  });

  after(async () => {
    await stream?.close();
    await controller?.stop();
    await lab?.cleanup();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('GET /api/health and /api/version', async () => {
    const health = await call('GET', '/api/health');
    expect(health.status).to.equal(200);
    expectSchema(health.body, SCHEMAS.Health);
    expect(health.body).to.include({ status: 'ok', switches: 1, bindings: 1 });
    const version = await call('GET', '/api/version');
    expectSchema(version.body, SCHEMAS.Version);
    expect(version.body.version).to.match(/^\d+\.\d+\.\d+/);
  });

  it('GET /api/openapi.json describes every endpoint', async () => {
    const doc = await call('GET', '/api/openapi.json');
    expect(doc.body.openapi).to.match(/^3\./);
    expect(Object.keys(doc.body.paths)).to.include.members([
      '/api/health', '/api/version', '/api/switches', '/api/switches/{dpid}', '/api/switches/{dpid}/flows', '/api/switches/{dpid}/tables',
      '/api/bindings', '/api/bindings/{eid}', '/api/subnets', '/api/migrations', '/api/intents', '/api/events', '/metrics',
    ]);
    const intentBody = doc.body.paths['/api/intents'].post.requestBody.content['application/json'].schema;
    expect(intentBody.properties).to.include.keys('eid', 'mac', 'toDpid', 'toPort', 'phase', 'lossFree', 'stoppedAt');
    expect(intentBody.description).to.match(/by eid or by mac \(exactly one\)/);
  });

  it('GET /api/switches: the bridge with its ports, subnet and router port', async () => {
    const { status, body } = await call('GET', '/api/switches');
    expect(status).to.equal(200);
    expect(body).to.have.length(1);
    expectSchema(body, { type: 'array', items: SCHEMAS.Switch });
    const sw = body[0];
    expect(sw).to.include({ dpid: DPID, state: 'MAIN', subnet: 'A', routerPort: 2 });
    const port = sw.ports.find((p: { portNo: number }) => p.portNo === 1);
    expect(port).to.include({ name: host.bridgePort, up: true });
  });

  it('GET /api/switches/:dpid accepts the usual spellings; 400 for a malformed dpid, 404 for an unknown one', async () => {
    for (const spelling of ['1', '0x1', DPID, '00:00:00:00:00:00:00:01']) {
      expect((await call('GET', `/api/switches/${spelling}`)).body.dpid, spelling).to.equal(DPID);
    }
    expectError(await call('GET', '/api/switches/not-a-dpid'), 400, /datapath id/);
    expectError(await call('GET', '/api/switches/12345678901234567'), 400);
    expectError(await call('GET', '/api/switches/99/flows'), 404, /0000000000000099/);
    expectError(await call('GET', '/api/switches/zz/tables'), 400);
  });

  it('GET /api/switches/:dpid/flows: every rule OVS holds, in dump-flows notation, with owner and kind', async () => {
    const strip = (l: string) => l.trim().replace(/duration=[^,]+, /, '').replace(/n_packets=\d+, n_bytes=\d+, /, '');
    let shown: string[] = [];
    let dumped: string[] = [];
    let flows: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    await waitUntil(async () => {
      flows = (await call('GET', `/api/switches/${DPID}/flows`)).body;
      dumped = (await ofctl('dump-flows', bridge)).split('\n').filter((l) => l.includes('actions=')).map(strip).sort();
      shown = flows.map((f) => strip(f.text)).sort();
      return JSON.stringify(shown) === JSON.stringify(dumped);
    }, { timeoutMs: 10_000, intervalMs: 200, what: 'the API and ovs-ofctl to agree' }).catch(() => expect(shown).to.deep.equal(dumped));
    expectSchema(flows, { type: 'array', items: SCHEMAS.Flow });
    expect(new Set(flows.map((f) => f.kind))).to.include.members(['base', 'learner']);
    for (const f of flows) {
      expect(f.text).to.contain(`cookie=${f.cookie}`);
      expect(f.text).to.contain(`actions=${f.instructions}`);
      if (f.kind !== 'binding') expect(f.binding).to.equal(null);
    }
    const learned = flows.find((f) => f.kind === 'learner' && f.match.includes(HOST_MAC));
    expect(learned, 'the learner rule of the host').to.not.equal(undefined);
    const table1 = (await call('GET', `/api/switches/${DPID}/flows?table=1`)).body;
    expect(table1.length).to.be.greaterThan(0);
    expect(table1.every((f: { table: number }) => f.table === 1)).to.equal(true);
    expectError(await call('GET', `/api/switches/${DPID}/flows?table=x`), 400);
    expectError(await call('GET', `/api/switches/${DPID}/flows?table=255`), 400, /table: must be <= 254/);
  });

  it('GET /api/switches/:dpid/tables: table stats of the tables in use', async () => {
    const { body } = await call('GET', `/api/switches/${DPID}/tables`);
    expectSchema(body, { type: 'array', items: SCHEMAS.Table });
    expect(body.map((t: { table: number }) => t.table)).to.include(0);
    expect(body.find((t: { table: number }) => t.table === 0).lookups).to.be.greaterThan(0);
    expect((await call('GET', `/api/switches/${DPID}/tables?all=1`)).body.length).to.be.greaterThan(body.length);
  });

  it('GET /api/bindings and /api/bindings/:eid; 400 for a bad IP, 404 for an unknown EID', async () => {
    const list = await call('GET', '/api/bindings');
    expectSchema(list.body, { type: 'array', items: SCHEMAS.Binding });
    expect(list.body).to.have.length(1);
    const one = await call('GET', `/api/bindings/${HOST_EID}`);
    expect(one.body).to.deep.include({ eid: HOST_EID, mac: HOST_MAC, homeSubnet: 'A', away: false, version: 1 });
    expect(one.body.locator).to.deep.equal({ subnet: 'A', dpid: DPID, port: 1, address: HOST_EID });
    expectError(await call('GET', '/api/bindings/10.0.1.256'), 400, /IPv4/);
    expectError(await call('GET', '/api/bindings/10.0.1.99'), 404);
  });

  it('GET /api/subnets: prefix, gateway, edges and pool usage', async () => {
    const { body } = await call('GET', '/api/subnets');
    expectSchema(body, { type: 'array', items: SCHEMAS.Subnet });
    expect(body.map((s: { name: string }) => s.name)).to.deep.equal(['A', 'B', 'C']);
    expect(body[0]).to.deep.include({ prefix: '10.0.1.0/24', gateway: { ip: '10.0.1.1', mac: '02:00:00:00:01:01' } });
    expect(body[0].edges).to.deep.equal([{ dpid: DPID, routerPort: 2, uplinkPorts: [], connected: true }]);
    expect(body[1].edges[0].connected).to.equal(false);
    // 51 addresses, one of them set aside as the subnet's gateway alias (mobility: reserved in each pool).
    expect(body[0].pool).to.deep.equal({ range: '10.0.1.200-10.0.1.250', size: 50, used: 0, available: 50 });
  });

  it('GET /api/migrations: none yet', async () => {
    expect((await call('GET', '/api/migrations')).body).to.deep.equal([]);
  });

  it('POST /api/intents: token, JSON, schema, IP, dpid and topology checks', async () => {
    const intent = JSON.stringify({ eid: HOST_EID, toDpid: '2', ttlMs: 60_000 });
    expectError(await call('POST', '/api/intents', { body: intent, token: null }), 401, /Bearer/);
    const wrong = await call('POST', '/api/intents', { body: intent, token: 'nope' });
    expectError(wrong, 401);
    expect(wrong.headers.get('www-authenticate')).to.equal('Bearer');
    expectError(await call('POST', '/api/intents', { body: '{"eid": "10.0.1.10",' }), 400, /malformed JSON/);
    expectError(await call('POST', '/api/intents', { body: '' }), 400, /JSON body/);
    expectError(await call('POST', '/api/intents', { body: '[1]' }), 400, /must be object/);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: HOST_EID, toSubnet: 'B' }), contentType: 'text/plain' }), 415);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: '10.0.1' }) }), 400, /IPv4/);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: HOST_EID, ttlMs: 'soon' }) }), 400, /ttlMs/);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: HOST_EID, colour: 'red' }) }), 400, /unknown property/);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: HOST_EID, toDpid: 'g1' }) }), 400, /toDpid/);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: '10.0.1.99', toSubnet: 'B' }) }), 404);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: HOST_EID, toSubnet: 'Z' }) }), 409, /unknown subnet/);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: HOST_EID, toDpid: '7' }) }), 409, /not an edge/);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: HOST_EID, toDpid: '2', toSubnet: 'C' }) }), 409);
    expectError(await call('POST', '/api/intents', { body: JSON.stringify({ eid: HOST_EID, pad: 'x'.repeat(70_000) }) }), 413);

    const created = await call('POST', '/api/intents', { body: intent });
    expect(created.status).to.equal(201);
    expectSchema(created.body, SCHEMAS.Intent);
    expect(created.body).to.include({ eid: HOST_EID, toDpid: '0000000000000002', toSubnet: null });
    const list = await call('GET', '/api/intents');
    expect(list.body).to.deep.equal([created.body]);
    expect(controller.intents.get(HOST_EID, Date.now())?.toDpid).to.equal(2n);
  });

  it('405 for a wrong method, 404 for an unknown path', async () => {
    const reply = await call('PUT', '/api/bindings');
    expectError(reply, 405);
    expect(reply.headers.get('allow')).to.equal('GET, HEAD, OPTIONS');
    expectError(await call('GET', '/api/nothing-here'), 404);
  });

  it('DELETE /api/bindings/:eid: token, 409 while a migration is announced, then removes binding and rules', async () => {
    expectError(await call('DELETE', `/api/bindings/${HOST_EID}`, { token: null }), 401);
    expectError(await call('DELETE', '/api/bindings/10.0.1.x'), 400);
    expectError(await call('DELETE', '/api/bindings/10.0.1.99'), 404);
    expectError(await call('DELETE', `/api/bindings/${HOST_EID}`), 409, /migrat/);
    // A 1 ms intent replaces the long one and expires at once.
    expect((await call('POST', '/api/intents', { body: JSON.stringify({ eid: HOST_EID, ttlMs: 1 }) })).status).to.equal(201);
    await waitUntil(() => controller.intents.get(HOST_EID, Date.now()) === undefined, { what: 'the intent to expire' });
    const removed = await call('DELETE', `/api/bindings/${HOST_EID}`);
    expect(removed.status).to.equal(200);
    expect(removed.body.eid).to.equal(HOST_EID);
    // The host keeps talking (IPv6 neighbour discovery...), and any frame of it is a sighting: it may
    // be learned again at once, as a new binding. Until then it is gone, and so are its learned rules.
    const relearned = () => {
      const b = controller.fabric.bindings.byEid(HOST_EID);
      if (b !== undefined) expect(b.id, 'a binding learned anew').to.not.equal(removed.body.id);
      return b !== undefined;
    };
    const after = await call('GET', `/api/bindings/${HOST_EID}`);
    if (!relearned()) expectError(after, 404);
    await waitUntil(async () => relearned() || !(await ofctl('dump-flows', bridge)).includes(`dl_src=${HOST_MAC}`), { what: 'the learned rules of the host to go' });
  });

  it('GET /api/events: a live stream of switch and binding events, resumable with Last-Event-ID', async () => {
    await waitUntil(() => stream.events.some((e) => e.type === 'binding-removed'), { what: 'binding-removed on the stream' });
    const types = stream.events.map((e) => e.type);
    // The fabric hears of the switch first (it subscribed first) and may report its rules before the API's switch-up.
    expect(types.indexOf('switch-up')).to.be.within(0, types.indexOf('binding-added'));
    expect(stream.events[0]!.id).to.equal(1);
    expect(types).to.include.members(['switch-up', 'binding-added', 'rules-updated', 'binding-removed']);
    expect(types.indexOf('binding-added')).to.be.lessThan(types.indexOf('binding-removed'));
    expect(stream.events.find((e) => e.type === 'switch-up')!.data.dpid).to.equal(DPID);
    expect(stream.events.find((e) => e.type === 'binding-added')!.data.binding.eid).to.equal(HOST_EID);
    const ids = stream.events.map((e) => e.id);
    expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));

    // A client coming back with the id of the first event receives everything after it.
    const resumed = followEvents(`${base}/api/events`, { 'last-event-id': String(ids[0]), authorization: `Bearer ${TOKEN}` });
    await waitUntil(() => resumed.events.length >= ids.length - 1, { what: 'the replay' });
    await resumed.close();
    expect(resumed.events.map((e) => e.id).slice(0, ids.length - 1)).to.deep.equal(ids.slice(1));
  });

  it('GET /metrics: Prometheus text with the counters, gauges and the reconvergence histogram', async () => {
    const res = await fetch(`${base}/metrics`); // public by default
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0.0.4/);
    const text = await res.text();
    // The host may have been learned again since its binding was deleted (any frame of it is a sighting).
    const bindings = controller.fabric.bindings.list().length;
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const labelled = (name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('seamless_switches_connected')).to.equal(1);
    expect(labelled('seamless_packet_ins_total', `dpid="${DPID}"`)).to.be.greaterThan(0);
    expect(labelled('seamless_switch_ports', `dpid="${DPID}",state="up"`)).to.be.greaterThan(0);
    expect(labelled('seamless_flow_mods_total', `dpid="${DPID}"`)).to.be.greaterThan(0);
    expect(value('seamless_bindings')).to.equal(bindings);
    expect(value('seamless_bindings_away')).to.equal(0);
    expect(value('seamless_moves_total')).to.equal(0);
    expect(value('seamless_conflicts_total')).to.equal(0);
    expect(value('seamless_malformed_frames_total')).to.equal(0);
    expect(value('seamless_sse_clients')).to.equal(1);
    expect(text).to.contain('# TYPE seamless_switch_errors_total counter');
    expect(text).to.contain('# TYPE seamless_reconvergence_seconds histogram');
    expect(text).to.contain('seamless_reconvergence_seconds_bucket{le="0.001"} 0');
    expect(text).to.contain('seamless_reconvergence_seconds_bucket{le="+Inf"} 0');
    expect(text).to.match(/^seamless_http_request_duration_seconds_count\{method="GET",route="\/api\/bindings",status_code="200"\} \d+$/m);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(value(name), name).to.be.a('number').and.not.NaN;
    }
    // Every sample line is `name{labels} number`.
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) expect(line).to.match(/^[a-z_][a-z0-9_]*(\{[^}]*\})? [0-9.e+-]+$/);
  });

  it('a rule the switch rejects shows as switch-error on the stream and in seamless_switch_errors_total{type}', async () => {
    // goto_table may only go forward: OVS answers OFPET_BAD_INSTRUCTION.
    controller.switches.get(1n)!.send(flowMod({ tableId: 3, priority: 7, instructions: [gotoTable(1)] }));
    await waitUntil(() => stream.events.some((e) => e.type === 'switch-error'), { what: 'switch-error on the stream' });
    const event = stream.events.find((e) => e.type === 'switch-error')!.data;
    expect(event).to.include({ dpid: DPID, request: 'FLOW_MOD' });
    expect(event.error).to.match(/^OFPET_BAD_INSTRUCTION\//);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).to.contain(`seamless_switch_errors_total{dpid="${DPID}",type="OFPET_BAD_INSTRUCTION"} 1\n`);
  });

  it('heartbeats keep an idle event stream open', async () => {
    const server = await startApiServer(controller, { host: '127.0.0.1', port: 0, token: null, log: silentLogger, heartbeatMs: 50 });
    try {
      const abort = new AbortController();
      const res = await fetch(`http://127.0.0.1:${server.address.port}/api/events`, { signal: abort.signal });
      expect(res.headers.get('content-type')).to.equal('text/event-stream');
      const reader = res.body!.getReader();
      let text = '';
      while ((text.match(/: heartbeat \d+\n\n/g) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
      abort.abort();
    } finally {
      await server.close();
    }
  });

  it('serves the dashboard at / once logged in; its cookie opens reads and the event stream', async () => {
    const first = await fetch(`${base}/`);
    expect(first.url).to.equal(`${base}/login`); // no session yet
    expect(await first.text()).to.contain('action="/login"');
    const login = await fetch(`${base}/login`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${TOKEN}`,
    });
    expect(login.status).to.equal(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const page = await fetch(`${base}/`, { headers: { cookie } });
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(await page.text()).to.contain('<script src="/app.js"');
    const script = await fetch(`${base}/app.js`);
    expect(script.headers.get('content-type')).to.match(/javascript/);
    expect((await fetch(`${base}/../package.json`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).to.equal(404);
    expect((await fetch(`${base}/api/bindings`, { headers: { cookie } })).status).to.equal(200);
    const events = followEvents(`${base}/api/events?lastEventId=0`, { cookie });
    await waitUntil(() => events.events.length > 0, { what: 'events for the cookie' });
    await events.close();
  });

  it('a switch that leaves: switch-down on the stream, gone from /api/switches, 404 for its flows', async () => {
    await sh('ovs-vsctl', ['del-controller', bridge]);
    await waitUntil(() => stream.events.some((e) => e.type === 'switch-down'), { timeoutMs: 10_000, what: 'switch-down on the stream' });
    expect(stream.events.find((e) => e.type === 'switch-down')!.data.dpid).to.equal(DPID);
    expect((await call('GET', '/api/switches')).body).to.deep.equal([]);
    expectError(await call('GET', `/api/switches/${DPID}/flows`), 404);
    expect((await call('GET', '/api/subnets')).body[0].edges[0].connected).to.equal(false);
  });
});
