import { expect } from 'chai';
import type { Binding } from '../../../controller/mobility/index.js';
import {
  applyToInstalled, bindingInputsKey, compileRules, planBindingChange, planUpdate, resolveGatewayMacs, sameBindingRules, switchInfos,
  type InstalledRule, type UpdatePlan,
} from '../../../controller/pipeline/index.js';
import { caseStudySubnets, VM } from '../mobility/fixtures.js';

const subnets = caseStudySubnets();
const gatewayMacs = resolveGatewayMacs(subnets);
const switches = switchInfos(subnets, [1n, 2n, 3n]);
const state = { subnets, switches, gatewayMacs };

const other: Binding = { id: 7, eid: '10.0.3.30', mac: '02:00:00:00:03:1e', homeSubnet: 'C', version: 4, lastSeen: 0, createdAt: 0, locator: { subnet: 'A', dpid: 1n, port: 6, address: '10.0.1.200' } };
const vm = (version: number, subnet: string, dpid: bigint, address: string): Binding =>
  ({ id: 1, eid: VM.eid, mac: VM.mac, homeSubnet: 'A', version, lastSeen: 0, createdAt: 0, locator: { subnet, dpid, port: 10, address } });
const journey = [vm(1, 'A', 1n, VM.eid), vm(2, 'B', 2n, '10.0.2.200'), vm(3, 'C', 3n, '10.0.3.192'), vm(4, 'C', 3n, '10.0.3.192'), vm(5, 'A', 1n, VM.eid)];

function run(installed: Map<string, InstalledRule[]>, plan: UpdatePlan): Map<string, InstalledRule[]> {
  const out = new Map(installed);
  for (const step of plan.steps) for (const [dpid, mods] of step.mods) out.set(dpid, applyToInstalled(out.get(dpid) ?? [], mods));
  return out;
}

const show = (plan: UpdatePlan) => plan.steps.map((s) => Object.fromEntries([...s.mods].filter(([, m]) => m.length > 0)));

describe('pipeline/binding-plan', () => {
  it('plans each move of A -> B -> C -> (C, other port) -> A exactly like a full recompile', () => {
    // Another moved binding is present throughout: its rules must never be touched.
    let installed = run(new Map(), planUpdate(new Map(), compileRules({ ...state, bindings: [journey[0]!, other] })));
    for (let i = 1; i < journey.length; i++) {
      const full = planUpdate(installed, compileRules({ ...state, bindings: [journey[i]!, other] }));
      const incremental = planBindingChange(journey[i - 1], journey[i], state);
      expect(incremental.problem).to.equal(undefined);
      expect(show(incremental.plan), `move ${i}`).to.deep.equal(show(full));
      installed = run(installed, incremental.plan);
    }
    expect(planBindingChange(journey[4], undefined, state).plan.steps.every((s) => s.mods.size === 0)).to.equal(true);
  });

  it('plans the removal of a moved binding as deletes only', () => {
    const { plan } = planBindingChange(journey[1], undefined, state);
    const mods = plan.steps.flatMap((s) => [...s.mods.values()].flat());
    expect(mods.length).to.be.greaterThan(0);
    expect(mods.every((m) => m.command === 4)).to.equal(true);
  });

  it('reports a binding it cannot compile and removes its old rules', () => {
    const noB = { ...state, gatewayMacs: new Map([...gatewayMacs].filter(([n]) => n !== 'B')) };
    const { plan, problem } = planBindingChange(journey[2], journey[1], noB);
    expect(problem).to.match(/gateway MAC of B/);
    expect(plan.steps.flatMap((s) => [...s.mods.values()].flat()).every((m) => m.command === 4)).to.equal(true);
  });

  describe('what a binding\'s rules depend on (a plan made at staging is reused only while it holds)', () => {
    const id = journey[1]!.id;
    const key = (changes: Partial<typeof state> & { correspondents?: Parameters<typeof bindingInputsKey>[0]['correspondents']; buffering?: (id: number) => 'copy' | 'hold' | undefined } = {}) =>
      bindingInputsKey({ ...state, ...changes }, id);

    it('is the same for the same state built twice, and the plans are then the same', () => {
      const again = { subnets, switches: switchInfos(subnets, [1n, 2n, 3n]), gatewayMacs: resolveGatewayMacs(subnets) };
      expect(bindingInputsKey(again, id)).to.equal(key());
      expect(show(planBindingChange(journey[1], journey[2], again).plan)).to.deep.equal(show(planBindingChange(journey[1], journey[2], state).plan));
    });

    it('changes with every input that changes the binding\'s rules', () => {
      const variants: Record<string, string> = {
        'a switch gone': key({ switches: switchInfos(subnets, [1n, 2n]) }),
        'a router port learned': key({ switches: switches.map((s) => (s.dpid === 2n ? { ...s, routerPort: 7 } : s)) }),
        'a gateway MAC changed': key({ gatewayMacs: new Map([...gatewayMacs].map(([n, m]) => [n, n === 'B' ? '02:00:00:00:99:99' : m])) }),
        'on-demand, not cached': key({ correspondents: { mode: 'on-demand', cached: () => new Set(), idleTimeoutSec: 60 } }),
        'on-demand, cached at s1': key({ correspondents: { mode: 'on-demand', cached: (b) => new Set(b === id ? [1n] : []), idleTimeoutSec: 60 } }),
        'held (stopped VM)': key({ buffering: (b) => (b === id ? 'hold' : undefined) }),
        'copied (migrating VM)': key({ buffering: (b) => (b === id ? 'copy' : undefined) }),
      };
      const all = [key(), ...Object.values(variants)];
      expect(new Set(all).size, JSON.stringify(variants)).to.equal(all.length);
      // And each of these changes the compiled rules (the key tracks real inputs).
      const rulesIn = (s: typeof state) => JSON.stringify(show(planBindingChange(undefined, journey[1], s).plan), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
      expect(rulesIn({ ...state, buffering: (b: number) => (b === id ? 'hold' as const : undefined) } as typeof state)).to.not.equal(rulesIn(state));
      expect(rulesIn({ ...state, switches: switches.map((s) => (s.dpid === 2n ? { ...s, routerPort: 7 } : s)) })).to.not.equal(rulesIn(state));
    });

    it('ignores what other bindings have (another binding held or cached)', () => {
      expect(key({ buffering: (b) => (b === other.id ? 'hold' : undefined) })).to.equal(key({ buffering: () => undefined }));
      expect(key({ correspondents: { mode: 'on-demand', cached: (b) => new Set(b === other.id ? [1n] : []), idleTimeoutSec: 60 } }))
        .to.equal(key({ correspondents: { mode: 'on-demand', cached: () => new Set(), idleTimeoutSec: 60 } }));
    });

    it('sameBindingRules: lastSeen and createdAt aside, any field of the binding counts', () => {
      const b = journey[1]!;
      expect(sameBindingRules(b, { ...b, lastSeen: 99, createdAt: 7 })).to.equal(true);
      expect(sameBindingRules(b, { ...b, version: b.version + 1 })).to.equal(false);
      expect(sameBindingRules(b, { ...b, locator: { ...b.locator, port: 11 } })).to.equal(false);
      expect(sameBindingRules(b, { ...b, locator: { ...b.locator, address: '10.0.2.201' } })).to.equal(false);
    });
  });
});
