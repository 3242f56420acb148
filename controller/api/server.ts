// The HTTP server: /api (router + JSON errors), /api/events (server-sent events), /metrics and
// the dashboard's static files at /. node:http only; the handlers stay in routes.ts.

import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { filter, map } from 'rxjs';
import type { Logger } from '../log.js';
import { fabricEventView, sseFrame, EventHub, type ApiEvent } from './events.js';
import { Histogram, RECONVERGENCE_BUCKETS, renderMetrics } from './metrics.js';
import { ApiError, badRequest, type JsonReply, type Router } from './router.js';
import { apiRoutes, type ApiDeps } from './routes.js';
import { formatDpid } from '../switch/dpid.js';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Bearer token for POST/DELETE; null = open. */
  readonly token: string | null;
  readonly log: Logger;
  readonly maxBodyBytes?: number;
  readonly heartbeatMs?: number;
}

export interface ApiServer {
  readonly address: { readonly host: string; readonly port: number };
  readonly hub: EventHub;
  close(): Promise<void>;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

export async function startApiServer(deps: ApiDeps, options: ApiServerOptions): Promise<ApiServer> {
  const startedAt = Date.now();
  const router = apiRoutes(deps, { version: packageVersion(), startedAt });
  const observed = observe(deps);
  const statics = loadDashboard();
  const clients = new Set<ServerResponse>();
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const log = options.log.child({ component: 'http' });

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error('request failed', { url: req.url, error: (error as Error).message });
      if (!res.headersSent) sendJson(res, { status: 500, body: { error: 'internal', message: (error as Error).message } });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (url.pathname === '/metrics' && (method === 'GET' || method === 'HEAD')) return sendText(res, 200, metricsText(), 'text/plain; version=0.0.4; charset=utf-8');
    if (url.pathname === '/api/events' && method === 'GET') return openStream(req, res, url);
    if (url.pathname.startsWith('/api/') || url.pathname === '/api') return api(req, res, url, method);
    const file = statics.get(url.pathname === '/' ? '/index.html' : url.pathname);
    if (file !== undefined && (method === 'GET' || method === 'HEAD')) return sendText(res, 200, file.body, file.type);
    sendJson(res, errorReply(new ApiError(404, 'not_found', `nothing at ${url.pathname}`)));
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    try {
      const found = router.match(method, url.pathname);
      if (found.kind === 'not-found') throw new ApiError(404, 'not_found', `no endpoint ${url.pathname}`);
      if (found.kind === 'method-not-allowed') {
        throw new ApiError(405, 'method_not_allowed', `${method} not allowed on ${url.pathname}`, { Allow: found.allow.join(', ') });
      }
      if (MUTATING.has(method)) authorize(req, options.token);
      const reply = await found.handler({
        method, params: found.params, query: url.searchParams, headers: req.headers, body: () => readJson(req, maxBody),
      });
      sendJson(res, reply);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      sendJson(res, errorReply(error));
    }
  }

  function openStream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n\n');
    const last = Number(req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? NaN);
    if (Number.isInteger(last)) for (const e of observed.hub.since(last)) res.write(sseFrame(e));
    else res.write(`: connected, last event id ${observed.hub.lastId}\n\n`);
    const stop = observed.hub.listen((e) => res.write(sseFrame(e)));
    const beat = setInterval(() => res.write(`: heartbeat ${Date.now()}\n\n`), heartbeatMs);
    clients.add(res);
    const done = () => { clearInterval(beat); stop(); clients.delete(res); };
    req.on('close', done);
    res.on('close', done);
  }

  function metricsText(): string {
    const { fabric, switches } = deps;
    const bindings = fabric.bindings.list();
    return renderMetrics({
      switchesConnected: switches.list().length,
      packetIns: fabric.counters.packetIns,
      flowMods: fabric.outbox.counters.flowMods,
      switchErrors: observed.switchErrors,
      bindings: bindings.length,
      bindingsAway: bindings.filter((b) => b.locator.subnet !== b.homeSubnet).length,
      moves: fabric.counters.moves,
      conflicts: fabric.counters.conflicts,
      reconvergence: observed.reconvergence,
    });
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => { server.off('error', reject); resolveListen(); });
  });
  const bound = server.address() as AddressInfo;
  log.info('http api listening', { host: bound.address, port: bound.port, dashboard: `http://${bound.address}:${bound.port}/` });
  return {
    address: { host: bound.address, port: bound.port },
    hub: observed.hub,
    async close() {
      observed.close();
      for (const res of clients) res.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Streams the server follows for its whole life: events for SSE, error and reconvergence metrics. */
function observe(deps: ApiDeps) {
  const hub = new EventHub();
  const switchErrors = new Map<string, number>();
  const reconvergence = new Histogram(RECONVERGENCE_BUCKETS);
  const { switches, fabric } = deps;
  const subs = [
    switches.errors$.subscribe(({ error }) => {
      const type = error.errorName.split('/')[0] ?? error.errorName;
      switchErrors.set(type, (switchErrors.get(type) ?? 0) + 1);
    }),
    fabric.events$.pipe(filter((e) => e.type === 'MIGRATION_COMPLETED')).subscribe((e) => {
      if (e.type === 'MIGRATION_COMPLETED') reconvergence.observe(e.migration.reconvergenceMs / 1000);
    }),
  ];
  hub.follow(
    fabric.events$.pipe(map(fabricEventView)),
    switches.switchUp$.pipe(map((sw): ApiEvent => ({ type: 'switch-up', dpid: formatDpid(sw.dpid), remote: sw.remote, at: Date.now() }))),
    switches.switchDown$.pipe(map((sw): ApiEvent => ({ type: 'switch-down', dpid: formatDpid(sw.dpid), reason: sw.closeReason ?? null, at: Date.now() }))),
    switches.errors$.pipe(map(({ dpid, error }): ApiEvent => ({ type: 'switch-error', dpid: formatDpid(dpid), error: error.errorName, request: error.request?.type ?? null, at: Date.now() }))),
  );
  return {
    hub, switchErrors, reconvergence,
    close() {
      for (const s of subs) s.unsubscribe();
      hub.close();
    },
  };
}

function authorize(req: IncomingMessage, token: string | null): void {
  if (token === null) return;
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const wanted = Buffer.from(token);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    const message = header === '' ? 'this call needs Authorization: Bearer <token>' : 'wrong token';
    throw new ApiError(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer' });
  }
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new ApiError(413, 'payload_too_large', `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(413, 'payload_too_large', `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw badRequest('a JSON body is required');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`malformed JSON: ${(error as Error).message}`);
  }
}

function errorReply(e: ApiError): JsonReply {
  return { status: e.status, body: { error: e.error, message: e.message }, headers: e.headers };
}

function sendJson(res: ServerResponse, reply: JsonReply): void {
  const body = JSON.stringify(reply.body, null, 1);
  res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...reply.headers });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

/** The dashboard's files, read once. Found beside this module, or in the source tree when running from dist/. */
function loadDashboard(): Map<string, { body: Buffer; type: string }> {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../dashboard'), resolve(here, '../../../controller/dashboard')];
  const dir = candidates.find((d) => existsSync(join(d, 'index.html')));
  const files = new Map<string, { body: Buffer; type: string }>();
  if (dir === undefined) return files;
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type !== undefined) files.set(`/${name}`, { body: readFileSync(join(dir, name)), type });
  }
  return files;
}

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
    dir = dirname(dir);
  }
  return '0.0.0';
}
