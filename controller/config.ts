// The controller's configuration: one convict schema. Load order, later wins:
// defaults < JSON config file (--config PATH or SEAMLESS_CONFIG) < environment < command-line flags.
// Flags are read by node:util.parseArgs in strict mode (unknown options and stray words are
// errors); --help is generated from the schema's docs. Anything invalid or unknown stops
// start-up with a ConfigError naming the key.

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DEFAULT_FABRIC_OPTIONS as F } from './fabric/options.js';
import { DEFAULT_REUSE_GRACE_MS } from './mobility/binding-registry.js';
import convict from 'convict';
import { BOOLEAN_FORMAT, parseFlags, usage } from './command-line.js';
import { LOG_LEVELS, type LogFormat, type LogLevel } from './log.js';
import { splitAddress } from './cluster/peer-liveness.js';
import { resolveOvsdbTargets } from './ovsdb/target.js';
import { OPENFLOW_LIMIT_DEFAULTS as OF_LIMITS } from './switch/limits.js';
import { packageVersion } from './version.js';

export interface Config {
  readonly openflow: {
    /** Address the OpenFlow listener binds. 0.0.0.0 by default: lab switches reach it from other hosts. */
    readonly host: string;
    readonly port: number;
    /** Send an ECHO_REQUEST after this long without hearing from a switch. */
    readonly echoIntervalMs: number;
    /** Close a switch that has been silent this long. */
    readonly echoTimeoutMs: number;
    /** Reject a request (barrier, multipart, ...) without reply after this long. */
    readonly requestTimeoutMs: number;
    // ---- bounds against hostile or broken peers, TLS, datapath admission (docs/security.md) ----
    /** A peer not in MAIN this long after it connected is closed. */
    readonly handshakeTimeoutMs: number;
    /** Open sockets in total, and per source address. */
    readonly maxConnections: number;
    readonly maxConnectionsPerAddress: number;
    /** Output held for a switch in MAIN that does not read, and for a peer still in the handshake. */
    readonly maxQueuedBytes: number;
    readonly handshakeMaxQueuedBytes: number;
    /** Bytes of one multipart reply during the handshake (PORT_DESC). */
    readonly handshakeMultipartMaxBytes: number;
    /** Asynchronous messages held before MAIN, by count and bytes. */
    readonly maxEarlyMessages: number;
    readonly maxEarlyBytes: number;
    /** Bounds of one multipart reply in MAIN. */
    readonly multipart: { readonly maxParts: number; readonly maxBytes: number; readonly timeoutMs: number; readonly totalMaxBytes: number };
    /** Log lines per kind of peer event per minute (every event is counted). */
    readonly logLinesPerMinute: number;
    /** A second connection for a dpid that is up: refused (keep-established) or wins (replace). */
    readonly duplicateDpid: 'keep-established' | 'replace';
    /** Trust-on-first-use pinning of a dpid to its first address or certificate. */
    readonly pinning: 'none' | 'address' | 'certificate';
    /** Static pins: a dpid may only connect from `address` and/or with `certificate` (CN, SAN or SHA-256 fingerprint). */
    readonly pins: readonly { readonly dpid: string; readonly address?: string; readonly certificate?: string }[];
    /** PEM files; all three = OpenFlow over TLS with required client certificates; none = plain TCP. */
    readonly tls: { readonly key: string | null; readonly cert: string | null; readonly ca: string | null };
  };
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Bearer token every endpoint but /api/health (and /metrics, see metricsPublic) requires; null = none. */
    readonly token: string | null;
    /** /metrics without the token. */
    readonly metricsPublic: boolean;
    /** Host names the API answers to besides IP literals and localhost ("*" = any: behind a proxy that checks). */
    readonly allowedHosts: readonly string[];
    /** Event-stream clients at most; more get 503. */
    readonly sseMaxClients: number;
    /** An event-stream client with more unwritten bytes than this is dropped. */
    readonly sseMaxBufferedBytes: number;
    /** Whole request (headers and body) received within this long, or 408. */
    readonly requestTimeoutMs: number;
    /** Request headers received within this long, or 408. */
    readonly headersTimeoutMs: number;
    /** An idle keep-alive connection is closed after this long. */
    readonly keepAliveTimeoutMs: number;
  };
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  readonly state: {
    readonly dir: string;
    /** Where bindings live: 'file' (the state dir, one process) or 'etcd' (shared by replicas). */
    readonly store: 'file' | 'etcd';
    readonly etcd: {
      readonly endpoints: readonly string[];
      /** Every key Seamless writes starts with it (several deployments can share one etcd). */
      readonly prefix: string;
      /** PEM files; null = plain http. */
      readonly tls: { readonly ca: string | null; readonly cert: string | null; readonly key: string | null };
    };
  };
  readonly cluster: {
    /** Lease TTL of a replica's mastership (etcd grants whole seconds, at least 1). */
    readonly leaseTtlMs: number;
    /** This replica's name among the others (default: hostname-pid). */
    readonly replicaId: string;
    /** host:port where the other replicas hold a connection that tells them at once when this process dies; '' = off (leases only). */
    readonly livenessAddress: string;
    /** Delay between two places of a free switch's campaign order (mastership-rules.ts): how long a replica lets the one before it take the switch. */
    readonly campaignStepMs: number;
  };
  readonly mobility: {
    /** false = the "no rewriting" baseline: plain L2 learning only. */
    readonly rewrite: boolean;
    /** How long receive-side rules outlive a move. */
    readonly graceMs: number;
    /** How a claim without other evidence is verified: ARP probes of the old attachment, or flow counters. */
    readonly verification: 'arp-probe' | 'flow-counters';
    /** How long an answer to the ARP probes may take. */
    readonly probeWindowMs: number;
    /** ARP probes per check. */
    readonly probeCount: number;
    /** Counter sampling window of the "old attachment fell silent" check (OVS updates counters every ~500 ms). */
    readonly activityWindowMs: number;
    /** A released locator address rests this long before reuse. */
    readonly reuseGraceMs: number;
    /** Idle timeout of learned L2 rules. */
    readonly learnIdleTimeoutSec: number;
    /** Correspondent rules at every edge, or only where conversations are seen (a map-cache). */
    readonly correspondentRules: 'eager' | 'on-demand';
    /** Idle timeout of on-demand correspondent rules. */
    readonly cacheIdleTimeoutSec: number;
    /** Endpoints one switch port may hold before a new claim there needs the old one verified gone. */
    readonly maxEndpointsPerPort: number;
    /** Claims per switch port: sustained rate and burst. */
    readonly claimsPerSecond: number;
    readonly claimBurst: number;
    /** L2 learner bounds (MAC flooding). */
    readonly maxMacsPerPort: number;
    readonly maxMacsPerSwitch: number;
    /** Flap damping: this many moves within the window suspend an endpoint's claims for a while. */
    readonly dampMoves: number;
    readonly dampWindowMs: number;
    readonly dampSuspendMs: number;
    /** Loss-free migration: frames of a stopped VM wait at the controller within these bounds (fabric/buffers.ts). */
    readonly bufferMaxFrames: number;
    readonly bufferMaxBytes: number;
    readonly bufferMaxAgeMs: number;
    /** VMs whose frames are copied or held at once at most (bounds all buffers' memory together). */
    readonly bufferMaxVms: number;
    /** While a host agent follows a migration, the VM's last frames this long are copied, for those the stop signal arrives too late for. */
    readonly bufferCopyWindowMs: number;
    /** The copies of frames this long before the stop are handed to the VM too (it may not have read them when it stopped). */
    readonly bufferReplayBeforeStopMs: number;
    /** An endpoint whose port went with no move to follow is looked for (ARP probes at every edge port) after this long; 0: never. */
    readonly lostSearchAfterMs: number;
    /** The rounds for a lost endpoint double their spacing up to this. */
    readonly lostSearchMaxIntervalMs: number;
    /** Hand a stopped VM's frames to its destination port at once when that is up (its tap queues them). */
    readonly bufferQueueAtDestination: boolean;
    /** How fast a stopped VM's frames are handed to it when it runs, frames per second (0: as fast as the switch confirms). */
    readonly bufferReplayFramesPerSec: number;
    /** How many frames of a replay may wait in the VM's port at once, by its counters (0: not watched). */
    readonly bufferReplayPortBacklog: number;
  };
  readonly hypervisor: {
    /**
     * The Open vSwitch database(s) watched for VM attachments (external_ids:attached-mac): 'auto' =
     * the local socket when it exists, 'off' or null = none, else targets "unix:PATH" / "tcp:HOST:PORT"
     * separated by commas. ovsdb/target.ts resolveOvsdbTargets() turns it into targets.
     */
    readonly ovsdb: string | null;
  };
  readonly process: {
    /**
     * The scheduling priority (nice value) every thread of the controller takes at start, or 'keep'
     * the one it was started with. Default -10: what Open vSwitch's ovs-ctl gives ovs-vswitchd, which
     * it shares the cores of a hypervisor host with (controller/priority.ts).
     */
    readonly nice: number | 'keep';
  };
  /** Managed subnets; the mobility module defines and validates their shape. */
  readonly subnets: readonly unknown[];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

// ---- formats ---------------------------------------------------------------------------------
// Named formats with strict coercion: "7000x" from an env var or a flag must fail, not become 7000,
// and "banana" is no boolean.

const digits = (value: unknown): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

function integerIn(min: number, max: number, what: string) {
  return {
    validate(value: unknown) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new Error(`must be ${what} (${min}-${max})`);
    },
    coerce: digits,
  };
}

/** setTimeout's limit: a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** OpenFlow idle and hard timeouts are 16-bit seconds on the wire. */
const MAX_FLOW_TIMEOUT_SEC = 0xffff;
const HOST_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

convict.addFormats({
  'seamless-host': {
    validate(value: unknown) {
      if (typeof value !== 'string' || value.trim() === '') throw new Error('must be a non-empty string');
    },
  },
  'seamless-path': {
    validate(value: unknown) {
      if (typeof value !== 'string' || value.trim() === '') throw new Error('must be a non-empty path');
    },
  },
  'seamless-subnets': {
    validate(value: unknown) {
      if (!Array.isArray(value) || !value.every((s) => s !== null && typeof s === 'object' && !Array.isArray(s))) {
        throw new Error('must be an array of objects');
      }
    },
  },
  [BOOLEAN_FORMAT]: {
    validate(value: unknown) {
      if (typeof value !== 'boolean') throw new Error(`must be true or false, got ${JSON.stringify(value)}`);
    },
    coerce: (value: unknown) => (value === 'true' ? true : value === 'false' ? false : value),
  },
  'seamless-token': {
    validate(value: unknown) {
      if (value === '') throw new Error('must not be empty: leave it unset for no token, or give one (an empty token would let everybody in)');
      if (typeof value !== 'string' || !/^[\x21-\x7e]{1,4096}$/.test(value)) throw new Error('must be printable ASCII without spaces (at most 4096 characters)');
    },
  },
  'seamless-host-list': {
    validate(value: unknown) {
      if (!Array.isArray(value)) throw new Error('must be a list of host names');
      for (const name of value) {
        if (typeof name !== 'string' || (name !== '*' && !HOST_NAME.test(name))) throw new Error(`not a host name: ${JSON.stringify(name)}`);
      }
    },
    coerce: (value: unknown) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : value),
  },
  'seamless-port': integerIn(0, 65535, 'a TCP port number'),
  'seamless-ms': integerIn(1, MAX_TIMER_MS, 'a positive integer (milliseconds)'),
  'seamless-ms-or-off': integerIn(0, MAX_TIMER_MS, 'milliseconds, or 0 for off'),
  'seamless-rate-or-off': integerIn(0, 100_000_000, 'a rate per second, or 0 for no bound'),
  'seamless-frames-or-off': integerIn(0, 1_000_000, 'a number of frames, or 0 for off'),
  'seamless-flow-timeout-sec': integerIn(1, MAX_FLOW_TIMEOUT_SEC, 'seconds that fit an OpenFlow timeout'),
  'seamless-bytes': integerIn(1024, 2 ** 30, 'a byte count'),
  'seamless-nice': {
    validate(value: unknown) {
      if (value === 'keep') return;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -20 || value > 19) throw new Error('must be a nice value (-20 to 19) or keep');
    },
    coerce: (value: unknown) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value),
  },
});

// Formats of the openflow.* bounds, TLS files and pins.
convict.addFormats({
  'seamless-count': {
    validate(value: unknown) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new Error('must be a positive integer');
    },
    coerce: digits,
  },
  'seamless-dpid-pins': {
    validate(value: unknown) {
      if (!Array.isArray(value)) throw new Error('must be an array of { dpid, address?, certificate? }');
      for (const [i, pin] of value.entries()) {
        const where = `pin ${i}`;
        if (pin === null || typeof pin !== 'object' || Array.isArray(pin)) throw new Error(`${where}: must be an object`);
        const { dpid, address, certificate, ...rest } = pin as Record<string, unknown>;
        if (Object.keys(rest).length > 0) throw new Error(`${where}: unknown key ${Object.keys(rest)[0]}`);
        if (typeof dpid !== 'string' || !/^(0x)?[0-9a-fA-F:]{1,23}$/.test(dpid)) throw new Error(`${where}: dpid must be hex text such as "0000000000000001"`);
        if (address === undefined && certificate === undefined) throw new Error(`${where}: needs an address or a certificate`);
        if (address !== undefined && (typeof address !== 'string' || address === '')) throw new Error(`${where}: address must be an IP address`);
        if (certificate !== undefined && (typeof certificate !== 'string' || certificate === '')) throw new Error(`${where}: certificate must be a CN, a SAN value or a SHA-256 fingerprint`);
      }
    },
  },
});

// Formats of the shared store and cluster settings (state.etcd.*, cluster.*; docs/cluster.md).
convict.addFormats({
  'seamless-urls': {
    validate(value: unknown) {
      if (!Array.isArray(value) || value.length === 0) throw new Error('must be one or more URLs');
      for (const url of value) {
        if (typeof url !== 'string' || !/^https?:\/\/[^/\s]+$/.test(url)) throw new Error(`not an http(s)://host:port URL: ${JSON.stringify(url)}`);
      }
    },
    coerce: (value: unknown) => (typeof value === 'string' ? value.split(',').map((u) => u.trim()).filter((u) => u !== '') : value),
  },
  'seamless-etcd-prefix': {
    validate(value: unknown) {
      if (typeof value !== 'string' || value.length === 0 || value.length > 512) throw new Error('must be a non-empty key prefix');
    },
  },
  'seamless-optional-path': {
    validate(value: unknown) {
      if (value !== null && (typeof value !== 'string' || value.trim() === '')) throw new Error('must be a file path or null');
    },
  },
  'seamless-liveness-address': {
    validate(value: unknown) {
      if (value === '') return;
      if (typeof value !== 'string' || splitAddress(value, true) === undefined) throw new Error('must be host:port (port 0: any free one) or empty (off)');
    },
  },
  'seamless-lease-ms': integerIn(1000, MAX_TIMER_MS, 'milliseconds, at least 1000 (etcd leases last whole seconds)'),
});

// ---- schema ----------------------------------------------------------------------------------

/**
 * The embedded default: the reference topology of topologies/seamless_topo.py (three subnets,
 * one edge switch each with the router on port 2), so `npm start` drives the case-study lab.
 */
export const REFERENCE_LAB_SUBNETS: readonly object[] = [1, 2, 3].map((n) => ({
  name: String.fromCharCode(64 + n),
  prefix: `10.0.${n}.0/24`,
  gateway: { ip: `10.0.${n}.1`, mac: `02:00:00:00:0${n}:01` },
  edges: [{ dpid: n, routerPort: 2 }],
  locatorPool: `10.0.${n}.200-10.0.${n}.250`,
}));

function schema(stdoutIsTTY: boolean) {
  return {
    openflow: {
      host: { doc: 'OpenFlow listen address', format: 'seamless-host', default: '0.0.0.0', env: 'SEAMLESS_OPENFLOW_HOST', arg: 'openflow-host' },
      port: { doc: 'OpenFlow listen port (0 = any free port)', format: 'seamless-port', default: 6653, env: 'SEAMLESS_OPENFLOW_PORT', arg: 'openflow-port' },
      echoIntervalMs: { doc: 'Idle time before we send ECHO_REQUEST', format: 'seamless-ms', default: 5000, env: 'SEAMLESS_ECHO_INTERVAL_MS', arg: 'echo-interval-ms' },
      echoTimeoutMs: { doc: 'Close a switch silent for this long', format: 'seamless-ms', default: 15000, env: 'SEAMLESS_ECHO_TIMEOUT_MS', arg: 'echo-timeout-ms' },
      requestTimeoutMs: { doc: 'Timeout of one request to a switch', format: 'seamless-ms', default: 10000, env: 'SEAMLESS_REQUEST_TIMEOUT_MS', arg: 'request-timeout-ms' },
      // ---- bounds against hostile or broken peers, TLS, datapath admission (docs/security.md) ----
      handshakeTimeoutMs: { doc: 'Close a peer not in MAIN this long after it connected', format: 'seamless-ms', default: OF_LIMITS.handshakeTimeoutMs, env: 'SEAMLESS_OPENFLOW_HANDSHAKE_TIMEOUT_MS', arg: 'openflow-handshake-timeout-ms' },
      maxConnections: { doc: 'Open OpenFlow sockets in total', format: 'seamless-count', default: OF_LIMITS.maxConnections, env: 'SEAMLESS_OPENFLOW_MAX_CONNECTIONS', arg: 'openflow-max-connections' },
      maxConnectionsPerAddress: { doc: 'Open OpenFlow sockets per source address', format: 'seamless-count', default: OF_LIMITS.maxConnectionsPerAddress, env: 'SEAMLESS_OPENFLOW_MAX_CONNECTIONS_PER_ADDRESS', arg: 'openflow-max-connections-per-address' },
      maxQueuedBytes: { doc: 'Output bytes held for a switch in MAIN that does not read', format: 'seamless-count', default: OF_LIMITS.maxQueuedBytes, env: 'SEAMLESS_OPENFLOW_MAX_QUEUED_BYTES', arg: 'openflow-max-queued-bytes' },
      handshakeMaxQueuedBytes: { doc: 'Output bytes held for a peer before MAIN', format: 'seamless-count', default: OF_LIMITS.handshakeMaxQueuedBytes, env: 'SEAMLESS_OPENFLOW_HANDSHAKE_MAX_QUEUED_BYTES', arg: 'openflow-handshake-max-queued-bytes' },
      handshakeMultipartMaxBytes: { doc: 'Bytes of one multipart reply (PORT_DESC) before MAIN', format: 'seamless-count', default: OF_LIMITS.handshakeMultipartMaxBytes, env: 'SEAMLESS_OPENFLOW_HANDSHAKE_MULTIPART_MAX_BYTES', arg: 'openflow-handshake-multipart-max-bytes' },
      maxEarlyMessages: { doc: 'Asynchronous messages held before MAIN', format: 'seamless-count', default: OF_LIMITS.maxEarlyMessages, env: 'SEAMLESS_OPENFLOW_MAX_EARLY_MESSAGES', arg: 'openflow-max-early-messages' },
      maxEarlyBytes: { doc: 'Bytes of asynchronous messages held before MAIN', format: 'seamless-count', default: OF_LIMITS.maxEarlyBytes, env: 'SEAMLESS_OPENFLOW_MAX_EARLY_BYTES', arg: 'openflow-max-early-bytes' },
      multipart: {
        maxParts: { doc: 'Parts of one multipart reply', format: 'seamless-count', default: OF_LIMITS.multipartMaxParts, env: 'SEAMLESS_OPENFLOW_MULTIPART_MAX_PARTS', arg: 'openflow-multipart-max-parts' },
        maxBytes: { doc: 'Bytes of one multipart reply', format: 'seamless-count', default: OF_LIMITS.multipartMaxBytes, env: 'SEAMLESS_OPENFLOW_MULTIPART_MAX_BYTES', arg: 'openflow-multipart-max-bytes' },
        timeoutMs: { doc: 'Total time of one multipart reply', format: 'seamless-ms', default: OF_LIMITS.multipartTimeoutMs, env: 'SEAMLESS_OPENFLOW_MULTIPART_TIMEOUT_MS', arg: 'openflow-multipart-timeout-ms' },
        totalMaxBytes: { doc: 'Bytes of all multipart replies in reassembly on every switch together', format: 'seamless-count', default: OF_LIMITS.multipartTotalMaxBytes, env: 'SEAMLESS_OPENFLOW_MULTIPART_TOTAL_MAX_BYTES', arg: 'openflow-multipart-total-max-bytes' },
      },
      logLinesPerMinute: { doc: 'Log lines per kind of peer event per minute (all are counted)', format: 'seamless-count', default: OF_LIMITS.logLinesPerMinute, env: 'SEAMLESS_OPENFLOW_LOG_LINES_PER_MINUTE', arg: 'openflow-log-lines-per-minute' },
      duplicateDpid: { doc: 'A second connection for a connected dpid: keep-established (refuse it) or replace', format: ['keep-established', 'replace'], default: 'keep-established', env: 'SEAMLESS_OPENFLOW_DUPLICATE_DPID', arg: 'openflow-duplicate-dpid' },
      pinning: { doc: 'Pin each dpid to the address or certificate it first connected with: none, address or certificate', format: ['none', 'address', 'certificate'], default: 'none', env: 'SEAMLESS_OPENFLOW_PINNING', arg: 'openflow-pinning' },
      pins: { doc: 'Static pins [{ dpid, address?, certificate? }] (config file)', format: 'seamless-dpid-pins', default: [] as unknown[] },
      tls: {
        key: { doc: 'PEM private key of the OpenFlow TLS listener', format: 'seamless-path', default: null as string | null, nullable: true, env: 'SEAMLESS_OPENFLOW_TLS_KEY', arg: 'openflow-tls-key' },
        cert: { doc: 'PEM certificate of the OpenFlow TLS listener', format: 'seamless-path', default: null as string | null, nullable: true, env: 'SEAMLESS_OPENFLOW_TLS_CERT', arg: 'openflow-tls-cert' },
        ca: { doc: 'PEM CA certificate(s) that switch certificates must be signed by', format: 'seamless-path', default: null as string | null, nullable: true, env: 'SEAMLESS_OPENFLOW_TLS_CA', arg: 'openflow-tls-ca' },
      },
    },
    http: {
      host: { doc: 'HTTP API listen address', format: 'seamless-host', default: '127.0.0.1', env: 'SEAMLESS_HTTP_HOST', arg: 'http-host' },
      port: { doc: 'HTTP API listen port (0 = any free port)', format: 'seamless-port', default: 8080, env: 'SEAMLESS_HTTP_PORT', arg: 'http-port' },
      token: { doc: 'Bearer token every API call needs (except /api/health and a public /metrics); unset = none', format: 'seamless-token', default: null as string | null, nullable: true, sensitive: true, env: 'SEAMLESS_HTTP_TOKEN', arg: 'http-token' },
      metricsPublic: { doc: 'Serve /metrics without the token', format: BOOLEAN_FORMAT, default: true, env: 'SEAMLESS_METRICS_PUBLIC', arg: 'metrics-public' },
      allowedHosts: { doc: 'Host names (comma-separated) the API answers to besides IP addresses and localhost; * = any', format: 'seamless-host-list', default: [] as string[], env: 'SEAMLESS_HTTP_ALLOWED_HOSTS', arg: 'http-allowed-hosts' },
      sseMaxClients: { doc: 'Event-stream clients at most (more get 503)', format: 'seamless-count', default: 100, env: 'SEAMLESS_SSE_MAX_CLIENTS', arg: 'sse-max-clients' },
      sseMaxBufferedBytes: { doc: 'Drop an event-stream client with more unwritten bytes than this', format: 'seamless-bytes', default: 1024 * 1024, env: 'SEAMLESS_SSE_MAX_BUFFERED_BYTES', arg: 'sse-max-buffered-bytes' },
      requestTimeoutMs: { doc: 'Time to receive a whole request', format: 'seamless-ms', default: 30000, env: 'SEAMLESS_HTTP_REQUEST_TIMEOUT_MS', arg: 'http-request-timeout-ms' },
      headersTimeoutMs: { doc: 'Time to receive the request headers', format: 'seamless-ms', default: 10000, env: 'SEAMLESS_HTTP_HEADERS_TIMEOUT_MS', arg: 'http-headers-timeout-ms' },
      keepAliveTimeoutMs: { doc: 'Idle keep-alive connections are closed after this long', format: 'seamless-ms', default: 5000, env: 'SEAMLESS_HTTP_KEEP_ALIVE_TIMEOUT_MS', arg: 'http-keep-alive-timeout-ms' },
    },
    log: {
      level: { doc: `One of ${LOG_LEVELS.join(', ')}`, format: [...LOG_LEVELS], default: 'info', env: 'SEAMLESS_LOG_LEVEL', arg: 'log-level' },
      format: { doc: 'json or pretty (default: pretty on a terminal)', format: ['json', 'pretty'], default: stdoutIsTTY ? 'pretty' : 'json', env: 'SEAMLESS_LOG_FORMAT', arg: 'log-format' },
    },
    state: {
      dir: { doc: 'Directory for persistent state', format: 'seamless-path', default: './.seamless', env: 'SEAMLESS_STATE_DIR', arg: 'state-dir' },
      store: { doc: 'Binding store: file (the state dir, one controller) or etcd (shared by replicas)', format: ['file', 'etcd'], default: 'file', env: 'SEAMLESS_STORE', arg: 'store' },
      etcd: {
        endpoints: { doc: 'etcd client URLs, comma-separated in the environment', format: 'seamless-urls', default: ['http://127.0.0.1:2379'] as string[], env: 'SEAMLESS_ETCD_ENDPOINTS', arg: 'etcd-endpoints' },
        prefix: { doc: 'Prefix of every etcd key Seamless writes', format: 'seamless-etcd-prefix', default: '/seamless/', env: 'SEAMLESS_ETCD_PREFIX', arg: 'etcd-prefix' },
        tls: {
          ca: { doc: 'PEM file of the CA of the etcd members (enables TLS; endpoints https://)', format: 'seamless-optional-path', default: null as string | null, nullable: true, env: 'SEAMLESS_ETCD_CA', arg: 'etcd-ca' },
          cert: { doc: 'PEM client certificate for etcd', format: 'seamless-optional-path', default: null as string | null, nullable: true, env: 'SEAMLESS_ETCD_CERT', arg: 'etcd-cert' },
          key: { doc: 'PEM private key of the etcd client certificate', format: 'seamless-optional-path', default: null as string | null, nullable: true, sensitive: true, env: 'SEAMLESS_ETCD_KEY', arg: 'etcd-key' },
        },
      },
    },
    cluster: {
      leaseTtlMs: { doc: 'Lease TTL of a replica (ms, at least 1000): how long its switches wait for a new master after it dies', format: 'seamless-lease-ms', default: 3000, env: 'SEAMLESS_LEASE_TTL_MS', arg: 'lease-ttl-ms' },
      replicaId: { doc: 'This replica\'s name in the cluster', format: 'seamless-host', default: `${hostname()}-${process.pid}`, env: 'SEAMLESS_REPLICA_ID', arg: 'replica-id' },
      campaignStepMs: { doc: 'Delay between two places of a free switch\'s campaign order: how long a replica lets the one before it (rendezvous order) take the switch; more spreads switches better when replicas are slow to connect, and delays a takeover when the first in the order is not connected', format: 'seamless-ms', default: 100, env: 'SEAMLESS_CAMPAIGN_STEP_MS', arg: 'campaign-step-ms' },
      livenessAddress: { doc: 'host:port the other replicas connect to, to notice at once when this process dies (port 0: any free one; empty: off, a dead replica waits for its lease TTL). On several hosts: an address the others reach', format: 'seamless-liveness-address', default: '127.0.0.1:0', env: 'SEAMLESS_LIVENESS_ADDRESS', arg: 'liveness-address' },
    },
    mobility: {
      rewrite: { doc: 'Rewrite headers for moved endpoints (false = plain L2 learning baseline)', format: BOOLEAN_FORMAT, default: true, env: 'SEAMLESS_REWRITE', arg: 'rewrite' },
      graceMs: { doc: 'How long receive-side rules outlive a move', format: 'seamless-ms', default: F.graceMs, env: 'SEAMLESS_GRACE_MS', arg: 'grace-ms' },
      verification: { doc: 'How a move without a port-down or an intent is verified: arp-probe (probe the old port, tens of ms) or flow-counters (sample its rule counters, ~1 s)', format: ['arp-probe', 'flow-counters'], default: F.verification, env: 'SEAMLESS_VERIFICATION', arg: 'verification' },
      probeWindowMs: { doc: 'How long an answer to the ARP probes of an old attachment may take', format: 'seamless-ms', default: F.probeWindowMs, env: 'SEAMLESS_PROBE_WINDOW_MS', arg: 'probe-window-ms' },
      probeCount: { doc: 'ARP probes sent per verification', format: 'seamless-count', default: F.probeCount, env: 'SEAMLESS_PROBE_COUNT', arg: 'probe-count' },
      activityWindowMs: { doc: 'Counter sampling window of the flow-counters verification', format: 'seamless-ms', default: F.activityWindowMs, env: 'SEAMLESS_ACTIVITY_WINDOW_MS', arg: 'activity-window-ms' },
      reuseGraceMs: { doc: 'Rest time of a released locator address before reuse', format: 'seamless-ms', default: DEFAULT_REUSE_GRACE_MS, env: 'SEAMLESS_REUSE_GRACE_MS', arg: 'reuse-grace-ms' },
      learnIdleTimeoutSec: { doc: 'Idle timeout (s) of learned L2 rules', format: 'seamless-flow-timeout-sec', default: F.learnIdleTimeoutSec, env: 'SEAMLESS_LEARN_IDLE_TIMEOUT_SEC', arg: 'learn-idle-timeout-sec' },
      correspondentRules: { doc: 'eager (every edge) or on-demand (edges with live conversations, idle timeout)', format: ['eager', 'on-demand'], default: F.correspondentRules, env: 'SEAMLESS_CORRESPONDENT_RULES', arg: 'correspondent-rules' },
      cacheIdleTimeoutSec: { doc: 'Idle timeout (s) of on-demand correspondent rules', format: 'seamless-flow-timeout-sec', default: F.cacheIdleTimeoutSec, env: 'SEAMLESS_CACHE_IDLE_TIMEOUT_SEC', arg: 'cache-idle-timeout-sec' },
      maxEndpointsPerPort: { doc: 'Endpoints one switch port may hold; a further claim there is learned only when the one there no longer answers', format: 'seamless-count', default: F.maxEndpointsPerPort, env: 'SEAMLESS_MAX_ENDPOINTS_PER_PORT', arg: 'max-endpoints-per-port' },
      claimsPerSecond: { doc: 'Claims (new endpoints, moves, conflicts) per switch port per second, sustained', format: 'seamless-count', default: F.claims.ratePerSec, env: 'SEAMLESS_CLAIMS_PER_SECOND', arg: 'claims-per-second' },
      claimBurst: { doc: 'Claims per switch port in a burst', format: 'seamless-count', default: F.claims.burst, env: 'SEAMLESS_CLAIM_BURST', arg: 'claim-burst' },
      maxMacsPerPort: { doc: 'MACs the L2 learner keeps behind one switch port', format: 'seamless-count', default: F.maxMacsPerPort, env: 'SEAMLESS_MAX_MACS_PER_PORT', arg: 'max-macs-per-port' },
      maxMacsPerSwitch: { doc: 'MACs the L2 learner keeps per switch', format: 'seamless-count', default: F.maxMacsPerSwitch, env: 'SEAMLESS_MAX_MACS_PER_SWITCH', arg: 'max-macs-per-switch' },
      dampMoves: { doc: 'Flap damping: moves within dampWindowMs that suspend an endpoint', format: 'seamless-count', default: F.damping.maxMoves, env: 'SEAMLESS_DAMP_MOVES', arg: 'damp-moves' },
      dampWindowMs: { doc: 'Flap damping window', format: 'seamless-ms', default: F.damping.windowMs, env: 'SEAMLESS_DAMP_WINDOW_MS', arg: 'damp-window-ms' },
      dampSuspendMs: { doc: 'How long a flapping endpoint\'s claims are refused', format: 'seamless-ms', default: F.damping.suspendMs, env: 'SEAMLESS_DAMP_SUSPEND_MS', arg: 'damp-suspend-ms' },
      bufferMaxFrames: { doc: 'Loss-free migration: frames held for one stopped VM at most (more are dropped and counted)', format: 'seamless-count', default: F.buffer.maxFrames, env: 'SEAMLESS_BUFFER_MAX_FRAMES', arg: 'buffer-max-frames' },
      bufferMaxBytes: { doc: 'Loss-free migration: bytes held for one stopped VM at most', format: 'seamless-bytes', default: F.buffer.maxBytes, env: 'SEAMLESS_BUFFER_MAX_BYTES', arg: 'buffer-max-bytes' },
      bufferMaxVms: { doc: 'Loss-free migration: VMs whose frames are copied or held at once at most (with bufferMaxBytes, bounds the memory of all buffers together); beyond it a migration goes on without a buffer, counted', format: 'seamless-count', default: F.buffer.maxVms, env: 'SEAMLESS_BUFFER_MAX_VMS', arg: 'buffer-max-vms' },
      bufferMaxAgeMs: { doc: 'Loss-free migration: how long frames wait for a stopped VM before they are dropped', format: 'seamless-ms', default: F.buffer.maxAgeMs, env: 'SEAMLESS_BUFFER_MAX_AGE_MS', arg: 'buffer-max-age-ms' },
      bufferQueueAtDestination: { doc: 'Loss-free migration: when a stopped VM\'s move is made ahead and its destination port is up already (the destination hypervisor\'s tap), hand its frames to that port at once; the tap keeps them until the VM runs (Linux: up to its txqueuelen). false: they wait at the controller for the news that the VM runs', format: BOOLEAN_FORMAT, default: F.buffer.queueAtDestination, env: 'SEAMLESS_BUFFER_QUEUE_AT_DESTINATION', arg: 'buffer-queue-at-destination' },
      bufferReplayFramesPerSec: { doc: 'Loss-free migration: how fast at most the frames that waited for a stopped VM are handed to it when it runs, frames per second, or twice the rate they came at if that is more; 0 (the default): in bursts of 256 as soon as the switch confirmed the one before and the VM\'s port has room (bufferReplayPortBacklog). Set one for a port whose counters show neither a backlog nor drops', format: 'seamless-rate-or-off', default: F.buffer.replayFramesPerSec, env: 'SEAMLESS_BUFFER_REPLAY_FRAMES_PER_SEC', arg: 'buffer-replay-frames-per-sec' },
      bufferReplayPortBacklog: { doc: 'Loss-free migration: how many frames of a replay may wait in the VM\'s port at once, read from its counters after each burst (a Linux tap counts a frame sent when the guest\'s QEMU takes it): a guest that runs again late or slowly gets them as it takes them; a burst the port dropped some of is given again. 0: not watched (the rate alone)', format: 'seamless-frames-or-off', default: F.buffer.replayPortBacklog, env: 'SEAMLESS_BUFFER_REPLAY_PORT_BACKLOG', arg: 'buffer-replay-port-backlog' },
      lostSearchAfterMs: { doc: 'An endpoint whose switch port went down or away with no move to follow (a move no controller saw, lost announcements) is looked for after this long: an ARP probe for its EID out of every host port of the edges this controller masters (0: never)', format: 'seamless-ms-or-off', default: F.lostSearch.firstAfterMs, env: 'SEAMLESS_LOST_SEARCH_AFTER_MS', arg: 'lost-search-after-ms' },
      lostSearchMaxIntervalMs: { doc: 'The rounds that look for one lost endpoint double their spacing up to this', format: 'seamless-ms', default: F.lostSearch.maxIntervalMs, env: 'SEAMLESS_LOST_SEARCH_MAX_INTERVAL_MS', arg: 'lost-search-max-interval-ms' },
      bufferCopyWindowMs: { doc: 'Loss-free migration: how far back the copied frames of a migrating VM reach when its stop is signalled', format: 'seamless-ms', default: F.buffer.copyWindowMs, env: 'SEAMLESS_BUFFER_COPY_WINDOW_MS', arg: 'buffer-copy-window-ms' },
      bufferReplayBeforeStopMs: { doc: 'Loss-free migration, where the VM\'s port counters cannot tell which copied frames its tap had not handed on at its stop: the copied frames that reached the VM this long before its stop are handed to it again with the held ones (a frame its tap took before the stop may be unread, and is lost with the source); the VM may get them twice. Where the counters tell, those frames and the last 5 ms (at most this) are', format: 'seamless-ms', default: F.buffer.replayBeforeStopMs, env: 'SEAMLESS_BUFFER_REPLAY_BEFORE_STOP_MS', arg: 'buffer-replay-before-stop-ms' },
    },
    hypervisor: {
      ovsdb: {
        doc: 'OVSDB to watch for VM attachments: auto (the local socket when present), off, or unix:PATH / tcp:HOST:PORT, comma-separated',
        format: (value: unknown) => {
          if (value !== null && typeof value !== 'string') throw new Error('must be auto, off, or OVSDB targets');
          resolveOvsdbTargets(value, () => false);
        },
        default: 'auto' as string | null, nullable: true, env: 'SEAMLESS_OVSDB', arg: 'ovsdb',
      },
    },
    process: {
      nice: {
        doc: 'Scheduling priority the controller takes at start (nice, -20 to 19; a negative one needs root or CAP_SYS_NICE), or keep the one it was started with. Default -10, the priority ovs-ctl gives ovs-vswitchd: at 0 the controller waits behind Open vSwitch for a core when both are busy, which is during every migration',
        format: 'seamless-nice', default: -10 as number | string, env: 'SEAMLESS_NICE', arg: 'nice',
      },
    },
    subnets: { doc: 'Managed subnets (schema owned by the mobility module); default: the reference lab', format: 'seamless-subnets', default: REFERENCE_LAB_SUBNETS as unknown[] },
  };
}

/** The --help text: every setting with its flag, environment variable and default. */
export function helpText(stdoutIsTTY = false): string {
  return usage(`seamless ${packageVersion()}: an OpenFlow 1.3 controller that moves VMs between IP subnets without breaking their connections`, schema(stdoutIsTTY));
}

export function versionText(): string {
  return `seamless ${packageVersion()}\n`;
}

// ---- loading ---------------------------------------------------------------------------------

function checkSubnets(subnets: readonly unknown[], validate: LoadOptions['validateSubnets']): void {
  if (validate === undefined) return;
  try {
    validate(subnets);
  } catch (error) {
    throw new ConfigError(`subnets: ${(error as Error).message}`);
  }
}

function readConfigFile(path: string): object {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  // convict would merge an object into the default array, hiding the mistake.
  if ('subnets' in parsed && !Array.isArray(parsed.subnets)) {
    throw new ConfigError(`invalid configuration (config file ${path}): subnets: must be an array of objects`);
  }
  return parsed;
}

export interface LoadOptions {
  /** Decides the default log format (pretty on a terminal). */
  readonly stdoutIsTTY?: boolean;
  /** Checks the shape of `subnets` (the mobility module supplies it); throw an Error to reject. */
  readonly validateSubnets?: (subnets: readonly unknown[]) => void;
}

/** What the command line asks for: run with this configuration, or print help or the version. */
export type CommandLine =
  | { readonly kind: 'run'; readonly config: Config }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version'; readonly text: string };

/** All replies in reassembly together must hold at least one of the largest a switch may send, or no such reply could ever complete. */
function checkMultipart(m: Config['openflow']['multipart']): void {
  if (m.totalMaxBytes < m.maxBytes) {
    throw new ConfigError(`invalid configuration: openflow.multipart.totalMaxBytes (${m.totalMaxBytes}) must be at least openflow.multipart.maxBytes (${m.maxBytes}): no reply that large could complete`);
  }
}

/**
 * Reads the command line (`argv` = flags only, e.g. process.argv.slice(2)) and, unless it asks
 * for help or the version, builds the configuration from defaults, the config file, `env` and
 * the flags. Throws ConfigError with a message naming the offending key or option.
 */
export function readCommandLine(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions = {},
): CommandLine {
  const stdoutIsTTY = options.stdoutIsTTY ?? Boolean(process.stdout.isTTY);
  const def = schema(stdoutIsTTY);
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(argv, def);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (flags.help) return { kind: 'help', text: helpText(stdoutIsTTY) };
  if (flags.version) return { kind: 'version', text: versionText() };
  const path = flags.config ?? (env.SEAMLESS_CONFIG || undefined);
  let current = '';
  try {
    const conf = convict(def, { args: [], env: { ...env } });
    if (path !== undefined) conf.load(readConfigFile(path));
    // Flags last: convict re-applies the environment after every load.
    for (const [setting, value] of flags.values) {
      current = `--${setting.arg} (${setting.path}): `;
      conf.set(setting.path, value);
    }
    current = '';
    conf.validate({ allowed: 'strict' });
    const config = conf.getProperties() as Config;
    checkSubnets(config.subnets, options.validateSubnets);
    checkMultipart(config.openflow.multipart);
    return { kind: 'run', config };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const where = path === undefined ? '' : ` (config file ${path})`;
    throw new ConfigError(`invalid configuration${where}: ${current}${(error as Error).message}`);
  }
}

/** The configuration only (tests, tools): --help and --version are errors here. */
export function loadConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions = {},
): Config {
  const line = readCommandLine(argv, env, options);
  if (line.kind !== 'run') throw new ConfigError(`--${line.kind} asks for no configuration`);
  return line.config;
}
