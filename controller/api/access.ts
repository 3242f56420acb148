// Who may ask what. Two guards run on every request before anything is parsed:
// - the Host allow-list (DNS rebinding): IP literals, localhost and the configured names only;
// - the token: with http.token set, every route needs `Authorization: Bearer <token>` except the
//   public ones (/api/health, /metrics when metricsPublic, the dashboard's files, the login page).
//   Browsers cannot put a header on an EventSource, so the dashboard logs in once (POST /login)
//   and gets an HttpOnly SameSite=Lax cookie holding a value derived from the token (not the
//   token itself); the cookie is accepted for reads (GET/HEAD) only, so a cross-site form can
//   never use it to change anything.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

export const SESSION_COOKIE = 'seamless_session';

export interface AccessOptions {
  /** null: no token, everything is open (to whoever passes the Host check). */
  readonly token: string | null;
  /** Host names accepted besides IP literals and localhost; "*" accepts any. */
  readonly allowedHosts: readonly string[];
  /** The listen address, accepted when it is a name. */
  readonly listenHost: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the token. */
    public?: boolean;
  }
}

// ---- Host ------------------------------------------------------------------------------------

/** The host part of a Host header, lower-case, without port or trailing dot; undefined when malformed. */
export function hostName(header: string): string | undefined {
  const text = header.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](:\d{1,5})?$/.exec(text);
  if (bracketed !== null) return bracketed[1];
  const plain = /^([^:[\]/\s@]+)(:\d{1,5})?$/.exec(text);
  return plain === null ? undefined : plain[1]!.replace(/\.$/, '');
}

/** Whether a request with this Host header may be answered. */
export function hostAllowed(header: string | undefined, options: Pick<AccessOptions, 'allowedHosts' | 'listenHost'>): boolean {
  if (options.allowedHosts.includes('*')) return true;
  if (header === undefined) return false;
  const name = hostName(header);
  if (name === undefined) return false;
  // An address cannot be rebound to another: only names can point a browser's origin at us.
  if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
  if (name === options.listenHost.toLowerCase()) return true;
  return options.allowedHosts.some((allowed) => {
    const a = allowed.toLowerCase().replace(/\.$/, '');
    return a.startsWith('*.') ? name.endsWith(a.slice(1)) : name === a;
  });
}

// ---- token -----------------------------------------------------------------------------------

/** Constant-time comparison of two strings of any length. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The dashboard's cookie value: derived from the token, so the cookie alone is no bearer token. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('seamless dashboard session v1').digest('base64url');
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export type Credential = 'none' | 'open' | 'bearer' | 'session' | 'wrong';

/** What the request proves. The session cookie counts only for reads. */
export function credentialOf(request: Pick<FastifyRequest, 'headers' | 'method'>, token: string | null): Credential {
  if (token === null) return 'open';
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer +(\S+)\s*$/i.exec(header);
    return match !== null && sameSecret(match[1]!, token) ? 'bearer' : 'wrong';
  }
  const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
  if (cookie !== undefined && (request.method === 'GET' || request.method === 'HEAD')) return sameSecret(cookie, sessionValue(token)) ? 'session' : 'wrong';
  return 'none';
}

/** The onRequest guard: 421 for a Host we do not serve, 401 without the token where it is needed. */
export function accessGuard(options: AccessOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!hostAllowed(request.headers.host, options)) {
      await sendError(reply, 421, 'this server does not answer to that Host header (add the name to http.allowedHosts)');
      return reply;
    }
    if (request.routeOptions.config.public === true || request.method === 'OPTIONS') return;
    const credential = credentialOf(request, options.token);
    if (credential === 'open' || credential === 'bearer' || credential === 'session') return;
    const message = credential === 'wrong' ? 'wrong token' : 'this call needs Authorization: Bearer <token> (the dashboard logs in at /login)';
    await sendError(reply, 401, message, { 'WWW-Authenticate': 'Bearer' });
    return reply;
  };
}
