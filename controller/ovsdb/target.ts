// Where ovsdb-server listens, spelled as ovs-vsctl --db spells it: "unix:PATH", "tcp:HOST:PORT"
// ("tcp:[::1]:6640" for IPv6), or a bare absolute path. The controller's `hypervisor.ovsdb`
// setting is "auto" (the local socket when it exists), "off", or a comma-separated list of targets
// (one per hypervisor whose ovsdb-server listens on TCP: `ovs-vsctl set-manager ptcp:6640:ADDR`).

export type OvsdbTarget =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** Debian's and upstream's default; ovs-vsctl uses it when --db is not given. */
export const DEFAULT_OVSDB_SOCKET = '/var/run/openvswitch/db.sock';

/** Parses one target; throws an Error that says what is wrong. */
export function parseOvsdbTarget(text: string): OvsdbTarget {
  const spec = text.trim();
  if (spec.startsWith('/')) return { kind: 'unix', path: spec };
  const colon = spec.indexOf(':');
  const method = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  switch (method) {
    case 'unix':
      if (rest === '') throw new Error(`${JSON.stringify(text)}: unix: needs a socket path`);
      return { kind: 'unix', path: rest };
    case 'tcp':
      return tcpTarget(text, rest);
    case 'ssl':
      throw new Error(`${JSON.stringify(text)}: ssl: targets are not supported (use tcp: on a management network, or the unix socket)`);
    case 'punix':
    case 'ptcp':
    case 'pssl':
      throw new Error(`${JSON.stringify(text)}: ${method}: is a listening (passive) target, but the controller connects (use unix: or tcp:)`);
    default:
      throw new Error(`${JSON.stringify(text)}: not an OVSDB target (unix:PATH, tcp:HOST:PORT or an absolute socket path)`);
  }
}

function tcpTarget(text: string, rest: string): OvsdbTarget {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(rest);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || host === '' || !(port >= 1 && port <= 65535)) {
    throw new Error(`${JSON.stringify(text)}: tcp: needs HOST:PORT (port 1-65535; IPv6 as [ADDR]:PORT)`);
  }
  return { kind: 'tcp', host, port };
}

export function formatOvsdbTarget(target: OvsdbTarget): string {
  if (target.kind === 'unix') return `unix:${target.path}`;
  return target.host.includes(':') ? `tcp:[${target.host}]:${target.port}` : `tcp:${target.host}:${target.port}`;
}

/**
 * The targets a setting names. "auto": the default local socket if `socketExists` says it is
 * there, else none; "off" or null: none. Throws on a malformed target (config validation uses it).
 */
export function resolveOvsdbTargets(setting: string | null, socketExists: (path: string) => boolean): OvsdbTarget[] {
  if (setting === null) return [];
  const value = setting.trim();
  if (value === 'off' || value === '') return [];
  if (value === 'auto') return socketExists(DEFAULT_OVSDB_SOCKET) ? [{ kind: 'unix', path: DEFAULT_OVSDB_SOCKET }] : [];
  const targets = value.split(',').map((part) => parseOvsdbTarget(part));
  const seen = new Set<string>();
  for (const target of targets) {
    const key = formatOvsdbTarget(target);
    if (seen.has(key)) throw new Error(`${key} is listed twice`);
    seen.add(key);
  }
  return targets;
}
