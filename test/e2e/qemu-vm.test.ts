/**
 * A real QEMU guest on Open vSwitch, live-migrated with QMP, with no Seamless controller: two
 * userspace bridges with one `priority=0,actions=NORMAL` rule each (plain L2 learning), joined by
 * patch ports, and a peer in a network namespace on the first. Proves the guest (address, IPv6 on,
 * agent, stream receiver), the libvirt-style migration (destination port with external_ids before
 * the stop-and-copy, RARP and gratuitous ARP at the destination after the resume, the paused source
 * and its port kept for the linger), TCP surviving with every byte in order, and cleanup.
 *
 * Starts QEMU: run under `flock /tmp/seamless-lab.lock`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { AGENT_PYTHON, topologyFile } from '../../topologies/agent-channel.js';
import { gapAround } from '../../topologies/case-study/measure.js';
import { labResources } from '../../topologies/qemu/lab-resources.js';
import { onHostClock, probeClientCommand, probeServerCommand, streamServeCommand } from '../../topologies/qemu/guest-tools.js';
import { QemuVm, type QemuMigration } from '../../topologies/qemu/qemu-vm.js';
import type { MigrationSignal } from '../../controller/host-agent/migration-signals.js';
import { interfaceRow } from '../../topologies/qemu/tap-port.js';
import { OvsLab, ofctl, sh, vsctl, type NetnsPort } from '../lib/ovs.js';
import { waitUntil } from '../lib/wait.js';

const run = promisify(execFile);
const STREAM = topologyFile('case-study/stream.py');
const PROBE = topologyFile('case-study/probe.py');
const VM_MAC = '02:00:00:00:01:0a';
const VM_IP = '10.0.1.10';
const PEER_IP = '10.0.1.20';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A command in the peer's namespace, to its end. */
async function inPeer(peer: NetnsPort, command: string[], timeoutMs = 20_000): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', peer.ns, ...command], { timeout: timeoutMs });
  return stdout;
}

/** The peer streams to the VM with stream.py send until `stopFile` exists; resolves with its result line. */
function streamFromPeer(peer: NetnsPort, port: number, stopFile: string): { child: ChildProcess; result: Promise<Record<string, unknown>> } {
  const child = spawn('ip', ['netns', 'exec', peer.ns, AGENT_PYTHON, STREAM, 'send', '--host', VM_IP, '--port', String(port),
    '--rate', '500000', '--duration', '60', '--linger', '5', '--stop-file', stopFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  const result = new Promise<Record<string, unknown>>((resolve) => child.once('exit', () => resolve(JSON.parse(lines.find((l) => l.includes('"done"')) ?? '{}'))));
  return { child, result };
}

interface Frame {
  readonly t: number;
  readonly ethType: string;
  readonly line: string;
}

/** tshark on a root-namespace interface: the VM's ARP and RARP frames with their capture time. */
async function captureAnnouncements(ifname: string): Promise<{ frames: Frame[]; stop: () => void }> {
  const fields = ['frame.time_epoch', 'eth.type', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4'];
  const child = spawn('tshark', ['-l', '-n', '-i', ifname, '-f', `ether src ${VM_MAC} and (arp or ether proto 0x8035)`, '-T', 'fields', '-E', 'separator=,', ...fields.flatMap((f) => ['-e', f])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const frames: Frame[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [t, ethType, ...rest] = line.split(',');
    frames.push({ t: Number(t) * 1000, ethType: ethType!, line: [ethType, ...rest].join(',') });
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (/Capturing on/.test(line)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tshark on ${ifname} exited (${code}) before capturing`)));
  });
  return { frames, stop: () => child.kill() };
}

describe('QemuVm: a real QEMU guest live-migrated over QMP (plain L2, no controller)', function () {
  this.timeout(180_000);
  const lab = new OvsLab('qv');
  let br1: string;
  let br2: string;
  let peer: NetnsPort;
  let vm: QemuVm;
  const pidsSeen = new Set<number>();
  const tapsSeen = new Set<string>();
  const remember = () => {
    vm.qemuPids().forEach((pid) => pidsSeen.add(pid));
    vm.taps().forEach((tap) => tapsSeen.add(tap));
  };
  let stopFiles = 0;
  const stopFile = () => `/tmp/seamless-qemu-test-${process.pid}-${++stopFiles}`;

  before(async () => {
    br1 = await lab.bridge({ dpid: 0x51n });
    br2 = await lab.bridge({ dpid: 0x52n });
    for (const br of [br1, br2]) await ofctl('add-flow', br, 'priority=0,actions=NORMAL');
    const [p12, p21] = [`${lab.prefix}p12`, `${lab.prefix}p21`];
    await vsctl('add-port', br1, p12, '--', 'set', 'Interface', p12, 'type=patch', `options:peer=${p21}`, 'ofport_request=2',
      '--', 'add-port', br2, p21, '--', 'set', 'Interface', p21, 'type=patch', `options:peer=${p12}`, 'ofport_request=2');
    peer = await lab.netnsPort(br1, 1, '02:00:00:00:01:14');
    // A host keeps Linux's defaults: IPv6 on (OvsLab turns it off for its quiet test ports).
    await inPeer(peer, ['sysctl', '-qw', `net.ipv6.conf.${peer.ifname}.disable_ipv6=0`]);
    await inPeer(peer, ['ip', 'addr', 'add', `${PEER_IP}/24`, 'dev', peer.ifname]);
    await inPeer(peer, ['ip', 'link', 'set', 'lo', 'up']);

    vm = await QemuVm.boot({ network: { mac: VM_MAC, address: `${VM_IP}/24`, gateway: '10.0.1.1' }, bridge: br1, port: 10 });
    remember();
    console.log(`      guest booted (TCG) in ${vm.bootMs} ms; clock mapped to ±${vm.clock.uncertaintyMs.toFixed(2)} ms`);
  });

  after(async () => {
    await vm?.stop();
    await lab.cleanup();
  });

  it('boots with the address, MAC and gateway it was given, and Linux defaults (IPv6 on)', async () => {
    expect(await vm.check('ip -o -4 addr show dev eth0')).to.contain(`inet ${VM_IP}/24`);
    expect(await vm.check('cat /sys/class/net/eth0/address')).to.equal(`${VM_MAC}\n`);
    expect(await vm.check('ip route show default')).to.contain('default via 10.0.1.1 dev eth0');
    expect(await vm.check('cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6')).to.equal('0\n');
    await waitUntil(async () => /inet6 fe80::/.test(await vm.check('ip -o -6 addr show dev eth0')), { timeoutMs: 10_000, what: 'an IPv6 link-local address' });
    const row = await interfaceRow(vm.attachment().tap);
    expect(row).to.deep.include({ ofport: 10, linkState: 'up' });
    expect(row!.externalIds).to.deep.equal({ 'attached-mac': VM_MAC, 'iface-id': vm.vif.ifaceId, 'vm-uuid': vm.vif.vmUuid, 'iface-status': 'active' });
  });

  it('pings both ways, serves TCP/UDP probes and receives a TCP stream with every byte in order', async () => {
    await waitUntil(async () => (await vm.cmd(`ping -c 1 -W 1 ${PEER_IP}`)).code === 0, { timeoutMs: 15_000, what: 'the VM to ping the peer' });
    expect(await inPeer(peer, ['ping', '-c', '2', '-i', '0.2', '-W', '2', VM_IP])).to.match(/2 received/);

    const servers = [vm.spawn(probeServerCommand('tcp', 6001)), vm.spawn(probeServerCommand('udp', 6002))];
    await Promise.all(servers.map((s) => s.waitForLine(/listening/)));
    expect(JSON.parse(await inPeer(peer, [AGENT_PYTHON, PROBE, 'tcp', '--host', VM_IP, '--port', '6001']))).to.include({ ok: true });
    expect(JSON.parse(await inPeer(peer, [AGENT_PYTHON, PROBE, 'udp', '--host', VM_IP, '--port', '6002']))).to.include({ ok: true });
    const peerUdp = spawn('ip', ['netns', 'exec', peer.ns, AGENT_PYTHON, PROBE, 'udp-server', '--port', '6002', '--count', '1']);
    await new Promise((resolve) => createInterface({ input: peerUdp.stdout! }).once('line', resolve));
    expect(JSON.parse(await vm.check(probeClientCommand('udp', PEER_IP, 6002)))).to.include({ ok: true, peer: PEER_IP });
    await Promise.all(servers.map((s) => s.kill()));

    const receiver = vm.spawn(streamServeCommand(5001));
    await receiver.waitForLine(/listening/);
    const stop = stopFile();
    const sender = streamFromPeer(peer, 5001, stop);
    await receiver.waitForLine(/accepted/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await run('touch', [stop]);
    const sent = await sender.result;
    const received = onHostClock(JSON.parse(await receiver.waitForLine(/"done"/, 20_000)), vm.clock);
    expect(sent).to.include({ event: 'done', error: null });
    expect(sent.bytes as number).to.be.greaterThan(200_000);
    expect(received).to.include({ bytes: sent.bytes, inOrder: true, error: null });
    // Host-clock times: the stream began within the last few seconds.
    expect(received.start * 1000).to.be.within(Date.now() - 15_000, Date.now());
    await run('rm', ['-f', stop]);
  });

  it('live-migrates to another bridge: the stream survives whole, the destination port was prepared, announced and the source port lingered', async () => {
    const source = vm.attachment();
    const receiver = vm.spawn(streamServeCommand(5002));
    await receiver.waitForLine(/listening/);
    const stop = stopFile();
    const sender = streamFromPeer(peer, 5002, stop);
    await receiver.waitForLine(/accepted/);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    let capture: Awaited<ReturnType<typeof captureAnnouncements>> | undefined;
    let destinationRowBeforeMigrate: Awaited<ReturnType<typeof interfaceRow>> = null;
    const lingerMs = 3000;
    const migration: QemuMigration = await vm.migrate({
      toBridge: br2, toPort: 10, lingerMs,
      onDestinationPort: async (destination) => {
        destinationRowBeforeMigrate = await interfaceRow(destination.tap);
        capture = await captureAnnouncements(destination.tap);
      },
    });
    remember();
    const t = migration.times;
    // The source QEMU is paused with its tap open: its port is still up, on its bridge.
    const sourceRow = await interfaceRow(source.tap);
    expect(sourceRow, 'the source port while the source lingers').to.deep.include({ ofport: 10, linkState: 'up' });
    expect(vm.qemuPids()).to.have.length(2);
    vm.qemuPids().forEach((pid) => expect(alive(pid)).to.equal(true));

    expect(t.from).to.deep.equal(source);
    expect(t.to).to.include({ bridge: br2, port: 10 });
    expect(vm.attachment()).to.deep.equal(t.to);
    // libvirt's order: the destination's port (with external_ids) exists before the migration starts.
    expect(destinationRowBeforeMigrate).to.deep.include({ ofport: 10 });
    expect(destinationRowBeforeMigrate!.externalIds).to.deep.equal({ 'attached-mac': VM_MAC, 'iface-id': vm.vif.ifaceId, 'vm-uuid': vm.vif.vmUuid, 'iface-status': 'active' });
    expect(t.destinationPortAddedAt).to.be.at.most(t.migrateRequestedAt - 900);
    expect(t.migrateRequestedAt).to.be.below(t.stoppedAt);
    expect(t.stoppedAt).to.be.at.most(t.resumedAt);
    expect(t.stoppedAt).to.be.at.most(t.completedAt);
    expect(t.downtimeMs).to.be.a('number').and.at.least(0).and.below(2000);
    expect(t.totalTimeMs).to.be.at.least(t.downtimeMs);
    // ... and still up late in the linger.
    expect(Date.now(), 'migrate() returned too late to check the linger').to.be.below(t.completedAt + lingerMs - 500);
    await new Promise((resolve) => setTimeout(resolve, t.completedAt + lingerMs - 300 - Date.now()));
    expect(await interfaceRow(source.tap), 'the source port late in the linger').to.deep.include({ ofport: 10, linkState: 'up' });

    // After the resume the destination port carries QEMU's RARP rounds and the guest's own gratuitous ARPs.
    const rarp = `0x8035,3,${VM_MAC},0.0.0.0,${VM_MAC},0.0.0.0`;
    // A gratuitous ARP: the sender and target protocol addresses are both the VM's.
    const isGarp = (f: Frame) => {
      const [ethType, , , senderIp, , targetIp] = f.line.split(',');
      return ethType === '0x0806' && senderIp === VM_IP && targetIp === VM_IP;
    };
    await waitUntil(() => capture!.frames.filter((f) => f.line === rarp).length >= 5 && capture!.frames.some(isGarp), { timeoutMs: 5000, what: '5 RARP and a gratuitous ARP at the destination port' });
    capture!.stop();
    const firstRarp = capture!.frames.find((f) => f.line === rarp)!;
    const firstGarp = capture!.frames.find(isGarp)!;
    expect(firstRarp.t).to.be.at.least(t.stoppedAt);
    expect(firstGarp.t).to.be.at.least(t.stoppedAt);

    // The source goes only when its linger is over, and then completely.
    const retired = await migration.sourceRetired;
    expect(retired.quitAt).to.be.at.least(t.completedAt + lingerMs - 5);
    expect(await interfaceRow(source.tap)).to.equal(null);
    expect(existsSync(`/sys/class/net/${source.tap}`)).to.equal(false);
    expect(vm.qemuPids()).to.have.length(1);

    await run('touch', [stop]);
    const sent = await sender.result;
    const received = onHostClock(JSON.parse(await receiver.waitForLine(/"done"/, 20_000)), vm.clock);
    expect(sent).to.include({ event: 'done', error: null });
    expect(received).to.include({ bytes: sent.bytes, inOrder: true, error: null });
    const gap = gapAround(received.timeline, t.stoppedAt, Number.POSITIVE_INFINITY);
    expect(gap).to.be.a('number').and.at.least(t.resumedAt - t.stoppedAt - 2);
    console.log(`      cross-bridge: downtime ${t.downtimeMs} ms (QEMU), total ${t.totalTimeMs} ms, application gap ${gap} ms, ` +
      `first RARP +${(firstRarp.t - t.resumedAt).toFixed(1)} ms and first GARP +${(firstGarp.t - t.resumedAt).toFixed(1)} ms after resume, clock error ${t.clockErrorMs.toFixed(2)} ms`);
    await run('rm', ['-f', stop]);
  });

  it('moves between two ports of one bridge (port 10 -> 11) with the stream whole: the plain L2 baseline', async () => {
    const receiver = vm.spawn(streamServeCommand(5003));
    await receiver.waitForLine(/listening/);
    const stop = stopFile();
    const sender = streamFromPeer(peer, 5003, stop);
    await receiver.waitForLine(/accepted/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const migration = await vm.migrate({ toBridge: br2, toPort: 11, lingerMs: 0 });
    remember();
    await migration.sourceRetired;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await run('touch', [stop]);
    const sent = await sender.result;
    const received = onHostClock(JSON.parse(await receiver.waitForLine(/"done"/, 20_000)), vm.clock);
    expect(received).to.include({ bytes: sent.bytes, inOrder: true, error: null });
    const t = migration.times;
    const gap = gapAround(received.timeline, t.stoppedAt, Number.POSITIVE_INFINITY);
    expect(gap).to.be.a('number');
    expect(await ofctl('show', br2)).to.match(new RegExp(` 11\\(${vm.attachment().tap}\\)`)).and.not.match(/ 10\(/);
    console.log(`      same bridge, port 10 -> 11: downtime ${t.downtimeMs} ms, total ${t.totalTimeMs} ms, application gap ${gap} ms`);
    await run('rm', ['-f', stop]);
  });

  it('holds the stop-and-copy as long as asked (pause-before-switchover), and a host agent hears it near, then stop and completion', async () => {
    const signals: MigrationSignal[] = [];
    // At 16 MiB/s the guest's memory takes seconds to copy: the agent's copies must start near the
    // stop, not with the migration. At the pass's own rates: with the agent's floor (2 GB/s) a
    // guest this small is copied from its migration's start (its size is read ahead), as a large
    // VM's last 500 MB would be.
    const migration = await vm.migrate({ toBridge: br2, toPort: 12, lingerMs: 0, stopMs: 400, maxBandwidth: 16 << 20, onSignal: (s) => signals.push(s), follow: { fastPassBytesPerMs: 0 } });
    remember();
    await migration.sourceRetired;
    const t = migration.times;
    expect(t.resumedAt - t.stoppedAt, 'stopped from STOP to RESUME').to.be.at.least(400);
    expect(t.downtimeMs, 'QEMU counts the held stop as downtime').to.be.at.least(400);
    expect(signals.map((s) => s.kind)).to.deep.equal(['migrating', 'converging', 'stopping', 'resumed']);
    const at = Object.fromEntries(signals.map((s) => [s.kind, s.at]));
    expect(at.stopping! - at.migrating!, 'the memory copy took seconds').to.be.at.least(1500);
    expect(at.stopping! - at.converging!, 'copying began near the stop (lead 250 ms, estimated)').to.be.within(0, 1000);
    expect((await vm.cmd('echo alive')).stdout).to.include('alive');
    console.log(`      held stop: downtime ${t.downtimeMs} ms (asked 400), STOP to RESUME ${(t.resumedAt - t.stoppedAt).toFixed(0)} ms; `
      + `memory copied for ${(at.stopping! - at.migrating!).toFixed(0)} ms, converging ${(at.stopping! - at.converging!).toFixed(0)} ms before the stop`);
  });

  it('pauses in place (QMP stop, cont on the same QEMU): the guest answers again at once and its clock mapping holds', async () => {
    const pids = vm.qemuPids();
    const t = await vm.pauseInPlace(300);
    // QMP's event timestamps against this process's timers: a fraction of a ms either way.
    expect(t.resumedAt - t.stoppedAt, 'stopped from STOP to RESUME').to.be.within(295, 1500);
    // The guest's clock stood still for the pause: a mapping not told of it would be 300 ms off.
    expect(Math.abs(t.clockErrorMs), 'clock mapping error after the pause (ms)').to.be.below(20);
    expect(vm.qemuPids(), 'the same QEMU process').to.deep.equal(pids);
    await inPeer(peer, ['ping', '-c', '1', '-W', '5', VM_IP]);
    console.log(`      paused in place: STOP to RESUME ${(t.resumedAt - t.stoppedAt).toFixed(0)} ms, clock error ${t.clockErrorMs.toFixed(2)} ms`);
  });

  it('keeps the VM running at the source when a migration fails half-way, and removes the destination', async () => {
    const before = vm.attachment();
    let destinationTap = '';
    // A deadline far shorter than any migration: the driver gives up while QEMU is still copying.
    const failure = await vm.migrate({ toBridge: br1, toPort: 12, leadMs: 0, timeoutMs: 50, onDestinationPort: (d) => void (destinationTap = d.tap) })
      .catch((e: unknown) => e);
    expect(String(failure)).to.match(/migration .* failed: .*no the end of the migration within 50 ms/);
    expect(vm.attachment()).to.deep.equal(before);
    expect(await interfaceRow(destinationTap)).to.equal(null);
    expect(existsSync(`/sys/class/net/${destinationTap}`)).to.equal(false);
    const ping = await vm.cmd(`ping -c 2 -i 0.2 -W 2 ${PEER_IP}`);
    expect(ping.code, ping.stdout + ping.stderr).to.equal(0);
  });

  it('keeps the VM where it was when the destination port is taken, and leaves no destination behind', async () => {
    const before = vm.attachment();
    const failure = await vm.migrate({ toBridge: br1, toPort: 1 }).catch((e: unknown) => e);
    expect(String(failure)).to.match(/got OpenFlow port .* not 1 \(is the port taken\?\)/);
    expect(vm.attachment()).to.deep.equal(before);
    expect(vm.taps()).to.deep.equal([before.tap]);
    expect(await sh('ovs-vsctl', ['list-ports', br1])).to.not.match(/sq/);
    const ping = await vm.cmd(`ping -c 2 -i 0.2 -W 2 ${PEER_IP}`);
    expect(ping.code, ping.stdout + ping.stderr).to.equal(0);
  });

  it('leaves nothing behind when stopped: no QEMU, no tap, no port, no socket directory', async () => {
    remember();
    await vm.stop();
    expect([...pidsSeen].length).to.be.at.least(3);
    for (const pid of pidsSeen) expect(alive(pid), `QEMU ${pid}`).to.equal(false);
    for (const tap of tapsSeen) {
      expect(existsSync(`/sys/class/net/${tap}`), tap).to.equal(false);
      expect(await interfaceRow(tap), tap).to.equal(null);
    }
    expect(labResources.snapshot()).to.deep.equal({ pids: [], taps: [], dirs: [] });
  });
});
