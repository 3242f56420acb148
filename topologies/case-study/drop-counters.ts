// Where a frame for the VM can be lost, counted: read before and after each move, the difference
// says which place dropped what the numbered UDP stream reports lost. The places, in path order:
//   the sender's socket         Udp SndbufErrors of the first sender (the UDP stream's)
//   the router                  Ip InDiscards / OutDiscards / OutNoRoutes, Icmp OutDestUnreachs, and
//                               the neighbour table's unresolved_discards (a frame waiting for an ARP
//                               answer beyond the queue: this counter is the kernel's, all namespaces')
//   the kernel's input backlog  a veth hands what it sends to the receiving CPU's backlog queue; beyond
//                               net.core.netdev_max_backlog frames the rest is dropped and counted only
//                               in /proc/net/softnet_stat (per CPU, all namespaces: the whole host)
//   Open vSwitch's sockets      the userspace datapath reads each port through a packet socket: a
//                               frame that arrives while its receive buffer is full (the switch's
//                               thread was busy) is dropped there and counted only by the socket
//                               (`ss -0 -m`: skmem d), not by the port
//   Open vSwitch's ports        rx/tx drops of every OpenFlow port of the lab's bridges (live, from
//                               the switch; the database's statistics lag by up to 5 s), but LOCAL
//   not counted as a drop       frames a paused source's port took (the emulated source's port, a real
//                               source's tap): delivered to a VM that is not running
//   Open vSwitch's packet-ins   packet_in_overflow (the bridge's queue of 1,024 for the main thread),
//                               rconn_overflow (a controller connection's queue, 100 by default), and
//                               the datapath's drops that mean a failure (upcall, lock, invalid port)
//   the controller              every seamless_*_total counter that counts frames or messages it
//                               dropped: its buffer's bound, a move's hold, messages for a gone switch
//   the VM                      Ip InHdrErrors / InAddrErrors / InDiscards (a frame not addressed to
//                               it), Udp RcvbufErrors / InErrors / NoPorts
// Not here: OVS's datapath_drop_userspace_action_error. Open vSwitch 3.1 counts every packet its
// userspace datapath hands to the controller action last in a flow's actions (the upcall returns
// EAGAIN on success, and the packet is freed): it counts packet-ins, not losses.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MininetDriver } from '../mininet-driver.js';
import type { ControllerProcess } from './controller-process.js';
import type { LabVm } from './lab-vm.js';

const run = promisify(execFile);

export type DropCounters = Readonly<Record<string, number>>;

const OVS_COUNTERS = ['packet_in_overflow', 'rconn_overflow', 'datapath_drop_upcall_error', 'datapath_drop_lock_error', 'datapath_drop_invalid_port'] as const;

/** Fields of a /proc/net/snmp section (`Udp`, `Ip`, `Icmp`) by name; absent ones are 0. */
export function snmpFields(text: string, section: string): Record<string, number> {
  const rows = text.split('\n').filter((l) => l.startsWith(`${section}:`)).map((l) => l.trim().split(/\s+/).slice(1));
  const [names, values] = rows;
  const out: Record<string, number> = {};
  names?.forEach((name, i) => { out[name] = Number(values?.[i] ?? 0); });
  return out;
}

/** A column of /proc/net/stat/arp_cache (hex, one row per CPU), summed. */
export function neighStat(text: string, column: string): number {
  const [head, ...rows] = text.trim().split('\n');
  const i = head?.trim().split(/\s+/).indexOf(column) ?? -1;
  return i < 0 ? 0 : sumHexColumn(rows, i);
}

/** /proc/net/softnet_stat: frames the kernel dropped because a CPU's input backlog was full (its second column, hex), summed over the CPUs. */
export function backlogDrops(text: string): number {
  return sumHexColumn(text.trim().split('\n'), 1);
}

/** Column `i` of per-CPU rows of hex counters (the kernel's /proc/net/stat style), summed. */
function sumHexColumn(rows: readonly string[], i: number): number {
  return rows.reduce((n, row) => n + (Number.parseInt(row.trim().split(/\s+/)[i] ?? '0', 16) || 0), 0);
}

/** `ovs-ofctl dump-ports` text: rx and tx drops per OpenFlow port (`rx_drop 10`, `tx_drop LOCAL`). */
export function portDrops(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  let port: string | undefined;
  for (const line of text.split('\n')) {
    const head = /^\s*port\s+"?([^:"]+)"?:\s*rx pkts=\S+ bytes=\S+ drop=(\d+|\?)/.exec(line);
    if (head) {
      port = head[1]!.trim();
      out[`rx_drop ${port}`] = Number(head[2]) || 0;
      continue;
    }
    const tx = /^\s*tx pkts=\S+ bytes=\S+ drop=(\d+|\?)/.exec(line);
    if (tx && port !== undefined) out[`tx_drop ${port}`] = Number(tx[1]) || 0;
  }
  return out;
}

/**
 * `ss -0 -a -m -p` text: the drops of Open vSwitch's packet sockets, per interface they are bound
 * to (`*:s1-eth1`; the unbound one is left out), summed when several read the same one.
 */
export function packetSocketDrops(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.includes('ovs-vswitchd')) continue;
    const local = line.trim().split(/\s+/)[4] ?? '';
    const iface = local.slice(local.lastIndexOf(':') + 1);
    const drops = /skmem:\([^)]*\bd(\d+)/.exec(line)?.[1];
    if (iface === '' || iface === '*' || drops === undefined) continue;
    out[iface] = (out[iface] ?? 0) + Number(drops);
  }
  return out;
}

/** Counters of the controller's metrics page that count frames or messages it dropped. */
const CONTROLLER_DROPS = ['buffer_dropped_frames', 'held_frames_dropped', 'messages_dropped', 'claims_limited'] as const;

/**
 * Counters of the controller's metrics page that count its work for a move, not losses: the
 * packet-ins it took (all switches), the frames copied to it while a VM migrates, and those of a
 * replay given to a port again (it dropped some of their burst). Read with the
 * drops under the prefix `work` (WORK_PREFIX), so that a report can keep them apart.
 */
const CONTROLLER_WORK = ['packet_ins', 'buffer_copied_frames', 'buffer_resent_frames'] as const;
export const WORK_PREFIX = 'work ';

/** The controller's metrics page: the counters named (default its drop counters, CONTROLLER_DROPS), by name without `seamless_` and `_total`, summed over labels. */
export function controllerDrops(metrics: string, names: readonly string[] = CONTROLLER_DROPS): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(/^seamless_(\w+)_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/gm)) {
    if (names.includes(m[1]!)) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

/**
 * Every counter of the places above, now (the VM's: where it is a lab VM whose shell we have, not
 * a libvirt domain). Unreadable ones are left out (the difference then ignores them).
 */
export async function readDropCounters(net: MininetDriver, vm: LabVm | undefined, options: { sender?: string; ctl?: ControllerProcess }): Promise<DropCounters> {
  const out: Record<string, number> = {};
  const put = (prefix: string, values: Record<string, number>, names?: readonly string[]) => {
    for (const [k, v] of Object.entries(values)) if (names === undefined || names.includes(k)) out[`${prefix} ${k}`] = v;
  };
  const tries: Array<Promise<void>> = [];
  tries.push(run('ovs-appctl', ['coverage/show'], { timeout: 10_000 }).then((r) => {
    for (const name of OVS_COUNTERS) {
      const m = new RegExp(`^${name}\\s.*total: (\\d+)`, 'm').exec(r.stdout);
      out[`ovs ${name}`] = m ? Number(m[1]) : 0;
    }
  }));
  tries.push(run('cat', ['/proc/net/softnet_stat'], { timeout: 10_000 }).then((r) => { out['kernel backlog_drop'] = backlogDrops(r.stdout); }));
  tries.push(run('ss', ['-0', '-a', '-m', '-p'], { timeout: 10_000 }).then((r) => put('ovs socket_drop', packetSocketDrops(r.stdout))));
  for (const [name, sw] of Object.entries(net.topology.switches)) {
    // Not the bridge's own port (LOCAL): it is down in the lab, and floods end there.
    const ports = (text: string) => Object.fromEntries(Object.entries(portDrops(text)).filter(([k]) => !k.endsWith(' LOCAL')));
    tries.push(run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-ports', sw.bridge], { timeout: 10_000 }).then((r) => put(name, ports(r.stdout))));
  }
  if (options.sender !== undefined) {
    const sender = options.sender;
    tries.push(net.check(sender, 'cat /proc/net/snmp').then((t) => put(`${sender} udp`, snmpFields(t, 'Udp'), ['SndbufErrors'])));
  }
  tries.push(net.check('r', 'cat /proc/net/snmp /proc/net/stat/arp_cache').then((t) => {
    put('r ip', snmpFields(t, 'Ip'), ['InDiscards', 'OutDiscards', 'OutNoRoutes', 'InAddrErrors']);
    put('r icmp', snmpFields(t, 'Icmp'), ['OutDestUnreachs']);
    out['neigh unresolved_discards'] = neighStat(t.slice(t.indexOf('entries')), 'unresolved_discards');
  }));
  if (vm !== undefined) tries.push(vm.cmd('cat /proc/net/snmp').then((r) => {
    if (r.code !== 0) return;
    put('vm ip', snmpFields(r.stdout, 'Ip'), ['InHdrErrors', 'InAddrErrors', 'InDiscards']);
    put('vm udp', snmpFields(r.stdout, 'Udp'), ['RcvbufErrors', 'InErrors', 'NoPorts']);
  }));
  if (options.ctl !== undefined) {
    tries.push(fetch(`http://127.0.0.1:${options.ctl.httpPort}/metrics`).then((r) => r.text()).then((t) => { put('controller', controllerDrops(t)); put(`${WORK_PREFIX}controller`, controllerDrops(t, CONTROLLER_WORK)); }));
  }
  await Promise.all(tries.map((p) => p.catch(() => undefined)));
  return out;
}

/** What grew between two readings (counters read both times only; nothing that stayed). */
export function dropsBetween(before: DropCounters, after: DropCounters): DropCounters {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const b = before[k];
    if (b !== undefined && v > b) out[k] = v - b;
    else if (b === undefined && v > 0 && /^(s\d+ (rx|tx)_drop|ovs socket_drop)/.test(k)) out[k] = v; // a port that came during the move (the destination hypervisor's)
  }
  return out;
}

/** Sum of several readings' differences. */
export function addDrops(...all: DropCounters[]): DropCounters {
  const out: Record<string, number> = {};
  for (const d of all) for (const [k, v] of Object.entries(d)) out[k] = (out[k] ?? 0) + v;
  return out;
}
