import { expect } from 'chai';
import { MigrationIntents } from '../../../controller/mobility/index.js';
import { caseStudyMap, VM } from './fixtures.js';

describe('mobility/migration-intents', () => {
  const bad: { name: string; input: Record<string, unknown>; error: RegExp }[] = [
    { name: 'a bad EID', input: { eid: '10.0.1', expiresAt: 2000 }, error: /eid/ },
    { name: 'an expiry in the past', input: { eid: VM.eid, expiresAt: 1000 }, error: /expiresAt: already in the past/ },
    { name: 'an expiry in seconds instead of ms (too far ahead)', input: { eid: VM.eid, expiresAt: 1e12 }, error: /more than/ },
    { name: 'an unknown subnet', input: { eid: VM.eid, toSubnet: 'Z', expiresAt: 2000 }, error: /toSubnet: unknown subnet/ },
    { name: 'a dpid in no subnet', input: { eid: VM.eid, toDpid: '0000000000000009', expiresAt: 2000 }, error: /toDpid: 0000000000000009 is not an edge/ },
    { name: 'a dpid of another subnet', input: { eid: VM.eid, toDpid: 2, toSubnet: 'C', expiresAt: 2000 }, error: /is not an edge of C/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      const intents = new MigrationIntents(caseStudyMap());
      const r = intents.register(c.input as never, 1000);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.error).to.match(c.error);
      expect(intents.list(1000)).to.deep.equal([]);
    });
  }

  it('registers, replaces, finds while live and expires', () => {
    const intents = new MigrationIntents(caseStudyMap());
    expect(intents.register({ eid: VM.eid, toSubnet: 'B', expiresAt: 2000 }, 1000).ok).to.equal(true);
    expect(intents.register({ eid: VM.eid, toDpid: '0000000000000003', expiresAt: 3000 }, 1000).ok).to.equal(true);
    expect(intents.get(VM.eid, 1500)).to.deep.equal({ eid: VM.eid, toDpid: 3n, expiresAt: 3000, source: 'api', phase: 'migrating' });
    expect(intents.get(VM.eid, 3000)).to.equal(undefined);
    expect(intents.size, 'an expired intent is purged when looked up').to.equal(0);
    intents.register({ eid: VM.eid, expiresAt: 4000 }, 3500);
    intents.register({ eid: '10.0.1.11', expiresAt: 9000 }, 4500);
    expect(intents.size, 'and when another is registered').to.equal(1);
    expect(intents.list(4600).map((i) => i.eid)).to.deep.equal(['10.0.1.11']);
  });

  it('takes the port a VM will appear on, with its switch only', () => {
    const intents = new MigrationIntents(caseStudyMap());
    expect(intents.register({ eid: VM.eid, toDpid: 2, toPort: 7, expiresAt: 2000, source: 'ovsdb' }, 1000)).to.deep.equal({ ok: true, intent: { eid: VM.eid, toDpid: 2n, toPort: 7, expiresAt: 2000, source: 'ovsdb', phase: 'migrating' } });
    expect(intents.register({ eid: VM.eid, toPort: 7, expiresAt: 2000 }, 1000)).to.deep.equal({ ok: false, error: 'toPort: needs toDpid' });
    expect(intents.register({ eid: VM.eid, toDpid: 2, toPort: 0, expiresAt: 2000 }, 1000).ok).to.equal(false);
  });

  it('consumes an intent once', () => {
    const intents = new MigrationIntents(caseStudyMap());
    intents.register({ eid: VM.eid, expiresAt: 2000 }, 1000);
    expect(intents.consume(VM.eid)?.eid).to.equal(VM.eid);
    expect(intents.consume(VM.eid)).to.equal(undefined);
  });
});
