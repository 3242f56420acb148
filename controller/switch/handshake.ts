// Version negotiation (OpenFlow 1.3.5 §7.5.1), pure. We speak OpenFlow 1.3 only.

import type { Hello } from '../openflow/types.js';

/** Wire version number of OpenFlow 1.3. */
export const OF13 = 4;

export type Negotiation =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly reason: string };

/** Our HELLO: header version 1.3 with a version bitmap that holds only 1.3. */
export function ourHello(xid: number): Hello {
  return { type: 'HELLO', xid, version: OF13, elements: [{ type: 'VERSIONBITMAP', versions: [OF13] }] };
}

/**
 * With a bitmap on both sides the highest common version wins; without the peer's bitmap the
 * version is the smaller of the two header versions. Anything but 1.3 is incompatible.
 */
export function negotiate(peer: Pick<Hello, 'version' | 'elements'>): Negotiation {
  const bitmap = peer.elements.find((e) => e.type === 'VERSIONBITMAP');
  if (bitmap !== undefined && bitmap.type === 'VERSIONBITMAP') {
    if (bitmap.versions.includes(OF13)) return { ok: true, version: OF13 };
    return { ok: false, reason: `no common version: we support 0x0${OF13} (OpenFlow 1.3), peer supports ${listVersions(bitmap.versions)}` };
  }
  const version = Math.min(OF13, peer.version);
  if (version === OF13) return { ok: true, version };
  return { ok: false, reason: `no common version: we support 0x0${OF13} (OpenFlow 1.3), peer offers ${listVersions([peer.version])}` };
}

function listVersions(versions: readonly number[]): string {
  if (versions.length === 0) return 'none';
  return versions.map((v) => '0x' + v.toString(16).padStart(2, '0')).join(', ');
}
