// The endpoints: each handler reads domain state through ApiDeps and returns a view
// (views.ts). Validation failures, unknown names and conflicts leave as ApiErrors.

import type { Fabric } from '../fabric/fabric.js';
import type { BindingRegistry, MigrationIntents, SubnetMap } from '../mobility/index.js';
import { isIpv4 } from '../packet/address.js';
import { formatDpid, parseDpid, type SwitchConnection, type SwitchRegistry } from '../switch/index.js';
import { validate } from './json-schema.js';
import { openApiDocument, resolveSchema, SCHEMAS } from './openapi.js';
import { ApiError, badRequest, conflict, notFound, Router, type JsonReply, type RequestContext } from './router.js';
import {
  bindingView, bindingViews, flowViews, intentView, migrationView, subnetView, switchView, tableViews, type SwitchView,
} from './views.js';

export interface ApiDeps {
  readonly switches: SwitchRegistry;
  readonly subnets: SubnetMap;
  readonly registry: BindingRegistry;
  readonly intents: MigrationIntents;
  readonly fabric: Fabric;
}

export interface RouteOptions {
  readonly version: string;
  readonly startedAt: number;
  readonly now?: () => number;
}

export const DEFAULT_INTENT_TTL_MS = 30_000;

const ok = (body: unknown, status = 200): JsonReply => ({ status, body });

export function apiRoutes(deps: ApiDeps, options: RouteOptions): Router {
  const now = options.now ?? Date.now;
  const { switches, subnets, registry, intents, fabric } = deps;

  const describe = (sw: SwitchConnection): SwitchView => switchView(sw, {
    subnet: subnets.ofDpid(sw.dpid)?.name ?? null,
    routerPort: fabric.routerPort(sw.dpid) ?? null,
    uplinkPorts: subnets.edge(sw.dpid)?.uplinkPorts ?? [],
  });

  const switchOf = (ctx: RequestContext): SwitchConnection => {
    const raw = ctx.params.dpid ?? '';
    let dpid: bigint;
    try {
      dpid = parseDpid(raw);
    } catch {
      throw badRequest(`not a datapath id: ${JSON.stringify(raw)} (use 16 hex digits, 0x..., or aa:bb:..)`);
    }
    const sw = switches.get(dpid);
    if (sw === undefined) throw notFound(`no switch ${formatDpid(dpid)} is connected`);
    return sw;
  };

  const eidOf = (ctx: RequestContext): string => {
    const eid = ctx.params.eid ?? '';
    if (!isIpv4(eid)) throw badRequest(`not an IPv4 address: ${JSON.stringify(eid)}`);
    return eid;
  };

  const fromSwitch = async <T>(sw: SwitchConnection, read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      throw new ApiError(502, 'switch_unavailable', `switch ${sw.dpidText} did not answer: ${(error as Error).message}`);
    }
  };

  return new Router()
    .add('GET', '/api/health', () => ok({
      status: 'ok', uptimeSec: (now() - options.startedAt) / 1000, switches: switches.list().length, bindings: fabric.bindings.list().length,
    }))
    .add('GET', '/api/version', () => ok({ name: 'seamless', version: options.version, openflow: '1.3', node: process.version }))
    .add('GET', '/api/openapi.json', () => ok(openApiDocument(options.version)))
    .add('GET', '/api/switches', () => ok(switches.list().sort((a, b) => (a.dpid < b.dpid ? -1 : 1)).map(describe)))
    .add('GET', '/api/switches/:dpid', (ctx) => ok(describe(switchOf(ctx))))
    .add('GET', '/api/switches/:dpid/flows', async (ctx) => {
      const sw = switchOf(ctx);
      const table = ctx.query.get('table');
      if (table !== null && !(/^\d{1,3}$/.test(table) && Number(table) <= 254)) throw badRequest('table: must be a table number (0-254)');
      const flows = await fromSwitch(sw, () => sw.flowStats(table === null ? {} : { tableId: Number(table) }));
      return ok(flowViews(flows, (id) => fabric.bindings.byId(id)?.eid));
    })
    .add('GET', '/api/switches/:dpid/tables', async (ctx) => {
      const sw = switchOf(ctx);
      const tables = await fromSwitch(sw, () => sw.tableStats());
      return ok(tableViews(tables, { all: ctx.query.get('all') === '1' }));
    })
    .add('GET', '/api/bindings', () => ok(bindingViews(fabric.bindings.list())))
    .add('GET', '/api/bindings/:eid', (ctx) => {
      const eid = eidOf(ctx);
      const b = fabric.bindings.byEid(eid);
      if (b === undefined) throw notFound(`no binding for ${eid}`);
      return ok(bindingView(b));
    })
    .add('DELETE', '/api/bindings/:eid', async (ctx) => {
      const eid = eidOf(ctx);
      if (fabric.bindings.byEid(eid) === undefined) throw notFound(`no binding for ${eid}`);
      if (intents.get(eid, now()) !== undefined) throw conflict(`${eid} has a live migration intent: it is migrating; retry when the intent has expired or the move is done`);
      const removed = await fabric.removeBinding(eid);
      if (removed === undefined) throw notFound(`no binding for ${eid}`);
      return ok(bindingView(removed));
    })
    .add('GET', '/api/subnets', () => ok(subnets.subnets.map((s) => {
      const pool = registry.pool(s.name);
      return subnetView(s, {
        gatewayMac: fabric.gatewayMac(s.name),
        routerPort: (dpid) => fabric.routerPort(dpid),
        connected: (dpid) => switches.get(dpid) !== undefined,
        pool: { size: pool?.size ?? 0, used: pool?.inUseCount ?? 0, available: pool?.available(now()) ?? 0 },
      });
    })))
    .add('GET', '/api/migrations', () => ok(fabric.migrations.list().map(migrationView)))
    .add('GET', '/api/intents', () => ok(intents.list(now()).map(intentView)))
    .add('POST', '/api/intents', async (ctx) => {
      const body = await ctx.body();
      const problems = validate(body, SCHEMAS.IntentRequest!, resolveSchema);
      if (problems.length > 0) throw badRequest(problems.join('; '));
      const input = body as { eid: string; toDpid?: string | number; toSubnet?: string; ttlMs?: number };
      if (fabric.bindings.byEid(input.eid) === undefined) throw notFound(`no binding for ${input.eid}: the controller has not seen this VM`);
      const t = now();
      const result = intents.register({ eid: input.eid, toDpid: input.toDpid, toSubnet: input.toSubnet, expiresAt: t + (input.ttlMs ?? DEFAULT_INTENT_TTL_MS) }, t);
      if (!result.ok) throw conflict(result.error);
      return ok(intentView(result.intent), 201);
    });
}
