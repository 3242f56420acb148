// The compiled rule sets against real Open vSwitch: every rule is accepted by ovs-ofctl
// (install-time checks such as set_field prerequisites), and for a matrix of packets the
// FakeFlowTable the unit tests rely on predicts what `ofproto/trace` says OVS does: the same
// outputs, and the same rewritten headers.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Binding } from '../../controller/mobility/index.js';
import { formatInstructions, formatMatch, type FlowMod } from '../../controller/openflow/index.js';
import { compileRules, forgetLearned, learnedDestination, learnedSource, resolveGatewayMacs, switchInfos, toFlowMod } from '../../controller/pipeline/index.js';
import { formatDpid } from '../../controller/switch/dpid.js';
import { FakeFlowTable, type Headers } from '../lib/fake-flow-table.js';
import { dumpFlows, ofctl, OvsLab, ovsAvailable } from '../lib/ovs.js';
import { caseStudySubnets } from '../unit/mobility/fixtures.js';

const run = promisify(execFile);
const PORTS = [1, 2, 3, 10];
const m = '02:00:00:00:01:0a';
const e = '10.0.1.10';
const L = '10.0.2.200';
const GW: Record<string, string> = { '1': '02:00:00:00:01:01', '2': '02:00:00:00:02:01', '3': '02:00:00:00:03:01' };
const CN: Record<string, { mac: string; ip: string }> = {
  '1': { mac: '02:00:00:00:01:14', ip: '10.0.1.20' }, '2': { mac: '02:00:00:00:02:14', ip: '10.0.2.20' }, '3': { mac: '02:00:00:00:03:14', ip: '10.0.3.20' },
};

const moved: Binding = { id: 1, eid: e, mac: m, homeSubnet: 'A', version: 2, lastSeen: 0, createdAt: 0, locator: { subnet: 'B', dpid: 2n, port: 10, address: L } };

const udp = (src: string, dst: string, ethSrc: string, ethDst: string): Headers => ({ eth_src: ethSrc, eth_dst: ethDst, eth_type: 0x0800, ipv4_src: src, ipv4_dst: dst, ip_proto: 17 });
const arpWhoHas = (sha: string, spa: string, tpa: string): Headers => ({
  eth_src: sha, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: sha, arp_spa: spa, arp_tha: '00:00:00:00:00:00', arp_tpa: tpa,
});

/** Packets entering switch `s` (router on 1, a correspondent on 2, the VM's port 10). */
function packets(s: string): [number, Headers][] {
  const gw = GW[s]!;
  const cn = CN[s]!;
  return [
    [1, udp('10.0.3.20', L, gw, m)], [1, udp(L, cn.ip, gw, cn.mac)], [1, udp('203.0.113.10', e, gw, m)], [1, udp('10.0.3.20', cn.ip, gw, cn.mac)],
    [2, udp(cn.ip, e, cn.mac, m)], [2, udp(cn.ip, '10.0.3.20', cn.mac, gw)],
    [10, udp(e, '10.0.3.20', m, GW['1']!)], [10, udp(e, '10.0.1.20', m, CN['1']!.mac)], [10, udp(e, '203.0.113.10', m, GW['1']!)], [10, udp(e, '10.0.2.1', m, GW['1']!)],
    [1, arpWhoHas(gw, '10.0.2.1', L)], [1, arpWhoHas(gw, '10.0.1.1', e)], [2, arpWhoHas(cn.mac, cn.ip, e)],
    [10, arpWhoHas(m, e, '10.0.1.1')], [10, arpWhoHas(m, e, '10.0.1.20')], [10, arpWhoHas(m, e, e)], [10, arpWhoHas(m, e, '10.0.3.3')],
    [10, { eth_src: m, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x8035 }],
    [3, udp('10.0.1.99', '10.0.1.98', '02:00:00:00:09:09', 'ff:ff:ff:ff:ff:ff')],
  ];
}

function ovsFlowText(inPort: number, h: Headers): string {
  const eth = `in_port=${inPort},dl_src=${h.eth_src},dl_dst=${h.eth_dst}`;
  if (h.eth_type === 0x0800) return `udp,${eth},nw_src=${h.ipv4_src},nw_dst=${h.ipv4_dst},nw_ttl=64`;
  if (h.eth_type === 0x0806) return `arp,${eth},arp_op=${h.arp_op},arp_spa=${h.arp_spa},arp_tpa=${h.arp_tpa},arp_sha=${h.arp_sha},arp_tha=${h.arp_tha}`;
  return `dl_type=0x${h.eth_type!.toString(16)},${eth}`;
}

/** What OVS does with the packet: outputs that really happen (skipped in_port outputs removed) and the final flow. */
async function trace(bridge: string, inPort: number, h: Headers): Promise<{ outputs: string[]; final: string }> {
  const { stdout } = await run('ovs-appctl', ['ofproto/trace', bridge, ovsFlowText(inPort, h)]);
  const lines = stdout.split('\n').map((l) => l.trim());
  const outputs: string[] = [];
  lines.forEach((l, i) => {
    if (!/^(output:\d+|IN_PORT|CONTROLLER:\d+|FLOOD)$/.test(l) || lines[i + 1]?.startsWith('>> skipping output to input port')) return;
    if (l === 'FLOOD') outputs.push(...PORTS.filter((p) => p !== inPort).map((p) => `output:${p}`));
    else outputs.push(l === 'IN_PORT' ? `output:${inPort}` : l);
  });
  const final = /Final flow: (.*)/.exec(stdout)?.[1] ?? '';
  return { outputs, final: final === 'unchanged' ? ovsFlowText(inPort, h) : final };
}

const FINAL_FIELDS: [keyof Headers, string][] = [
  ['eth_src', 'dl_src'], ['eth_dst', 'dl_dst'], ['ipv4_src', 'nw_src'], ['ipv4_dst', 'nw_dst'],
  ['arp_op', 'arp_op'], ['arp_spa', 'arp_spa'], ['arp_tpa', 'arp_tpa'], ['arp_sha', 'arp_sha'], ['arp_tha', 'arp_tha'],
];

describe('pipeline vs Open vSwitch: compiled rules and the FakeFlowTable against ofproto/trace', function () {
  this.timeout(120_000);
  const lab = new OvsLab('pl');
  let bridge = '';
  let file = '';

  before(async function () {
    if (!(await ovsAvailable())) this.skip();
    bridge = await lab.bridge({ dpid: 0x5ea0n });
    for (const p of PORTS) await lab.internalPort(bridge, p);
    file = join(tmpdir(), `${lab.prefix}.flows`);
  });
  after(async () => {
    await lab.cleanup();
    if (file !== '') await rm(file, { force: true });
  });

  const subnets = caseStudySubnets();
  const rules = compileRules({ bindings: [moved], subnets, switches: switchInfos(subnets, [1n, 2n, 3n]), gatewayMacs: resolveGatewayMacs(subnets) });

  for (const s of ['1', '2', '3']) {
    it(`switch ${s}: OVS accepts every rule and does what the fake predicts`, async () => {
      const learned = (port: number, mac: string): FlowMod[] => [learnedSource(port, mac), learnedDestination(mac, port)];
      const compiled = rules.get(formatDpid(BigInt(s)))!.map((r) => toFlowMod(r));
      const mods = [...compiled, ...learned(1, GW[s]!), ...learned(2, CN[s]!.mac)];
      const text = mods.map((f) => `table=${f.tableId},cookie=0x${f.cookie.toString(16)},${formatMatch(f.match, f.priority)},actions=${formatInstructions(f.instructions)}`);
      await writeFile(file, text.join('\n') + '\n');
      await ofctl('replace-flows', bridge, file);
      expect(await dumpFlows(bridge)).to.have.length(mods.length);

      const fake = new FakeFlowTable(BigInt(s), PORTS);
      fake.applyAll(mods);
      for (const [inPort, h] of packets(s)) {
        const predicted = fake.process(inPort, h);
        const ovs = await trace(bridge, inPort, h);
        const what = `s${s} in_port=${inPort} ${JSON.stringify(h)}`;
        const fakeOutputs = [...predicted.outputs.map((o) => `output:${o.port}`), ...predicted.toController.map(() => 'CONTROLLER:65535')];
        expect(ovs.outputs.sort(), what).to.deep.equal(fakeOutputs.sort());
        const out = predicted.outputs[0]?.headers;
        if (out === undefined) continue;
        for (const [field, name] of FINAL_FIELDS) {
          if (out[field] === undefined) continue;
          expect(new RegExp(`[,]${name}=([^,]+)`).exec(ovs.final)?.[1], `${what}: ${field}`).to.equal(String(out[field]));
        }
      }

      // Forgetting the correspondent's MAC removes exactly the learner's two rules for it.
      for (const del of forgetLearned(CN[s]!.mac)) {
        await ofctl('del-flows', bridge, `table=${del.tableId},cookie=0x${del.cookie.toString(16)}/0x${del.cookieMask.toString(16)},${formatMatch(del.match)}`);
      }
      const left = await dumpFlows(bridge);
      expect(left).to.have.length(mods.length - 2);
      expect(left.filter((l) => l.includes(CN[s]!.mac))).to.deep.equal([]);
    });
  }
});
