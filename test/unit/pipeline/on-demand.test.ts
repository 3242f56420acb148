import { expect } from 'chai';
import type { Binding } from '../../../controller/mobility/index.js';
import { parseSubnets, rangeToPrefixes } from '../../../controller/mobility/index.js';
import { OFPFF_SEND_FLOW_REM } from '../../../controller/openflow/index.js';
import { compile, planBindingChange, validateRules, type CompileState } from '../../../controller/pipeline/index.js';

const subnets = parseSubnets([1, 2, 3, 4].map((n) => ({
  name: `S${n}`, prefix: `10.0.${n}.0/24`, gateway: { ip: `10.0.${n}.1`, mac: `02:00:00:00:0${n}:01` },
  edges: [{ dpid: n, routerPort: 2 }], locatorPool: `10.0.${n}.200-10.0.${n}.250`,
})));
const vm: Binding = {
  id: 7, eid: '10.0.1.10', mac: '02:00:00:00:01:0a', homeSubnet: 'S1', version: 2, lastSeen: 0, createdAt: 0,
  locator: { subnet: 'S2', dpid: 2n, port: 10, address: '10.0.2.200' },
};

function state(cached: ReadonlySet<bigint>): Omit<CompileState, 'bindings'> {
  return {
    subnets, switches: [1n, 2n, 3n, 4n].map((dpid) => ({ dpid, subnet: `S${dpid}`, routerPort: 2 })),
    gatewayMacs: new Map(subnets.map((s) => [s.name, s.gateway.mac!])),
    correspondents: { mode: 'on-demand', cached: () => cached, idleTimeoutSec: 60 },
  };
}
const owned = (rules: Map<string, { owner?: number; kind?: string }[]>, dpid: string) => (rules.get(dpid) ?? []).filter((r) => r.owner === 7).map((r) => r.kind);

describe('pipeline: on-demand correspondent rules (map-cache)', () => {
  it('covers a locator pool exactly with CIDR blocks', () => {
    const blocks = rangeToPrefixes({ first: 0x0a0002c8, last: 0x0a0002fa }).map((p) => `${p.network}/${p.length}`);
    expect(blocks).to.deep.equal(['10.0.2.200/29', '10.0.2.208/28', '10.0.2.224/28', '10.0.2.240/29', '10.0.2.248/31', '10.0.2.250/32']);
  });

  it('gives correspondent rules only to the home edge and cached edges; every edge gets the locator-miss rules', () => {
    const { rules } = compile({ ...state(new Set([3n])), bindings: [vm] });
    expect(owned(rules, '0000000000000003')).to.include.members(['correspondentSrc', 'correspondentDst']);
    expect(owned(rules, '0000000000000004')).to.deep.equal([]);
    expect(owned(rules, '0000000000000001')).to.include.members(['correspondentSrc', 'correspondentDst', 'homeAnchor']);
    for (const dpid of ['0000000000000001', '0000000000000004']) {
      expect((rules.get(dpid) ?? []).filter((r) => r.kind === 'locatorMiss')).to.have.length(4 * 6);
    }
    expect(validateRules(rules)).to.deep.equal([]);
    const cachedSrc = (rules.get('0000000000000003') ?? []).find((r) => r.kind === 'correspondentSrc');
    expect(cachedSrc).to.include({ idleTimeout: 60, flags: OFPFF_SEND_FLOW_REM });
  });

  it('caching one more edge plans rules for that edge only', () => {
    const { plan } = planBindingChange(vm, vm, state(new Set()), state(new Set([4n])));
    expect([...plan.steps[0].mods.keys()]).to.deep.equal(['0000000000000004']);
    expect([...plan.steps[1].mods.keys()]).to.deep.equal(['0000000000000004']);
    expect(plan.steps[2].mods.size).to.equal(0);
  });
});
