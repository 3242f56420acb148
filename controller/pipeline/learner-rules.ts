// The L2 learner's rules, shaped here so they fit the tables and the cookie space: a learned
// source lets a host's frames into the pipeline (table 0 -> 1), a learned destination forwards
// to its port (table 3). The learner itself (packet-in handling) lives in the controller app.

import { applyActions, gotoTable, OFPFC_DELETE, OFPG_ANY, OFPP_ANY, OFP_NO_BUFFER, OFPFC_ADD, outputPort, type FlowMod, type Mac } from '../openflow/index.js';
import { COOKIE_LEARNER, COOKIE_TAG_MASK } from './cookie.js';
import { LEARNER_PRIORITY, TABLE_INGRESS, TABLE_L2_FORWARD, TABLE_SRC_REWRITE } from './tables.js';

export const DEFAULT_LEARNER_IDLE_TIMEOUT_S = 60;

function base(): Omit<FlowMod, 'tableId' | 'match' | 'instructions' | 'command' | 'cookieMask' | 'idleTimeout'> {
  return { type: 'FLOW_MOD', xid: 0, cookie: COOKIE_LEARNER, hardTimeout: 0, priority: LEARNER_PRIORITY, bufferId: OFP_NO_BUFFER, outPort: OFPP_ANY, outGroup: OFPG_ANY, flags: 0 };
}

/** Table 0: frames from `mac` on `port` enter the pipeline. */
export function learnedSource(port: number, mac: Mac, idleTimeout = DEFAULT_LEARNER_IDLE_TIMEOUT_S): FlowMod {
  return { ...base(), command: OFPFC_ADD, cookieMask: 0n, idleTimeout, tableId: TABLE_INGRESS, match: { in_port: port, eth_src: mac.toLowerCase() }, instructions: [gotoTable(TABLE_SRC_REWRITE)] };
}

/** Table 3: frames for `mac` leave through `port`. */
export function learnedDestination(mac: Mac, port: number, idleTimeout = DEFAULT_LEARNER_IDLE_TIMEOUT_S): FlowMod {
  return { ...base(), command: OFPFC_ADD, cookieMask: 0n, idleTimeout, tableId: TABLE_L2_FORWARD, match: { eth_dst: mac.toLowerCase() }, instructions: [applyActions(outputPort(port))] };
}

/**
 * Forgets everything the learner knows about `mac` on a switch (both directions, any port),
 * touching only learner rules. Sent when a binding moves: a stale learned source at the old
 * place would otherwise swallow the VM's frames when it comes back (no packet-in, no sighting).
 */
export function forgetLearned(mac: Mac): FlowMod[] {
  const del = { ...base(), command: OFPFC_DELETE, cookieMask: COOKIE_TAG_MASK, idleTimeout: 0, instructions: [] };
  return [
    { ...del, tableId: TABLE_INGRESS, match: { eth_src: mac.toLowerCase() } },
    { ...del, tableId: TABLE_L2_FORWARD, match: { eth_dst: mac.toLowerCase() } },
  ];
}
