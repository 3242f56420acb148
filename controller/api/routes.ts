// The endpoints: each declares its schemas once (validation, handler types and the OpenAPI
// operation come from them) and reads domain state through ApiDeps, answering with a view
// (views.ts). Unknown names and conflicts leave as ApiErrors.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import type { ClusterView, EtcdHealthView } from '../cluster/index.js';
import type { Fabric } from '../fabric/fabric.js';
import type { Binding, BindingRegistry, MigrationIntents, SubnetMap } from '../mobility/index.js';
import { formatDpid, parseDpid, type SwitchConnection, type SwitchRegistry } from '../switch/index.js';
import { ApiError, badRequest, conflict, ERROR_TEXT, notFound } from './errors.js';
import type { LiveReads } from './live-reads.js';
import { portTable } from './port-table.js';
import type { TimelineMarks } from './timeline.js';
import { componentRef, DpidParams, EidParams, FlowsQuery, IntentRequest, TablesQuery, type ComponentName } from './schemas.js';
import {
  bindingView, bindingViews, clusterView, flowViews, intentView, migrationView, subnetView, switchView, tableViews, type SwitchView,
} from './views.js';

export interface ApiDeps {
  readonly switches: SwitchRegistry;
  readonly subnets: SubnetMap;
  readonly registry: BindingRegistry;
  readonly intents: MigrationIntents;
  readonly fabric: Fabric;
  /** Cluster mode only: this replica's view of the cluster, and etcd's health (a shared reading, a second old at most). */
  readonly replica?: ClusterSource;
}

export interface ClusterSource {
  view(): ClusterView;
  etcd(): Promise<EtcdHealthView>;
}

export interface RouteOptions {
  readonly version: string;
  readonly startedAt: number;
  readonly now?: () => number;
  /** The OpenAPI document, generated from the routes once they are all registered. */
  readonly openApi: () => unknown;
  /** Flow and table stats reads shared by every client (live-reads.ts). */
  readonly liveReads: LiveReads;
  /** Conflicts, staged and failed moves, suspensions: the timeline's marks. */
  readonly marks: TimelineMarks;
}

export const DEFAULT_INTENT_TTL_MS = 30_000;

/** Responses of one operation: the success model and the error statuses it may answer with. */
export function responses(ok: Record<number, TSchema>, ...errors: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = { ...ok };
  for (const status of [...errors, 500]) out[status] = Type.Ref('Error', { description: ERROR_TEXT[status] ?? 'Error' });
  return out;
}

const model = (name: ComponentName, description = 'OK') => Type.Ref(name, { description });
const listOf = (name: ComponentName, description = 'OK') => Type.Array(componentRef(name), { description });

export function apiRoutes(deps: ApiDeps, options: RouteOptions): FastifyPluginAsyncTypebox {
  const now = options.now ?? Date.now;
  const { switches, subnets, registry, intents, fabric } = deps;
  const lostSince = (b: Binding) => fabric.lostSince(b);

  const { liveReads, marks } = options;
  const placeOf = (sw: SwitchConnection) => ({
    subnet: subnets.ofDpid(sw.dpid)?.name ?? null,
    routerPort: fabric.routerPort(sw.dpid) ?? null,
    uplinkPorts: subnets.edge(sw.dpid)?.uplinkPorts ?? [],
  });
  const describe = (sw: SwitchConnection): SwitchView => switchView(sw, placeOf(sw));

  /** The connected switch (the schema has checked the spelling of the id already). */
  const connected = (text: string): SwitchConnection => {
    const dpid = parseDpid(text);
    const sw = switches.get(dpid);
    if (sw === undefined) throw notFound(`no switch ${formatDpid(dpid)} is connected`);
    return sw;
  };

  const fromSwitch = async <T>(sw: SwitchConnection, read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      throw new ApiError(502, 'switch_unavailable', `switch ${sw.dpidText} did not answer: ${(error as Error).message}`);
    }
  };

  return async (app) => {
    app.get('/api/health', {
      config: { public: true },
      schema: { operationId: 'getHealth', tags: ['controller'], summary: 'Liveness and a short summary (no token needed)', security: [], response: responses({ 200: model('Health') }) },
    }, async () => ({
      status: 'ok' as const, uptimeSec: (now() - options.startedAt) / 1000, switches: switches.list().length, bindings: fabric.bindings.list().length,
    }));

    app.get('/api/version', {
      schema: { operationId: 'getVersion', tags: ['controller'], summary: 'Controller version', response: responses({ 200: model('Version') }, 401) },
    }, async () => ({ name: 'seamless', version: options.version, openflow: '1.3', node: process.version }));

    app.get('/api/openapi.json', {
      schema: { operationId: 'getOpenApi', tags: ['controller'], summary: 'This document (OpenAPI 3.1)', response: responses({ 200: Type.Object({}, { additionalProperties: true, description: 'OpenAPI 3.1 document' }) }, 401) },
    }, async () => options.openApi());

    app.get('/api/cluster', {
      schema: {
        operationId: 'getCluster', tags: ['controller'],
        summary: 'Single process or cluster: this replica, the live replicas, who masters each switch, the switches this replica writes, its etcd lease, its change feed and etcd\'s health',
        response: responses({ 200: model('Cluster') }, 401),
      },
    }, async () => clusterView(switches.list().map((sw) => sw.dpidText), deps.replica === undefined ? undefined : { view: deps.replica.view(), etcd: await deps.replica.etcd() }));

    app.get('/api/switches', {
      schema: { operationId: 'listSwitches', tags: ['switches'], summary: 'Connected switches with ports, subnet and router port', response: responses({ 200: listOf('Switch') }, 401) },
    }, async () => switches.list().sort((a, b) => (a.dpid < b.dpid ? -1 : 1)).map(describe));

    app.get('/api/switches/:dpid', {
      schema: { operationId: 'getSwitch', tags: ['switches'], summary: 'One switch', params: DpidParams, response: responses({ 200: model('Switch') }, 400, 401, 404) },
    }, async (request) => describe(connected(request.params.dpid)));

    app.get('/api/switches/:dpid/flows', {
      schema: {
        operationId: 'listFlows', tags: ['switches'],
        summary: 'Flow table read live from the switch (multipart flow stats), in ovs-ofctl notation; one read per switch is shared by every client for 1 s',
        params: DpidParams, querystring: FlowsQuery, response: responses({ 200: listOf('Flow') }, 400, 401, 404, 502),
      },
    }, async (request) => {
      const sw = connected(request.params.dpid);
      const { table } = request.query;
      const flows = await fromSwitch(sw, () => liveReads.read(sw, 'flow_stats', () => sw.flowStats({})));
      return flowViews(table === undefined ? flows : flows.filter((f) => f.tableId === table), (id) => fabric.bindings.byId(id)?.eid);
    });

    app.get('/api/switches/:dpid/ports', {
      schema: {
        operationId: 'listPorts', tags: ['switches'],
        summary: 'The switch\'s ports (kept current by PORT_STATUS) with their role, the endpoints bound to each, and the paused source a migration left behind',
        params: DpidParams, response: responses({ 200: listOf('PortRow') }, 400, 401, 404),
      },
    }, async (request) => {
      const sw = connected(request.params.dpid);
      return portTable(sw, placeOf(sw), fabric.bindings.list(), fabric.migrations.list());
    });

    app.get('/api/switches/:dpid/tables', {
      schema: {
        operationId: 'listTables', tags: ['switches'],
        summary: 'Table stats read live from the switch (tables in use; ?all=1 for every table), with the pipeline\'s table names; shared by every client for 1 s',
        params: DpidParams, querystring: TablesQuery, response: responses({ 200: listOf('Table') }, 400, 401, 404, 502),
      },
    }, async (request) => {
      const sw = connected(request.params.dpid);
      const tables = await fromSwitch(sw, () => liveReads.read(sw, 'table_stats', () => sw.tableStats()));
      return tableViews(tables, { all: request.query.all === '1' });
    });

    app.get('/api/bindings', {
      schema: { operationId: 'listBindings', tags: ['bindings'], summary: 'Every binding (EID -> locator)', response: responses({ 200: listOf('Binding') }, 401) },
    }, async () => bindingViews(fabric.bindings.list(), lostSince));

    app.get('/api/bindings/:eid', {
      schema: { operationId: 'getBinding', tags: ['bindings'], summary: 'One binding', params: EidParams, response: responses({ 200: model('Binding') }, 400, 401, 404) },
    }, async (request) => {
      const b = fabric.bindings.byEid(request.params.eid);
      if (b === undefined) throw notFound(`no binding for ${request.params.eid}`);
      return bindingView(b, lostSince);
    });

    app.delete('/api/bindings/:eid', {
      schema: {
        operationId: 'deleteBinding', tags: ['bindings'], summary: 'Remove a stale binding and its rules',
        params: EidParams, response: responses({ 200: model('Binding', 'The removed binding') }, 400, 401, 404, 409),
      },
    }, async (request) => {
      const { eid } = request.params;
      if (fabric.bindings.byEid(eid) === undefined) throw notFound(`no binding for ${eid}`);
      if (intents.get(eid, now()) !== undefined) throw conflict(`${eid} has a live migration intent: it is migrating; retry when the intent has expired or the move is done`);
      const removed = await fabric.removeBinding(eid);
      if (removed === undefined) throw notFound(`no binding for ${eid}`);
      return bindingView(removed);
    });

    app.get('/api/subnets', {
      schema: { operationId: 'listSubnets', tags: ['subnets'], summary: 'Managed subnets with edges, gateway and locator pool usage', response: responses({ 200: listOf('Subnet') }, 401) },
    }, async () => subnets.subnets.map((s) => {
      const pool = registry.pool(s.name);
      return subnetView(s, {
        gatewayMac: fabric.gatewayMac(s.name),
        routerPort: (dpid) => fabric.routerPort(dpid),
        connected: (dpid) => switches.get(dpid) !== undefined,
        pool: { size: pool?.size ?? 0, used: pool?.inUseCount ?? 0, available: pool?.available(now()) ?? 0 },
      });
    }));

    app.get('/api/migrations', {
      schema: { operationId: 'listMigrations', tags: ['migrations'], summary: 'Completed migrations, oldest first', response: responses({ 200: listOf('Migration') }, 401) },
    }, async () => fabric.migrations.list().map(migrationView));

    app.get('/api/timeline', {
      schema: {
        operationId: 'getTimeline', tags: ['migrations'],
        summary: 'The migration timeline: completed moves (reconvergence, release time, barrier rounds) and the marks around them (conflicts, staged and failed moves, suspensions)',
        response: responses({ 200: model('Timeline') }, 401),
      },
    }, async () => ({ migrations: fabric.migrations.list().map(migrationView), marks: [...marks.list()] }));

    app.get('/api/intents', {
      schema: { operationId: 'listIntents', tags: ['migrations'], summary: 'Live migration intents', response: responses({ 200: listOf('Intent') }, 401) },
    }, async () => intents.list(now()).map(intentView));

    app.post('/api/intents', {
      schema: {
        operationId: 'createIntent', tags: ['migrations'], summary: 'Announce that a VM is about to move',
        body: IntentRequest, response: responses({ 201: model('Intent', 'Registered') }, 400, 401, 404, 409, 413, 415),
      },
    }, async (request, reply) => {
      const input = request.body;
      if ((input.eid === undefined) === (input.mac === undefined)) throw badRequest('give the VM by eid or by mac (one of them)');
      const binding = input.eid !== undefined ? fabric.bindings.byEid(input.eid) : fabric.bindings.byMac(input.mac!.toLowerCase().replace(/-/g, ':'));
      if (binding === undefined) throw notFound(`no binding for ${input.eid ?? input.mac}: the controller has not seen this VM`);
      const t = now();
      // What the phase asks of the runtime (staging, copying, buffering, delivery) follows registration (main.ts).
      const result = intents.register({
        eid: binding.eid, toDpid: input.toDpid, toPort: input.toPort, toSubnet: input.toSubnet, phase: input.phase ?? 'migrating',
        lossFree: input.lossFree, stoppedAt: input.stoppedAt, expiresAt: t + (input.ttlMs ?? DEFAULT_INTENT_TTL_MS),
      }, t);
      if (!result.ok) throw conflict(result.error);
      return reply.code(201).send(intentView(result.intent));
    });

    app.delete('/api/intents/:eid', {
      schema: {
        operationId: 'deleteIntent', tags: ['migrations'], summary: 'Withdraw a migration intent (the move was called off)',
        params: EidParams, response: responses({ 204: Type.Null() }, 401, 404),
      },
    }, async (request, reply) => {
      const { eid } = request.params;
      if (intents.consume(eid) === undefined) throw notFound(`no intent for ${eid}`);
      await fabric.phases.withdraw(eid);
      return reply.code(204).send();
    });
  };
}
