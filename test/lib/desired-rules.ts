// What one controller alone compiles for a set of bindings, as `ovs-ofctl -O OpenFlow13 --no-stats
// dump-flows` prints it: the reference a cluster's switches are compared with after a failover.
// The compiler is the pure one the runtime uses (controller/pipeline); its input is rebuilt from
// what the API reports (bindings, the learned router ports and gateway MACs), so that the check
// does not trust any replica's own idea of the desired rules.

import { REFERENCE_LAB_SUBNETS } from '../../controller/config.js';
import { bindingFromJson, type BindingJson } from '../../controller/mobility/binding-json.js';
import { parseSubnets } from '../../controller/mobility/index.js';
import { formatFlowStats } from '../../controller/openflow/ofctl-format.js';
import { classifyCookie, compile, resolveGatewayMacs, switchInfos, toFlowMod } from '../../controller/pipeline/index.js';
import { formatDpid, parseDpid } from '../../controller/switch/dpid.js';

export type { BindingJson };

export interface LearnedFacts {
  /** dpid text -> the router port the controller uses (GET /api/switches routerPort). */
  readonly routerPorts: ReadonlyMap<string, number>;
  /** subnet -> gateway MAC (GET /api/subnets gateway.mac). */
  readonly gatewayMacs: ReadonlyMap<string, string>;
}

/** Per switch (dpid text), the compiled rules (base and per-binding), one ofctl line each, sorted. Bindings in their stored JSON form (the API's too). */
export function desiredRules(bindings: readonly BindingJson[], connected: readonly string[], facts: LearnedFacts): Map<string, string[]> {
  const subnets = parseSubnets(REFERENCE_LAB_SUBNETS);
  const switches = switchInfos(subnets, connected.map(parseDpid)).map((info) => {
    const learned = facts.routerPorts.get(formatDpid(info.dpid));
    return info.routerPort === undefined && learned !== undefined ? { ...info, routerPort: learned } : info;
  });
  const { rules, problems } = compile({
    subnets, switches, gatewayMacs: resolveGatewayMacs(subnets, facts.gatewayMacs), correspondents: { mode: 'eager' }, bindings: bindings.map(bindingFromJson),
  });
  if (problems.length > 0) throw new Error(`the reference compile has problems: ${problems.join('; ')}`);
  const out = new Map<string, string[]>();
  for (const [dpid, list] of rules) out.set(dpid, list.map((r) => ofctlLine(toFlowMod(r))).sort());
  return out;
}

/** The compiled rules in a dump: base and per-binding cookies (learned L2 rules and foreign ones left out). */
export function compiledLines(dump: string): string[] {
  return dump.split('\n').map((l) => l.trim()).filter((l) => {
    const m = /^cookie=0x([0-9a-f]+)/.exec(l);
    if (m === null || !l.includes('actions=')) return false;
    const kind = classifyCookie(BigInt(`0x${m[1]}`)).kind;
    return kind === 'base' || kind === 'binding';
  }).sort();
}

function ofctlLine(mod: ReturnType<typeof toFlowMod>): string {
  return formatFlowStats({
    tableId: mod.tableId, priority: mod.priority, match: mod.match, instructions: mod.instructions, cookie: mod.cookie,
    idleTimeout: mod.idleTimeout, hardTimeout: mod.hardTimeout, flags: mod.flags, durationSec: 0, durationNsec: 0, packetCount: 0n, byteCount: 0n,
  }, { showStats: false });
}
