import { expect } from 'chai';
import type { Binding } from '../../../controller/mobility/index.js';
import {
  applyToInstalled, compileRules, planBindingChange, planUpdate, resolveGatewayMacs, switchInfos,
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
});
