// The independent oracle: Open vSwitch's own decoder, `ovs-ofctl -O OpenFlow13 ofp-print HEX`.

import { spawnSync } from 'node:child_process';

export interface OfpPrint {
  readonly ok: boolean;
  readonly text: string;
}

/** OVS's text for the bytes; ok is false when OVS reports a decode error or truncation. */
export function ofpPrint(bytes: Uint8Array, verbosity = 0): OfpPrint {
  const args = ['-O', 'OpenFlow13', 'ofp-print', Buffer.from(bytes).toString('hex')];
  if (verbosity > 0) args.push(String(verbosity));
  const r = spawnSync('ovs-ofctl', args, { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  const bad = r.status !== 0 || /decode error|truncated|\*\*\*/i.test(text);
  return { ok: !bad, text };
}

export function ovsAvailable(): boolean {
  return spawnSync('ovs-ofctl', ['--version'], { encoding: 'utf8' }).status === 0;
}
