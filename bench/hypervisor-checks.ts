// The checks of bench/hypervisors.ts that are not streams and moves: packet-ins while the VM is
// away and idle, a hijack attempt while it answers at home, the router's own addresses from a moved
// VM and back, IPv6-on hosts being learned, and how fast a GARP- or RARP-announced return home is
// detected. Each runs on a lab started by topologies/case-study/experiment.ts (startLab) and reads
// the controller the way a user does: its log lines, /metrics and /api/*.

import { topologyFile } from '../topologies/agent-channel.js';
import type { ControllerProcess, LogLine } from '../topologies/case-study/controller-process.js';
import { completedMove, VM, VM_EID, type Lab } from '../topologies/case-study/experiment.js';
import type { LabMigrationTimes } from '../topologies/case-study/lab-vm.js';
import type { Announce } from '../topologies/mininet-driver.js';
import { metricSum, round, stats, type Stats } from './hypervisor-figures.js';

const PY = '/usr/bin/python3';
const PROBE = topologyFile('case-study/probe.py');
const ANNOUNCE = topologyFile('announce.py');
export const GATEWAYS: readonly string[] = ['10.0.1.1', '10.0.2.1', '10.0.3.1'];
/** Hosts with the addresses the reference lab gives them. */
const LEARNED_HOSTS: Readonly<Record<string, string>> = { cnA: '10.0.1.20', cnB: '10.0.2.20', cnC: '10.0.3.20', [VM]: VM_EID };

function controllerOf(lab: Lab): ControllerProcess {
  if (!lab.ctl) throw new Error('this check needs the controller');
  return lab.ctl;
}

async function api<T>(ctl: ControllerProcess, path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${ctl.httpPort}${path}`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function metrics(ctl: ControllerProcess): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${ctl.httpPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  return response.text();
}

/** The controller's conflict counter (`seamless_conflicts_total`). */
export async function conflictsTotal(ctl: ControllerProcess): Promise<number> {
  return metricSum(await metrics(ctl), 'seamless_conflicts_total');
}

interface ApiBinding {
  readonly eid: string;
  readonly mac: string;
  readonly version: number;
  readonly away: boolean;
  readonly locator: { readonly subnet: string; readonly dpid: string; readonly port: number; readonly address: string };
}

export interface Moved {
  readonly times: LabMigrationTimes;
  /** The controller's 'migration completed' record of this move, or null when none came within 10 s. */
  readonly record: LogLine | null;
}

/** Migrate the lab's VM outside a measured scenario and wait for the controller's record of it. */
export async function moveVm(lab: Lab, toSwitch: string, toPort = 10, extra: { lingerMs?: number; announce?: Announce } = {}): Promise<Moved> {
  const ctl = controllerOf(lab);
  const mark = ctl.lines.length;
  const times = extra.announce === undefined
    ? await lab.vm.migrate({ toSwitch, toPort, pauseMs: 100, ...(extra.lingerMs !== undefined ? { lingerMs: extra.lingerMs } : {}) })
    : await lab.net.migrate(VM, { toSwitch, toPort, pauseMs: 100, announce: extra.announce });
  const record = await completedMove(ctl, mark, lab.net.topology.switches[toSwitch]?.dpid ?? '', toPort, 10_000);
  return { times, record: record ?? null };
}

export interface IdleFigures {
  readonly seconds: number;
  readonly packetIns: number;
  readonly perSecond: number;
  readonly perDpid: Readonly<Record<string, number>>;
  readonly reinjected: number;
  readonly looped: number;
}

/** Packet-ins, re-injections and looped frames over `seconds` while nothing is sent on purpose. */
export async function idlePacketIns(lab: Lab, seconds: number): Promise<IdleFigures> {
  const ctl = controllerOf(lab);
  const before = await metrics(ctl);
  const startedAt = Date.now();
  await sleep(seconds * 1000);
  const after = await metrics(ctl);
  const elapsedS = (Date.now() - startedAt) / 1000;
  const delta = (name: string) => metricSum(after, name) - metricSum(before, name);
  const packetIns = delta('seamless_packet_ins_total');
  return {
    seconds: round(elapsedS), packetIns, perSecond: Math.round((packetIns / elapsedS) * 100) / 100,
    perDpid: perLabel(after, before, 'seamless_packet_ins_total'),
    reinjected: delta('seamless_reinjected_packets_total'), looped: delta('seamless_looped_frames_total'),
  };
}

function perLabel(after: string, before: string, name: string): Record<string, number> {
  const values = (text: string) => new Map([...text.matchAll(new RegExp(`^${name}\\{dpid="([^"]+)"\\} (\\S+)`, 'gm'))].map((m) => [m[1]!, Number(m[2])]));
  const a = values(after);
  const b = values(before);
  return Object.fromEntries([...a].map(([dpid, v]) => [dpid, v - (b.get(dpid) ?? 0)]));
}

export interface HijackFigures {
  readonly conflicts: number;
  readonly conflictReasons: readonly string[];
  readonly bindingBefore: ApiBinding;
  readonly bindingAfter: ApiBinding;
  readonly bindingUnchanged: boolean;
  readonly movesRecorded: number;
  readonly vmReachable: boolean;
}

/**
 * While the VM is at home and answers, cnB (another edge) sends a RARP with the VM's MAC (a spoofed
 * hypervisor announce) and a gratuitous ARP claiming the VM's EID with another MAC.
 */
export async function hijackAttempt(lab: Lab): Promise<HijackFigures> {
  const ctl = controllerOf(lab);
  const bindingBefore = await api<ApiBinding>(ctl, `/api/bindings/${VM_EID}`);
  const conflictsBefore = await conflictsTotal(ctl);
  const mark = ctl.lines.length;
  await lab.net.check('cnB', `${PY} ${ANNOUNCE} --iface cnB-eth0 --mac ${bindingBefore.mac} --mode rarp --rounds 2`);
  await lab.net.check('cnB', `${PY} ${ANNOUNCE} --iface cnB-eth0 --mac 02:00:00:00:02:99 --ip ${VM_EID} --mode garp --rounds 2`);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await conflictsTotal(ctl)) - conflictsBefore < 2) await sleep(200);
  await sleep(1_000); // anything the claims set off afterwards is counted too
  const bindingAfter = await api<ApiBinding>(ctl, `/api/bindings/${VM_EID}`);
  const since = ctl.lines.slice(mark);
  const vmReachable = (await lab.net.cmd('cnA', `ping -c 2 -W 1 ${VM_EID}`)).code === 0;
  return {
    conflicts: (await conflictsTotal(ctl)) - conflictsBefore,
    conflictReasons: since.filter((l) => l.msg === 'conflicting claim: refused').map((l) => String(l.reason)),
    bindingBefore, bindingAfter,
    bindingUnchanged: JSON.stringify(bindingAfter.locator) === JSON.stringify(bindingBefore.locator) && bindingAfter.version === bindingBefore.version && bindingAfter.mac === bindingBefore.mac,
    movesRecorded: since.filter((l) => l.msg === 'migration completed').length,
    vmReachable,
  };
}

export interface GatewayProbe {
  readonly address: string;
  readonly direction: 'vm->router' | 'router->vm';
  readonly kind: 'ping' | 'tcp';
  readonly ok: boolean;
  readonly attempts: number;
  readonly detail?: string;
}

export interface GatewayFigures {
  readonly vmAt: string;
  /** The router's sysctls that decide whether it accepts its own addresses back (left at Linux's defaults). */
  readonly routerSysctls: Readonly<Record<string, string>>;
  readonly probes: readonly GatewayProbe[];
  readonly allPassed: boolean;
}

/** Ping and a TCP connection between the (moved) VM and each of the router's own addresses, both ways. */
export async function gatewayReachability(lab: Lab): Promise<GatewayFigures> {
  const { net, vm } = lab;
  const attachment = await vm.attachment();
  const routerServer = net.spawn('r', `${PY} ${PROBE} tcp-server --port 6003`);
  const vmServer = vm.spawn(vm.probeServerCommand('tcp', 6004));
  const probes: GatewayProbe[] = [];
  try {
    await Promise.all([routerServer.waitForLine(/listening/), vmServer.waitForLine(/listening/)]);
    const attempt = async (probe: Omit<GatewayProbe, 'ok' | 'attempts' | 'detail'>, run: () => Promise<{ code: number; stdout: string; stderr: string }>) => {
      let r = { code: -1, stdout: '', stderr: '' };
      let attempts = 0;
      while (attempts < 3 && r.code !== 0) {
        attempts++;
        r = await run().catch((e: Error) => ({ code: -1, stdout: e.message, stderr: '' }));
      }
      probes.push({ ...probe, ok: r.code === 0, attempts, ...(r.code === 0 ? {} : { detail: (r.stdout + r.stderr).trim().slice(0, 200) }) });
    };
    for (const address of GATEWAYS) {
      await attempt({ address, direction: 'vm->router', kind: 'ping' }, () => vm.cmd(`ping -c 3 -i 0.2 -W 2 ${address}`, { timeoutMs: 8_000 }));
      await attempt({ address, direction: 'vm->router', kind: 'tcp' }, () => vm.cmd(vm.probeClientCommand('tcp', address, 6003), { timeoutMs: 8_000 }));
      await attempt({ address, direction: 'router->vm', kind: 'ping' }, () => net.cmd('r', `ping -c 3 -i 0.2 -W 2 -I ${address} ${VM_EID}`, { timeoutMs: 8_000 }));
      await attempt({ address, direction: 'router->vm', kind: 'tcp' }, () => net.cmd('r', `${PY} ${PROBE} tcp --host ${VM_EID} --port 6004 --source ${address}`, { timeoutMs: 8_000 }));
    }
  } finally {
    await Promise.all([routerServer.kill().catch(() => undefined), vmServer.kill().catch(() => undefined)]);
  }
  const names = ['net.ipv4.ip_forward', 'net.ipv4.conf.all.accept_local', 'net.ipv4.conf.default.accept_local', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.default.rp_filter'];
  const values = (await net.check('r', `sysctl -n ${names.join(' ')}`)).trim().split('\n');
  const switchName = Object.entries(net.topology.switches).find(([, s]) => s.bridge === attachment.bridge)?.[0] ?? attachment.bridge;
  return {
    vmAt: `${switchName}:${attachment.port}`,
    routerSysctls: Object.fromEntries(names.map((n, i) => [n, values[i]?.trim() ?? '?'])),
    probes, allPassed: probes.every((p) => p.ok),
  };
}

export interface LearnedFigures {
  /** net.ipv6.conf.all.disable_ipv6 is 0 and the host has a link-local address. */
  readonly ipv6On: Readonly<Record<string, boolean>>;
  /** Each host's binding from GET /api/bindings, or null when it was not learned. */
  readonly learned: Readonly<Record<string, { eid: string; mac: string; dpid: string; port: number } | null>>;
  readonly allLearned: boolean;
}

/**
 * Hosts keep Linux's defaults (IPv6 on). Each sends IPv6 first (a ping to all nodes, on top of what
 * Linux sends at link-up), then IPv4: every host must be learned all the same.
 */
export async function ipv6HostsLearned(lab: Lab, warmUp: () => Promise<void>): Promise<LearnedFigures> {
  const ctl = controllerOf(lab);
  const ipv6On: Record<string, boolean> = {};
  for (const host of Object.keys(LEARNED_HOSTS)) {
    const iface = `${host}-eth0`;
    const r = await lab.net.cmd(host, `cat /proc/sys/net/ipv6/conf/all/disable_ipv6; ip -6 addr show dev ${iface} scope link`);
    ipv6On[host] = r.stdout.trim().startsWith('0') && r.stdout.includes('inet6 fe80');
    await lab.net.cmd(host, `ping -6 -c 1 -W 1 -I ${iface} ff02::1`);
  }
  await warmUp();
  return bindingsOf(ctl, ipv6On);
}

/** Every binding the controller holds for the lab's hosts (the QEMU lab has the same addresses). */
export async function bindingsOf(ctl: ControllerProcess, ipv6On: Record<string, boolean> = {}): Promise<LearnedFigures> {
  const bindings = await api<ApiBinding[]>(ctl, '/api/bindings');
  const learned: Record<string, { eid: string; mac: string; dpid: string; port: number } | null> = {};
  for (const [host, eid] of Object.entries(LEARNED_HOSTS)) {
    const b = bindings.find((x) => x.eid === eid);
    learned[host] = b ? { eid: b.eid, mac: b.mac, dpid: b.locator.dpid, port: b.locator.port } : null;
  }
  return { ipv6On, learned, allLearned: Object.values(learned).every((v) => v !== null) };
}

export interface AnnounceSample {
  readonly announce: 'garp' | 'rarp';
  readonly announcedAt: number | null;
  readonly detectedAt: number | null;
  /** detectedAt - announcedAt: negative when another frame of the VM (IPv6 at link-up) revealed it first. */
  readonly delayMs: number | null;
  readonly trigger: string | null;
  readonly reason: string | null;
  readonly reconvergenceMs: number | null;
}

export interface AnnounceFigures {
  readonly samples: readonly AnnounceSample[];
  readonly garpDelayMs: Stats;
  readonly rarpDelayMs: Stats;
  readonly missed: number;
}

/**
 * The emulated VM leaves home (s2) and returns announcing with GARP only, then RARP only, in turn,
 * `samples` times each; the delay from its first announce frame to the controller's decision.
 */
export async function announceDetection(lab: Lab, samples: number, dwellMs: number, say: (t: string) => void): Promise<AnnounceFigures> {
  const out: AnnounceSample[] = [];
  for (let i = 0; i < samples * 2; i++) {
    const announce = i % 2 === 0 ? 'garp' : 'rarp';
    await moveVm(lab, 's2', 10, { announce: 'both' });
    await sleep(dwellMs);
    const { times, record } = await moveVm(lab, 's1', 10, { announce });
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    const detectedAt = num(record?.detectedAt);
    const delayMs = detectedAt !== null && times.announcedAt !== null ? round(detectedAt - times.announcedAt) : null;
    out.push({
      announce, announcedAt: times.announcedAt, detectedAt, delayMs,
      trigger: typeof record?.trigger === 'string' ? record.trigger : null,
      reason: typeof record?.reason === 'string' ? record.reason : null,
      reconvergenceMs: num(record?.reconvergenceMs),
    });
    say(`return home announced by ${announce}: detected ${delayMs ?? '-'} ms after the first announce (trigger ${out.at(-1)!.trigger ?? '-'}, ${out.at(-1)!.reason ?? 'no move recorded'})`);
    await sleep(dwellMs);
  }
  const delays = (kind: 'garp' | 'rarp') => out.filter((s) => s.announce === kind && s.delayMs !== null).map((s) => s.delayMs!);
  return { samples: out, garpDelayMs: stats(delays('garp')), rarpDelayMs: stats(delays('rarp')), missed: out.filter((s) => s.detectedAt === null).length };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
