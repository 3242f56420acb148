// Composition root: the only place that wires the controller together.
// --help and --version exit 0; configuration errors exit with status 2; SIGINT/SIGTERM shut down
// cleanly, with the buffered log lines flushed.

import { pathToFileURL } from 'node:url';
import { Counter } from 'prom-client';
import { config as rxjsConfig } from 'rxjs';
import { ConfigError, readCommandLine, type CommandLine, type Config } from './config.js';
import { createLogger, type Logger } from './log.js';
import { createMetricsRegistry, type MetricsRegistry } from './metrics.js';
import { startApiServer } from './api/index.js';
import { DEFAULT_BUFFER_LIMITS, Fabric, HypervisorSignals } from './fabric/index.js';
import { formatOvsdbTarget, resolveOvsdbTargets, VmAttachmentWatcher } from './ovsdb/index.js';
import { existsSync } from 'node:fs';
import { BindingRegistry, DEFAULT_LOST_SEARCH, FileBindingRepository, MigrationIntents, parseSubnets, SubnetMap, type BindingService } from './mobility/index.js';
import { registerBindingMetrics } from './mobility/metrics.js';
import { reservePorts } from './port-reservation.js';
import { SwitchListener, SwitchRegistry } from './switch/index.js';
import { registerSwitchStateMetrics } from './switch/state-metrics.js';
import type { Etcd3 } from 'etcd3';
import { ClusterReplica, connectEtcd, EtcdBindingRepository, EtcdHealth, registerEtcdHealthMetrics, type EtcdTlsFiles } from './cluster/index.js';
import { applyPriority } from './priority.js';

export interface Controller {
  readonly config: Config;
  readonly switches: SwitchRegistry;
  readonly listener: SwitchListener;
  readonly subnets: SubnetMap;
  readonly registry: BindingRegistry;
  readonly intents: MigrationIntents;
  readonly fabric: Fabric;
  /** Where the HTTP API and dashboard listen (the real port when configured with 0). */
  readonly http: { readonly host: string; readonly port: number };
  /** The Prometheus registry every layer registers its metrics on (/metrics renders it). */
  readonly metrics: MetricsRegistry;
  /** Cluster mode (state.store = etcd): this replica, its etcd client and etcd's health as it sees it. */
  readonly cluster?: ClusterParts;
  stop(): Promise<void>;
}

export interface ClusterParts {
  readonly client: Etcd3;
  readonly repository: EtcdBindingRepository;
  readonly replica: ClusterReplica;
  readonly health: EtcdHealth;
}

export interface ControllerOptions {
  /** A registry to use instead of a new one (with process and runtime metrics). */
  readonly metrics?: MetricsRegistry;
}

/** Starts the controller's services; used by main() and by tests that want a whole controller. */
export async function startController(config: Config, log: Logger, options: ControllerOptions = {}): Promise<Controller> {
  const metrics = options.metrics ?? createMetricsRegistry();
  const switches = new SwitchRegistry(log.child({ component: 'switches' }), { metrics });
  const of = config.openflow;
  const listener = new SwitchListener({
    host: of.host,
    port: of.port,
    connection: {
      echoIntervalMs: of.echoIntervalMs,
      echoTimeoutMs: of.echoTimeoutMs,
      requestTimeoutMs: of.requestTimeoutMs,
      handshakeTimeoutMs: of.handshakeTimeoutMs,
      maxQueuedBytes: of.maxQueuedBytes,
      handshakeMaxQueuedBytes: of.handshakeMaxQueuedBytes,
      handshakeMultipartMaxBytes: of.handshakeMultipartMaxBytes,
      maxEarlyMessages: of.maxEarlyMessages,
      maxEarlyBytes: of.maxEarlyBytes,
      multipartMaxParts: of.multipart.maxParts,
      multipartMaxBytes: of.multipart.maxBytes,
      multipartTimeoutMs: of.multipart.timeoutMs,
      multipartTotalMaxBytes: of.multipart.totalMaxBytes,
    },
    maxConnections: of.maxConnections,
    maxConnectionsPerAddress: of.maxConnectionsPerAddress,
    logLinesPerMinute: of.logLinesPerMinute,
    duplicateDpid: of.duplicateDpid,
    pinning: of.pinning,
    pins: of.pins,
    tls: of.tls,
  }, switches, log.child({ component: 'openflow' }));

  switches.switchUp$.subscribe((sw) => log.info('switch up', { dpid: sw.dpidText, remote: sw.remote, ports: sw.ports.size }));
  switches.switchDown$.subscribe((sw) => log.info('switch down', { dpid: sw.dpidText, reason: sw.closeReason }));
  // Unsolicited switch errors are logged by their connection, within the log budget, and counted
  // (seamless_openflow_unsolicited_errors_total): a second line here let a switch flood the log.

  const subnets = new SubnetMap(parseSubnets(config.subnets));
  // Ports before the store: a second instance fails on them without touching the state dir.
  const ports = await reservePorts([
    { what: 'OpenFlow', host: config.openflow.host, port: config.openflow.port },
    { what: 'HTTP', host: config.http.host, port: config.http.port },
  ]);
  const cluster = config.state.store === 'etcd' ? openCluster(config, switches, log, metrics) : undefined;
  const repository = cluster?.repository ?? new FileBindingRepository({ dir: config.state.dir, log: log.child({ component: 'store' }) });
  const opened = await BindingRegistry.open(subnets, repository, { reuseGraceMs: config.mobility.reuseGraceMs })
    .catch(async (error: unknown) => { await ports.release(); closeCluster(cluster); throw error; });
  const { registry, problems } = opened;
  for (const problem of problems) log.warn('persisted binding does not fit the config', { problem });
  log.info('bindings loaded', { count: registry.bindings.list().length, ...(cluster === undefined ? { stateDir: config.state.dir } : { store: 'etcd', revision: registry.revision }) });
  const intents = new MigrationIntents(subnets);
  for (const intent of opened.intents) intents.register({ ...intent }, Date.now(), false);
  const fabric = new Fabric({
    switches, subnets, registry, intents, log, metrics,
    ...(cluster === undefined ? {} : {
      roles: cluster.replica, coordination: cluster.replica.coordination,
      remoteProbe: (check, timeoutMs) => cluster.replica.probes.request(check, timeoutMs),
    }),
    options: {
      rewrite: config.mobility.rewrite,
      graceMs: config.mobility.graceMs,
      verification: config.mobility.verification,
      probeWindowMs: config.mobility.probeWindowMs,
      probeCount: config.mobility.probeCount,
      activityWindowMs: config.mobility.activityWindowMs,
      maxEndpointsPerPort: config.mobility.maxEndpointsPerPort,
      claims: { ratePerSec: config.mobility.claimsPerSecond, burst: config.mobility.claimBurst },
      maxMacsPerPort: config.mobility.maxMacsPerPort,
      maxMacsPerSwitch: config.mobility.maxMacsPerSwitch,
      damping: { maxMoves: config.mobility.dampMoves, windowMs: config.mobility.dampWindowMs, suspendMs: config.mobility.dampSuspendMs },
      learnIdleTimeoutSec: config.mobility.learnIdleTimeoutSec,
      correspondentRules: config.mobility.correspondentRules,
      cacheIdleTimeoutSec: config.mobility.cacheIdleTimeoutSec,
      lostSearch: { ...DEFAULT_LOST_SEARCH, firstAfterMs: config.mobility.lostSearchAfterMs, maxIntervalMs: config.mobility.lostSearchMaxIntervalMs },
      buffer: {
        ...DEFAULT_BUFFER_LIMITS, maxFrames: config.mobility.bufferMaxFrames, maxBytes: config.mobility.bufferMaxBytes, maxVms: config.mobility.bufferMaxVms,
        maxAgeMs: config.mobility.bufferMaxAgeMs, copyWindowMs: config.mobility.bufferCopyWindowMs, replayBeforeStopMs: config.mobility.bufferReplayBeforeStopMs,
        queueAtDestination: config.mobility.bufferQueueAtDestination, replayFramesPerSec: config.mobility.bufferReplayFramesPerSec,
        replayPortBacklog: config.mobility.bufferReplayPortBacklog,
      },
    },
  });
  fabric.start();
  // An intent from the API: acted on at once (staged, copied, held, delivered: its phase); with a cluster, shared with the other replicas.
  intents.onRegistered((intent) => {
    fabric.phases.onIntent(intent).catch((e: Error) => log.warn('could not act on an intent', { eid: intent.eid, phase: intent.phase, error: e.message }));
    cluster?.repository.putIntent(intent).catch((e: Error) => log.warn('could not share an intent', { eid: intent.eid, error: e.message }));
  });
  if (cluster !== undefined) {
    await cluster.replica.start(fabric, registry, intents).catch(async (error: unknown) => { await ports.release(); throw error; });
    log.info('joined the cluster', { replica: config.cluster.replicaId, endpoints: config.state.etcd.endpoints });
  }
  const watchers = watchHypervisors(config, { bindings: registry.bindings, subnets, intents, fabric, log });

  // Each layer counts on the shared registry: the runtime (above), the switches, the bindings.
  const stopMetrics = registerSwitchStateMetrics(metrics, switches);
  registerBindingMetrics(metrics, registry.bindings, intents);

  await ports.release();
  await listener.listen();
  const { http } = config;
  const api = await startApiServer({ switches, subnets, registry, intents, fabric, ...(cluster === undefined ? {} : { replica: { view: () => cluster.replica.view(), etcd: () => cluster.health.read() } }) }, {
    host: http.host, port: http.port, token: http.token, log, metrics,
    metricsPublic: http.metricsPublic, allowedHosts: http.allowedHosts,
    sseMaxClients: http.sseMaxClients, sseMaxBufferedBytes: http.sseMaxBufferedBytes,
    requestTimeoutMs: http.requestTimeoutMs, headersTimeoutMs: http.headersTimeoutMs, keepAliveTimeoutMs: http.keepAliveTimeoutMs,
  });
  log.info('controller listening', { openflow: listener.address(), rewrite: config.mobility.rewrite, subnets: subnets.subnets.map((s) => s.name) });
  return {
    config, switches, listener, subnets, registry, intents, fabric, http: api.address, metrics, ...(cluster === undefined ? {} : { cluster }),
    async stop() {
      for (const w of watchers) w.stop();
      await api.close();
      stopMetrics();
      await listener.close();
      await cluster?.replica.stop();
      fabric.stop();
      await registry.flush(Date.now()).catch(() => undefined);
      await repository.close().catch(() => undefined);
      closeCluster(cluster);
      switches.complete();
    },
  };
}

/** Several replicas on etcd (state.store = etcd): the shared binding store and this replica's part in the cluster. */
function openCluster(config: Config, switches: SwitchRegistry, log: Logger, metrics: MetricsRegistry): ClusterParts {
  const { etcd } = config.state;
  const tls: EtcdTlsFiles | undefined = etcd.tls.ca === null ? undefined
    : { ca: etcd.tls.ca, ...(etcd.tls.cert === null ? {} : { cert: etcd.tls.cert }), ...(etcd.tls.key === null ? {} : { key: etcd.tls.key }) };
  const client = connectEtcd({ endpoints: etcd.endpoints, ...(tls === undefined ? {} : { tls }) });
  const repository = new EtcdBindingRepository({ client, prefix: etcd.prefix, log: log.child({ component: 'store' }), onCommit: ClusterReplica.commitLatency(metrics) });
  const replica = new ClusterReplica({
    client, repository, switches, prefix: etcd.prefix, replicaId: config.cluster.replicaId, leaseTtlMs: config.cluster.leaseTtlMs,
    livenessAddress: config.cluster.livenessAddress, campaignStepMs: config.cluster.campaignStepMs, log, metrics,
  });
  // One client per member, so that each member's answer is its own (the API and metrics show them).
  const health = new EtcdHealth({
    endpoints: etcd.endpoints, probeKey: `${etcd.prefix}cluster/health`,
    connect: (endpoint, timeoutMs) => connectEtcd({ endpoints: [endpoint], requestTimeoutMs: timeoutMs, ...(tls === undefined ? {} : { tls }) }),
  });
  registerEtcdHealthMetrics(metrics, health);
  return { client, repository, replica, health };
}

function closeCluster(cluster: ClusterParts | undefined): void {
  cluster?.health.close();
  cluster?.client.close();
}

/** The OVSDB(s) of the hypervisors: their VM taps announce moves before the VMs resume. */
function watchHypervisors(
  config: Config, deps: { bindings: BindingService; subnets: SubnetMap; intents: MigrationIntents; fabric: Fabric; log: Logger },
): VmAttachmentWatcher[] {
  const targets = resolveOvsdbTargets(config.hypervisor.ovsdb, existsSync);
  const log = deps.log.child({ component: 'hypervisor' });
  const signals = new HypervisorSignals({
    bindings: deps.bindings, subnets: deps.subnets, intents: deps.intents, log, now: () => Date.now(),
    announce: (intent) => deps.fabric.phases.announce(intent), withdraw: (eid) => deps.fabric.phases.withdraw(eid),
  });
  return targets.map((target) => {
    const watcher = new VmAttachmentWatcher({ target, log });
    watcher.attachments$.subscribe((a) => { signals.onAttachment(a).catch((e: Error) => log.error('hypervisor signal not handled', { error: e.message })); });
    watcher.start();
    log.info('watching hypervisor taps', { ovsdb: formatOvsdbTarget(target) });
    return watcher;
  });
}

/**
 * The policy for the unexpected (a bug: every async path has an owner, so none of this should
 * happen). A rejected promise nobody handled, or a throwing rxjs subscriber, is logged with its
 * stack and counted, and the controller keeps serving: the work it belonged to failed, the state
 * did not change half-way. An exception that escaped synchronous code may have left state half
 * changed: it is logged and the process exits (1), to restart from the durable store.
 */
function guardProcess(log: Logger, metrics: MetricsRegistry): void {
  const unexpected = new Counter({
    name: 'seamless_unexpected_errors_total', help: 'Bugs caught by the process policy: unhandled rejections, subscriber errors, uncaught exceptions',
    labelNames: ['kind'], registers: [metrics],
  });
  const describe = (error: unknown) => (error instanceof Error ? { error: error.message, stack: error.stack } : { error: String(error) });
  process.on('unhandledRejection', (reason) => {
    unexpected.inc({ kind: 'rejection' });
    log.error('unhandled rejection (a bug); the controller keeps serving', describe(reason));
  });
  rxjsConfig.onUnhandledError = (error) => {
    unexpected.inc({ kind: 'subscriber' });
    log.error('unhandled error in a subscriber (a bug); the controller keeps serving', describe(error));
  };
  process.on('uncaughtException', (error) => {
    unexpected.inc({ kind: 'exception' });
    log.fatal('uncaught exception: state may be half changed, exiting to restart from the store', describe(error));
    log.flush();
    process.exit(1);
  });
}

async function main(): Promise<void> {
  let line: CommandLine;
  try {
    line = readCommandLine(process.argv.slice(2), process.env, { validateSubnets: (raw) => void parseSubnets(raw) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`seamless: ${error.message}\nTry 'seamless --help'.\n`);
    process.exit(2);
  }
  if (line.kind !== 'run') {
    process.stdout.write(line.text);
    return;
  }
  const { config } = line;
  const log = createLogger({ level: config.log.level, format: config.log.format });
  process.on('exit', () => log.flush());
  const metrics = createMetricsRegistry();
  guardProcess(log, metrics);
  applyPriority(config.process.nice, log);

  const controller = await startController(config, log, { metrics });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    controller.stop().then(
      () => process.exit(0),
      (error: unknown) => { log.error('shutdown failed', { error }); process.exit(1); },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

// Run only when executed directly (not when a test imports startController).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`seamless: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
