import { expect } from 'chai';
import { parseSubnets, type Binding } from '../../../controller/mobility/index.js';
import { formatInstructions, formatMatch } from '../../../controller/openflow/index.js';
import {
  baseRules, compile, compileRules, resolveGatewayMacs, switchInfos, validateRules, type Rule,
} from '../../../controller/pipeline/index.js';
import { caseStudySubnets, RAW_SUBNETS, VM } from '../mobility/fixtures.js';

const subnets = caseStudySubnets();
const gatewayMacs = resolveGatewayMacs(subnets);
const allSwitches = switchInfos(subnets, [1n, 2n, 3n]);

function binding(over: Partial<Binding> & { locator: Binding['locator'] }): Binding {
  return { id: 1, eid: VM.eid, mac: VM.mac, homeSubnet: 'A', version: 2, lastSeen: 0, createdAt: 0, ...over };
}
const movedToB = binding({ locator: { subnet: 'B', dpid: 2n, port: 10, address: '10.0.2.200' } });

/** Rules as ovs-ofctl prints them, with the phase in front: the notation the design is written in. */
function render(rules: readonly Rule[]): string[] {
  return rules.filter((r) => r.phase !== 'base')
    .map((r) => `[${r.phase[0]}] table=${r.table}, ${formatMatch(r.match, r.priority)} actions=${formatInstructions(r.instructions)}`)
    .sort();
}

const RESPOND = (mac: string) => `move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:${mac}->eth_src,set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:${mac}->arp_sha`;
const GOLDEN: Record<string, string[]> = {
  '0000000000000001': [
    `[r] table=0, priority=950,arp,arp_tpa=10.0.1.10,arp_op=1 actions=${RESPOND('02:00:00:00:01:0a')},move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:10.0.1.10->arp_spa,IN_PORT`,
    '[s] table=2, priority=250,ip,in_port=1,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,set_field:02:00:00:00:01:01->eth_dst,set_field:02:00:00:00:01:0a->eth_src,IN_PORT',
    // The VM's own ARP for its EID at home is its return announce: to the controller, not the responder.
    '[r] table=0, priority=970,arp,dl_src=02:00:00:00:01:0a,arp_tpa=10.0.1.10 actions=CONTROLLER:65535',
    // The router's own traffic for the EID travels as the gateway alias (accept_local=0 would drop it).
    '[s] table=2, priority=260,ip,in_port=1,nw_src=10.0.1.1,nw_dst=10.0.1.10 actions=set_field:10.0.1.250->ip_src,set_field:10.0.2.200->ip_dst,set_field:02:00:00:00:01:01->eth_dst,set_field:02:00:00:00:01:0a->eth_src,IN_PORT',
    '[s] table=2, priority=260,ip,in_port=1,nw_src=10.0.2.1,nw_dst=10.0.1.10 actions=set_field:10.0.2.250->ip_src,set_field:10.0.2.200->ip_dst,set_field:02:00:00:00:01:01->eth_dst,set_field:02:00:00:00:01:0a->eth_src,IN_PORT',
    '[s] table=2, priority=260,ip,in_port=1,nw_src=10.0.3.1,nw_dst=10.0.1.10 actions=set_field:10.0.3.223->ip_src,set_field:10.0.2.200->ip_dst,set_field:02:00:00:00:01:01->eth_dst,set_field:02:00:00:00:01:0a->eth_src,IN_PORT',
    '[r] table=1, priority=200,ip,in_port=1,nw_src=10.0.2.200 actions=set_field:10.0.1.10->ip_src,goto_table:2',
    '[s] table=2, priority=200,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,set_field:02:00:00:00:01:01->eth_dst,output:1',
  ],
  '0000000000000002': [
    '[r] table=2, priority=300,ip,nw_dst=10.0.2.200 actions=set_field:10.0.1.10->ip_dst,set_field:02:00:00:00:01:0a->eth_dst,output:10',
    `[r] table=0, priority=950,arp,arp_tpa=10.0.2.200,arp_op=1 actions=${RESPOND('02:00:00:00:01:0a')},move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:10.0.2.200->arp_spa,IN_PORT`,
    '[r] table=0, priority=960,arp,in_port=10,arp_tpa=10.0.1.10 actions=CONTROLLER:65535',
    `[r] table=0, priority=950,arp,in_port=10,arp_tpa=10.0.1.0/24,arp_op=1 actions=${RESPOND('02:00:00:00:01:01')},move:NXM_OF_ARP_TPA[]->NXM_NX_REG0[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],move:NXM_NX_REG0[]->NXM_OF_ARP_SPA[],IN_PORT`,
    '[r] table=0, priority=940,arp,in_port=10 actions=drop',
    '[r] table=0, priority=110,ipv6,in_port=10,dl_src=02:00:00:00:01:0a actions=drop',
    '[r] table=2, priority=310,ip,nw_src=10.0.1.250,nw_dst=10.0.2.200 actions=set_field:10.0.1.1->ip_src,set_field:10.0.1.10->ip_dst,set_field:02:00:00:00:01:0a->eth_dst,output:10',
    '[r] table=2, priority=310,ip,nw_src=10.0.2.250,nw_dst=10.0.2.200 actions=set_field:10.0.2.1->ip_src,set_field:10.0.1.10->ip_dst,set_field:02:00:00:00:01:0a->eth_dst,output:10',
    '[r] table=2, priority=310,ip,nw_src=10.0.3.223,nw_dst=10.0.2.200 actions=set_field:10.0.3.1->ip_src,set_field:10.0.1.10->ip_dst,set_field:02:00:00:00:01:0a->eth_dst,output:10',
    '[s] table=1, priority=310,ip,in_port=10,nw_src=10.0.1.10,nw_dst=10.0.1.1 actions=set_field:02:00:00:00:02:01->eth_dst,goto_table:2',
    '[s] table=1, priority=310,ip,in_port=10,nw_src=10.0.1.10,nw_dst=10.0.2.1 actions=set_field:02:00:00:00:02:01->eth_dst,goto_table:2',
    '[s] table=1, priority=310,ip,in_port=10,nw_src=10.0.1.10,nw_dst=10.0.3.1 actions=set_field:02:00:00:00:02:01->eth_dst,goto_table:2',
    '[s] table=1, priority=300,ip,in_port=10,nw_src=10.0.1.10,nw_dst=10.0.1.0/24 actions=set_field:10.0.2.200->ip_src,set_field:02:00:00:00:02:01->eth_dst,goto_table:2',
    '[s] table=1, priority=300,ip,in_port=10,nw_src=10.0.1.10,nw_dst=10.0.2.0/24 actions=set_field:10.0.2.200->ip_src,set_field:02:00:00:00:02:01->eth_dst,goto_table:2',
    '[s] table=1, priority=300,ip,in_port=10,nw_src=10.0.1.10,nw_dst=10.0.3.0/24 actions=set_field:10.0.2.200->ip_src,set_field:02:00:00:00:02:01->eth_dst,goto_table:2',
    '[s] table=1, priority=290,ip,in_port=10,nw_src=10.0.1.10 actions=set_field:02:00:00:00:02:01->eth_dst,goto_table:2',
    '[s] table=0, priority=100,in_port=10,dl_src=02:00:00:00:01:0a actions=goto_table:1',
    '[r] table=1, priority=200,ip,in_port=1,nw_src=10.0.2.200 actions=set_field:10.0.1.10->ip_src,goto_table:2',
    '[s] table=2, priority=200,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,set_field:02:00:00:00:02:01->eth_dst,output:1',
  ],
  '0000000000000003': [
    '[r] table=1, priority=200,ip,in_port=1,nw_src=10.0.2.200 actions=set_field:10.0.1.10->ip_src,goto_table:2',
    '[s] table=2, priority=200,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,set_field:02:00:00:00:03:01->eth_dst,output:1',
  ],
};

describe('pipeline/compiler', () => {
  it('compiles the design\'s rule set for a VM moved from A to B (s2 port 10)', () => {
    const rules = compileRules({ bindings: [movedToB], subnets, switches: allSwitches, gatewayMacs });
    expect([...rules.keys()]).to.deep.equal(Object.keys(GOLDEN));
    for (const [dpid, want] of Object.entries(GOLDEN)) expect(render(rules.get(dpid)!), dpid).to.deep.equal([...want].sort());
    for (const list of rules.values()) {
      for (const r of list.filter((x) => x.phase !== 'base')) expect(r.cookie).to.equal(0x1_0000_0002n);
    }
  });

  it('gives every switch the base pipeline, with the gateway rule on managed edges', () => {
    const rules = compileRules({ bindings: [], subnets, switches: [...allSwitches, { dpid: 9n }], gatewayMacs });
    const show = (dpid: string) => rules.get(dpid)!.map((r) => `table=${r.table}, ${formatMatch(r.match, r.priority)} actions=${formatInstructions(r.instructions)}`);
    expect(show('0000000000000002')).to.deep.equal([
      'table=0, priority=1100,arp,dl_dst=02:5e:a0:00:00:01 actions=CONTROLLER:65535',
      'table=0, priority=1000,rarp actions=CONTROLLER:65535',
      'table=0, priority=1,metadata=0x1 actions=goto_table:1',
      'table=0, priority=0 actions=CONTROLLER:65535',
      'table=1, priority=0 actions=goto_table:2',
      'table=2, priority=0 actions=goto_table:3',
      'table=3, priority=0 actions=FLOOD',
      'table=3, priority=150,dl_dst=02:00:00:00:02:01 actions=output:1',
    ]);
    expect(show('0000000000000009')).to.have.length(7); // unmanaged: no gateway rule
    expect(rules.get('0000000000000009')!.every((r) => r.phase === 'base' && r.cookie === 0x5ea0_0000_0000_0000n)).to.equal(true);
  });

  it('emits no per-binding rule for a binding at home (any edge of its home subnet)', () => {
    const home = binding({ locator: { subnet: 'A', dpid: 1n, port: 3, address: VM.eid } });
    const rules = compileRules({ bindings: [home], subnets, switches: allSwitches, gatewayMacs });
    for (const list of rules.values()) expect(list.filter((r) => r.phase !== 'base')).to.deep.equal([]);
  });

  it('skips a binding whose gateway MACs are unresolved and says why', () => {
    const partial = new Map([...gatewayMacs].filter(([name]) => name !== 'B'));
    const { rules, problems } = compile({ bindings: [movedToB], subnets, switches: allSwitches, gatewayMacs: partial });
    expect(render(rules.get('0000000000000002')!)).to.deep.equal([]);
    expect(problems).to.include('binding 10.0.1.10: gateway MAC of B is not resolved yet');
    expect(problems.some((p) => /subnet B: gateway MAC not resolved/.test(p))).to.equal(true);
  });

  it('keeps receive-side rules at an edge whose own gateway MAC is unresolved (its peers use the home anchor)', () => {
    const partial = new Map([...gatewayMacs].filter(([name]) => name !== 'C'));
    const rules = compileRules({ bindings: [movedToB], subnets, switches: allSwitches, gatewayMacs: partial });
    expect(render(rules.get('0000000000000003')!)).to.deep.equal([GOLDEN['0000000000000003']![0]]);
  });

  it('compiles only for connected switches', () => {
    const rules = compileRules({ bindings: [movedToB], subnets, switches: allSwitches.filter((s) => s.dpid !== 3n), gatewayMacs });
    expect([...rules.keys()]).to.deep.equal(['0000000000000001', '0000000000000002']);
  });

  it('prefers configured gateway MACs over learned ones', () => {
    const raw = RAW_SUBNETS.map((s) => (s.name === 'C' ? { ...s, gateway: { ip: '10.0.3.1' } } : s));
    const macs = resolveGatewayMacs(parseSubnets(raw), new Map([['A', '02:99:99:99:99:99'], ['C', '02:00:00:00:03:FE']]));
    expect(Object.fromEntries(macs)).to.deep.equal({ A: '02:00:00:00:01:01', B: '02:00:00:00:02:01', C: '02:00:00:00:03:fe' });
  });

  describe('everything it generates passes the table declarations', () => {
    // A bigger world: four subnets, several edges each (some without a router port), many VMs.
    const raw = [
      { name: 'A', prefix: '10.1.0.0/16', gateway: { ip: '10.1.0.1', mac: '02:00:00:01:00:01' }, edges: [{ dpid: 1, routerPort: 1 }, { dpid: 2 }], locatorPool: '10.1.255.0/24' },
      { name: 'B', prefix: '10.2.0.0/24', gateway: { ip: '10.2.0.1', mac: '02:00:00:02:00:01' }, edges: [{ dpid: 3, routerPort: 48 }, { dpid: 4, routerPort: 2 }], locatorPool: '10.2.0.128/25' },
      { name: 'C', prefix: '192.168.7.0/24', gateway: { ip: '192.168.7.254' }, edges: [{ dpid: 5, routerPort: 7 }], locatorPool: '192.168.7.100-192.168.7.199' },
      { name: 'D', prefix: '172.16.0.0/12', gateway: { ip: '172.16.0.1', mac: '02:00:00:04:00:01' }, edges: [{ dpid: 6, routerPort: 1 }, { dpid: 7 }], locatorPool: '172.31.0.0/16' },
    ];
    const world = parseSubnets(raw);
    const macs = resolveGatewayMacs(world, new Map([['C', '02:00:00:03:00:fe']]));
    const names = ['A', 'B', 'C', 'D'];
    const homes: Record<string, string> = { A: '10.1.', B: '10.2.0.', C: '192.168.7.', D: '172.16.' };
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;

    for (let round = 0; round < 20; round++) {
      it(`round ${round}`, () => {
        const bindings: Binding[] = [];
        for (let i = 1; i <= 25; i++) {
          const home = names[rand(4)]!;
          const here = names[rand(4)]!;
          const subnet = world.find((s) => s.name === here)!;
          const edge = subnet.edges[rand(subnet.edges.length)]!;
          const eid = home === 'A' ? `10.1.0.${i + 1}` : `${homes[home]}${i + 1}`;
          const address = here === home ? eid : here === 'A' ? `10.1.255.${i}` : here === 'B' ? `10.2.0.${128 + i}` : here === 'C' ? `192.168.7.${100 + i}` : `172.31.0.${i}`;
          bindings.push({
            id: i, eid, mac: `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`, homeSubnet: home,
            locator: { subnet: here, dpid: edge.dpid, port: 10 + rand(30), address }, version: 1 + rand(9), lastSeen: 0, createdAt: 0,
          });
        }
        // Two VMs on one port would be nonsense; keep ports unique per switch.
        const seen = new Set<string>();
        const unique = bindings.filter((b) => { const k = `${b.locator.dpid}:${b.locator.port}`; if (seen.has(k)) return false; seen.add(k); return true; });
        const connected = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 99n].filter(() => rand(5) !== 0);
        const { rules, problems } = compile({ bindings: unique, subnets: world, switches: switchInfos(world, connected), gatewayMacs: macs });
        expect(validateRules(rules)).to.deep.equal([]);
        expect(problems.filter((p) => !/not resolved/.test(p))).to.deep.equal([]);
        expect(rules.size).to.equal(connected.length);
      });
    }
  });

  it('base rules pass validation on their own', () => {
    expect(validateRules(new Map([['x', baseRules({ routerPort: 1, gatewayMac: '02:00:00:00:00:01' })]]))).to.deep.equal([]);
  });
});
