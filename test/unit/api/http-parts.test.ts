// The small HTTP parts: schema checker, router, event hub, metrics text.

import { expect } from 'chai';
import { EventHub } from '../../../controller/api/events.js';
import { validate, type Schema } from '../../../controller/api/json-schema.js';
import { Histogram, RECONVERGENCE_BUCKETS, renderMetrics } from '../../../controller/api/metrics.js';
import { openApiDocument, resolveSchema, SCHEMAS } from '../../../controller/api/openapi.js';
import { Router } from '../../../controller/api/router.js';

const intent = SCHEMAS.IntentRequest!;
const check = (v: unknown, s: Schema = intent) => validate(v, s, resolveSchema);

describe('api http parts', () => {
  describe('json-schema validate (IntentRequest)', () => {
    it('accepts valid bodies', () => {
      expect(check({ eid: '10.0.1.10' })).to.deep.equal([]);
      expect(check({ eid: '10.0.1.10', toDpid: '0x2', toSubnet: 'B', ttlMs: 500 })).to.deep.equal([]);
      expect(check({ eid: '10.0.1.10', toDpid: 2 })).to.deep.equal([]);
      expect(check({ eid: '10.0.1.10', toDpid: '00:00:00:00:00:00:00:02' })).to.deep.equal([]);
    });

    it('names each problem by its path', () => {
      expect(check(null)).to.deep.equal(['body: must be object']);
      expect(check({})).to.deep.equal(['body.eid: required']);
      expect(check({ eid: '300.0.0.1' })[0]).to.match(/^body\.eid: must be an IPv4 address/);
      expect(check({ eid: '10.0.1.10', ttlMs: 0 })).to.deep.equal(['body.ttlMs: must be >= 1']);
      expect(check({ eid: '10.0.1.10', ttlMs: 1.5 })).to.deep.equal(['body.ttlMs: must be integer']);
      expect(check({ eid: '10.0.1.10', toDpid: 'xyz' })[0]).to.match(/^body\.toDpid: must match/);
      expect(check({ eid: '10.0.1.10', toDpid: -1 })).to.deep.equal(['body.toDpid: must be >= 0']);
      expect(check({ eid: '10.0.1.10', toSubnet: '' })).to.deep.equal(['body.toSubnet: must not be empty']);
      expect(check({ eid: '10.0.1.10', extra: 1 })).to.deep.equal(['body.extra: unknown property']);
    });

    it('follows $ref, items and nullable types', () => {
      const list: Schema = { type: 'array', items: { $ref: '#/components/schemas/Intent' } };
      expect(check([{ eid: '10.0.1.10', toDpid: null, toSubnet: 'B', expiresAt: 1 }], list)).to.deep.equal([]);
      expect(check([{ eid: '10.0.1.10', toDpid: 5, toSubnet: null, expiresAt: 1 }], list)).to.deep.equal(['body[0].toDpid: must be string or null']);
      expect(check(1, { $ref: '#/nowhere' })).to.deep.equal(['body: unknown schema #/nowhere']);
    });
  });

  it('the OpenAPI document references only schemas it defines', () => {
    const refs = JSON.stringify(openApiDocument('1.2.3')).match(/#\/components\/schemas\/\w+/g) ?? [];
    expect(refs.length).to.be.greaterThan(10);
    for (const ref of refs) expect(resolveSchema(ref), ref).to.not.equal(undefined);
  });

  describe('Router', () => {
    const router = new Router()
      .add('GET', '/api/switches/:dpid/flows', () => ({ status: 200, body: 'flows' }))
      .add('GET', '/api/bindings/:eid', () => ({ status: 200, body: 'get' }))
      .add('DELETE', '/api/bindings/:eid', () => ({ status: 200, body: 'delete' }));

    it('matches patterns and decodes parameters', () => {
      const m = router.match('GET', '/api/switches/00%3A01/flows');
      expect(m.kind).to.equal('found');
      expect(m.kind === 'found' && m.params).to.deep.equal({ dpid: '00:01' });
      expect(router.match('HEAD', '/api/bindings/1.2.3.4').kind).to.equal('found');
    });

    it('tells 405 (with the allowed methods) from 404', () => {
      expect(router.match('POST', '/api/bindings/1.2.3.4')).to.deep.equal({ kind: 'method-not-allowed', allow: ['GET', 'DELETE'] });
      expect(router.match('GET', '/api/switches/1').kind).to.equal('not-found');
      expect(router.match('GET', '/api/bindings/%E0%A4%A').kind).to.equal('not-found');
    });
  });

  describe('EventHub', () => {
    it('numbers events, hands them to listeners and replays what a client missed', () => {
      const hub = new EventHub(3);
      const seen: number[] = [];
      const stop = hub.listen((e) => seen.push(e.id));
      for (let i = 0; i < 5; i++) hub.publish({ type: 'rules-updated', dpids: [], flowMods: i, at: i });
      stop();
      hub.publish({ type: 'rules-updated', dpids: [], flowMods: 9, at: 9 });
      expect(seen).to.deep.equal([1, 2, 3, 4, 5]);
      expect(hub.since(4).map((e) => e.id)).to.deep.equal([5, 6]);
      expect(hub.since(0).map((e) => e.id)).to.deep.equal([4, 5, 6]); // bounded history
      expect(hub.lastId).to.equal(6);
    });
  });

  describe('metrics', () => {
    it('a histogram counts cumulatively per bucket', () => {
      const h = new Histogram(RECONVERGENCE_BUCKETS);
      for (const v of [0.0005, 0.02, 0.02, 3]) h.observe(v);
      const s = h.snapshot();
      expect(s.count).to.equal(4);
      expect(s.sum).to.be.closeTo(3.0405, 1e-9);
      expect(s.buckets.find(([le]) => le === 0.001)![1]).to.equal(1);
      expect(s.buckets.find(([le]) => le === 0.025)![1]).to.equal(3);
      expect(s.buckets.find(([le]) => le === 1)![1]).to.equal(3);
    });

    it('renders Prometheus text with types, labels and the +Inf bucket', () => {
      const h = new Histogram(RECONVERGENCE_BUCKETS);
      h.observe(0.05);
      const text = renderMetrics({
        switchesConnected: 3, packetIns: 10, flowMods: 20, switchErrors: new Map([['OFPET_BAD_MATCH', 2], ['x"y', 1]]),
        bindings: 4, bindingsAway: 1, moves: 1, conflicts: 0, reconvergence: h,
      });
      expect(text).to.contain('# TYPE seamless_switches_connected gauge\nseamless_switches_connected 3\n');
      expect(text).to.contain('seamless_switch_errors_total{type="OFPET_BAD_MATCH"} 2\n');
      expect(text).to.contain('seamless_switch_errors_total{type="x\\"y"} 1\n');
      expect(text).to.contain('seamless_reconvergence_seconds_bucket{le="0.025"} 0\nseamless_reconvergence_seconds_bucket{le="0.05"} 1\n');
      expect(text).to.contain('seamless_reconvergence_seconds_bucket{le="+Inf"} 1\nseamless_reconvergence_seconds_sum 0.05\nseamless_reconvergence_seconds_count 1\n');
      expect(text).to.not.match(/\n\n/);
      for (const name of ['packet_ins_total', 'flow_mods_total', 'bindings', 'bindings_away', 'moves_total', 'conflicts_total']) {
        expect(text).to.match(new RegExp(`^seamless_${name} \\d+$`, 'm'));
      }
    });
  });
});
