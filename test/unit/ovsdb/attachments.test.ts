// The "attachment announced" derivation: an Interface row with external_ids:attached-mac, a port
// number and a bridge with a datapath id is an attachment; a diff of two derivations gives
// 'added' / 'removed' events. Replayed first from a real ovsdb-server capture, then row by row.

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  deriveAttachments, diffAttachments, JsonMessageSplitter, normaliseMac, OvsdbReplica, type AttachmentRecord, type VmAttachment,
} from '../../../controller/ovsdb/index.js';

const TABLES = ['Bridge', 'Port', 'Interface'];
const BR = 'b0000000-0000-4000-8000-000000000001';
const PORT = 'c0000000-0000-4000-8000-000000000001';
const IFACE = 'd0000000-0000-4000-8000-000000000001';
const MAC = '52:54:00:ab:cd:01';

/** A bridge with one port holding one interface, in monitor v1 notation. */
function topology(iface: Record<string, unknown>, bridge: Record<string, unknown> = {}) {
  return {
    Bridge: { [BR]: { new: { name: 'br-int', datapath_id: '00000000000000a1', ports: ['uuid', PORT], ...bridge } } },
    Port: { [PORT]: { new: { name: 'vnet3', interfaces: ['uuid', IFACE] } } },
    Interface: {
      [IFACE]: {
        new: {
          name: 'vnet3', ofport: 5, mac_in_use: 'fe:54:00:ab:cd:01', admin_state: 'up', link_state: 'up',
          external_ids: ['map', [['attached-mac', '52:54:00:AB:CD:01'], ['iface-id', 'if-1'], ['vm-uuid', 'vm-1']]],
          ...iface,
        },
      },
    },
  };
}

function derive(updates: unknown) {
  const replica = new OvsdbReplica(TABLES);
  expect(replica.apply(updates).error).to.equal(undefined);
  return deriveAttachments(replica);
}

const brief = (e: VmAttachment) => `${e.state} ${e.interfaceName} ${e.mac} ${e.bridge} ${e.dpid.toString(16)} ${e.ofport}`;

describe('VM attachments from OVSDB', () => {
  it('follows a real ovsdb-server session: added, re-numbered (removed + added), removed', () => {
    const stream = readFileSync(new URL('../../vectors/ovsdb-3.1/attachment-monitor.stream', import.meta.url));
    const { messages } = new JsonMessageSplitter().push(stream);
    const replica = new OvsdbReplica(TABLES);
    let known = new Map<string, AttachmentRecord>();
    const events: VmAttachment[] = [];
    for (const text of messages) {
      const m = JSON.parse(text) as { result?: unknown; method?: string; params?: unknown[] };
      const updates = m.method === 'update' ? m.params![1] : m.result;
      expect(replica.apply(updates).error).to.equal(undefined);
      const { attachments, problems } = deriveAttachments(replica);
      expect(problems).to.deep.equal([]);
      events.push(...diffAttachments(known, attachments, 1000));
      known = new Map(attachments);
    }
    expect(events.map(brief)).to.deep.equal([
      'added vecvnet0 52:54:00:ab:cd:01 vecdb0 a1 5',
      'removed vecvnet0 52:54:00:ab:cd:01 vecdb0 a1 5',
      'added vecvnet0 52:54:00:ab:cd:01 vecdb0 a1 6',
      'removed vecvnet0 52:54:00:ab:cd:01 vecdb0 a1 6',
    ]);
    // libvirt writes vm-id (OpenStack writes vm-uuid): both end up in vmUuid.
    expect(events[0]).to.deep.include({ ifaceId: '0b7e2c8a-5d7e-4d49-9a57-6a1f3c2b9e10', vmUuid: '3f1c9a52-8d0e-4a4b-b1f6-2f5e8c7d6a91', dpid: 0xa1n });
    expect(known.size).to.equal(0);
  });

  it('derives one attachment with every field, the MAC in lower case', () => {
    const { attachments, problems } = derive(topology({}));
    expect(problems).to.deep.equal([]);
    expect([...attachments.values()]).to.deep.equal([{
      interfaceUuid: IFACE, interfaceName: 'vnet3', mac: MAC, ifaceId: 'if-1', vmUuid: 'vm-1', bridge: 'br-int', dpid: 0xa1n, ofport: 5,
    }]);
  });

  it('waits for a port number, a bridge and a datapath id (not ready is no attachment and no problem)', () => {
    const notReady: Array<[string, unknown]> = [
      ['no ofport yet', topology({ ofport: ['set', []] })],
      ['vswitchd could not open it', topology({ ofport: -1 })],
      ['ofport 0', topology({ ofport: 0 })],
      ['the bridge-local port', topology({ ofport: 65534 })],
      ['no datapath id yet', topology({}, { datapath_id: ['set', []] })],
      ['a datapath id of the wrong length', topology({}, { datapath_id: 'a1' })],
      ['port on no bridge', { ...topology({}), Bridge: { [BR]: { new: { name: 'br-int', datapath_id: '00000000000000a1', ports: ['set', []] } } } }],
      ['no attached-mac', topology({ external_ids: ['map', [['iface-id', 'if-1']]] })],
    ];
    for (const [why, updates] of notReady) {
      const { attachments, problems } = derive(updates);
      expect(attachments.size, why).to.equal(0);
      expect(problems, why).to.deep.equal([]);
    }
  });

  it('reports malformed hypervisor data as a problem and leaves the row out', () => {
    const malformed: Array<[unknown, RegExp]> = [
      [topology({ external_ids: ['map', [['attached-mac', 'not-a-mac']]] }), /attached-mac is not a MAC/],
      [topology({ external_ids: ['map', [['attached-mac', '52:54:00:ab:cd']]] }), /attached-mac is not a MAC/],
      [topology({ external_ids: ['map', [['attached-mac', 5]]] }), /string map entry/],
      [topology({ external_ids: 'attached-mac=x' }), /not a map/],
      [topology({ ofport: '5' }), /optional integer/],
    ];
    for (const [updates, reason] of malformed) {
      const { attachments, problems } = derive(updates);
      expect(attachments.size).to.equal(0);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.deep.include({ interfaceUuid: IFACE, interfaceName: 'vnet3' });
      expect(problems[0]!.reason).to.match(reason);
    }
  });

  it('leaves out optional ids that are absent or empty', () => {
    const { attachments } = derive(topology({ external_ids: ['map', [['attached-mac', MAC], ['iface-id', ''], ['vm-id', 'lv-1']]] }));
    const [a] = [...attachments.values()];
    expect(a).to.not.have.property('ifaceId');
    expect(a!.vmUuid).to.equal('lv-1');
  });

  it('diffs: additions, removals, a change as removal then addition, nothing for unrelated columns', () => {
    const before = derive(topology({})).attachments;
    expect(diffAttachments(new Map(), before, 5, true).map((e) => [e.state, e.at, e.initial])).to.deep.equal([['added', 5, true]]);
    expect(diffAttachments(before, new Map(), 6).map((e) => [e.state, e.ofport])).to.deep.equal([['removed', 5]]);
    const linkDown = derive(topology({ link_state: 'down', admin_state: 'down', mac_in_use: '00:00:00:00:00:01' })).attachments;
    expect(diffAttachments(before, linkDown, 7)).to.deep.equal([]);
    const moved = derive(topology({}, { name: 'br-ex', datapath_id: '00000000000000b2' })).attachments;
    expect(diffAttachments(before, moved, 8).map((e) => `${e.state} ${e.bridge} ${e.dpid}`)).to.deep.equal(['removed br-int 161', 'added br-ex 178']);
  });

  it('normalises MACs and refuses what is not one', () => {
    expect(normaliseMac(' 52:54:00:AB:CD:EF ')).to.equal('52:54:00:ab:cd:ef');
    for (const bad of ['', '52:54:00:ab:cd', '52-54-00-ab-cd-ef', '52:54:00:ab:cd:eg', '"52:54:00:ab:cd:ef"']) expect(normaliseMac(bad), bad).to.equal(undefined);
  });
});
