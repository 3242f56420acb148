// Open vSwitch lab helpers for integration tests: userspace (netdev) bridges that speak only
// OpenFlow 1.3 to our controller, ports whose other end sits in a network namespace, ovs-ofctl,
// and raw frame send/capture inside a namespace. Everything an OvsLab creates, cleanup() removes.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's python3 (the one first on PATH may be another build). */
const PYTHON = '/usr/bin/python3';

export async function sh(command: string, args: readonly string[], timeoutMs = 20000): Promise<string> {
  try {
    const { stdout } = await run(command, [...args], { timeout: timeoutMs, maxBuffer: 64 << 20 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

export const vsctl = (...args: string[]) => sh('ovs-vsctl', ['--timeout=10', ...args]);
export const ofctl = (...args: string[]) => sh('ovs-ofctl', ['-O', 'OpenFlow13', ...args]);

/** Whether ovs-vswitchd answers (integration tests need it). */
export async function ovsAvailable(): Promise<boolean> {
  try {
    await vsctl('show');
    return true;
  } catch {
    return false;
  }
}

/** `ovs-ofctl dump-flows` lines (the header line dropped), e.g. "cookie=0x1, ... actions=output:2". */
export async function dumpFlows(bridge: string, filter?: string): Promise<string[]> {
  const out = await ofctl('dump-flows', '--no-stats', bridge, ...(filter ? [filter] : []));
  return out.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('OFPST_FLOW') && !l.startsWith('OFPST'));
}

export interface OfctlPort {
  readonly portNo: number | 'LOCAL';
  readonly name: string;
  readonly hwAddr: string;
}

/** The ports `ovs-ofctl show` lists: ' 1(itv1a): addr:aa:bb:...' and ' LOCAL(itbr1): addr:...'. */
export async function showPorts(bridge: string): Promise<OfctlPort[]> {
  const out = await ofctl('show', bridge);
  const ports: OfctlPort[] = [];
  for (const m of out.matchAll(/^ (\d+|LOCAL)\(([^)]+)\): addr:([0-9a-f:]{17})/gm)) {
    ports.push({ portNo: m[1] === 'LOCAL' ? 'LOCAL' : Number(m[1]), name: m[2]!, hwAddr: m[3]! });
  }
  return ports;
}

export interface NetnsPort {
  readonly ns: string;
  /** Interface inside the namespace. */
  readonly ifname: string;
  /** Interface on the bridge. */
  readonly bridgePort: string;
  readonly ofport: number;
  readonly mac: string;
}

/** Frames seen by a capture, as hex strings. */
export interface Capture {
  readonly frames: Promise<string[]>;
}

const CAPTURE_SCRIPT = `
import socket, sys, time
ifname, ethertype, count, timeout = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
print('ready', flush=True)
deadline = time.time() + timeout
seen = 0
while seen < count and time.time() < deadline:
    s.settimeout(max(0.01, deadline - time.time()))
    try:
        frame, addr = s.recvfrom(65535)
    except socket.timeout:
        break
    if addr[2] == socket.PACKET_OUTGOING or len(frame) < 14 or int.from_bytes(frame[12:14], 'big') != ethertype:
        continue
    print(frame.hex(), flush=True)
    seen += 1
`;

const SEND_SCRIPT = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for h in sys.argv[2:]:
    s.send(bytes.fromhex(h))
`;

/** Opens a tap as QEMU does and reads it only when told: a line "read" on stdin reads what waits and prints how many. */
const TAP_READER_SCRIPT = `
import fcntl, os, struct, sys
fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', sys.argv[1].encode(), 0x0002 | 0x1000))  # TUNSETIFF: IFF_TAP | IFF_NO_PI
print('ready', flush=True)
for line in sys.stdin:
    n = 0
    try:
        while True:
            os.read(fd, 65536)
            n += 1
    except BlockingIOError:
        pass
    print(n, flush=True)
`;

/** A tap on a bridge whose reader (in QEMU's place) takes its frames only when asked. */
export interface TapPort {
  readonly name: string;
  readonly ofport: number;
  /** Reads every frame waiting in the tap; resolves with how many. */
  read(): Promise<number>;
}

let labSerial = 0;

/** Creates bridges, namespaces and veth pairs under a unique prefix, and removes them all. */
export class OvsLab {
  readonly prefix: string;
  private readonly bridges = new Set<string>();
  private readonly namespaces = new Set<string>();
  private readonly links = new Set<string>();
  private readonly readers = new Set<ChildProcess>();
  private bridgeCount = 0;
  private portCount = 0;

  /** `prefix` keeps names apart from other users of the machine (names stay within 15 characters). */
  constructor(prefix = 'it') {
    labSerial += 1;
    this.prefix = `${prefix}${(process.pid % 1000).toString(36)}${labSerial.toString(36)}`;
  }

  /**
   * A userspace bridge, fail_mode=secure (no flows unless the controller installs them), OpenFlow 1.3
   * only, with a fixed datapath id, and (when `controllerPort` is given) pointed at our controller.
   */
  async bridge(options: { dpid: bigint; controllerPort?: number }): Promise<string> {
    const name = `${this.prefix}br${++this.bridgeCount}`;
    this.bridges.add(name);
    const dpid = options.dpid.toString(16).padStart(16, '0');
    await vsctl('--may-exist', 'add-br', name, '--', 'set', 'bridge', name, 'datapath_type=netdev', 'fail_mode=secure',
      'protocols=OpenFlow13', `other-config:datapath-id=${dpid}`);
    if (options.controllerPort !== undefined) await this.setController(name, options.controllerPort);
    return name;
  }

  /** Points the bridge at tcp:127.0.0.1:PORT, retrying every second at most while disconnected. */
  async setController(bridge: string, port: number): Promise<void> {
    await vsctl('set-controller', bridge, `tcp:127.0.0.1:${port}`);
    await vsctl('set', 'controller', bridge, 'max_backoff=1000');
  }

  /** A veth pair: one end on the bridge (with the given OpenFlow port number), the other in a new namespace. */
  async netnsPort(bridge: string, ofport: number, mac: string): Promise<NetnsPort> {
    const n = ++this.portCount;
    const ns = `${this.prefix}ns${n}`;
    const bridgePort = `${this.prefix}v${n}b`;
    const ifname = `${this.prefix}v${n}n`;
    this.namespaces.add(ns);
    this.links.add(bridgePort);
    await sh('ip', ['netns', 'add', ns]);
    await sh('ip', ['link', 'add', bridgePort, 'type', 'veth', 'peer', 'name', ifname]);
    await sh('ip', ['link', 'set', ifname, 'netns', ns]);
    // Quiet links: no IPv6 autoconfiguration chatter to show up as packet-ins.
    await sh('sysctl', ['-qw', `net.ipv6.conf.${bridgePort}.disable_ipv6=1`]);
    await sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
    await sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', ifname, 'address', mac, 'up']);
    await sh('ip', ['link', 'set', bridgePort, 'up']);
    await sh('ip', ['netns', 'exec', ns, 'ethtool', '-K', ifname, 'tx', 'off']).catch(() => '');
    await vsctl('add-port', bridge, bridgePort, '--', 'set', 'interface', bridgePort, `ofport_request=${ofport}`);
    return { ns, ifname, bridgePort, ofport, mac };
  }

  /** Adds a plain internal port (no namespace) to the bridge; removePort deletes it. */
  async internalPort(bridge: string, ofport: number): Promise<string> {
    const name = `${this.prefix}i${++this.portCount}`;
    await vsctl('add-port', bridge, name, '--', 'set', 'interface', name, 'type=internal', `ofport_request=${ofport}`);
    return name;
  }

  /** A persistent tap (as libvirt makes them) on the bridge, held open by a reader that reads only when asked. */
  async tapPort(bridge: string, ofport: number): Promise<TapPort> {
    const name = `${this.prefix}t${++this.portCount}`;
    this.links.add(name);
    await sh('ip', ['tuntap', 'add', 'dev', name, 'mode', 'tap']);
    await sh('sysctl', ['-qw', `net.ipv6.conf.${name}.disable_ipv6=1`]);
    await sh('ip', ['link', 'set', name, 'up']);
    const child = spawn(PYTHON, ['-c', TAP_READER_SCRIPT, name], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.readers.add(child);
    const lines: string[] = [];
    const waiting: Array<(line: string) => void> = [];
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        const next = waiting.shift();
        if (next) next(line);
        else lines.push(line);
      }
    });
    const nextLine = () => new Promise<string>((resolve, reject) => {
      const early = lines.shift();
      if (early !== undefined) return resolve(early);
      waiting.push(resolve);
      child.once('exit', () => reject(new Error(`the tap reader of ${name} exited`)));
    });
    if ((await nextLine()) !== 'ready') throw new Error(`the tap reader of ${name} did not start`);
    await vsctl('add-port', bridge, name, '--', 'set', 'interface', name, `ofport_request=${ofport}`);
    return {
      name, ofport,
      read: async () => {
        child.stdin!.write('read\n');
        return Number(await nextLine());
      },
    };
  }

  async removePort(bridge: string, port: string): Promise<void> {
    await vsctl('--if-exists', 'del-port', bridge, port);
  }

  /** Sends raw Ethernet frames (hex) out of the namespace's interface. */
  async sendFrames(port: NetnsPort, framesHex: readonly string[]): Promise<void> {
    await sh('ip', ['netns', 'exec', port.ns, PYTHON, '-c', SEND_SCRIPT, port.ifname, ...framesHex]);
  }

  /**
   * Captures up to `count` incoming frames of `ethertype` on the namespace's interface; resolves
   * once the capture socket is bound, with the frames to come in `frames`.
   */
  async capture(port: NetnsPort, ethertype: number, count: number, timeoutMs: number): Promise<Capture> {
    const child = spawn('ip', ['netns', 'exec', port.ns, PYTHON, '-c', CAPTURE_SCRIPT, port.ifname, ethertype.toString(16), String(count), String(timeoutMs / 1000)]);
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) resolve();
      });
      child.once('exit', () => reject(new Error(`capture failed to start: ${err}`)));
    });
    const frames = new Promise<string[]>((resolve) => {
      child.once('exit', () => resolve(out.split('\n').filter((l) => l !== '' && l !== 'ready')));
    });
    await ready;
    return { frames };
  }

  /** Removes every bridge, namespace and link this lab created; never throws. */
  async cleanup(): Promise<void> {
    for (const reader of this.readers) reader.kill();
    this.readers.clear();
    for (const bridge of this.bridges) await vsctl('--if-exists', 'del-br', bridge).catch(() => '');
    for (const link of this.links) await sh('ip', ['link', 'del', link]).catch(() => '');
    for (const ns of this.namespaces) await sh('ip', ['netns', 'del', ns]).catch(() => '');
    this.bridges.clear();
    this.links.clear();
    this.namespaces.clear();
  }
}

/** An Ethernet frame (hex) with our test ethertype and a marker in its payload, padded to 60 bytes. */
export function testFrame(dst: string, src: string, ethertype: number, marker: string): string {
  const mac = (m: string) => m.replace(/:/g, '');
  const payload = Buffer.from(marker, 'ascii').toString('hex');
  const hex = mac(dst) + mac(src) + ethertype.toString(16).padStart(4, '0') + payload;
  return hex.padEnd(120, '0');
}
