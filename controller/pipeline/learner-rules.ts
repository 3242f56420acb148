// The L2 learner's rules, shaped here so they fit the tables and the cookie space: a learned
// source lets a host's frames into the pipeline (table 0 -> 1), a learned destination forwards
// to its port (table 3). The learner itself (packet-in handling) lives in the controller app.

import {
  applyActions, gotoTable, OFPFC_DELETE, OFPFF_SEND_FLOW_REM, OFPG_ANY, OFPP_ANY, OFP_NO_BUFFER, OFPFC_ADD, outputPort, type FlowMod, type Mac,
} from '../openflow/index.js';
import { COOKIE_LEARNER, COOKIE_TAG_MASK } from './cookie.js';
import { LEARNER_PRIORITY, TABLE_INGRESS, TABLE_L2_FORWARD, TABLE_SRC_REWRITE } from './tables.js';

/** Idle timeout of learned rules unless configured (mobility.learnIdleTimeoutSec): a silent host is forgotten. */
export const DEFAULT_LEARN_IDLE_TIMEOUT_SEC = 300;

/** One learner FLOW_MOD; written as a literal (this runs once or twice per packet-in). */
function learnerMod(command: number, tableId: number, match: FlowMod['match'], instructions: FlowMod['instructions'], idleTimeout: number, cookieMask: bigint, flags = 0): FlowMod {
  return {
    type: 'FLOW_MOD', xid: 0, cookie: COOKIE_LEARNER, cookieMask, tableId, command, idleTimeout, hardTimeout: 0,
    priority: LEARNER_PRIORITY, bufferId: OFP_NO_BUFFER, outPort: OFPP_ANY, outGroup: OFPG_ANY, flags, match, instructions,
  };
}

/**
 * Table 0: frames from `mac` on `port` enter the pipeline. The switch reports the rule's idle
 * timeout (FLOW_REMOVED), so the learner forgets a host when the switch does.
 */
export function learnedSource(port: number, mac: Mac, idleTimeout = DEFAULT_LEARN_IDLE_TIMEOUT_SEC): FlowMod {
  return learnerMod(OFPFC_ADD, TABLE_INGRESS, { in_port: port, eth_src: mac.toLowerCase() }, [gotoTable(TABLE_SRC_REWRITE)], idleTimeout, 0n, OFPFF_SEND_FLOW_REM);
}

/**
 * Table 0: only the IPv6 frames of `mac` on `port` enter the pipeline. For a host that is not an
 * endpoint yet (Linux's first frames at link-up are NDP and MLD): its ARP and IPv4 must still
 * reach the controller, which learns its binding from them.
 */
export function learnedSourceIpv6(port: number, mac: Mac, idleTimeout = DEFAULT_LEARN_IDLE_TIMEOUT_SEC): FlowMod {
  return learnerMod(OFPFC_ADD, TABLE_INGRESS, { in_port: port, eth_src: mac.toLowerCase(), eth_type: 0x86dd }, [gotoTable(TABLE_SRC_REWRITE)], idleTimeout, 0n, OFPFF_SEND_FLOW_REM);
}

/** Table 3: frames for `mac` leave through `port`. */
export function learnedDestination(mac: Mac, port: number, idleTimeout = DEFAULT_LEARN_IDLE_TIMEOUT_SEC): FlowMod {
  return learnerMod(OFPFC_ADD, TABLE_L2_FORWARD, { eth_dst: mac.toLowerCase() }, [applyActions(outputPort(port))], idleTimeout, 0n);
}

/**
 * Forgets everything the learner knows about `mac` on a switch (both directions, any port),
 * touching only learner rules. Sent when a binding moves: a stale learned source at the old
 * place would otherwise swallow the VM's frames when it comes back (no packet-in, no sighting).
 */
export function forgetLearned(mac: Mac): FlowMod[] {
  const m = mac.toLowerCase();
  return [
    learnerMod(OFPFC_DELETE, TABLE_INGRESS, { eth_src: m }, [], 0, COOKIE_TAG_MASK),
    learnerMod(OFPFC_DELETE, TABLE_L2_FORWARD, { eth_dst: m }, [], 0, COOKIE_TAG_MASK),
  ];
}
