// Pure: a switch's port table as a network engineer reads it during migrations. Each port with
// its OpenFlow state (PORT_DESC kept current by PORT_STATUS), what it is for (the router, an
// uplink, the bridge itself, an access port), which endpoints are bound to it now, and which
// endpoint left it last. A port that is still up while the endpoint that was on it has moved away
// is the paused source of a live migration: the hypervisor keeps the old tap until the source
// QEMU quits, so "port down" comes later, if at all, and is no proof that the VM left.

import type { Binding } from '../mobility/index.js';
import { OFPP_LOCAL } from '../openflow/constants.js';
import type { MigrationRecord } from '../fabric/migration-log.js';
import { locatorView, portView, type LocatorView, type PortView, type SwitchLike, type SwitchPlace } from './views.js';

export type PortRole = 'local' | 'router' | 'uplink' | 'access';

export interface PortEndpoint {
  readonly eid: string;
  readonly mac: string;
  /** Bound outside its home subnet. */
  readonly away: boolean;
}

export interface PortDeparture {
  readonly eid: string;
  readonly mac: string;
  /** Where it is bound now. */
  readonly now: LocatorView;
  /** When it left (the move's detection, epoch ms), and which migration record that was. */
  readonly at: number;
  readonly migration: number;
}

export interface PortRowView extends PortView {
  readonly role: PortRole;
  /** Endpoints bound to this port now. */
  readonly endpoints: readonly PortEndpoint[];
  /** The last endpoint that migrated away from this port and has not come back to it, if any. */
  readonly departed: PortDeparture | null;
  /** Up, nobody bound here, and an endpoint moved away: the migration's source side still holds the port. */
  readonly pausedSource: boolean;
}

export function portRole(portNo: number, place: Pick<SwitchPlace, 'routerPort' | 'uplinkPorts'>): PortRole {
  if (portNo === OFPP_LOCAL) return 'local';
  if (portNo === place.routerPort) return 'router';
  if (place.uplinkPorts.includes(portNo)) return 'uplink';
  return 'access';
}

/**
 * The port table of `sw`. `bindings` are all bindings; `migrations` the completed moves, oldest
 * first (the fabric's MigrationLog): one pass over each, so the cost is bounded by their caps.
 */
export function portTable(
  sw: Pick<SwitchLike, 'dpid' | 'ports'>,
  place: Pick<SwitchPlace, 'routerPort' | 'uplinkPorts'>,
  bindings: readonly Binding[],
  migrations: readonly MigrationRecord[],
): PortRowView[] {
  const here = new Map<number, PortEndpoint[]>();
  const byEid = new Map<string, Binding>();
  for (const b of bindings) {
    byEid.set(b.eid, b);
    if (b.locator.dpid !== sw.dpid) continue;
    const list = here.get(b.locator.port) ?? [];
    list.push({ eid: b.eid, mac: b.mac, away: b.locator.subnet !== b.homeSubnet });
    here.set(b.locator.port, list);
  }
  const departures = lastDepartures(sw.dpid, byEid, migrations);

  return [...sw.ports.values()].sort((a, b) => a.portNo - b.portNo).map((p) => {
    const view = portView(p);
    const endpoints = (here.get(p.portNo) ?? []).sort((a, b) => (a.eid < b.eid ? -1 : a.eid > b.eid ? 1 : 0));
    const departed = departures.get(p.portNo) ?? null;
    const role = portRole(p.portNo, place);
    return {
      ...view, role, endpoints, departed,
      pausedSource: view.up && role === 'access' && endpoints.length === 0 && departed !== null,
    };
  });
}

/** Per port of this switch: the latest move away from it whose endpoint is bound elsewhere now. */
function lastDepartures(dpid: bigint, byEid: ReadonlyMap<string, Binding>, migrations: readonly MigrationRecord[]): Map<number, PortDeparture> {
  const out = new Map<number, PortDeparture>();
  for (const m of migrations) {
    if (m.from.dpid !== dpid) continue;
    const b = byEid.get(m.eid);
    // Removed since, or back on this very port: nothing is left behind.
    if (b === undefined || (b.locator.dpid === dpid && b.locator.port === m.from.port)) {
      out.delete(m.from.port);
      continue;
    }
    out.set(m.from.port, { eid: m.eid, mac: m.mac, now: locatorView(b.locator), at: m.detectedAt, migration: m.id });
  }
  return out;
}
