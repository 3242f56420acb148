/**
 * A libvirt "hypervisor host" on this machine, for end-to-end tests with real libvirt: Debian's
 * libvirtd (QEMU driver) in a mount namespace of its own, so that two of them can live-migrate a
 * domain between each other as between two hosts. Each has its own /etc/libvirt (its own host UUID:
 * libvirt refuses a migration to the host it comes from), /run/libvirt, /var/lib/libvirt,
 * /var/log/libvirt and /var/cache/libvirt, and its own directory at HOST_DIR, where its QEMUs put
 * their sockets and logs (the same path on every host, as on real hosts). Open vSwitch is the
 * machine's, so that both hosts plug their domains into the lab's bridges.
 *
 * Lab settings, not product ones: QEMU runs as root with no security driver and no cgroups
 * (libvirt's defaults need a systemd host), its stdio goes to a file (no virtlogd), and migrations
 * listen on loopback only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labResources } from '../qemu/lab-resources.js';
import { sleep } from '../../controller/host-agent/unix-socket.js';

const run = promisify(execFile);

/** Where a host's QEMUs put their sockets and logs: each host sees its own directory here. */
export const HOST_DIR = '/run/seamless-libvirt-host';
const LIBVIRTD = '/usr/sbin/libvirtd';
const PRIVATE = ['/etc/libvirt', '/run/libvirt', '/var/lib/libvirt', '/var/log/libvirt', '/var/cache/libvirt', HOST_DIR] as const;

/** Hosts running in this process, and whether one of them made HOST_DIR (removed after the last). */
let live = 0;
let createdHostDir = false;

const LAB_QEMU_CONF = `
# seamless lab (topologies/libvirt/libvirt-host.ts)
user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
remember_owner = 0
stdio_handler = "file"
`;

export class LibvirtHostError extends Error {
  override name = 'LibvirtHostError';
}

export interface DomainSpec {
  readonly name: string;
  readonly mac: string;
  /** The Open vSwitch bridge its interface plugs into (`<virtualport type='openvswitch'/>`). */
  readonly bridge: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly cmdline: string;
  readonly memoryMb?: number;
  /**
   * A second QMP monitor in HOST_DIR for a host agent that follows QEMU (`--vm MAC=SOCKET`), by
   * `<qemu:commandline>` (libvirt keeps its own monitor, and marks the domain tainted). Not needed
   * by an agent that follows libvirt (`--libvirt URI`).
   */
  readonly agentMonitor?: boolean;
}

/** Characters a value may have in the lab's domain XML (no quoting needed). */
const SAFE = /^[A-Za-z0-9_./:=, -]+$/;

/**
 * A TCG domain booting `kernel` and `initrd`, with a virtio NIC on an OVS bridge (checksum offload
 * off: Open vSwitch's userspace datapath), its console in HOST_DIR, and if asked, a second QMP
 * monitor there for a host agent that follows QEMU.
 */
export function domainXml(spec: DomainSpec): string {
  for (const [key, value] of Object.entries(spec)) {
    if (typeof value === 'string' && !SAFE.test(value)) throw new LibvirtHostError(`${key} has characters the lab's XML does not quote: ${JSON.stringify(value)}`);
  }
  return `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${spec.name}</name>
  <memory unit='MiB'>${spec.memoryMb ?? 128}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${spec.kernel}</kernel>
    <initrd>${spec.initrd}</initrd>
    <cmdline>${spec.cmdline}</cmdline>
  </os>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
  <on_reboot>destroy</on_reboot>
  <devices>
    <interface type='bridge'>
      <source bridge='${spec.bridge}'/>
      <virtualport type='openvswitch'/>
      <mac address='${spec.mac}'/>
      <model type='virtio'/>
      <driver><host csum='off'/><guest csum='off'/></driver>
    </interface>
    <serial type='file'><source path='${agentPath(spec.name, 'console.log')}'/></serial>
  </devices>
${spec.agentMonitor === true ? `  <qemu:commandline>
    <qemu:arg value='-qmp'/>
    <qemu:arg value='unix:${agentPath(spec.name, 'agent.qmp')},server=on,wait=off'/>
  </qemu:commandline>
` : ''}</domain>
`;
}

/** A domain's file in HOST_DIR, as its QEMU sees it. */
export function agentPath(domain: string, file: string): string {
  return `${HOST_DIR}/${domain}.${file}`;
}

export interface LibvirtHostOptions {
  /**
   * A libvirt `qemu` hook (contrib/libvirt/qemu) and its settings: installed before libvirtd
   * starts (libvirt looks for hooks then), run unchanged, told where its settings are by
   * SEAMLESS_HOOK_ENV (libvirt passes hooks no environment of ours).
   */
  readonly qemuHook?: { readonly script: string; readonly settings: Readonly<Record<string, string>> };
}

export class LibvirtHost {
  private readonly qemuPids = new Map<string, number>();
  private stopped = false;

  private constructor(
    readonly name: string,
    /** This host's state; `dir/agent` is what its QEMUs see at HOST_DIR. */
    readonly dir: string,
    private readonly daemon: ChildProcess,
  ) {}

  /** The URI virsh and a migration's peer use. */
  get uri(): string {
    return `qemu:///system?socket=${join(this.dir, 'run', 'libvirt-sock')}`;
  }

  /** A file of HOST_DIR as this machine's root namespace sees it (the host agent's socket). */
  hostFile(domain: string, file: string): string {
    return join(this.dir, 'agent', `${domain}.${file}`);
  }

  static async start(name: string, hostUuid: string, options: LibvirtHostOptions = {}): Promise<LibvirtHost> {
    if (!existsSync(LIBVIRTD)) throw new LibvirtHostError(`${LIBVIRTD} missing (apt-get install libvirt-daemon-system libvirt-daemon-driver-qemu)`);
    const dir = mkdtempSync(join(tmpdir(), `seamless-libvirt-${name}-`));
    labResources.addDir(dir);
    const sub = { '/etc/libvirt': 'etc', '/run/libvirt': 'run', '/var/lib/libvirt': 'lib', '/var/log/libvirt': 'log', '/var/cache/libvirt': 'cache', [HOST_DIR]: 'agent' } as Record<string, string>;
    if (!existsSync(HOST_DIR)) createdHostDir = true;
    live++;
    for (const path of PRIVATE) {
      mkdirSync(path, { recursive: true });
      mkdirSync(join(dir, sub[path]!), { recursive: true });
    }
    cpSync('/etc/libvirt', join(dir, 'etc'), { recursive: true });
    appendFileSync(join(dir, 'etc', 'qemu.conf'), LAB_QEMU_CONF);
    appendFileSync(join(dir, 'etc', 'libvirtd.conf'), `\nhost_uuid = "${hostUuid}"\n`);
    // No default NAT network: the lab plugs domains into Open vSwitch only.
    rmSync(join(dir, 'etc', 'qemu', 'networks', 'autostart'), { recursive: true, force: true });
    mkdirSync(join(dir, 'etc', 'hooks'), { recursive: true });
    if (options.qemuHook !== undefined) {
      const settings = Object.entries(options.qemuHook.settings).map(([k, v]) => `${k}=${v}\n`).join('');
      writeFileSync(join(dir, 'hook.env'), settings, { mode: 0o600 });
      writeFileSync(join(dir, 'etc', 'hooks', 'qemu'), `#!/bin/sh\nSEAMLESS_HOOK_ENV=${join(dir, 'hook.env')} exec ${options.qemuHook.script} "$@"\n`, { mode: 0o755 });
    }
    const mounts = PRIVATE.map((path) => `mount --bind ${join(dir, sub[path]!)} ${path}`).join(' && ');
    const daemon = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', `${mounts} && exec ${LIBVIRTD} --pid-file ${join(dir, 'libvirtd.pid')}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr: string[] = [];
    daemon.stderr!.on('data', (chunk: Buffer) => { stderr.push(chunk.toString()); if (stderr.length > 50) stderr.shift(); });
    if (daemon.pid !== undefined) labResources.addPid(daemon.pid);
    const host = new LibvirtHost(name, dir, daemon);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (daemon.exitCode !== null) {
        await host.stop();
        throw new LibvirtHostError(`libvirtd ${name} exited (${daemon.exitCode}): ${stderr.join('').slice(-2000)}`);
      }
      if (existsSync(join(dir, 'run', 'libvirt-sock')) && (await host.virsh(['version']).then(() => true, () => false))) return host;
      if (Date.now() > deadline) {
        await host.stop();
        throw new LibvirtHostError(`libvirtd ${name} did not answer within 20 s: ${stderr.join('').slice(-2000)}`);
      }
      await sleep(200);
    }
  }

  /** Runs virsh against this host; rejects with virsh's own message. */
  async virsh(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    try {
      const { stdout } = await run('virsh', ['-c', this.uri, ...args], { timeout: timeoutMs });
      return stdout;
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new LibvirtHostError(`virsh ${args.join(' ')} (${this.name}): ${(e.stderr ?? e.message).trim()}`);
    }
  }

  /** Define and start a domain from its XML. */
  async startDomain(xml: string, name: string): Promise<void> {
    const file = join(this.dir, `${name}.xml`);
    writeFileSync(file, xml);
    await this.virsh(['define', file]);
    await this.virsh(['start', name]);
    this.adoptQemu(name);
  }

  /**
   * libvirt's QEMU is no child of ours: its PID goes to the lab's safety net, so that a test
   * process that dies still ends it (stop() ends it the ordinary way).
   */
  private adoptQemu(domain: string): void {
    const file = join(this.dir, 'run', 'qemu', `${domain}.pid`);
    if (!existsSync(file)) {
      // Its QEMU is gone already (a guest that crashed, a QEMU that failed): say what its log says.
      const log = join(this.dir, 'log', 'qemu', `${domain}.log`);
      const tail = existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-5).join(' | ') : '(no log)';
      throw new LibvirtHostError(`${domain} does not run on host ${this.name} (no ${file}); its QEMU log ends: ${tail}`);
    }
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) {
      labResources.addPid(pid);
      this.qemuPids.set(domain, pid);
    }
  }

  private forgetQemu(domain: string): void {
    const pid = this.qemuPids.get(domain);
    if (pid !== undefined) labResources.forgetPid(pid);
    this.qemuPids.delete(domain);
  }

  /**
   * Live-migrate `domain` to `to` (another LibvirtHost), plugging it into `toBridge` there: the
   * running domain's migratable XML with its interface's bridge changed, as an operator passes
   * `--xml` when the destination host's bridge has another name. `bandwidthMiBs` caps the copy
   * (a migration long enough to be cancelled on purpose).
   */
  async migrate(domain: string, to: LibvirtHost, toBridge: string, options: { readonly bandwidthMiBs?: number } = {}): Promise<void> {
    const xml = await this.virsh(['dumpxml', '--migratable', domain]);
    const changed = xml.replace(/<source bridge='[^']*'\/>/, `<source bridge='${toBridge}'/>`);
    if (changed === xml) throw new LibvirtHostError(`no bridge interface in ${domain}'s XML`);
    const file = join(this.dir, `${domain}-to-${to.name}.xml`);
    writeFileSync(file, changed);
    await this.virsh(['migrate', '--live', '--persistent', '--undefinesource', domain, to.uri, '--migrateuri', 'tcp://127.0.0.1', '--listen-address', '127.0.0.1', '--xml', file,
      ...(options.bandwidthMiBs === undefined ? [] : ['--bandwidth', String(options.bandwidthMiBs)])], 120_000);
    this.forgetQemu(domain);
    to.adoptQemu(domain);
  }

  /** The domains running here. */
  async running(): Promise<string[]> {
    return (await this.virsh(['list', '--name'])).split('\n').map((l) => l.trim()).filter((l) => l !== '');
  }

  /** Destroy and undefine every domain, stop libvirtd, remove this host's files. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.daemon.exitCode === null && this.daemon.signalCode === null) {
      const all = await this.virsh(['list', '--all', '--name']).catch(() => '');
      for (const name of all.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
        await this.virsh(['destroy', name]).catch(() => undefined);
        await this.virsh(['undefine', name]).catch(() => undefined);
      }
      const exited = new Promise((resolve) => this.daemon.once('exit', resolve));
      this.daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => this.daemon.kill('SIGKILL'))]);
    }
    if (this.daemon.pid !== undefined) labResources.forgetPid(this.daemon.pid);
    // QEMUs that outlived a killed daemon (they are its children's children): none is expected.
    for (const entry of existsSync(join(this.dir, 'run', 'qemu')) ? readdirSync(join(this.dir, 'run', 'qemu')) : []) {
      if (entry.endsWith('.pid')) await run('sh', ['-c', `kill -9 $(cat ${join(this.dir, 'run', 'qemu', entry)}) 2>/dev/null || true`]);
    }
    for (const domain of [...this.qemuPids.keys()]) this.forgetQemu(domain);
    rmSync(this.dir, { recursive: true, force: true });
    labResources.forgetDir(this.dir);
    if (--live === 0 && createdHostDir) {
      rmSync(HOST_DIR, { recursive: true, force: true });
      createdHostDir = false;
    }
  }
}
