/**
 * A VM's tap and its Open vSwitch port, created the way libvirt does it for an OVS virtual port:
 * a persistent tap first, then `add-port` with a requested OpenFlow port number and the Interface
 * row's external_ids (attached-mac, iface-id, vm-uuid, iface-status=active) that OpenStack/OVN read,
 * and only then QEMU, which attaches to the existing tap. The port is up as long as a QEMU holds
 * the tap open, paused or not.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { validateIfname } from './command-line.js';
import { labResources } from './lab-resources.js';

const run = promisify(execFile);

/** What libvirt writes into the Interface row of a VM's port. */
export interface VifIds {
  /** The VM's MAC. */
  readonly attachedMac: string;
  /** The port's id in the orchestrator (Neutron's port UUID); stays with the VM across migrations. */
  readonly ifaceId: string;
  readonly vmUuid: string;
}

export interface InterfaceRow {
  readonly name: string;
  readonly ofport: number | null;
  readonly linkState: string | null;
  readonly externalIds: Readonly<Record<string, string>>;
}

export class TapPortError extends Error {
  override name = 'TapPortError';
}

async function sh(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(command, [...args], { timeout: 20_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new TapPortError(`${command} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

const vsctl = (...args: string[]) => sh('ovs-vsctl', ['--timeout=10', ...args]);

/** OVSDB strings in ovs-vsctl arguments are quoted, or a MAC's colons would be read as syntax. */
function quoted(value: string): string {
  return JSON.stringify(value);
}

/** The external_ids assignments of a VIF, as ovs-vsctl `set Interface` arguments. */
export function vifExternalIds(ids: VifIds): string[] {
  return [
    `external_ids:attached-mac=${quoted(ids.attachedMac)}`,
    `external_ids:iface-id=${quoted(ids.ifaceId)}`,
    `external_ids:vm-uuid=${quoted(ids.vmUuid)}`,
    `external_ids:iface-status=${quoted('active')}`,
  ];
}

/**
 * Create a persistent tap and put it on `bridge` as OpenFlow port `ofport` with the VIF's
 * external_ids. The root namespace's own stack stays off the tap (no IPv6 chatter of the host's
 * towards the guest, no ARP answers for the host's addresses), as on the lab's veth ends.
 */
export async function addTapPort(bridge: string, tap: string, ofport: number, ids: VifIds): Promise<void> {
  validateIfname(tap);
  if (!Number.isInteger(ofport) || ofport < 1 || ofport > 0xfeff) throw new TapPortError(`OpenFlow port must be 1..65279, got ${ofport}`);
  labResources.addTap(tap);
  await sh('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  writeFileSync(`/proc/sys/net/ipv6/conf/${tap}/disable_ipv6`, '1');
  writeFileSync(`/proc/sys/net/ipv4/conf/${tap}/arp_ignore`, '8');
  await sh('ip', ['link', 'set', 'dev', tap, 'up']);
  await vsctl('add-port', bridge, tap, '--', 'set', 'Interface', tap, `ofport_request=${ofport}`, ...vifExternalIds(ids));
  const row = await interfaceRow(tap);
  if (row?.ofport !== ofport) {
    throw new TapPortError(`${tap} got OpenFlow port ${row?.ofport ?? 'none'} on ${bridge}, not ${ofport} (is the port taken?)`);
  }
}

/** Take the tap off its bridge and delete it; nothing happens for what is already gone. */
export async function removeTapPort(tap: string): Promise<void> {
  await vsctl('--if-exists', 'del-port', tap).catch(() => '');
  await sh('ip', ['link', 'del', 'dev', tap]).catch(() => '');
  labResources.forgetTap(tap);
}

/** The Interface row of a port, or null when there is none. */
export async function interfaceRow(name: string): Promise<InterfaceRow | null> {
  const out = await vsctl('--format=json', '--columns=name,ofport,link_state,external_ids', 'find', 'Interface', `name=${quoted(name)}`);
  const table = JSON.parse(out) as { data: unknown[][] };
  const row = table.data[0];
  if (!row) return null;
  const [rowName, ofport, linkState, externalIds] = row;
  return {
    name: String(rowName),
    ofport: typeof ofport === 'number' && ofport > 0 ? ofport : null,
    linkState: typeof linkState === 'string' ? linkState : null,
    externalIds: Object.fromEntries(ovsdbMap(externalIds)),
  };
}

/** The bridge a port is on, or null. */
export async function portBridge(name: string): Promise<string | null> {
  const out = await vsctl('port-to-br', name).catch(() => '');
  return out.trim() || null;
}

/** OVSDB JSON: a map is ["map", [[key, value], ...]]. */
function ovsdbMap(value: unknown): Array<[string, string]> {
  if (!Array.isArray(value) || value[0] !== 'map' || !Array.isArray(value[1])) return [];
  return (value[1] as unknown[]).filter(Array.isArray).map((pair) => [String(pair[0]), String(pair[1])]);
}
