import { expect } from 'chai';
import { applyActions, gotoTable, nxRegMove, OFPP_CONTROLLER, OFPP_FLOOD, outputPort, setField } from '../../../controller/openflow/index.js';
import { bindingCookie, COOKIE_BASE, validateRule, validateRules, type Rule } from '../../../controller/pipeline/index.js';

const good: Rule = {
  table: 2, priority: 300, phase: 'receive', kind: 'deliverLocator', owner: 1, cookie: bindingCookie(1, 1),
  match: { eth_type: 0x0800, ipv4_dst: '10.0.2.200' },
  instructions: [applyActions(setField('ipv4_dst', '10.0.1.10'), setField('eth_dst', '02:00:00:00:01:0a'), outputPort(10))],
};

describe('pipeline/validate', () => {
  it('accepts a rule that fits its declarations', () => {
    expect(validateRule(good)).to.deep.equal([]);
  });

  const bad: { name: string; rule: Rule; problem: RegExp }[] = [
    { name: 'an undeclared table', rule: { ...good, table: 7 }, problem: /table 7 is not declared/ },
    { name: 'a match field the table may not use', rule: { ...good, match: { ...good.match, tcp_dst: 80 } }, problem: /matches tcp_dst, not allowed in dst_rewrite/ },
    { name: 'an IPv4 field without eth_type', rule: { ...good, match: { ipv4_dst: '10.0.2.200' } }, problem: /IPv4 field without eth_type=0x0800/ },
    { name: 'an ARP field without eth_type', rule: { ...good, table: 0, priority: 950, kind: 'locatorArpResponder', match: { arp_tpa: '10.0.2.200' }, instructions: [] }, problem: /ARP field without eth_type=0x0806/ },
    { name: 'a set field the table may not write', rule: { ...good, instructions: [applyActions(setField('arp_spa', '10.0.2.200'), outputPort(10))] }, problem: /sets arp_spa, not allowed in dst_rewrite/ },
    { name: 'a Nicira move into a field the table may not write', rule: { ...good, table: 0, priority: 950, kind: 'locatorArpResponder', match: { eth_type: 0x0806 }, instructions: [applyActions(nxRegMove('NXM_OF_IP_SRC', 'NXM_OF_IP_DST'), outputPort(0xfffffff8))] }, problem: /moves into NXM_OF_IP_DST/ },
    { name: 'a goto backwards', rule: { ...good, instructions: [gotoTable(1)] }, problem: /goto_table:1 goes backwards/ },
    { name: 'a goto that skips a table', rule: { ...good, table: 0, priority: 100, phase: 'send', kind: 'vmGate', match: { in_port: 10 }, instructions: [gotoTable(2)] }, problem: /goto_table:2 not allowed after ingress/ },
    { name: 'a flood where the table may not flood', rule: { ...good, instructions: [applyActions(outputPort(OFPP_FLOOD))] }, problem: /not allowed in dst_rewrite/ },
    { name: 'a truncated packet-in', rule: { ...good, table: 0, priority: 960, kind: 'vmAnnounceToController', match: { eth_type: 0x0806 }, instructions: [applyActions(outputPort(OFPP_CONTROLLER, 128))] }, problem: /whole packets/ },
    { name: 'an output that is not last', rule: { ...good, instructions: [applyActions(outputPort(10), setField('eth_dst', '02:00:00:00:01:0a'))] }, problem: /output is not the last action/ },
    { name: 'an output and a goto together', rule: { ...good, instructions: [applyActions(outputPort(10)), gotoTable(3)] }, problem: /both outputs and continues/ },
    { name: 'a write-actions instruction', rule: { ...good, instructions: [{ type: 'WRITE_ACTIONS', actions: [] }] }, problem: /only APPLY_ACTIONS and GOTO_TABLE/ },
    { name: 'a kind at another table/priority', rule: { ...good, priority: 301 }, problem: /declared at table 2 p=300/ },
    { name: 'a phase that is not the kind\'s', rule: { ...good, phase: 'send' }, problem: /phase send, declared receive/ },
    { name: 'a per-binding rule with the base cookie', rule: { ...good, cookie: COOKIE_BASE }, problem: /per-binding rule with a base cookie/ },
    { name: 'a cookie naming another binding', rule: { ...good, owner: 2 }, problem: /cookie names binding 1, owner is 2/ },
    { name: 'a base rule with a binding cookie', rule: { ...good, table: 3, priority: 0, phase: 'base', kind: 'l2Flood', match: {}, instructions: [applyActions(outputPort(OFPP_FLOOD))] }, problem: /base rule with a binding cookie/ },
  ];
  for (const c of bad) {
    it(`catches ${c.name}`, () => {
      const problems = validateRule(c.rule);
      expect(problems.join('\n')).to.match(c.problem);
    });
  }

  it('catches two rules with one identity on a switch', () => {
    const problems = validateRules(new Map([['0000000000000002', [good, { ...good, match: { ipv4_dst: '10.0.2.200', eth_type: 0x0800 } }]]]));
    expect(problems.join('\n')).to.match(/two rules with identity/);
  });
});
