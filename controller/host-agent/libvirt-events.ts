// What libvirt says about a domain's live migration, read from virsh (`virsh event --loop --all
// --timestamp`, `domjobinfo --rawstats`, `domiflist`), in the words MigrationSignals reads: QMP's.
// Pure: text in, events, progress and MACs out. As libvirt 9 (Debian 12) says it, timed in the lab
// (docs/hypervisors.md):
//
//   source       migration-iteration 1        QEMU's MIGRATION_PASS 1: the migration copies memory
//                migration-iteration 2..n     a dirty-page sync: the first pass over memory ended
//                lifecycle Suspended Migrated QEMU's STOP in a migration: the stop-and-copy (1 ms after STOP)
//                lifecycle Resumed *          the source runs again: the migration was called off
//                lifecycle Stopped Migrated   the migration completed (libvirt's confirm phase: seconds after the VM runs at its destination)
//   destination  lifecycle Started Migrated   the incoming QEMU started, the VM not run there yet
//                lifecycle Resumed Migrated   QEMU's RESUME: the VM runs here now (1 ms after RESUME)
//
// A migration called off before its stop has no event on the source: its job's end says it
// (domjobinfo: no job any more, before any stop).

import type { MigrationProgress, QmpEventLike } from './migration-signals.js';

/** One event of `virsh event --timestamp`. */
export interface LibvirtEvent {
  /** When virsh printed it (epoch ms). */
  readonly at: number;
  /** libvirt's event name: lifecycle, migration-iteration, job-completed, reboot, ... */
  readonly type: string;
  readonly domain: string;
  /** What follows the domain: "Suspended Migrated", "iteration: '2'", ... */
  readonly detail: string;
}

// 2026-12-01 10:51:47.790+0000: event 'lifecycle' for domain 'vm': Suspended Migrated
const EVENT_LINE = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})([+-]\d\d)(\d\d): event '([a-z0-9-]+)' for domain '(.*)':\s?(.*)$/;

/** One line of `virsh event --loop --all --timestamp`; undefined for anything else (a job's statistics, one per line, follow its event). */
export function parseVirshEvent(line: string): LibvirtEvent | undefined {
  const m = EVENT_LINE.exec(line.trimEnd());
  if (m === null) return undefined;
  const at = Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  if (!Number.isFinite(at) || m[6] === '') return undefined;
  return { at, type: m[5]!, domain: m[6]!, detail: m[7]!.trim() };
}

/** The lifecycle event and its reason ("Suspended Migrated" -> Suspended, Migrated). */
export function lifecycle(event: LibvirtEvent): { readonly event: string; readonly reason: string } | undefined {
  if (event.type !== 'lifecycle') return undefined;
  const [what = '', ...reason] = event.detail.split(' ');
  return { event: what, reason: reason.join(' ') };
}

/** Is this the start of an incoming migration's QEMU (the domain is the migration's destination here)? */
export function isIncomingStart(event: LibvirtEvent): boolean {
  const l = lifecycle(event);
  return l?.event === 'Started' && l.reason === 'Migrated';
}

/** The QMP event that says what a libvirt event says of a migration, if it says anything (see the table above). */
export function qmpEquivalent(event: LibvirtEvent): QmpEventLike | undefined {
  const { at } = event;
  if (event.type === 'migration-iteration') {
    const n = Number(/iteration:\s*'?(\d+)'?/.exec(event.detail)?.[1]);
    if (!Number.isInteger(n) || n < 1) return undefined;
    return n === 1 ? { event: 'MIGRATION', data: { status: 'setup' }, at } : { event: 'MIGRATION_PASS', data: { pass: n }, at };
  }
  const l = lifecycle(event);
  if (l === undefined) return undefined;
  if (l.event === 'Suspended' && l.reason === 'Migrated') return { event: 'STOP', data: {}, at };
  if (l.event === 'Resumed') return { event: 'RESUME', data: {}, at };
  if (l.event === 'Stopped' && l.reason === 'Migrated') return { event: 'MIGRATION', data: { status: 'completed' }, at };
  return undefined;
}

/** Does the domain leave this host's view (stopped, undefined)? */
export function isGone(event: LibvirtEvent): boolean {
  const l = lifecycle(event);
  return l?.event === 'Stopped' || l?.event === 'Undefined';
}

/**
 * `domjobinfo DOMAIN --rawstats` as query-migrate's answer: 'active' with the memory figures while
 * a job runs, 'cancelled' when none does (the migration's job ended). Undefined when the text is
 * not domjobinfo's (an error: no such domain).
 */
export function progressFromJobInfo(text: string): MigrationProgress | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_ ]+?):\s+(\S.*)$/.exec(line);
    if (m !== null) fields.set(m[1]!.trim(), m[2]!.trim());
  }
  const type = fields.get('Job type');
  if (type === undefined) return undefined;
  // virDomainJobType: 0 none, 1 bounded, 2 unbounded, 3 completed, 4 failed, 5 cancelled (rawstats: the number; otherwise its name).
  if (type === '0' || type === 'None') return { status: 'cancelled' };
  if (type === '4' || type === 'Failed') return { status: 'failed' };
  if (type === '5' || type === 'Cancelled') return { status: 'cancelled' };
  const number = (key: string) => (fields.has(key) ? Number(fields.get(key)) : undefined);
  return { status: 'active', ram: { total: number('memory_total'), remaining: number('memory_remaining'), 'dirty-sync-count': number('memory_iteration') } };
}

/** A domain's memory in bytes, from `dominfo DOMAIN` ("Max memory: 131072 KiB"); undefined when it does not say. */
export function memoryFromDomInfo(text: string): number | undefined {
  const m = /^Max memory:\s+(\d+)\s*KiB\s*$/m.exec(text);
  return m === null ? undefined : Number(m[1]) * 1024;
}

/** The MACs of a domain's interfaces, from `domiflist DOMAIN`. */
export function macsFromIfList(text: string): string[] {
  const macs = new Set<string>();
  for (const line of text.split('\n')) {
    for (const m of line.matchAll(/(?:^|\s)([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})(?=\s|$)/g)) macs.add(m[1]!.toLowerCase());
  }
  return [...macs];
}

/** A word for virsh's own command line (its shell, as sh): single-quoted, a quote within as '\''. */
export function virshWord(word: string): string {
  if (/[\n\r\0]/.test(word)) throw new TypeError(`virsh cannot take a line break in a word: ${JSON.stringify(word)}`);
  return `'${word.replaceAll("'", "'\\''")}'`;
}
