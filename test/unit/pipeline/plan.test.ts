import { expect } from 'chai';
import type { Binding } from '../../../controller/mobility/index.js';
import {
  applyActions, decodeMessage, encodeMessage, flowMod, gotoTable, OFPFC_ADD, OFPFC_DELETE_STRICT, outputPort,
  type FlowMod, type FlowStats,
} from '../../../controller/openflow/index.js';
import {
  applyToInstalled, bindingCookie, compileRules, COOKIE_LEARNER, diffRules, InstalledTable, installedFromFlowStats, isEmptyPlan,
  normaliseBatch, planUpdate, resolveGatewayMacs, ruleKey, switchInfos, toFlowMod, withoutInstalled, type InstalledRule, type Rule,
} from '../../../controller/pipeline/index.js';
import { caseStudySubnets, VM } from '../mobility/fixtures.js';

const subnets = caseStudySubnets();
const gatewayMacs = resolveGatewayMacs(subnets);
const switches = switchInfos(subnets, [1n, 2n, 3n]);

const vmAt = (subnet: string, dpid: bigint, address: string, version: number): Binding => ({
  id: 1, eid: VM.eid, mac: VM.mac, homeSubnet: 'A', version, lastSeen: 0, createdAt: 0, locator: { subnet, dpid, port: 10, address },
});
const desired = (...bindings: Binding[]) => compileRules({ bindings, subnets, switches, gatewayMacs });

/** What the switches hold once a plan has fully run. */
function afterPlan(installed: Map<string, InstalledRule[]>, plan: ReturnType<typeof planUpdate>): Map<string, InstalledRule[]> {
  const out = new Map(installed);
  for (const step of plan.steps) for (const [dpid, mods] of step.mods) out.set(dpid, applyToInstalled(out.get(dpid) ?? [], mods));
  return out;
}

function asStats(m: FlowMod): FlowStats {
  return { tableId: m.tableId, priority: m.priority, match: m.match, instructions: m.instructions, cookie: m.cookie, idleTimeout: m.idleTimeout, hardTimeout: 0, flags: 0, durationSec: 1, durationNsec: 0, packetCount: 0n, byteCount: 0n };
}

describe('pipeline/plan', () => {
  describe('ruleKey', () => {
    const base = { table: 0, priority: 950, match: { eth_type: 0x0806, arp_op: 1, arp_tpa: ['10.0.1.0', '255.255.255.0'] as const } };
    const same: [string, object][] = [
      ['keys in another order', { ...base, match: { arp_tpa: ['10.0.1.0', '255.255.255.0'], arp_op: 1, eth_type: 0x0806 } }],
      ['host bits under the mask', { ...base, match: { ...base.match, arp_tpa: ['10.0.1.77', '255.255.255.0'] } }],
    ];
    for (const [name, other] of same) it(`ignores ${name}`, () => expect(ruleKey(other as Rule)).to.equal(ruleKey(base as unknown as Rule)));
    it('ignores MAC case and full masks', () => {
      expect(ruleKey({ table: 3, priority: 150, match: { eth_dst: '02:00:00:00:01:0A' } })).to.equal(ruleKey({ table: 3, priority: 150, match: { eth_dst: ['02:00:00:00:01:0a', 'ff:ff:ff:ff:ff:ff'] } }));
    });
    it('tells table, priority and values apart', () => {
      const keys = new Set([
        ruleKey(base as unknown as Rule),
        ruleKey({ ...base, table: 1 } as unknown as Rule),
        ruleKey({ ...base, priority: 951 } as unknown as Rule),
        ruleKey({ ...base, match: { ...base.match, arp_tpa: ['10.0.1.0', '255.255.0.0'] } } as unknown as Rule),
        ruleKey({ ...base, match: { ...base.match, arp_op: 2 } } as unknown as Rule),
      ]);
      expect(keys.size).to.equal(5);
    });
  });

  describe('diffRules', () => {
    const rule: Rule = { table: 3, priority: 150, phase: 'base', match: { eth_dst: '02:00:00:00:01:01' }, instructions: [applyActions(outputPort(1))], cookie: 0x5ea0_0000_0000_0000n };
    const table: { name: string; installed: InstalledRule[]; desired: Rule[]; adds: number; removes: number }[] = [
      { name: 'nothing installed: add', installed: [], desired: [rule], adds: 1, removes: 0 },
      { name: 'identical: nothing', installed: [rule], desired: [rule], adds: 0, removes: 0 },
      { name: 'other output: overwrite', installed: [{ ...rule, instructions: [applyActions(outputPort(2))] }], desired: [rule], adds: 1, removes: 0 },
      { name: 'other cookie: overwrite', installed: [{ ...rule, cookie: bindingCookie(3, 1) }], desired: [rule], adds: 1, removes: 0 },
      { name: 'no longer desired: remove', installed: [rule], desired: [], adds: 0, removes: 1 },
      { name: 'learned rules are not ours', installed: [{ ...rule, priority: 100, cookie: COOKIE_LEARNER }], desired: [], adds: 0, removes: 0 },
      { name: 'foreign rules are not ours', installed: [{ ...rule, priority: 7, cookie: 0n }], desired: [], adds: 0, removes: 0 },
      { name: 'same identity learned: our add overwrites it', installed: [{ ...rule, cookie: COOKIE_LEARNER }], desired: [rule], adds: 1, removes: 0 },
    ];
    for (const c of table) {
      it(c.name, () => {
        const d = diffRules(c.installed, c.desired);
        expect([d.adds.length, d.removes.length]).to.deep.equal([c.adds, c.removes]);
      });
    }
  });

  describe('planUpdate', () => {
    it('first connect: base and receive rules in step 1, send rules in step 2, nothing to clean', () => {
      const plan = planUpdate(new Map(), desired(vmAt('B', 2n, '10.0.2.200', 2)));
      const s2 = (i: 0 | 1 | 2) => plan.steps[i].mods.get('0000000000000002') ?? [];
      expect(s2(0).every((m) => m.command === OFPFC_ADD)).to.equal(true);
      expect(s2(0).map((m) => m.priority)).to.include.members([0, 1000, 150, 300, 950, 960, 940]);
      expect(s2(1).map((m) => m.priority)).to.include.members([310, 300, 290, 100, 200]);
      expect(s2(1).some((m) => m.tableId === 0 && m.priority === 0)).to.equal(false);
      expect(plan.steps[2].mods.size).to.equal(0);
    });

    it('a settled network needs no plan', () => {
      const want = desired(vmAt('B', 2n, '10.0.2.200', 2));
      const installed = afterPlan(new Map(), planUpdate(new Map(), want));
      expect(isEmptyPlan(planUpdate(installed, want))).to.equal(true);
    });

    it('a move B -> C: receive adds, then send adds and send removes, then receive removes', () => {
      const before = afterPlan(new Map(), planUpdate(new Map(), desired(vmAt('B', 2n, '10.0.2.200', 2))));
      const plan = planUpdate(before, desired(vmAt('C', 3n, '10.0.3.192', 3)));
      const oldCookie = bindingCookie(1, 2);
      const [step1, step2, step3] = plan.steps.map((s) => [...s.mods.values()].flat());
      expect(step1!.every((m) => m.command === OFPFC_ADD && m.cookie === bindingCookie(1, 3))).to.equal(true);
      expect(step1!.some((m) => m.priority === 300 && m.tableId === 2 && m.match.ipv4_dst === '10.0.3.192')).to.equal(true);
      expect(step2!.filter((m) => m.command === OFPFC_DELETE_STRICT).map((m) => [m.tableId, m.priority]).sort()).to.deep.equal(
        [[0, 100], [1, 290], [1, 300], [1, 300], [1, 300], [1, 310], [1, 310], [1, 310]]);
      expect(step3!.map((m) => [m.tableId, m.priority]).sort()).to.deep.equal(
        [[0, 110], [0, 940], [0, 950], [0, 950], [0, 960], [1, 200], [1, 200], [1, 200], [2, 300], [2, 310], [2, 310], [2, 310]]);
      for (const d of [...step2!, ...step3!].filter((m) => m.command === OFPFC_DELETE_STRICT)) {
        expect([d.cookie, d.cookieMask]).to.deep.equal([oldCookie, 0xffff_ffff_ffff_ffffn]);
        expect(d.instructions).to.deep.equal([]);
      }
      // dst EID -> locator keeps its identity everywhere: overwritten in step 2, never deleted.
      expect(step2!.filter((m) => m.command === OFPFC_ADD && m.tableId === 2 && m.priority === 200)).to.have.length(3);
      const after = afterPlan(before, plan);
      expect(isEmptyPlan(planUpdate(after, desired(vmAt('C', 3n, '10.0.3.192', 3))))).to.equal(true);
    });

    it('returning home removes every per-binding rule and adds none', () => {
      const before = afterPlan(new Map(), planUpdate(new Map(), desired(vmAt('B', 2n, '10.0.2.200', 2))));
      const plan = planUpdate(before, desired(vmAt('A', 1n, VM.eid, 3)));
      const all = plan.steps.flatMap((s) => [...s.mods.values()].flat());
      expect(all.every((m) => m.command === OFPFC_DELETE_STRICT)).to.equal(true);
      const after = afterPlan(before, plan);
      for (const rules of after.values()) expect(rules.every((r) => r.cookie === 0x5ea0_0000_0000_0000n)).to.equal(true);
    });

    it('leaves switches that are gone alone', () => {
      const installed = new Map([['00000000000000ff', [{ table: 0, priority: 0, match: {}, instructions: [], cookie: 0x5ea0_0000_0000_0000n }]]]);
      const plan = planUpdate(installed, new Map());
      expect(isEmptyPlan(plan)).to.equal(true);
    });
  });

  describe('normaliseBatch', () => {
    const add = (table: number, priority: number, port: number) => flowMod({ tableId: table, priority, match: { in_port: 1 }, instructions: [applyActions(outputPort(port))] });
    const del = (table: number) => flowMod({ command: OFPFC_DELETE_STRICT, tableId: table, priority: 5, match: { in_port: 9 }, cookie: 3n, cookieMask: 0xffff_ffff_ffff_ffffn });

    it('puts deletes first (upstream tables first) and adds from the last table to the first', () => {
      const out = normaliseBatch([add(0, 100, 1), del(2), add(2, 300, 1), del(0), add(1, 300, 1)]);
      expect(out.map((m) => `${m.command === OFPFC_DELETE_STRICT ? 'del' : 'add'}:${m.tableId}`)).to.deep.equal(['del:0', 'del:2', 'add:2', 'add:1', 'add:0']);
    });

    it('drops duplicates; for one identity the last add wins', () => {
      const out = normaliseBatch([add(2, 300, 1), del(0), add(2, 300, 2), del(0)]);
      expect(out).to.have.length(2);
      expect(out[1]!.instructions).to.deep.equal([applyActions(outputPort(2))]);
    });
  });

  describe('resync', () => {
    it('reads compiled rules back through the wire codec and finds nothing to do', () => {
      const want = desired(vmAt('B', 2n, '10.0.2.200', 2));
      const installed = new Map<string, InstalledRule[]>();
      for (const [dpid, rules] of want) {
        const stats = rules.map((r) => {
          const decoded = decodeMessage(encodeMessage({ ...toFlowMod(r), xid: 1 }));
          if (!decoded.ok || decoded.message.type !== 'FLOW_MOD') throw new Error('codec');
          return asStats(decoded.message);
        });
        const learned = asStats(flowMod({ tableId: 3, priority: 100, match: { eth_dst: '02:00:00:00:02:14' }, cookie: COOKIE_LEARNER, idleTimeout: 60, instructions: [applyActions(outputPort(2))] }));
        const foreign = asStats(flowMod({ tableId: 0, priority: 5, match: {}, instructions: [gotoTable(1)] }));
        installed.set(dpid, installedFromFlowStats([...stats.reverse(), learned, foreign]));
      }
      expect(isEmptyPlan(planUpdate(installed, want))).to.equal(true);
    });

    it('removes what a binding removed while we were down left behind, and duplicates nothing', () => {
      const stale = afterPlan(new Map(), planUpdate(new Map(), desired(vmAt('B', 2n, '10.0.2.200', 2))));
      const plan = planUpdate(stale, desired());
      const all = plan.steps.flatMap((s) => [...s.mods.values()].flat());
      expect(all.filter((m) => m.command === OFPFC_ADD)).to.deep.equal([]);
      expect(all.filter((m) => m.command === OFPFC_DELETE_STRICT).length).to.equal([...stale.values()].flat().filter((r) => r.cookie === bindingCookie(1, 2)).length);
    });
  });

  describe('applyToInstalled', () => {
    it('overwrites by identity and deletes only with the exact cookie', () => {
      const r: Rule = { table: 2, priority: 200, phase: 'send', match: { eth_type: 0x0800, ipv4_dst: VM.eid }, instructions: [applyActions(outputPort(1))], cookie: bindingCookie(1, 2) };
      let rules = applyToInstalled([], [toFlowMod(r)]);
      rules = applyToInstalled(rules, [toFlowMod({ ...r, cookie: bindingCookie(1, 3) })]);
      expect(rules).to.have.length(1);
      rules = applyToInstalled(rules, [toFlowMod(r, OFPFC_DELETE_STRICT)]); // old cookie: no effect
      expect(rules.map((x) => x.cookie)).to.deep.equal([bindingCookie(1, 3)]);
      rules = applyToInstalled(rules, [toFlowMod({ ...r, cookie: bindingCookie(1, 3) }, OFPFC_DELETE_STRICT)]);
      expect(rules).to.deep.equal([]);
    });
  });

  describe('InstalledTable (the mirror TableSync keeps per switch)', () => {
    it('kept across a migration\'s plans, holds what the list functions compute from scratch, and skips what it holds', () => {
      const journey = [desired(vmAt('B', 2n, '10.0.2.200', 2)), desired(vmAt('C', 3n, '10.0.3.192', 3)), desired(vmAt('A', 1n, VM.eid, 4)), desired()];
      let lists = new Map<string, InstalledRule[]>();
      const tables = new Map<string, InstalledTable>();
      for (const want of journey) {
        for (const step of planUpdate(lists, want).steps) {
          for (const [dpid, mods] of step.mods) {
            let table = tables.get(dpid);
            if (table === undefined) tables.set(dpid, (table = new InstalledTable()));
            const listed = lists.get(dpid) ?? [];
            expect(table.without(mods), `${dpid} ${step.name}: the same FLOW_MODs left to send`).to.deep.equal(withoutInstalled(mods, listed));
            table.apply(mods);
            lists = new Map(lists).set(dpid, applyToInstalled(listed, mods));
            expect(table.rules(), `${dpid} after ${step.name}`).to.deep.equal(lists.get(dpid));
          }
        }
        // Everything it holds now is what is wanted: planned again, each step is filtered to nothing.
        for (const step of planUpdate(lists, want).steps) {
          for (const [dpid, mods] of step.mods) expect(tables.get(dpid)!.without(mods.filter((m) => m.command === OFPFC_ADD))).to.deep.equal([]);
        }
      }
      expect([...tables.values()].reduce((n, t) => n + t.size, 0)).to.be.above(0);
    });
  });
});
