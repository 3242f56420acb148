// Asking a switch for an OpenFlow role (OF1.3 ROLE_REQUEST, section 6.3.7).
//
// A switch refuses a MASTER or SLAVE request whose generation id is older than the one it holds
// (OFPRRFC_STALE) and leaves the connection's role as it was. For a connection that never got a
// role, that is EQUAL: it receives every packet-in and may write, as a master does. A replica asks
// to be SLAVE with the generation id it knows from etcd, which can be older than the switch's: a
// master was elected after the replica's view (its switch connected while etcd's news was on
// its way). So a SLAVE request refused as stale is asked again with the switch's own id, which a
// NOCHANGE request returns. A MASTER request refused as stale is not retried: this replica was
// deposed, and its next role event says so.

import { OpenFlowError } from '../switch/errors.js';
import { OFPCR_ROLE_NOCHANGE, OFPCR_ROLE_SLAVE, type RoleReply } from '../openflow/index.js';
import { OFPET_ROLE_REQUEST_FAILED, OFPRRFC_STALE } from '../openflow/error-codes.js';

/** The part of a switch connection a role request needs. */
export interface RoleSwitch {
  request(message: { type: 'ROLE_REQUEST'; role: number; generationId: bigint }): Promise<RoleReply>;
}

/** How often a SLAVE request is asked again after a stale refusal (a new master each time is unlikely). */
const SLAVE_ATTEMPTS = 3;

export function isStaleRole(error: unknown): boolean {
  return error instanceof OpenFlowError && error.errorType === OFPET_ROLE_REQUEST_FAILED && error.code === OFPRRFC_STALE;
}

/**
 * Asks for `role` with `generationId`; a SLAVE request refused as stale is asked again with the
 * switch's id. `onStale` hears of every stale refusal (what was asked, and the switch's id if asked).
 */
export async function requestRole(
  sw: RoleSwitch, role: number, generationId: bigint, onStale?: (asked: bigint, switchHolds: bigint | undefined) => void,
): Promise<RoleReply> {
  let id = generationId;
  for (let attempt = 1; ; attempt++) {
    try {
      return await sw.request({ type: 'ROLE_REQUEST', role, generationId: id });
    } catch (error) {
      if (!isStaleRole(error)) throw error;
      if (role !== OFPCR_ROLE_SLAVE || attempt >= SLAVE_ATTEMPTS) {
        onStale?.(id, undefined);
        throw error;
      }
      const current = await sw.request({ type: 'ROLE_REQUEST', role: OFPCR_ROLE_NOCHANGE, generationId: 0n });
      onStale?.(id, current.generationId);
      id = current.generationId > id ? current.generationId : id;
    }
  }
}
