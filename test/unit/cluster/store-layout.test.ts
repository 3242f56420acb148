import { expect } from 'chai';
import fc from 'fast-check';
import { bindingTxn, conflictOf } from '../../../controller/cluster/binding-txn.js';
import { prefixEnd, StoreKeys } from '../../../controller/cluster/store-keys.js';
import { decodeEntry, encodeBinding, encodeIntent } from '../../../controller/cluster/store-values.js';
import { BindingStore, StoreCorruptError, type BindingEvent } from '../../../controller/mobility/index.js';
import { intToIpv4 } from '../../../controller/packet/address.js';

const keys = new StoreKeys('/lab');

function moves(): { add: BindingEvent; away: BindingEvent; onward: BindingEvent; home: BindingEvent; remove: BindingEvent } {
  const s = new BindingStore();
  const add = s.add({ eid: '10.0.1.10', mac: '02:00:00:00:01:0A', homeSubnet: 'A', dpid: 1n, port: 3 }, 1)!;
  const away = s.move('10.0.1.10', { subnet: 'B', dpid: 2n, port: 3, address: '10.0.2.200' }, 2)!;
  const onward = s.move('10.0.1.10', { subnet: 'C', dpid: 3n, port: 3, address: '10.0.3.200' }, 3)!;
  const home = s.move('10.0.1.10', { subnet: 'A', dpid: 1n, port: 4, address: '10.0.1.10' }, 4)!;
  const remove = s.remove('10.0.1.10', 5)!;
  return { add, away, onward, home, remove };
}

/** The keys a transaction writes, in order, as "put KEY" / "del KEY" without the prefix. */
function writes(e: BindingEvent): string[] {
  return bindingTxn(keys, e, 7).request.success!.map((op) => (op.request_put !== undefined
    ? `put ${op.request_put.key!.toString().slice(keys.state.length)}`
    : `del ${op.request_delete_range!.key!.toString().slice(keys.state.length)}`));
}

function compares(e: BindingEvent): string[] {
  return bindingTxn(keys, e, e.type === 'BINDING_ADDED' ? 0 : 7).request.compare!.map((c) => `${c.key!.toString().slice(keys.state.length)} ${c.target} ${c.mod_revision ?? c.version ?? c.value?.toString()}`);
}

describe('cluster/store layout', () => {
  it('names keys under the prefix and parses every one back', () => {
    expect(keys.binding('10.0.1.10')).to.equal('/lab/state/bindings/10.0.1.10');
    expect(keys.locator('a/b c', '10.0.2.200')).to.equal('/lab/state/locators/a%2Fb%20c/10.0.2.200');
    expect(keys.master(10n)).to.equal('/lab/cluster/masters/000000000000000a');
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 30 }), fc.nat(0xffffffff), (subnet, n) => {
      const address = intToIpv4(n);
      expect(keys.parseState(keys.locator(subnet, address))).to.deep.equal({ kind: 'locator', subnet, address });
      expect(keys.parseState(keys.released(subnet, address))).to.deep.equal({ kind: 'released', subnet, address });
      expect(keys.parseReplica(keys.replica(subnet))).to.equal(subnet);
    }));
    expect(keys.parseState(keys.nextId)).to.deep.equal({ kind: 'next-id' });
    expect(keys.parseState(keys.mac('02:00:00:00:01:0A'))).to.deep.equal({ kind: 'mac', mac: '02:00:00:00:01:0a' });
    expect(keys.parseMaster(keys.master(0xfedcn))).to.equal(0xfedcn);
    for (const bad of ['/lab/state/bindings/10.0.1', '/lab/state/other/x', '/lab/state/locators/10.0.2.1', '/lab/state/locators/%zz/10.0.2.1', '/other/state/next-binding-id', '/lab/state/macs/02:00:00:00:01:0A']) {
      expect(keys.parseState(bad), bad).to.equal(undefined);
    }
  });

  it('ends a prefix range right after the prefix', () => {
    expect(prefixEnd('/lab/state/').toString()).to.equal('/lab/state0');
    expect(prefixEnd('a~').toString()).to.equal('a\x7f');
  });

  it('compares what two replicas could race for, per kind of event', () => {
    const { add, away, onward, home, remove } = moves();
    expect(compares(add)).to.deep.equal(['bindings/10.0.1.10 Mod 0', 'macs/02:00:00:00:01:0a Version 0', 'next-binding-id Value 1', 'locators/A/10.0.1.10 Version 0']);
    expect(compares(away)).to.deep.equal(['bindings/10.0.1.10 Mod 7', 'locators/B/10.0.2.200 Version 0']);
    expect(compares(home)).to.deep.equal(['bindings/10.0.1.10 Mod 7', 'locators/A/10.0.1.10 Version 0']);
    expect(compares(remove)).to.deep.equal(['bindings/10.0.1.10 Mod 7']);
    void onward;
  });

  it('writes the released address before anything else and the binding last', () => {
    const { add, away, onward, home, remove } = moves();
    expect(writes(add)).to.deep.equal(['put locators/A/10.0.1.10', 'del released/A/10.0.1.10', 'put macs/02:00:00:00:01:0a', 'put next-binding-id', 'put bindings/10.0.1.10']);
    expect(writes(away)).to.deep.equal(['del locators/A/10.0.1.10', 'put locators/B/10.0.2.200', 'del released/B/10.0.2.200', 'put bindings/10.0.1.10']);
    expect(writes(onward)).to.deep.equal(['put released/B/10.0.2.200', 'del locators/B/10.0.2.200', 'put locators/C/10.0.3.200', 'del released/C/10.0.3.200', 'put bindings/10.0.1.10']);
    expect(writes(home)[0]).to.equal('put released/C/10.0.3.200');
    expect(writes(remove)).to.deep.equal(['del locators/A/10.0.1.10', 'del macs/02:00:00:00:01:0a', 'del bindings/10.0.1.10']);
    // A move between ports of one foreign subnet keeps its locator: only the binding changes.
    const s = new BindingStore({ bindings: [onward.binding], nextId: 2 });
    expect(writes(s.move('10.0.1.10', { subnet: 'C', dpid: 3n, port: 9, address: '10.0.3.200' }, 9)!)).to.deep.equal(['put bindings/10.0.1.10']);
  });

  it('reads a failed transaction into reasons and the current binding', () => {
    const { away, onward } = moves();
    const txn = bindingTxn(keys, away, 7);
    const kv = (value: string, mod: number) => ({ key: Buffer.from(''), value: Buffer.from(value), mod_revision: String(mod), create_revision: '1', version: '2', lease: '0' });
    const conflict = conflictOf(keys, txn, away, 7, {
      header: { revision: '12', cluster_id: '', member_id: '', raft_term: '' },
      succeeded: false,
      responses: [
        { response_range: { kvs: [kv(encodeBinding(onward.binding), 11)] } },
        { response_range: { kvs: [kv('{"eid":"10.0.1.99"}', 9)] } },
      ] as never,
    });
    expect(conflict).to.deep.equal({ revision: 12, reasons: ['binding-changed', 'locator-taken'], current: { binding: onward.binding, modRevision: 11 } });
  });

  it('checks values against their keys', () => {
    const { away } = moves();
    const bkey = keys.binding('10.0.1.10');
    expect(decodeEntry(bkey, { kind: 'binding', eid: '10.0.1.10' }, Buffer.from(encodeBinding(away.binding)))).to.deep.equal({ kind: 'binding', eid: '10.0.1.10', binding: away.binding });
    const refuse = (value: string, parsed: Parameters<typeof decodeEntry>[1] = { kind: 'binding', eid: '10.0.1.11' }) => {
      try {
        decodeEntry('KEY', parsed, Buffer.from(value));
      } catch (error) {
        expect(error).to.be.instanceOf(StoreCorruptError);
        expect((error as StoreCorruptError).where).to.equal('KEY');
        return (error as StoreCorruptError).problem;
      }
      throw new Error(`accepted ${value}`);
    };
    expect(refuse(encodeBinding(away.binding))).to.match(/under the key of 10.0.1.11/);
    expect(refuse('[1')).to.match(/not JSON/);
    expect(refuse('{"eid":5}', { kind: 'locator', subnet: 'B', address: '10.0.2.200' })).to.match(/holder/);
    expect(refuse('{"releasedAt":"x"}', { kind: 'released', subnet: 'B', address: '10.0.2.200' })).to.match(/released/);
    expect(refuse('0', { kind: 'next-id' })).to.match(/next binding id/);
    expect(refuse('1e3', { kind: 'next-id' })).to.match(/next binding id/);
    const intent = { eid: '10.0.1.10', toDpid: 2n, toPort: 4, expiresAt: 99, source: 'ovsdb' as const, phase: 'stopping' as const };
    expect(decodeEntry('K', { kind: 'intent', eid: '10.0.1.10' }, Buffer.from(encodeIntent(intent)))).to.deep.equal({ kind: 'intent', eid: '10.0.1.10', intent });
    expect(refuse(JSON.stringify({ ...JSON.parse(encodeIntent(intent)), toPort: 0 }), { kind: 'intent', eid: '10.0.1.10' })).to.match(/toPort/);
    const resumed = { eid: '10.0.1.10', expiresAt: 99, source: 'api' as const, phase: 'resumed' as const, lossFree: true, stoppedAt: 42.5 };
    expect(decodeEntry('K', { kind: 'intent', eid: '10.0.1.10' }, Buffer.from(encodeIntent(resumed)))).to.deep.equal({ kind: 'intent', eid: '10.0.1.10', intent: resumed });
    expect(refuse(JSON.stringify({ ...JSON.parse(encodeIntent(resumed)), phase: 'paused' }), { kind: 'intent', eid: '10.0.1.10' })).to.match(/phase/);
    expect(refuse(JSON.stringify({ ...JSON.parse(encodeIntent(resumed)), lossFree: 'yes' }), { kind: 'intent', eid: '10.0.1.10' })).to.match(/lossFree/);
    expect(refuse(JSON.stringify({ ...JSON.parse(encodeIntent(resumed)), stoppedAt: 'now' }), { kind: 'intent', eid: '10.0.1.10' })).to.match(/stoppedAt/);
  });
});
