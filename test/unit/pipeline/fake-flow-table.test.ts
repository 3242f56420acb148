import { expect } from 'chai';
import {
  applyActions, flowMod, gotoTable, nxRegMove, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY_STRICT, OFPP_CONTROLLER,
  OFPP_FLOOD, OFPP_IN_PORT, OFPTT_ALL, outputPort, setField,
} from '../../../controller/openflow/index.js';
import { arpResponder } from '../../../controller/pipeline/index.js';
import { FakeFlowTable } from '../../lib/fake-flow-table.js';

const ip = { eth_src: '02:00:00:00:00:01', eth_dst: '02:00:00:00:00:02', eth_type: 0x0800, ipv4_src: '10.0.1.5', ipv4_dst: '10.0.2.7' };

describe('test/lib FakeFlowTable', () => {
  it('walks goto_table and applies set_field in order', () => {
    const t = new FakeFlowTable(1n, [1, 2, 3]);
    t.apply(flowMod({ tableId: 0, priority: 1, match: {}, instructions: [applyActions(setField('ipv4_dst', '10.9.9.9')), gotoTable(2)] }));
    t.apply(flowMod({ tableId: 2, priority: 5, match: { eth_type: 0x0800, ipv4_dst: '10.9.9.9' }, instructions: [applyActions(setField('eth_dst', '02:00:00:00:00:09'), outputPort(3))] }));
    const r = t.process(1, ip);
    expect(r.outputs).to.deep.equal([{ port: 3, headers: { ...ip, ipv4_dst: '10.9.9.9', eth_dst: '02:00:00:00:00:09' } }]);
    expect(r.trace.map((x) => x.table)).to.deep.equal([0, 2]);
  });

  it('matches masked fields and picks the highest priority', () => {
    const t = new FakeFlowTable(1n, [1, 2, 3]);
    t.apply(flowMod({ tableId: 0, priority: 10, match: { eth_type: 0x0800, ipv4_dst: ['10.0.0.0', '255.255.0.0'] }, instructions: [applyActions(outputPort(2))] }));
    t.apply(flowMod({ tableId: 0, priority: 20, match: { eth_type: 0x0800, ipv4_dst: ['10.0.2.0', '255.255.255.0'] }, instructions: [applyActions(outputPort(3))] }));
    expect(t.process(1, ip).outputs.map((o) => o.port)).to.deep.equal([3]);
    expect(t.process(1, { ...ip, ipv4_dst: '10.0.5.1' }).outputs.map((o) => o.port)).to.deep.equal([2]);
    expect(t.process(1, { ...ip, ipv4_dst: '11.0.5.1' }).outputs).to.deep.equal([]); // no table-miss: dropped
  });

  it('floods to every port but the input, resolves IN_PORT, and drops output to the input port', () => {
    const t = new FakeFlowTable(1n, [1, 2, 3]);
    t.apply(flowMod({ tableId: 0, priority: 1, match: { in_port: 1 }, instructions: [applyActions(outputPort(OFPP_FLOOD))] }));
    t.apply(flowMod({ tableId: 0, priority: 1, match: { in_port: 2 }, instructions: [applyActions(outputPort(OFPP_IN_PORT))] }));
    t.apply(flowMod({ tableId: 0, priority: 1, match: { in_port: 3 }, instructions: [applyActions(outputPort(3), outputPort(OFPP_CONTROLLER))] }));
    expect(t.process(1, ip).outputs.map((o) => o.port)).to.deep.equal([2, 3]);
    expect(t.process(2, ip).outputs.map((o) => o.port)).to.deep.equal([2]);
    const r = t.process(3, ip);
    expect([r.outputs, r.suppressed.map((o) => o.port), r.toController.length]).to.deep.equal([[], [3], 1]);
  });

  it('ADD overwrites the rule with the same priority and match', () => {
    const t = new FakeFlowTable(1n, [1, 2, 3]);
    t.apply(flowMod({ tableId: 0, priority: 1, cookie: 1n, match: { in_port: 1 }, instructions: [applyActions(outputPort(2))] }));
    t.apply(flowMod({ tableId: 0, priority: 1, cookie: 2n, match: { in_port: 1 }, instructions: [applyActions(outputPort(3))] }));
    expect(t.flows().map((f) => f.cookie)).to.deep.equal([2n]);
    expect(t.process(1, ip).outputs.map((o) => o.port)).to.deep.equal([3]);
  });

  it('DELETE_STRICT honours the cookie mask; DELETE removes narrower rules in a table or all tables', () => {
    const t = new FakeFlowTable(1n);
    const rule = (table: number, priority: number, cookie: bigint, match: object) =>
      t.apply(flowMod({ tableId: table, priority, cookie, match, instructions: [] }));
    rule(0, 5, 0x1_0000_0001n, { in_port: 1, eth_src: '02:00:00:00:00:01' });
    rule(0, 5, 0x1_0000_0001n, { in_port: 2 });
    rule(1, 7, 0x2_0000_0001n, { in_port: 1 });
    rule(2, 9, 0x5ea1_0000_0000_0000n, { eth_dst: '02:00:00:00:00:01' });
    t.apply(flowMod({ command: OFPFC_DELETE_STRICT, tableId: 0, priority: 5, match: { in_port: 2 }, cookie: 0x1_0000_0002n, cookieMask: 0xffff_ffff_ffff_ffffn }));
    expect(t.flows()).to.have.length(4); // wrong cookie: kept
    t.apply(flowMod({ command: OFPFC_DELETE_STRICT, tableId: 0, priority: 5, match: { in_port: 2 }, cookie: 0x1_0000_0001n, cookieMask: 0xffff_ffff_ffff_ffffn }));
    expect(t.flows()).to.have.length(3);
    t.apply(flowMod({ command: OFPFC_DELETE, tableId: OFPTT_ALL, match: { in_port: 1 }, cookie: 0x1_0000_0000n, cookieMask: 0xffff_ffff_0000_0000n }));
    expect(t.flows().map((f) => f.table)).to.deep.equal([1, 2]); // only binding 1's in_port=1 rule went
    t.apply(flowMod({ command: OFPFC_DELETE, tableId: OFPTT_ALL, match: {}, cookie: 0x5ea1_0000_0000_0000n, cookieMask: 0xffff_0000_0000_0000n }));
    expect(t.flows().map((f) => f.table)).to.deep.equal([1]);
  });

  it('MODIFY_STRICT replaces instructions of one rule', () => {
    const t = new FakeFlowTable(1n, [1, 2, 3]);
    t.apply(flowMod({ tableId: 0, priority: 1, match: {}, instructions: [applyActions(outputPort(2))] }));
    t.apply(flowMod({ command: OFPFC_MODIFY_STRICT, tableId: 0, priority: 1, match: {}, instructions: [applyActions(outputPort(3))] }));
    expect(t.process(1, ip).outputs.map((o) => o.port)).to.deep.equal([3]);
  });

  it('refuses to guess between two matching rules of one priority', () => {
    const t = new FakeFlowTable(1n);
    t.apply(flowMod({ tableId: 0, priority: 1, match: { in_port: 1 }, instructions: [] }));
    t.apply(flowMod({ tableId: 0, priority: 1, match: { eth_type: 0x0800 }, instructions: [] }));
    expect(() => t.process(1, ip)).to.throw(/ambiguous/);
  });

  it('runs the Nicira ARP responder moves (answering for a fixed address and for the requested one)', () => {
    const t = new FakeFlowTable(1n, [1, 2]);
    t.apply(flowMod({ tableId: 0, priority: 2, match: { eth_type: 0x0806, arp_tpa: '10.0.2.200' }, instructions: [applyActions(...arpResponder('02:00:00:00:01:0a', { ip: '10.0.2.200' }))] }));
    t.apply(flowMod({ tableId: 0, priority: 1, match: { eth_type: 0x0806 }, instructions: [applyActions(...arpResponder('02:00:00:00:01:01', 'requested'))] }));
    const ask = (tpa: string) => t.process(2, {
      eth_src: '02:00:00:00:02:01', eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806,
      arp_op: 1, arp_sha: '02:00:00:00:02:01', arp_spa: '10.0.2.1', arp_tha: '00:00:00:00:00:00', arp_tpa: tpa,
    }).outputs;
    expect(ask('10.0.2.200')).to.deep.equal([{ port: 2, headers: {
      eth_src: '02:00:00:00:01:0a', eth_dst: '02:00:00:00:02:01', eth_type: 0x0806,
      arp_op: 2, arp_sha: '02:00:00:00:01:0a', arp_spa: '10.0.2.200', arp_tha: '02:00:00:00:02:01', arp_tpa: '10.0.2.1',
    } }]);
    expect(ask('10.0.1.33')[0]!.headers).to.deep.include({ arp_sha: '02:00:00:00:01:01', arp_spa: '10.0.1.33', arp_tpa: '10.0.2.1' });
  });

  it('refuses set_field on a packet without that field (OVS rejects such flows)', () => {
    const t = new FakeFlowTable(1n);
    t.apply(flowMod({ tableId: 0, priority: 1, match: {}, instructions: [applyActions(setField('arp_op', 2))] }));
    expect(() => t.process(1, ip)).to.throw(/without that field/);
    t.apply(flowMod({ tableId: 0, priority: 2, match: { eth_type: 0x0800 }, instructions: [applyActions(nxRegMove('NXM_OF_IP_SRC', 'NXM_NX_REG0'), nxRegMove('NXM_NX_REG0', 'NXM_OF_IP_DST'), outputPort(2))] }));
    expect(t.process(1, ip).outputs[0]!.headers.ipv4_dst).to.equal(ip.ipv4_src);
  });
});
