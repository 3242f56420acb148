/**
 * A QEMU live migration driven over QMP, as libvirt drives it: the destination listens
 * (`migrate-incoming`), the source sends (`migrate`), precopy rounds, then the stop-and-copy: the
 * source stops (STOP event), the destination loads the last state and resumes (RESUME event) and
 * announces the VM (QEMU's RARP rounds; with virtio-net the guest's own gratuitous ARPs too,
 * announce parameters left at QEMU's defaults). The source stays paused ("postmigrate") until
 * someone quits it.
 */
import { followMigrations, type FollowOptions } from '../../controller/host-agent/follow.js';
import type { MigrationSignal } from '../../controller/host-agent/migration-signals.js';
import type { QmpClient, QmpEvent } from '../../controller/host-agent/qmp.js';

export interface MigrationParameters {
  /** `migrate-set-parameters downtime-limit` (ms); undefined leaves QEMU's default (300 ms). */
  readonly downtimeLimitMs?: number;
  /** `max-bandwidth` (bytes/s); undefined leaves QEMU's default (32 MiB/s). */
  readonly maxBandwidth?: number;
  /**
   * Hold the stop-and-copy this long (ms): QEMU's `pause-before-switchover` capability stops the
   * source and waits in 'pre-switchover' until `migrate-continue`, sent this long after the STOP.
   * What a large or busy guest's final copy takes; undefined = as fast as QEMU goes (a few ms here).
   */
  readonly stopMs?: number;
  /** From `migrate` to the destination's RESUME; default 60 s. */
  readonly timeoutMs?: number;
  /**
   * Told what the source's events and progress say, as the host agent tells the controller
   * (controller/host-agent: followMigrations): 'migrating', 'converging' when the stop-and-copy is
   * near, 'stopping' when it begins, 'resumed', 'called-off' when a migration fails.
   */
  readonly onSignal?: (signal: MigrationSignal) => void;
  /** How onSignal's follower estimates the stop (the host agent's defaults unless given). */
  readonly follow?: FollowOptions;
}

/** Instants are epoch milliseconds: QMP event timestamps (QEMU's clock) or Date.now() in this process. */
export interface QmpMigrationTimes {
  readonly migrateRequestedAt: number;
  /** The source's STOP event: the stop-and-copy begins, the VM neither sends nor receives. */
  readonly stoppedAt: number;
  /** The destination's RESUME event: the VM runs again, at its new port. */
  readonly resumedAt: number;
  /** The source's MIGRATION event with status "completed". */
  readonly completedAt: number;
  /** As QEMU reports it (query-migrate on the source). */
  readonly downtimeMs: number;
  readonly totalTimeMs: number;
  readonly setupTimeMs: number | null;
  readonly transferredBytes: number | null;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Put the destination in listening mode on an ephemeral loopback port and return the port. */
export async function listenForIncoming(destination: QmpClient): Promise<number> {
  await enableEvents(destination);
  await destination.execute('migrate-incoming', { uri: 'tcp:127.0.0.1:0' });
  const info = await destination.execute<{ 'socket-address'?: Array<{ port?: string | number }> }>('query-migrate');
  const port = Number(info['socket-address']?.[0]?.port);
  if (!Number.isInteger(port) || port <= 0) throw new MigrationError(`the destination reports no listening port: ${JSON.stringify(info)}`);
  return port;
}

export async function migrate(source: QmpClient, destination: QmpClient, port: number, parameters: MigrationParameters = {}): Promise<QmpMigrationTimes> {
  await enableEvents(source);
  const unwatch = parameters.onSignal === undefined ? undefined : followMigrations(source, parameters.onSignal, parameters.follow);
  try {
    return await migrateWatched(source, destination, port, parameters);
  } finally {
    unwatch?.();
  }
}

async function migrateWatched(source: QmpClient, destination: QmpClient, port: number, parameters: MigrationParameters): Promise<QmpMigrationTimes> {
  const settings: Record<string, number> = {};
  if (parameters.downtimeLimitMs !== undefined) settings['downtime-limit'] = parameters.downtimeLimitMs;
  if (parameters.maxBandwidth !== undefined) settings['max-bandwidth'] = parameters.maxBandwidth;
  if (Object.keys(settings).length > 0) await source.execute('migrate-set-parameters', settings);
  const hold = parameters.stopMs;
  await source.execute('migrate-set-capabilities', { capabilities: [{ capability: 'pause-before-switchover', state: hold !== undefined }] });

  const timeoutMs = parameters.timeoutMs ?? 60_000;
  const migrateRequestedAt = Date.now();
  const after = (e: QmpEvent) => e.at >= migrateRequestedAt - 1;
  const ended = source.waitForEvent((e) => e.event === 'MIGRATION' && after(e) && TERMINAL.has(String(e.data.status)), timeoutMs, 'the end of the migration');
  const failedAtDestination = destination.waitForEvent((e) => e.event === 'MIGRATION' && e.data.status === 'failed', timeoutMs, 'a failure');
  failedAtDestination.catch(() => undefined);
  const switchover = hold === undefined ? undefined
    : source.waitForEvent((e) => e.event === 'MIGRATION' && after(e) && e.data.status === 'pre-switchover', timeoutMs, 'the pre-switchover pause').then(async () => {
      const stop = source.events.find((e) => e.event === 'STOP' && after(e));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, (stop?.at ?? Date.now()) + hold - Date.now())));
      await source.execute('migrate-continue', { state: 'pre-switchover' });
    });
  switchover?.catch(() => undefined);
  await source.execute('migrate', { uri: `tcp:127.0.0.1:${port}` });
  const end = await ended;
  await switchover;
  if (end.data.status !== 'completed') {
    const info = await source.execute<{ 'error-desc'?: string }>('query-migrate').catch(() => ({ 'error-desc': undefined }));
    throw new MigrationError(`migration ${String(end.data.status)}: ${info['error-desc'] ?? 'no reason given'}`);
  }
  const resumed = await Promise.race([
    destination.waitForEvent((e) => e.event === 'RESUME' && after(e), 10_000, 'the destination to resume'),
    failedAtDestination.then(() => Promise.reject(new MigrationError('the destination failed to load the migrated state'))),
  ]);
  const stopped = source.events.find((e) => e.event === 'STOP' && after(e));
  if (!stopped) throw new MigrationError('the source completed without a STOP event');
  const info = await source.execute<MigrateInfo>('query-migrate');
  return {
    migrateRequestedAt,
    stoppedAt: stopped.at,
    resumedAt: resumed.at,
    completedAt: end.at,
    downtimeMs: numberOr(info.downtime, resumed.at - stopped.at),
    totalTimeMs: numberOr(info['total-time'], end.at - migrateRequestedAt),
    setupTimeMs: info['setup-time'] ?? null,
    transferredBytes: info.ram?.transferred ?? null,
  };
}

interface MigrateInfo {
  downtime?: number;
  'total-time'?: number;
  'setup-time'?: number;
  ram?: { transferred?: number };
}

/** MIGRATION events are only sent with the `events` capability on. */
async function enableEvents(qmp: QmpClient): Promise<void> {
  await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}
