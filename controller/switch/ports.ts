// The port table of a switch, pure: a PORT_DESC snapshot kept current by PORT_STATUS.

import type { Port, PortStatus } from '../openflow/types.js';

const OFPPR_DELETE = 1;

/** Returns a new table (readers holding the old one keep a consistent view). */
export function applyPortStatus(ports: ReadonlyMap<number, Port>, status: Pick<PortStatus, 'reason' | 'port'>): Map<number, Port> {
  const next = new Map(ports);
  if (status.reason === OFPPR_DELETE) next.delete(status.port.portNo);
  else next.set(status.port.portNo, status.port); // OFPPR_ADD, OFPPR_MODIFY
  return next;
}

export function portTableFrom(ports: readonly Port[], laterStatuses: readonly Pick<PortStatus, 'reason' | 'port'>[] = []): Map<number, Port> {
  let table = new Map(ports.map((p) => [p.portNo, p]));
  for (const status of laterStatuses) table = applyPortStatus(table, status);
  return table;
}
