// OvsdbReplica folds <table-updates>: the initial dump, inserts, modifies (merged) and deletes;
// tables it does not monitor are ignored; a malformed update is refused whole. Datum decoders
// read OVSDB's set / map / uuid notation.

import { expect } from 'chai';
import { DatumError, optionalInteger, optionalString, stringMap, uuidSet } from '../../../controller/ovsdb/datum.js';
import { OvsdbReplica } from '../../../controller/ovsdb/index.js';

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';

describe('OVSDB replica', () => {
  it('takes the initial dump, then inserts, modifies and deletes', () => {
    const r = new OvsdbReplica(['Interface', 'Port']);
    expect(r.apply({ Interface: { [U1]: { new: { name: 'vnet0', ofport: ['set', []] } } } })).to.deep.equal({ changed: 1 });
    expect(r.apply({ Interface: { [U2]: { new: { name: 'vnet1', ofport: 3 } } } }).changed).to.equal(1);
    // A modify: "old" holds the changed columns' old values, "new" the row.
    expect(r.apply({ Interface: { [U1]: { old: { ofport: ['set', []] }, new: { name: 'vnet0', ofport: 7 } } } }).changed).to.equal(1);
    expect(r.table('Interface').get(U1)).to.deep.equal({ name: 'vnet0', ofport: 7 });
    // A server that sends only changed columns in "new" still leaves a whole row.
    r.apply({ Interface: { [U2]: { old: { ofport: 3 }, new: { ofport: 4 } } } });
    expect(r.table('Interface').get(U2)).to.deep.equal({ name: 'vnet1', ofport: 4 });
    expect(r.apply({ Interface: { [U1]: { old: { name: 'vnet0', ofport: 7 } } } }).changed).to.equal(1);
    expect([...r.table('Interface').keys()]).to.deep.equal([U2]);
    expect(r.size).to.equal(1);
  });

  it('ignores tables it does not monitor and keys rows by lower-case uuid', () => {
    const r = new OvsdbReplica(['Interface']);
    r.apply({ Bridge: { [U1]: { new: { name: 'br0' } } }, Interface: { [U2.toUpperCase()]: { new: { name: 'x' } } } });
    expect(r.table('Bridge').size).to.equal(0);
    expect(r.table('Interface').get(U2)).to.deep.equal({ name: 'x' });
  });

  it('refuses a malformed update whole: nothing of it is applied', () => {
    const malformed: unknown[] = [
      null, [], 'x', { Interface: [] }, { Interface: { 'not-a-uuid': { new: {} } } },
      { Interface: { [U1]: { new: { name: 'ok' } }, [U2]: 5 } },
      { Interface: { [U1]: { new: [] } } }, { Interface: { [U1]: {} } }, { Interface: { [U1]: { old: 'x' } } },
    ];
    for (const updates of malformed) {
      const r = new OvsdbReplica(['Interface']);
      const outcome = r.apply(updates);
      expect(outcome.error, JSON.stringify(updates)).to.be.a('string');
      expect(r.size).to.equal(0);
    }
  });
});

describe('OVSDB datum decoders', () => {
  it('reads optional atoms, uuid sets and string maps', () => {
    expect(optionalInteger(['set', []])).to.equal(undefined);
    expect(optionalInteger(5)).to.equal(5);
    expect(optionalInteger(['set', [5]])).to.equal(5);
    expect(optionalString('00000000000000a1')).to.equal('00000000000000a1');
    expect(optionalString(undefined)).to.equal(undefined);
    expect(uuidSet(['uuid', U1])).to.deep.equal([U1]);
    expect(uuidSet(['set', [['uuid', U1], ['uuid', U2]]])).to.deep.equal([U1, U2]);
    expect([...stringMap(['map', [['attached-mac', 'aa'], ['k', 'v']]])]).to.deep.equal([['attached-mac', 'aa'], ['k', 'v']]);
  });

  it('throws DatumError on the wrong shape', () => {
    const bad: Array<() => unknown> = [
      () => optionalInteger('7'), () => optionalInteger(['set', [1, 2]]), () => optionalInteger(1.5),
      () => optionalString(['map', []]), () => uuidSet(['uuid', 'nope']), () => uuidSet(['set', [1]]),
      () => stringMap(['set', []]), () => stringMap(['map', [['k', 1]]]), () => stringMap(['map', [['k']]]),
    ];
    for (const f of bad) expect(f).to.throw(DatumError);
  });
});
