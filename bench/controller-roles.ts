// OpenFlow 1.3 controller roles of one emulated switch, kept the way Open vSwitch keeps them
// (OF1.3 section 6.3.7; OVS ofproto's handle_role_request and connmgr's role and election-id
// handling), so that a switch of the emulator can be connected to several controllers like
// `ovs-vsctl set-controller BR tcp:c1 tcp:c2 tcp:c3`:
//   - every connection starts EQUAL (packet-ins and writes, like a master);
//   - a MASTER or SLAVE request carries a generation id; one older than the newest the switch
//     has seen (compared as a signed 64-bit difference, so ids may wrap) is refused with
//     OFPET_ROLE_REQUEST_FAILED / OFPRRFC_STALE and the role stays; an equal one is accepted;
//     EQUAL and NOCHANGE requests do not look at it;
//   - a new MASTER makes the previous master a SLAVE;
//   - a SLAVE gets no packet-ins (OF1.3's default asynchronous configuration) and may not write:
//     FLOW_MOD, PACKET_OUT, GROUP_MOD, PORT_MOD, TABLE_MOD and METER_MOD are refused with
//     OFPET_BAD_REQUEST / OFPBRC_IS_SLAVE. Reads (stats, barriers, echo) stay allowed.
// The reply names the connection's role and the switch's generation id (0 before any).
// Pure: the channel that owns the socket sends the replies and errors.

import {
  OFPBRC_IS_SLAVE, OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, OFPCR_ROLE_NOCHANGE, OFPCR_ROLE_SLAVE, OFPET_BAD_REQUEST,
  OFPET_ROLE_REQUEST_FAILED, OFPRRFC_BAD_ROLE, OFPRRFC_STALE, OFPT_FLOW_MOD, OFPT_GROUP_MOD, OFPT_METER_MOD,
  OFPT_PACKET_OUT, OFPT_PORT_MOD, OFPT_TABLE_MOD, type ErrorMsg,
} from '../controller/openflow/index.js';

/** One controller connection's role (OFPCR_ROLE_EQUAL, _MASTER or _SLAVE). */
export interface RoleHolder {
  role: number;
}

export type RoleOutcome =
  | { readonly ok: true; readonly role: number; readonly generationId: bigint }
  | { readonly ok: false; readonly errorType: number; readonly code: number };

/** The message types a slave may not send (OVS: reject_slave_controller). */
const WRITES = new Set([OFPT_PACKET_OUT, OFPT_FLOW_MOD, OFPT_GROUP_MOD, OFPT_PORT_MOD, OFPT_TABLE_MOD, OFPT_METER_MOD]);

export class ControllerRoles {
  /** The newest generation id a MASTER or SLAVE request brought; undefined until one did. */
  private generationId: bigint | undefined;
  private readonly holders = new Set<RoleHolder>();

  /** A new connection: EQUAL. */
  join(holder: RoleHolder): void {
    holder.role = OFPCR_ROLE_EQUAL;
    this.holders.add(holder);
  }

  leave(holder: RoleHolder): void {
    this.holders.delete(holder);
  }

  /** A ROLE_REQUEST from `holder`: the ROLE_REPLY's role and generation id, or the error to send. */
  request(holder: RoleHolder, role: number, generationId: bigint): RoleOutcome {
    if (role !== OFPCR_ROLE_NOCHANGE && role !== OFPCR_ROLE_EQUAL && role !== OFPCR_ROLE_MASTER && role !== OFPCR_ROLE_SLAVE) {
      return { ok: false, errorType: OFPET_ROLE_REQUEST_FAILED, code: OFPRRFC_BAD_ROLE };
    }
    if (role === OFPCR_ROLE_MASTER || role === OFPCR_ROLE_SLAVE) {
      if (this.generationId !== undefined && BigInt.asIntN(64, generationId - this.generationId) < 0n) {
        return { ok: false, errorType: OFPET_ROLE_REQUEST_FAILED, code: OFPRRFC_STALE };
      }
      this.generationId = generationId;
    }
    if (role === OFPCR_ROLE_MASTER) {
      for (const other of this.holders) if (other !== holder && other.role === OFPCR_ROLE_MASTER) other.role = OFPCR_ROLE_SLAVE;
    }
    if (role !== OFPCR_ROLE_NOCHANGE) holder.role = role;
    return { ok: true, role: holder.role, generationId: this.generationId ?? 0n };
  }

  /** Some connection is MASTER. */
  get mastered(): boolean {
    return [...this.holders].some((h) => h.role === OFPCR_ROLE_MASTER);
  }
}

/** Packet-ins go to masters and equals, never to slaves. */
export function receivesPacketIns(holder: RoleHolder): boolean {
  return holder.role !== OFPCR_ROLE_SLAVE;
}

/** The OFPBRC_IS_SLAVE error for a frame `holder` may not send, or undefined when it may. */
export function refusedWrite(holder: RoleHolder, frame: Buffer): ErrorMsg | undefined {
  if (holder.role !== OFPCR_ROLE_SLAVE || !WRITES.has(frame[1]!)) return undefined;
  return errorFor(frame, OFPET_BAD_REQUEST, OFPBRC_IS_SLAVE);
}

/** An OFPT_ERROR for a received frame: its xid, and its first 64 bytes as data (as OVS sends). */
export function errorFor(frame: Buffer, errorType: number, code: number): ErrorMsg {
  return { type: 'ERROR', xid: frame.readUInt32BE(4), errorType, code, data: Uint8Array.from(frame.subarray(0, 64)) };
}
