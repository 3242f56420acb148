// OpenFlow over TLS: the listener's key, certificate and CA come from files; every switch must
// present a certificate signed by that CA (Open vSwitch: ovs-vsctl set-ssl, set-controller ssl:).

import { readFileSync } from 'node:fs';
import type { TLSSocket, TlsOptions } from 'node:tls';
import { normalizeAddress, type PeerCertificate, type PeerIdentity } from './admission.js';

/** Paths of PEM files; all three or none (plain TCP). */
export interface TlsFiles {
  readonly key: string | null;
  readonly cert: string | null;
  readonly ca: string | null;
}

/** Server options for node:tls, or undefined for plain TCP. Throws a message naming the setting. */
export function tlsServerOptions(files: TlsFiles | undefined): TlsOptions | undefined {
  if (files === undefined) return undefined;
  const set = (['key', 'cert', 'ca'] as const).filter((k) => files[k] !== null && files[k] !== '');
  if (set.length === 0) return undefined;
  if (set.length < 3) {
    const missing = (['key', 'cert', 'ca'] as const).filter((k) => !set.includes(k)).map((k) => `openflow.tls.${k}`);
    throw new Error(`OpenFlow TLS needs key, cert and ca; missing ${missing.join(', ')}`);
  }
  const read = (k: 'key' | 'cert' | 'ca'): Buffer => {
    try {
      return readFileSync(files[k]!);
    } catch (error) {
      throw new Error(`openflow.tls.${k}: cannot read ${files[k]}: ${(error as Error).message}`);
    }
  };
  return {
    key: read('key'), cert: read('cert'), ca: read('ca'),
    // A switch without a certificate signed by our CA never gets past the TLS handshake.
    requestCert: true, rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
}

/** The peer's address and, over TLS, its (verified) certificate. */
export function peerIdentity(socket: { remoteAddress?: string } & Partial<Pick<TLSSocket, 'getPeerCertificate' | 'encrypted'>>): PeerIdentity {
  const address = normalizeAddress(socket.remoteAddress);
  if (socket.encrypted !== true || socket.getPeerCertificate === undefined) return { address };
  const cert = socket.getPeerCertificate(false);
  if (cert === null || Object.keys(cert).length === 0) return { address };
  const certificate: PeerCertificate = {
    subjectCN: typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined,
    altNames: (cert.subjectaltname ?? '').split(',').map((s) => s.trim().replace(/^[A-Za-z ]+:/, '')).filter((s) => s !== ''),
    fingerprint256: cert.fingerprint256,
  };
  return { address, certificate };
}
