// seamless-host-agent: runs beside the hypervisor on a host and tells the Seamless controller when
// a VM stops for the stop-and-copy of a live migration, so that its frames wait at the controller
// instead of being lost (loss-free migration), when it runs again, and when a migration is called off.
//
// With libvirt, the agent follows every domain of the host's libvirt daemon from libvirt's own
// events and job information (follow-libvirt.ts; virsh from libvirt-clients), nothing added to the
// domains' XML:
//
//   node dist/controller/host-agent/main.js --api http://controller:8080 [--token-file FILE] \
//        --libvirt qemu:///system
//
// With QEMU alone, the agent needs a QMP monitor of its own on each VM's QEMU:
//   -qmp unix:/run/qemu/vm1-agent.qmp,server=on,wait=off
//
//   node dist/controller/host-agent/main.js --api http://controller:8080 [--token-file FILE] \
//        --vm 02:00:00:00:01:0a=/run/qemu/vm1-agent.qmp [--vm MAC=SOCKET ...]
//
// It turns on QMP's migration `events` capability and follows MIGRATION, MIGRATION_PASS and STOP
// events. Either way, while a migration copies the VM's memory the agent reads its progress
// (query-migrate, domjobinfo), so that the controller copies the VM's frames only for the last
// part of it (migration-signals.ts).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log.js';
import { ControllerClient } from './controller-client.js';
import { followMigrations } from './follow.js';
import { followLibvirt } from './follow-libvirt.js';
import { DEFAULT_COPY_LEAD_MS } from './migration-signals.js';
import { QmpClient } from './qmp.js';
import { VirshShell, watchVirshEvents } from './virsh.js';

type Log = ReturnType<typeof createLogger>;

async function watchVm(mac: string, socket: string, client: ControllerClient, copyLeadMs: number, log: Log): Promise<void> {
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

/** Follows every domain of the libvirt daemon at `uri` until the process ends. */
function watchLibvirt(uri: string, client: ControllerClient, copyLeadMs: number, log: Log): void {
  const shell = new VirshShell(uri);
  followLibvirt({
    events: (onEvent) => watchVirshEvents(uri, onEvent, { onExit: (message) => log.warn('libvirt events not read: trying again', { uri, error: message }) }),
    virsh: async (command) => {
      const asked = performance.now();
      try {
        return await shell.run(command);
      } finally {
        log.debug('virsh answered', { command: command.split(' ')[0], ms: Math.round(performance.now() - asked) });
      }
    },
    onSignal: (domain, macs, signal, heldMs) => {
      log.info('migration signal', { domain, macs, signal: signal.kind, at: signal.at, heldMs: Math.round(heldMs) });
      if (macs.length === 0) log.warn('a domain without an interface MAC: the controller is not told', { domain, signal: signal.kind });
      for (const mac of macs) {
        client.signal(mac, signal).catch((error: Error) => log.warn('controller not told', { domain, mac, signal: signal.kind, error: error.message }));
      }
    },
    onError: (domain, error) => log.debug('libvirt did not answer', { domain, error: error.message }),
    follow: { copyLeadMs },
  });
  log.info('following libvirt', { uri });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { api: { type: 'string' }, 'token-file': { type: 'string' }, vm: { type: 'string', multiple: true }, libvirt: { type: 'string', multiple: true }, 'copy-lead-ms': { type: 'string' }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help === true || values.api === undefined || (values.vm ?? []).length + (values.libvirt ?? []).length === 0) {
    process.stdout.write('usage: seamless-host-agent --api http://controller:8080 [--token-file FILE] [--copy-lead-ms MS] [--log-level LEVEL] (--libvirt URI | --vm MAC=QMP_SOCKET) ...\n'
      + '  --libvirt       follow every domain of this libvirt daemon (qemu:///system) from its events\n'
      + '  --vm            follow one QEMU over a QMP monitor of the agent\'s\n'
      + `  --copy-lead-ms  how long before a VM's stop-and-copy its frames are copied to the controller (default ${DEFAULT_COPY_LEAD_MS})\n`
      + '  --log-level     trace, debug, info (default), warn, error, fatal or silent; debug also says each question to\n'
      + '                  the hypervisor that went unanswered, and how long virsh took to answer\n');
    process.exit(values.help === true ? 0 : 2);
  }
  const copyLeadMs = values['copy-lead-ms'] === undefined ? DEFAULT_COPY_LEAD_MS : Number(values['copy-lead-ms']);
  if (!Number.isInteger(copyLeadMs) || copyLeadMs < 0 || copyLeadMs > 60_000) throw new Error(`--copy-lead-ms wants whole milliseconds from 0 to 60000, got ${values['copy-lead-ms']}`);
  const token = values['token-file'] === undefined ? undefined : readFileSync(values['token-file'], 'utf8').trim();
  const client = new ControllerClient({ api: values.api, ...(token === undefined ? {} : { token }) });
  const level = values['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`--log-level wants one of ${LOG_LEVELS.join(', ')}, got ${level}`);
  const log = createLogger({ format: 'json', level: level as LogLevel });
  const asked = performance.now();
  await client.check().then(
    (version) => log.info('controller reached', { api: values.api, version, ms: Math.round(performance.now() - asked) }),
    (error: Error) => log.warn('controller not reached: signals are sent all the same', { api: values.api, error: error.message }),
  );
  for (const uri of values.libvirt ?? []) watchLibvirt(uri, client, copyLeadMs, log);
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
