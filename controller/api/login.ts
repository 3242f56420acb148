// The dashboard's login: one form that exchanges the token for the session cookie (see access.ts).
// The token travels in a POST body, never in a URL (URLs end up in logs, history and Referer).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { credentialOf, sessionCookie } from './access.js';
import { LoginForm } from './schemas.js';

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

function page(problem: string | undefined): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Seamless: log in</title>
<style>body{font:15px system-ui,sans-serif;margin:4rem auto;max-width:26rem;color:#222}input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
button{font:inherit;margin-top:.8rem;padding:.4rem 1rem}.problem{color:#b00}</style></head>
<body><h1>Seamless</h1><p>This controller's API needs its token (<code>http.token</code>).</p>
${problem === undefined ? '' : `<p class="problem">${problem}</p>`}
<form method="post" action="/login"><label>Token <input name="token" type="password" autocomplete="current-password" autofocus required></label>
<button type="submit">Open the dashboard</button></form></body></html>
`;
}

export interface LoginOptions {
  readonly token: string | null;
}

/** GET /login, POST /login, and / sending a visitor without a session to /login. */
export function loginRoutes(options: LoginOptions): FastifyPluginAsyncTypebox {
  return async (app) => {
    const { token } = options;
    // Only this context accepts a form body; everywhere else a body must be JSON.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });

    app.get('/login', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
      if (token === null) return reply.redirect('/', 303);
      return reply.headers(PAGE_HEADERS).send(page(undefined));
    });

    app.post('/login', { config: { public: true }, schema: { hide: true, body: LoginForm } }, async (request, reply) => {
      if (token === null) return reply.redirect('/', 303);
      const given = { method: 'GET', headers: { authorization: `Bearer ${request.body.token}` } };
      if (credentialOf(given, token) !== 'bearer') return reply.code(401).headers(PAGE_HEADERS).send(page('Wrong token.'));
      return reply.header('set-cookie', sessionCookie(token, request.protocol === 'https')).redirect('/', 303);
    });
  };
}

/** For the dashboard's page: a visitor without a session is sent to the login form first. */
export function needsLogin(token: string | null, cookieHeader: string | undefined, authorization: string | undefined): boolean {
  if (token === null) return false;
  const credential = credentialOf({ method: 'GET', headers: { cookie: cookieHeader, authorization } }, token);
  return credential === 'none' || credential === 'wrong';
}
