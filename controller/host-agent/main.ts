// seamless-host-agent: runs beside QEMU on a hypervisor host and tells the Seamless controller when
// a VM stops for the stop-and-copy of a live migration, so that its frames wait at the controller
// instead of being lost (loss-free migration), and when a migration is called off.
//
//   node dist/controller/host-agent/main.js --api http://controller:8080 [--token-file FILE] \
//        --vm 02:00:00:00:01:0a=/run/qemu/vm1-agent.qmp [--vm MAC=SOCKET ...]
//
// Each VM's QEMU needs a QMP monitor for the agent (a second one beside libvirt's):
//   -qmp unix:/run/qemu/vm1-agent.qmp,server=on,wait=off
// The agent turns on QMP's migration `events` capability and follows MIGRATION, MIGRATION_PASS and
// STOP events, and while a migration copies the VM's memory, its progress (query-migrate), so that
// the controller copies the VM's frames only for the last part of it (migration-signals.ts).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../log.js';
import { ControllerClient } from './controller-client.js';
import { followMigrations } from './follow.js';
import { DEFAULT_COPY_LEAD_MS } from './migration-signals.js';
import { QmpClient } from './qmp.js';

async function watchVm(mac: string, socket: string, client: ControllerClient, copyLeadMs: number, log: ReturnType<typeof createLogger>): Promise<void> {
  for (;;) {
    try {
      const qmp = await QmpClient.connect(socket, mac);
      await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
      log.info('following a VM', { mac, socket });
      await new Promise<void>((resolve) => {
        const unfollow = followMigrations(qmp, (signal) => {
          log.info('migration signal', { mac, signal: signal.kind, at: signal.at });
          client.signal(mac, signal).catch((error: Error) => log.warn('controller not told', { mac, signal: signal.kind, error: error.message }));
        }, { copyLeadMs, onPollError: (error) => log.debug('migration progress not read', { mac, error: error.message }) });
        qmp.onClose(() => { unfollow(); resolve(); });
      });
    } catch (error) {
      log.debug('QMP socket not available', { mac, socket, error: (error as Error).message });
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { api: { type: 'string' }, 'token-file': { type: 'string' }, vm: { type: 'string', multiple: true }, 'copy-lead-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help === true || values.api === undefined || (values.vm ?? []).length === 0) {
    process.stdout.write('usage: seamless-host-agent --api http://controller:8080 [--token-file FILE] [--copy-lead-ms MS] --vm MAC=QMP_SOCKET [--vm ...]\n'
      + `  --copy-lead-ms  how long before a VM's stop-and-copy its frames are copied to the controller (default ${DEFAULT_COPY_LEAD_MS})\n`);
    process.exit(values.help === true ? 0 : 2);
  }
  const copyLeadMs = values['copy-lead-ms'] === undefined ? DEFAULT_COPY_LEAD_MS : Number(values['copy-lead-ms']);
  if (!Number.isInteger(copyLeadMs) || copyLeadMs < 0 || copyLeadMs > 60_000) throw new Error(`--copy-lead-ms wants whole milliseconds from 0 to 60000, got ${values['copy-lead-ms']}`);
  const token = values['token-file'] === undefined ? undefined : readFileSync(values['token-file'], 'utf8').trim();
  const client = new ControllerClient({ api: values.api, ...(token === undefined ? {} : { token }) });
  const log = createLogger({ format: 'json' });
  await Promise.all((values.vm ?? []).map((spec) => {
    const at = spec.indexOf('=');
    if (at < 0) throw new Error(`--vm wants MAC=SOCKET, got ${spec}`);
    return watchVm(spec.slice(0, at).toLowerCase(), spec.slice(at + 1), client, copyLeadMs, log);
  }));
}

main().catch((error: unknown) => {
  process.stderr.write(`seamless-host-agent: ${(error as Error).message}\n`);
  process.exit(1);
});
