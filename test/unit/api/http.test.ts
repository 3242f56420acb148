// The HTTP layer driven through fastify.inject (no socket): schemas and validation, the JSON
// error shape of every status, auth (bearer and the dashboard's cookie), Host allow-list,
// OPTIONS / 405 / trailing slashes, and the generated OpenAPI document.

import { expect } from 'chai';
import type { LightMyRequestResponse } from 'fastify';
import { buildApiServer, SCHEMAS, validate, type ApiApp } from '../../../controller/api/index.js';
import { hostAllowed, hostName, SESSION_COOKIE } from '../../../controller/api/access.js';
import { checkIntegersBounded, createAjv, validatorCompiler } from '../../../controller/api/validation.js';
import { createLogger, silentLogger } from '../../../controller/log.js';
import { fakeDeps, VM, type FakeDeps } from './fake-deps.js';

const TOKEN = 's3cret-token';
const BEARER = { authorization: `Bearer ${TOKEN}` };
const JSON_BODY = { ...BEARER, 'content-type': 'application/json' };

function expectError(res: LightMyRequestResponse, status: number, code: string, message?: RegExp): void {
  expect(res.statusCode, res.body).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  const body = res.json();
  expect(validate(body, SCHEMAS.Error)).to.deep.equal([]);
  expect(body.error).to.equal(code);
  if (message !== undefined) expect(body.message).to.match(message);
}

describe('api over Fastify (inject)', () => {
  let deps: FakeDeps;
  let api: ApiApp;
  const logged: string[] = [];
  const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: string) =>
    api.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });

  beforeEach(async () => {
    deps = fakeDeps();
    logged.length = 0;
    const log = createLogger({ level: 'info', sink: (l) => logged.push(l) });
    api = await buildApiServer(deps, { host: '127.0.0.1', port: 0, token: TOKEN, log });
  });
  afterEach(() => api.close());

  describe('schemas and validation (ajv strict)', () => {
    it('refuses a schema with an unknown keyword or format when it is compiled: at start-up, not silently', () => {
      const ajv = createAjv({ coerce: false });
      expect(() => ajv.compile({ type: 'object', properties: { a: { type: 'string', maxLenght: 3 } } })).to.throw(/unknown keyword/);
      expect(() => ajv.compile({ type: 'string', format: 'ipv5' })).to.throw(/unknown format/);
    });

    it('refuses an integer schema without bounds within 2^53', () => {
      const compile = validatorCompiler();
      expect(() => compile({ schema: { type: 'integer', minimum: 0 }, httpPart: 'body', url: '/x', method: 'POST' })).to.throw(/MAX_SAFE_INTEGER/);
      expect(() => checkIntegersBounded({ type: 'object', properties: { n: { type: 'integer', minimum: 0, maximum: 2 ** 60 } } })).to.throw(/properties\.n/);
      for (const schema of Object.values(SCHEMAS)) checkIntegersBounded(schema);
    });

    it('treats keys named like Object.prototype members as unknown properties', async () => {
      for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        const res = await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","${key}":1}`);
        expectError(res, 400, 'bad_request', new RegExp(`body\\.${key}: unknown property`));
      }
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","__proto__":{"ttlMs":1}}`), 400, 'bad_request', /prototype/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","constructor":{"prototype":{"x":1}}}`), 400, 'bad_request', /prototype/);
      expect(deps.intents.list(Date.now())).to.deep.equal([]);
    });

    it('rejects integers beyond 2^53 and non-integers', async () => {
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","toDpid":9007199254740993}`), 400, 'bad_request', /body\.toDpid: must be <= 9007199254740991/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","ttlMs":1e400}`), 400, 'bad_request', /ttlMs/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","ttlMs":"5000"}`), 400, 'bad_request', /body\.ttlMs: must be integer/);
      expectError(await inject('GET', '/api/switches/1/flows?table=99999999999999999999', BEARER), 400, 'bad_request', /table/);
    });

    it('names the offending part of the request', async () => {
      expectError(await inject('POST', '/api/intents', JSON_BODY, '[1]'), 400, 'bad_request', /^body: must be object$/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, '{}'), 400, 'bad_request', /give the VM by eid or by mac/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","mac":"${VM.mac}"}`), 400, 'bad_request', /one of them/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","phase":"paused"}`), 400, 'bad_request', /body\.phase/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","toDpid":2,"toPort":0}`), 400, 'bad_request', /body\.toPort/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, '{"eid":"10.0.1"}'), 400, 'bad_request', /^body\.eid: must be an IPv4 address, got "10\.0\.1"$/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","toDpid":"g1"}`), 400, 'bad_request', /body\.toDpid: must be a datapath id/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","toDpid":-1}`), 400, 'bad_request', /body\.toDpid: must be >= 0/);
      expectError(await inject('GET', '/api/bindings/10.0.1.256', BEARER), 400, 'bad_request', /^params\.eid: must be an IPv4 address/);
      expectError(await inject('GET', '/api/switches/12345678901234567', BEARER), 400, 'bad_request', /^params\.dpid: must be a datapath id/);
      expectError(await inject('GET', '/api/switches/1/tables?all=yes', BEARER), 400, 'bad_request', /^querystring\.all/);
      expectError(await inject('GET', '/api/switches/1/flows?colour=red', BEARER), 400, 'bad_request', /querystring\.colour: unknown property/);
    });

    it('accepts the spellings the API documents', async () => {
      for (const toDpid of ['"2"', '"0x2"', '"0000000000000002"', '"00:00:00:00:00:00:00:02"', '2']) {
        const res = await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","toDpid":${toDpid},"ttlMs":1000}`);
        expect(res.statusCode, `${toDpid}: ${res.body}`).to.equal(201);
        expect(validate(res.json(), SCHEMAS.Intent)).to.deep.equal([]);
      }
    });
  });

  describe('errors: one JSON shape for every status', () => {
    it('400 for malformed or empty JSON', async () => {
      expectError(await inject('POST', '/api/intents', JSON_BODY, '{"eid":'), 400, 'bad_request', /^malformed JSON/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, ''), 400, 'bad_request', /JSON body is required/);
    });

    it('401 without the token, with a wrong one, or with an empty one', async () => {
      expectError(await inject('GET', '/api/bindings'), 401, 'unauthorized', /Bearer/);
      const wrong = await inject('GET', '/api/bindings', { authorization: 'Bearer nope' });
      expectError(wrong, 401, 'unauthorized', /wrong token/);
      expect(wrong.headers['www-authenticate']).to.equal('Bearer');
      expectError(await inject('GET', '/api/bindings', { authorization: 'Bearer ' }), 401, 'unauthorized');
      expectError(await inject('GET', '/api/bindings', { authorization: TOKEN }), 401, 'unauthorized');
    });

    it('404 for an unknown path or name', async () => {
      expectError(await inject('GET', '/api/nothing-here', BEARER), 404, 'not_found', /nothing at \/api\/nothing-here/);
      expectError(await inject('GET', '/api/bindings/10.0.1.99', BEARER), 404, 'not_found');
      expectError(await inject('GET', '/api/switches/9', BEARER), 404, 'not_found', /0000000000000009/);
    });

    it('405 with Allow for a method the path lacks; OPTIONS answers with Allow', async () => {
      const put = await inject('PUT', '/api/bindings', BEARER);
      expectError(put, 405, 'method_not_allowed');
      expect(put.headers.allow).to.equal('GET, HEAD, OPTIONS');
      expect((await inject('POST', '/api/health')).headers.allow).to.equal('GET, HEAD, OPTIONS');
      for (const [path, allow] of [['/api/intents', 'GET, HEAD, OPTIONS, POST'], ['/api/bindings/10.0.1.10', 'DELETE, GET, HEAD, OPTIONS'], ['/metrics', 'GET, HEAD, OPTIONS']]) {
        const res = await inject('OPTIONS', path!);
        expect(res.statusCode, path).to.equal(204);
        expect(res.headers.allow, path).to.equal(allow);
      }
    });

    it('409 for a conflict with the current state', async () => {
      expect((await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}"}`)).statusCode).to.equal(201);
      expectError(await inject('DELETE', `/api/bindings/${VM.eid}`, BEARER), 409, 'conflict', /migrat/);
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","toSubnet":"Z"}`), 409, 'conflict', /unknown subnet/);
    });

    it('413 for a body over 64 KiB, before it is parsed', async () => {
      expectError(await inject('POST', '/api/intents', JSON_BODY, `{"eid":"${VM.eid}","pad":"${'x'.repeat(70_000)}"}`), 413, 'payload_too_large');
    });

    it('415 for a body that is not JSON: a cross-site form cannot create an intent', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        expectError(await inject('POST', '/api/intents', { ...BEARER, 'content-type': type }, `{"eid":"${VM.eid}"}`), 415, 'unsupported_media_type');
      }
      expectError(await inject('POST', '/api/intents', BEARER, `{"eid":"${VM.eid}"}`), 415, 'unsupported_media_type');
      expect(deps.intents.list(Date.now())).to.deep.equal([]);
    });

    it('421 for a Host header that is no IP literal, localhost or configured name (DNS rebinding)', async () => {
      expectError(await inject('GET', '/api/health', { host: 'attacker.example' }), 421, 'misdirected_request');
      expectError(await inject('GET', '/api/bindings', { ...BEARER, host: 'attacker.example:8080' }), 421, 'misdirected_request');
      for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:8080', '10.1.2.3', 'app.localhost']) {
        expect((await inject('GET', '/api/health', { host })).statusCode, host).to.equal(200);
      }
    });

    it('500 never shows the error: it is logged with a request id the body names', async () => {
      deps.failReads('ENOENT: /var/lib/secret/journal');
      const res = await inject('GET', '/api/bindings', BEARER);
      expectError(res, 500, 'internal');
      const body = res.json();
      expect(res.body).to.not.contain('secret').and.to.not.contain('ENOENT');
      expect(body.requestId).to.match(/^[0-9a-f-]{36}$/);
      expect(body.message).to.contain(body.requestId);
      const line = logged.map((l) => JSON.parse(l)).find((l) => l.requestId === body.requestId);
      expect(line?.error?.message).to.equal('ENOENT: /var/lib/secret/journal');
    });
  });

  it('GET /api/bindings and /api/bindings/:eid say since when a lost binding is looked for', async () => {
    deps.lost.set(VM.eid, 1_700_000_000_123);
    const one = await inject('GET', `/api/bindings/${VM.eid}`, BEARER);
    expect(one.statusCode, one.body).to.equal(200);
    expect(one.json().lostSince).to.equal(1_700_000_000_123);
    expect((await inject('GET', '/api/bindings', BEARER)).json().map((b: { eid: string; lostSince: number | null }) => [b.eid, b.lostSince])).to.deep.include([VM.eid, 1_700_000_000_123]);
    deps.lost.clear();
    expect((await inject('GET', `/api/bindings/${VM.eid}`, BEARER)).json().lostSince).to.equal(null);
  });

  it('a trailing slash is the same path', async () => {
    for (const path of ['/api/health', '/api/bindings', `/api/bindings/${VM.eid}`, '/api/subnets', '/api/openapi.json', '/metrics']) {
      const plain = await inject('GET', path, BEARER);
      const slashed = await inject('GET', `${path}/`, BEARER);
      expect(slashed.statusCode, path).to.equal(plain.statusCode);
      expect(plain.statusCode, path).to.equal(200);
    }
  });

  describe('auth', () => {
    it('leaves /api/health and (by default) /metrics public, everything else needs the token', async () => {
      expect((await inject('GET', '/api/health')).statusCode).to.equal(200);
      expect((await inject('GET', '/metrics')).statusCode).to.equal(200);
      for (const path of ['/api/version', '/api/openapi.json', '/api/switches', '/api/switches/1', '/api/bindings', `/api/bindings/${VM.eid}`, '/api/subnets', '/api/migrations', '/api/intents', '/api/events']) {
        expectError(await inject('GET', path), 401, 'unauthorized');
      }
      expectError(await inject('DELETE', `/api/bindings/${VM.eid}`), 401, 'unauthorized');
      expectError(await inject('POST', '/api/intents', { 'content-type': 'application/json' }, `{"eid":"${VM.eid}"}`), 401, 'unauthorized');
      expect(deps.store.byEid(VM.eid)).to.not.equal(undefined);
    });

    it('puts /metrics behind the token when metricsPublic is false', async () => {
      const closed = await buildApiServer(deps, { host: '127.0.0.1', port: 0, token: TOKEN, log: silentLogger, metricsPublic: false });
      try {
        expect((await closed.app.inject({ method: 'GET', url: '/metrics' })).statusCode).to.equal(401);
        expect((await closed.app.inject({ method: 'GET', url: '/metrics', headers: BEARER })).statusCode).to.equal(200);
      } finally {
        await closed.close();
      }
    });

    it('lets the dashboard log in for a cookie that reads but cannot change anything', async () => {
      const page = await inject('GET', '/');
      expect(page.statusCode).to.equal(303);
      expect(page.headers.location).to.equal('/login');
      expect((await inject('GET', '/login')).body).to.contain('<form method="post" action="/login">');
      expect((await inject('GET', '/app.js')).statusCode).to.equal(200); // code, no data

      const refused = await inject('POST', '/login', { 'content-type': 'application/x-www-form-urlencoded' }, 'token=guess');
      expect(refused.statusCode).to.equal(401);
      expect(refused.headers['set-cookie']).to.equal(undefined);
      const login = await inject('POST', '/login', { 'content-type': 'application/x-www-form-urlencoded' }, `token=${encodeURIComponent(TOKEN)}`);
      expect(login.statusCode).to.equal(303);
      expect(login.headers.location).to.equal('/');
      const setCookie = String(login.headers['set-cookie']);
      expect(setCookie).to.match(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]+; Path=/; HttpOnly; SameSite=Lax$`));
      const cookie = setCookie.split(';')[0]!;
      expect(cookie).to.not.contain(TOKEN);

      expect((await inject('GET', '/', { cookie })).statusCode).to.equal(200);
      expect((await inject('GET', '/api/bindings', { cookie })).statusCode).to.equal(200);
      expectError(await inject('POST', '/api/intents', { cookie, 'content-type': 'application/json' }, `{"eid":"${VM.eid}"}`), 401, 'unauthorized');
      expectError(await inject('DELETE', `/api/bindings/${VM.eid}`, { cookie }), 401, 'unauthorized');
      expectError(await inject('GET', '/api/bindings', { cookie: `${SESSION_COOKIE}=forged` }), 401, 'unauthorized', /wrong token/);
      expect(deps.intents.list(Date.now())).to.deep.equal([]);
    });
  });

  describe('Host names', () => {
    it('parses the host out of a Host header', () => {
      expect(hostName('Example.COM:8080')).to.equal('example.com');
      expect(hostName('[::1]:80')).to.equal('::1');
      expect(hostName('ctl.lab.')).to.equal('ctl.lab');
      expect(hostName('a b')).to.equal(undefined);
      expect(hostName('user@host')).to.equal(undefined);
    });

    it('accepts configured names (and *.suffix), the listen host, and "*" for any', () => {
      const options = { allowedHosts: ['ctl.lab.example', '*.ops.example'], listenHost: 'controller-1' };
      expect(hostAllowed('ctl.lab.example:8080', options)).to.equal(true);
      expect(hostAllowed('a.ops.example', options)).to.equal(true);
      expect(hostAllowed('ops.example', options)).to.equal(false);
      expect(hostAllowed('controller-1', options)).to.equal(true);
      expect(hostAllowed('evil.example', options)).to.equal(false);
      expect(hostAllowed(undefined, options)).to.equal(false);
      expect(hostAllowed('evil.example', { allowedHosts: ['*'], listenHost: '0.0.0.0' })).to.equal(true);
    });
  });

  describe('GET /api/cluster', () => {
    it('one process: mode single, it writes every switch connected to it, no lease, feed or etcd', async () => {
      deps.connected.set(2n, { dpid: 2n, dpidText: '0000000000000002' } as never);
      deps.connected.set(1n, { dpid: 1n, dpidText: '0000000000000001' } as never);
      const res = await inject('GET', '/api/cluster', BEARER);
      expect(res.statusCode).to.equal(200);
      const body = res.json();
      expect(validate(body, SCHEMAS.Cluster)).to.deep.equal([]);
      expect(body).to.deep.include({ mode: 'single', replica: null, replicas: [], mastered: ['0000000000000001', '0000000000000002'], lease: null, feed: null, liveness: null, etcd: null });
      expect(body.switches[0]).to.deep.equal({ dpid: '0000000000000001', master: null, connected: true, writable: true });
    });

    it('a replica: who masters what (also switches not connected to it), what it writes, its lease, feed and etcd\'s health', async () => {
      await api.close();
      deps.connected.set(1n, { dpid: 1n, dpidText: '0000000000000001' } as never);
      deps.connected.set(2n, { dpid: 2n, dpidText: '0000000000000002' } as never);
      const etcd = {
        members: [
          { endpoint: 'http://127.0.0.1:21379', reachable: true, quorum: true, leader: true, version: '3.4.23', raftTerm: 2, dbSizeBytes: 20480, error: null },
          { endpoint: 'http://127.0.0.1:22379', reachable: false, quorum: false, leader: false, version: null, raftTerm: null, dbSizeBytes: null, error: 'no answer within 500 ms' },
        ],
        reachable: 1, quorum: true, checkedAt: 1000,
      };
      let asked = 0;
      const replica = {
        view: () => ({
          replica: 'c2', replicas: ['c1', 'c2'], masters: { '0000000000000001': 'c1', '0000000000000002': 'c2', '0000000000000003': 'c1' },
          mastered: ['0000000000000002'], leaseAlive: true, lease: { id: '694d7a1b2c3d4e5f', ttlMs: 3000 }, feed: { connected: false, error: 'watch stream ended' },
          liveness: { address: '127.0.0.1:40111', verified: ['c1'] },
        }),
        etcd: async () => { asked++; return etcd; },
      };
      api = await buildApiServer({ ...deps, replica }, { host: '127.0.0.1', port: 0, token: TOKEN, log: silentLogger });
      const body = (await inject('GET', '/api/cluster', BEARER)).json();
      expect(validate(body, SCHEMAS.Cluster)).to.deep.equal([]);
      expect(asked).to.equal(1);
      expect(body).to.deep.include({ mode: 'cluster', replica: 'c2', replicas: ['c1', 'c2'], mastered: ['0000000000000002'], etcd });
      expect(body.switches).to.deep.equal([
        { dpid: '0000000000000001', master: 'c1', connected: true, writable: false },
        { dpid: '0000000000000002', master: 'c2', connected: true, writable: true },
        { dpid: '0000000000000003', master: 'c1', connected: false, writable: false },
      ]);
      expect(body.lease).to.deep.equal({ id: '694d7a1b2c3d4e5f', alive: true, ttlMs: 3000 });
      expect(body.feed).to.deep.equal({ connected: false, error: 'watch stream ended' });
      expect(body.liveness).to.deep.equal({ address: '127.0.0.1:40111', verified: ['c1'] });
    });
  });

  describe('the OpenAPI document (generated from the route schemas)', () => {
    interface Operation { operationId?: string; tags?: string[]; summary?: string; security?: unknown[]; responses: Record<string, unknown> }
    let doc: { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
    beforeEach(async () => { doc = (await inject('GET', '/api/openapi.json', BEARER)).json(); });

    it('describes every endpoint, each operation with an id, tags, a summary and its error responses', () => {
      expect(doc.openapi).to.equal('3.1.0');
      expect(Object.keys(doc.paths).sort()).to.deep.equal([
        '/api/bindings', '/api/bindings/{eid}', '/api/cluster', '/api/events', '/api/health', '/api/intents', '/api/intents/{eid}', '/api/migrations', '/api/openapi.json',
        '/api/subnets', '/api/switches', '/api/switches/{dpid}', '/api/switches/{dpid}/flows', '/api/switches/{dpid}/ports', '/api/switches/{dpid}/tables',
        '/api/timeline', '/api/version', '/metrics',
      ]);
      const ids = new Set<string>();
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const where = `${method} ${path}`;
          expect(op.operationId, where).to.be.a('string');
          ids.add(op.operationId!);
          expect(op.tags, where).to.have.length.greaterThan(0);
          expect(op.summary, where).to.be.a('string');
          expect(Object.keys(op.responses).filter((s) => Number(s) >= 400), where).to.include('500');
          if (op.security === undefined) expect(op.responses, where).to.have.property('401');
        }
      }
      expect(ids.size).to.equal(20);
      expect(doc.paths['/api/intents']!.post!.responses).to.include.keys('400', '401', '404', '409', '413', '415');
      expect(doc.paths['/api/health']!.get!.security).to.deep.equal([]);
    });

    it('refers only to schemas it defines, and they are the ones requests and views are checked against', () => {
      const refs = JSON.stringify(doc).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
      expect(refs.length).to.be.greaterThan(20);
      for (const ref of refs) expect(doc.components.schemas, ref).to.have.property(ref.slice(22, -1));
      expect(Object.keys(doc.components.schemas).sort()).to.deep.equal(Object.keys(SCHEMAS).sort());
      const body = (doc.paths['/api/intents']!.post as unknown as { requestBody: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> } }).requestBody;
      expect(body.content['application/json']!.schema.required, 'eid or mac: which one is checked by the handler').to.equal(undefined);
      expect(Object.keys(body.content['application/json']!.schema.properties!)).to.include.members(['eid', 'mac', 'toDpid', 'toPort', 'phase']);
    });
  });

  it('sets headers that keep browsers from sniffing, framing or caching responses', async () => {
    for (const res of [await inject('GET', '/api/health'), await inject('GET', '/api/bindings', BEARER), await inject('GET', '/app.js'), await inject('GET', '/api/nothing', BEARER)]) {
      expect(res.headers).to.include({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'cache-control': 'no-store' });
    }
  });
});
