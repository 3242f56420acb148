// The API's JSON schemas, declared once with TypeBox: requests are validated against them (ajv,
// strict), handlers get their TypeScript types from them (the Fastify type provider), and the
// OpenAPI document is generated from them (@fastify/swagger). Response models are shared
// components (`$id`), referenced by name from the routes.

import { Type, type Static, type TSchema } from 'typebox';

/** Integers beyond this lose precision in JSON numbers: every integer schema is bounded by it. */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const count = () => Type.Integer({ minimum: 0, maximum: MAX_SAFE });
const int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });
const str = () => Type.String();
const num = () => Type.Number();
const bool = () => Type.Boolean();
const ipv4 = (description?: string) => Type.String({ format: 'ipv4', ...(description === undefined ? {} : { description }) });
const dpidText = () => Type.String({ pattern: '^[0-9a-f]{16}$', description: 'Datapath id, 16 hex digits' });
const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** The shared models, by `$id`. */
export type ComponentName = 'Error' | 'Health' | 'Version' | 'Port' | 'PortRow' | 'Switch' | 'Flow' | 'Table' | 'Locator' | 'Binding' | 'Subnet' | 'Migration'
  | 'TimelineMark' | 'Timeline' | 'Intent' | 'Cluster';
const ref = (name: ComponentName) => Type.Ref(name);
const closed = <P extends Parameters<typeof Type.Object>[0]>(properties: P, description?: string, extra: Record<string, unknown> = {}) =>
  Type.Object(properties, { additionalProperties: false, ...(description === undefined ? {} : { description }), ...extra });

// ---- components (responses) --------------------------------------------------------------------

const Error_ = Type.Object({
  error: Type.String({ description: 'Machine-readable code: bad_request, unauthorized, not_found, ...' }),
  message: str(),
  requestId: Type.Optional(Type.String({ description: 'Set on 500: the id under which the error was logged' })),
}, { $id: 'Error', additionalProperties: false });

const Health = Type.Object({
  status: Type.Literal('ok'), uptimeSec: num(), switches: count(), bindings: count(),
}, { $id: 'Health', additionalProperties: false });

const Version = Type.Object({ name: str(), version: str(), openflow: str(), node: str() }, { $id: 'Version', additionalProperties: false });

const portFields = {
  portNo: count(), name: str(), hwAddr: str(),
  up: Type.Boolean({ description: 'Link up and not administratively down' }),
  linkDown: Type.Boolean({ description: 'OFPPS_LINK_DOWN: no carrier (ip link set down on the peer, cable pulled)' }),
  adminDown: Type.Boolean({ description: 'OFPPC_PORT_DOWN: disabled by an operator (ovs-ofctl mod-port ... down)' }),
  currSpeedKbps: count(),
};
const Port = Type.Object(portFields, { $id: 'Port', additionalProperties: false });

const PortRow = Type.Object({
  ...portFields,
  role: Type.Union([Type.Literal('local'), Type.Literal('router'), Type.Literal('uplink'), Type.Literal('access')], {
    description: 'local = the bridge itself (OFPP_LOCAL); router = the port toward the subnet\'s router; uplink = configured uplink; access = anything else',
  }),
  endpoints: Type.Array(closed({ eid: ipv4(), mac: str(), away: bool() }), { description: 'Bindings located at this port now' }),
  departed: nullable(closed({
    eid: ipv4(), mac: str(), now: ref('Locator'), at: num(), migration: count(),
  }, 'The last endpoint that migrated away from this port and has not come back to it (now: where it is bound)')),
  pausedSource: Type.Boolean({ description: 'Up, nobody bound here, and an endpoint migrated away: the migration\'s paused source still holds the port' }),
}, { $id: 'PortRow', additionalProperties: false });

const Switch = Type.Object({
  dpid: dpidText(),
  bridge: nullable(Type.String({ description: 'Open vSwitch bridge name: the LOCAL port\'s name, else DESC dp_desc' })),
  remote: str(), state: str(), tables: nullable(count()),
  desc: nullable(closed({ manufacturer: str(), hardware: str(), software: str(), datapath: str() })),
  subnet: nullable(str()), routerPort: nullable(count()), uplinkPorts: Type.Array(count()), ports: Type.Array(ref('Port')),
}, { $id: 'Switch', additionalProperties: false });

const Flow = Type.Object({
  table: count(), priority: count(), cookie: str(),
  kind: Type.Union([Type.Literal('binding'), Type.Literal('base'), Type.Literal('learner'), Type.Literal('foreign')]),
  binding: nullable(str()), match: str(), instructions: str(), idleTimeout: count(), hardTimeout: count(),
  packets: count(), bytes: count(), durationSec: num(), text: Type.String({ description: 'The line ovs-ofctl -O OpenFlow13 dump-flows prints' }),
  rule: Type.String({ description: 'The line ovs-ofctl -O OpenFlow13 --no-stats dump-flows prints (no duration, no counters)' }),
}, { $id: 'Flow', additionalProperties: false });

const Table = Type.Object({
  table: count(),
  name: nullable(Type.String({ description: 'The pipeline\'s name of the table (ingress, src_rewrite, dst_rewrite, l2_forward)' })),
  purpose: nullable(Type.String({ description: 'What the table is for' })),
  active: count(), lookups: count(), matched: count(),
}, { $id: 'Table', additionalProperties: false });

const Locator = Type.Object({ subnet: str(), dpid: dpidText(), port: count(), address: ipv4() }, { $id: 'Locator', additionalProperties: false });

const Binding = Type.Object({
  id: count(), eid: ipv4(), mac: str(), homeSubnet: str(), locator: ref('Locator'), version: count(), lastSeen: num(), createdAt: num(),
  away: Type.Boolean({ description: 'Outside its home subnet: its traffic is being rewritten' }),
  lostSince: Type.Union([num(), Type.Null()], { description: 'Its switch port went down or away with no move to follow: since when (epoch ms) the controller looks for it (ARP probes at every edge port); null when it is where the binding says' }),
}, { $id: 'Binding', additionalProperties: false });

const Subnet = Type.Object({
  name: str(), prefix: str(), gateway: closed({ ip: ipv4(), mac: nullable(str()) }),
  edges: Type.Array(closed({ dpid: dpidText(), routerPort: nullable(count()), uplinkPorts: Type.Array(count()), connected: bool() })),
  pool: closed({ range: str(), size: count(), used: count(), available: count() }),
}, { $id: 'Subnet', additionalProperties: false });

const Migration = Type.Object({
  id: count(), eid: ipv4(), mac: str(), from: ref('Locator'), to: ref('Locator'), version: count(), reason: str(), trigger: str(),
  detectedAt: num(), reconvergenceMs: num(), confirmMs: num(),
  rounds: Type.Integer({ minimum: 0, maximum: MAX_SAFE, description: 'Barrier rounds the move took (1 when its receive side was staged ahead)' }), releaseMs: Type.Number({ description: 'From the first packet to the held frames released' }),
  plannedAhead: Type.Boolean({ description: 'Its rules were planned when the move was staged ahead (nothing they depend on changed since): only the send side was left to send' }),
  flowMods: count(), switches: count(), failures: Type.Array(str()),
}, { $id: 'Migration', additionalProperties: false });

const TimelineMark = Type.Object({
  type: Type.Union([Type.Literal('conflict'), Type.Literal('move-staged'), Type.Literal('migration-failed'), Type.Literal('endpoint-suspended'), Type.Literal('vm-resumed'), Type.Literal('endpoint-lost')]),
  eid: ipv4(), at: num(), detail: str(), dpid: nullable(dpidText()),
}, { $id: 'TimelineMark', additionalProperties: false });

const Timeline = Type.Object({
  migrations: Type.Array(ref('Migration'), { description: 'Completed migrations, oldest first' }),
  marks: Type.Array(ref('TimelineMark'), { description: 'Conflicts refused, moves staged ahead, failed moves, suspensions, resumed VMs, lost endpoints; oldest first, the last 1000' }),
}, { $id: 'Timeline', additionalProperties: false });

const Intent = Type.Object({
  eid: ipv4(), toDpid: nullable(dpidText()), toPort: nullable(Type.Integer({ minimum: 1, maximum: 0xffffff00 })), toSubnet: nullable(str()), expiresAt: num(),
  phase: Type.Union([Type.Literal('migrating'), Type.Literal('stopping'), Type.Literal('resumed')]), source: Type.Union([Type.Literal('api'), Type.Literal('ovsdb')]),
  lossFree: Type.Boolean({ description: 'A host agent follows this migration: frames for the VM are copied to the controller until it stops' }),
  stoppedAt: nullable(num()),
}, { $id: 'Intent', additionalProperties: false });

const EtcdMember = closed({
  endpoint: str(),
  reachable: Type.Boolean({ description: 'The member answered Status in time (500 ms)' }),
  quorum: Type.Boolean({ description: 'A linearizable read through this member went through: it is part of a quorum with a leader' }),
  leader: Type.Boolean({ description: 'This member is the raft leader' }),
  version: nullable(str()), raftTerm: nullable(count()), dbSizeBytes: nullable(count()),
  error: nullable(Type.String({ description: 'Why it is unreachable or without quorum' })),
});

const Cluster = Type.Object({
  mode: Type.Union([Type.Literal('single'), Type.Literal('cluster')], { description: 'single = one process with its file store; cluster = replicas sharing etcd' }),
  replica: nullable(Type.String({ description: 'This replica\'s id (cluster.replicaId)' })),
  replicas: Type.Array(str(), { description: 'Live replicas (registered on their leases)' }),
  switches: Type.Array(closed({
    dpid: dpidText(),
    master: nullable(Type.String({ description: 'The replica that masters it (null: none now, or single mode)' })),
    connected: Type.Boolean({ description: 'Connected to this replica' }),
    writable: Type.Boolean({ description: 'This replica writes it now (its master, lease alive)' }),
  })),
  mastered: Type.Array(dpidText(), { description: 'The switches this replica writes now' }),
  lease: nullable(closed({
    id: nullable(Type.String({ description: 'etcd lease id, hex as etcdctl prints it (null while a new one is granted)' })),
    alive: Type.Boolean({ description: 'Surely alive: the last keep-alive was answered within the TTL minus a margin' }),
    ttlMs: count(),
  })),
  feed: nullable(closed({ connected: bool(), error: nullable(str()) }, 'The change feed that brings the other replicas\' binding changes')),
  liveness: nullable(closed({
    address: Type.String({ description: 'host:port of this replica\'s liveness port' }),
    verified: Type.Array(str(), { description: 'Replicas this one holds a verified liveness connection to: their death is noticed at once, not at their lease\'s expiry' }),
  }, 'The dead-replica detector (null: single mode, or cluster.livenessAddress empty)')),
  etcd: nullable(closed({
    members: Type.Array(EtcdMember, { description: 'One per configured endpoint' }),
    reachable: count(),
    quorum: Type.Boolean({ description: 'Some member served a linearizable read: moves and mastership changes can be committed' }),
    checkedAt: num(),
  }, 'etcd as this replica sees it (read at most once a second)')),
}, { $id: 'Cluster', additionalProperties: false });

/** Every shared model, by name (the OpenAPI document's components.schemas). */
export const COMPONENTS: Readonly<Record<ComponentName, TSchema>> = {
  Error: Error_, Health, Version, Port, PortRow, Switch, Flow, Table, Locator, Binding, Subnet, Migration, TimelineMark, Timeline, Intent, Cluster,
};
export const componentRef = ref;

// ---- requests ----------------------------------------------------------------------------------

export const DPID_FORMAT = 'dpid';
/** What a datapath id may look like in a path or a body: hex (16 digits at most, 0x optional) or aa:bb:..:hh. */
export const DPID_PATTERN = '^((0x)?[0-9a-fA-F]{1,16}|([0-9a-fA-F]{2}:){7}[0-9a-fA-F]{2})$';

export const IntentRequest = closed({
  eid: Type.Optional(ipv4('The VM about to move (or give its mac)')),
  mac: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$', description: 'The VM about to move, by its MAC (what a hypervisor knows)' })),
  toDpid: Type.Optional(Type.Union([
    Type.String({ format: DPID_FORMAT }),
    Type.Integer({ minimum: 0, maximum: MAX_SAFE }),
  ], { description: 'Target edge switch: hex datapath id, or a number (up to 2^53-1; use the hex form above that)' })),
  toSubnet: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Target subnet name' })),
  toPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 0xffffff00, description: 'The switch port the VM will appear on (needs toDpid): its receive side is staged at once' })),
  phase: Type.Optional(Type.Union([Type.Literal('migrating'), Type.Literal('stopping'), Type.Literal('resumed')], {
    description: 'migrating (default): about to move; stopping: the hypervisor stopped the VM for the stop-and-copy, its frames wait at the controller '
      + '(and when the destination port is known the move is made now); resumed: the migration completed, the waiting frames go to the VM at its destination (loss-free migration). '
      + 'A later phase keeps the destination and lossFree of the earlier intent.',
  })),
  lossFree: Type.Optional(Type.Boolean({ description: 'A host agent follows this migration and will send stopping: until then frames for the VM are also copied to the controller, so that none is lost before stopping arrives' })),
  stoppedAt: Type.Optional(Type.Number({ minimum: 0, description: 'With stopping: when the hypervisor stopped the VM (epoch ms, e.g. the QMP event timestamp)' })),
  ttlMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000, description: 'How long the intent lives (default 30000)' })),
}, 'A migration intent: name the VM by eid or by mac (exactly one)');
export type IntentRequest = Static<typeof IntentRequest>;

export const DpidParams = closed({ dpid: Type.String({ format: DPID_FORMAT, description: 'Datapath id (hex, 0x..., or colon form)' }) });
export const EidParams = closed({ eid: ipv4('Endpoint IPv4 address') });
export const FlowsQuery = closed({ table: Type.Optional(int(0, 254)) });
export const TablesQuery = closed({ all: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1')], { description: '1 = every table, also unused ones' })) });
export const EventsQuery = closed({ lastEventId: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SAFE, description: 'Resume after this event id (as Last-Event-ID)' })) });
export const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Resume after this event id (EventSource sends it)' })),
});
export const LoginForm = closed({ token: Type.String({ minLength: 1, maxLength: 4096 }) });
