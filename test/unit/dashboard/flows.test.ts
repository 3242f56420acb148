// The flow table's pure pieces: wrap points in a dump-flows line, row identity, the filter, and
// the reorder plan that leaves rows in place.

import { expect } from 'chai';
import { filterWords, flowKey, matchesFilter, reorderPlan, rulePieces } from '../../../controller/dashboard/flows.js';

const LINES = [
  'cookie=0x700000002, table=1, priority=300,ip,in_port=10,nw_src=10.0.1.10,nw_dst=10.0.0.0/255.255.0.0 actions=set_field:10.0.2.200->ip_src,goto_table:2',
  'cookie=0x100000000, priority=960,arp,in_port=10,arp_spa=10.0.1.10,arp_op=1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:01:01->eth_src,IN_PORT',
  'priority=0 actions=NORMAL',
  'cookie=0x1, duration=3.500s, table=0, n_packets=5, n_bytes=420, priority=0 actions=CONTROLLER:65535',
];

describe('dashboard: flow rows', () => {
  it('cuts a rule only after a comma or before actions=, and the pieces join back to the line', () => {
    for (const line of LINES) {
      const pieces = rulePieces(line);
      expect(pieces.join('')).to.equal(line);
      for (const p of pieces.slice(0, -1)) expect(p, JSON.stringify(p)).to.match(/(,|, | )$/);
      for (const p of pieces) expect(p.trimEnd().replace(/,$/, '')).not.to.include(', ');
    }
    expect(rulePieces(LINES[0]!)).to.deep.equal([
      'cookie=0x700000002, ', 'table=1, ', 'priority=300,', 'ip,', 'in_port=10,', 'nw_src=10.0.1.10,', 'nw_dst=10.0.0.0/255.255.0.0 ',
      'actions=set_field:10.0.2.200->ip_src,', 'goto_table:2',
    ]);
    // Fields with their own punctuation stay whole.
    expect(rulePieces(LINES[1]!)).to.include.members(['actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],', 'set_field:02:00:00:00:01:01->eth_src,']);
    expect(rulePieces('')).to.deep.equal([]);
    expect(rulePieces('actions=drop')).to.deep.equal(['actions=drop']);
  });

  it('identifies a rule by table and match, not by its counters', () => {
    const a = { table: 1, match: 'priority=300,ip,nw_dst=10.0.1.10' };
    expect(flowKey(a)).to.equal(flowKey({ ...a, packets: 99 } as typeof a));
    expect(flowKey(a)).not.to.equal(flowKey({ ...a, table: 2 }));
    expect(flowKey(a)).not.to.equal(flowKey({ ...a, match: 'priority=301,ip,nw_dst=10.0.1.10' }));
  });

  it('filters on every word, across the rule, its owner, kind and table name', () => {
    const flow = { table: 2, match: '', text: LINES[0]!, kind: 'binding', binding: '10.0.1.10' };
    expect(matchesFilter(flow, filterWords('  '), 'dst_rewrite')).to.equal(true);
    expect(matchesFilter(flow, filterWords('SET_FIELD 10.0.1.10'), 'dst_rewrite')).to.equal(true);
    expect(matchesFilter(flow, filterWords('dst_rewrite binding'), 'dst_rewrite')).to.equal(true);
    expect(matchesFilter(flow, filterWords('set_field learner'), 'dst_rewrite')).to.equal(false);
  });

  describe('reorder plan', () => {
    it('a steady table needs no DOM operation', () => {
      expect(reorderPlan(['a', 'b', 'c'], ['a', 'b', 'c'])).to.deep.equal({ remove: [], place: [] });
    });

    it('a new rule is one insertion, a gone rule one removal; the others stay put', () => {
      expect(reorderPlan(['a', 'b', 'c'], ['a', 'x', 'b', 'c'])).to.deep.equal({ remove: [], place: [{ key: 'x', before: 'b' }] });
      expect(reorderPlan(['a', 'b', 'c'], ['a', 'b', 'c', 'x'])).to.deep.equal({ remove: [], place: [{ key: 'x', before: null }] });
      expect(reorderPlan(['a', 'b', 'c'], ['a', 'c'])).to.deep.equal({ remove: ['b'], place: [] });
      expect(reorderPlan([], ['a', 'b'])).to.deep.equal({ remove: [], place: [{ key: 'a', before: null }, { key: 'b', before: null }] });
    });

    it('any reordering applied to the current list gives the desired one', () => {
      const apply = (current: string[], desired: string[]) => {
        const plan = reorderPlan(current, desired);
        const list = current.filter((k) => !plan.remove.includes(k));
        for (const { key, before } of plan.place) {
          const at = list.indexOf(key);
          if (at !== -1) list.splice(at, 1);
          list.splice(before === null ? list.length : list.indexOf(before), 0, key);
        }
        return list;
      };
      const cases: [string[], string[]][] = [
        [['a', 'b', 'c'], ['c', 'b', 'a']], [['a', 'b', 'c', 'd'], ['b', 'd', 'x', 'a']], [['a'], []], [['a', 'b'], ['b', 'a', 'c']],
      ];
      for (const [current, desired] of cases) expect(apply(current, desired)).to.deep.equal(desired);
    });
  });
});
