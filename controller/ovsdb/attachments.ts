// Where VMs are attached, read from the Open vSwitch database. libvirt and OpenStack (os-vif) add a
// VM's tap to its bridge with external_ids attached-mac, iface-id and vm-id / vm-uuid; on a live
// migration they do it on the destination while the VM still runs at the source, seconds before
// the stop-and-copy. An Interface row with a valid attached-mac, an OpenFlow port number and a
// bridge with a datapath id is an *attachment*: the switch port where that MAC is (about to be)
// attached. Pure: derive the attachments of a replica, diff two derivations into events.

import { DatumError, optionalInteger, optionalString, stringMap, uuidSet } from './datum.js';
import type { OvsdbRow, ReplicaView } from './replica.js';

/** The tables and columns the derivation reads; the monitor asks for exactly these. */
export const ATTACHMENT_COLUMNS = {
  Bridge: ['name', 'datapath_id', 'ports'],
  Port: ['name', 'interfaces'],
  Interface: ['name', 'ofport', 'mac_in_use', 'external_ids', 'link_state', 'admin_state'],
} as const satisfies Record<string, readonly string[]>;

export const ATTACHMENT_TABLES = Object.keys(ATTACHMENT_COLUMNS);

/** A VM interface attached to a switch port, as the hypervisor announced it. */
export interface AttachmentRecord {
  /** The Interface row (stable across ovsdb-server restarts). */
  readonly interfaceUuid: string;
  /** The interface (tap) name, e.g. "vnet3". */
  readonly interfaceName: string;
  /** The VM's MAC (external_ids:attached-mac), lower case. */
  readonly mac: string;
  /** external_ids:iface-id (libvirt: the interface uuid; OpenStack: the Neutron port). */
  readonly ifaceId?: string;
  /** external_ids:vm-uuid (OpenStack) or vm-id (libvirt). */
  readonly vmUuid?: string;
  readonly bridge: string;
  readonly dpid: bigint;
  /** OpenFlow port number of the interface on that bridge. */
  readonly ofport: number;
}

/** An attachment appearing or going away. */
export interface VmAttachment extends AttachmentRecord {
  readonly state: 'added' | 'removed';
  /** When the change was received (ms since the epoch). */
  readonly at: number;
  /** From the first snapshot after start: the VM was there already, this is no fresh add. */
  readonly initial: boolean;
}

/** An Interface row whose hypervisor data is malformed: ignored, and logged (rate-limited). */
export interface AttachmentProblem {
  readonly interfaceUuid: string;
  readonly interfaceName?: string;
  readonly reason: string;
}

export interface AttachmentDerivation {
  /** By interface uuid. */
  readonly attachments: ReadonlyMap<string, AttachmentRecord>;
  readonly problems: readonly AttachmentProblem[];
}

/** Largest OpenFlow port number OVS gives an ordinary port (0xff00 and above are reserved). */
const MAX_OFPORT = 0xfeff;

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** "AA:BB:CC:00:00:01" -> "aa:bb:cc:00:00:01"; undefined for anything that is not a MAC. */
export function normaliseMac(text: string): string | undefined {
  const mac = text.trim().toLowerCase();
  return MAC.test(mac) ? mac : undefined;
}

const DPID = /^[0-9a-f]{16}$/i;

/** Which bridge holds each interface: interface uuid -> bridge row. */
function bridgesByInterface(view: ReplicaView): Map<string, OvsdbRow> {
  const portToBridge = new Map<string, OvsdbRow>();
  for (const bridge of view.table('Bridge').values()) {
    try {
      for (const port of uuidSet(bridge.ports)) portToBridge.set(port, bridge);
    } catch {
      // A bridge with malformed ports holds no attachments; its interfaces stay unattached.
    }
  }
  const result = new Map<string, OvsdbRow>();
  for (const [portUuid, port] of view.table('Port')) {
    const bridge = portToBridge.get(portUuid);
    if (bridge === undefined) continue;
    try {
      for (const iface of uuidSet(port.interfaces)) result.set(iface, bridge);
    } catch {
      // As above.
    }
  }
  return result;
}

type RowOutcome = { readonly record: AttachmentRecord } | { readonly problem: string } | undefined;

/** One Interface row: an attachment, a problem, or nothing (no VM here, or not ready yet). */
function attachmentOf(uuid: string, row: OvsdbRow, bridge: OvsdbRow | undefined): RowOutcome {
  const ids = stringMap(row.external_ids);
  const attachedMac = ids.get('attached-mac');
  if (attachedMac === undefined) return undefined;
  const mac = normaliseMac(attachedMac);
  if (mac === undefined) return { problem: `external_ids:attached-mac is not a MAC: ${JSON.stringify(attachedMac.slice(0, 40))}` };
  const name = optionalString(row.name);
  const ofport = optionalInteger(row.ofport);
  // Not ready: vswitchd has not given it a port number yet (or could not open it: -1), or the
  // port is not (yet) on a bridge, or the bridge has no datapath id yet.
  if (name === undefined || ofport === undefined || ofport <= 0 || ofport > MAX_OFPORT || bridge === undefined) return undefined;
  const bridgeName = optionalString(bridge.name);
  const dpidText = optionalString(bridge.datapath_id);
  if (bridgeName === undefined || dpidText === undefined || !DPID.test(dpidText)) return undefined;
  const ifaceId = ids.get('iface-id');
  const vmUuid = ids.get('vm-uuid') ?? ids.get('vm-id');
  return {
    record: {
      interfaceUuid: uuid, interfaceName: name, mac,
      ...(ifaceId !== undefined && ifaceId !== '' ? { ifaceId } : {}),
      ...(vmUuid !== undefined && vmUuid !== '' ? { vmUuid } : {}),
      bridge: bridgeName, dpid: BigInt('0x' + dpidText), ofport,
    },
  };
}

/** Every attachment the replica holds now, and the rows that announce one but are malformed. */
export function deriveAttachments(view: ReplicaView): AttachmentDerivation {
  const bridges = bridgesByInterface(view);
  const attachments = new Map<string, AttachmentRecord>();
  const problems: AttachmentProblem[] = [];
  for (const [uuid, row] of view.table('Interface')) {
    let outcome: RowOutcome;
    try {
      outcome = attachmentOf(uuid, row, bridges.get(uuid));
    } catch (error) {
      if (!(error instanceof DatumError)) throw error;
      outcome = { problem: error.message };
    }
    if (outcome === undefined) continue;
    if ('record' in outcome) attachments.set(uuid, outcome.record);
    else problems.push({ interfaceUuid: uuid, ...interfaceName(row), reason: outcome.problem });
  }
  return { attachments, problems };
}

function interfaceName(row: OvsdbRow): { interfaceName?: string } {
  return typeof row.name === 'string' ? { interfaceName: row.name } : {};
}

export function sameAttachment(a: AttachmentRecord, b: AttachmentRecord): boolean {
  return a.interfaceUuid === b.interfaceUuid && a.interfaceName === b.interfaceName && a.mac === b.mac &&
    a.ifaceId === b.ifaceId && a.vmUuid === b.vmUuid && a.bridge === b.bridge && a.dpid === b.dpid && a.ofport === b.ofport;
}

/**
 * The events that turn `before` into `after`: removals first (a changed attachment, e.g. a new
 * port number, is a removal of the old one then an addition of the new one), then additions.
 */
export function diffAttachments(
  before: ReadonlyMap<string, AttachmentRecord>,
  after: ReadonlyMap<string, AttachmentRecord>,
  at: number,
  initial = false,
): VmAttachment[] {
  const removed: VmAttachment[] = [];
  const added: VmAttachment[] = [];
  for (const [uuid, old] of before) {
    const now = after.get(uuid);
    if (now === undefined || !sameAttachment(old, now)) removed.push({ ...old, state: 'removed', at, initial });
  }
  for (const [uuid, now] of after) {
    const old = before.get(uuid);
    if (old === undefined || !sameAttachment(old, now)) added.push({ ...now, state: 'added', at, initial });
  }
  return [...removed, ...added];
}
