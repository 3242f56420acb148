/**
 * The Mininet driver against the real thing, with no OpenFlow controller: every switch gets one
 * `priority=0,actions=NORMAL` rule (plain L2 learning). Proves the topology, the host commands and
 * the migration emulation (pause, move, announce) before any Seamless rule is involved.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { gapAround, type Timeline } from '../../topologies/case-study/measure.js';
import { HOST_PYTHON, MininetDriver, TCP_STREAM, type HostProcess } from '../../topologies/mininet-driver.js';
import { waitUntil } from '../lib/wait.js';

const run = promisify(execFile);

async function bridges(): Promise<string[]> {
  const { stdout } = await run('ovs-vsctl', ['list-br']);
  return stdout.split('\n').filter(Boolean);
}

async function rootLinks(): Promise<string[]> {
  const { stdout } = await run('ip', ['-o', 'link', 'show']);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(':')[1]!.trim().split('@')[0]!);
}

async function portToBridge(ifname: string): Promise<string> {
  const { stdout } = await run('ovs-vsctl', ['port-to-br', ifname]);
  return stdout.trim();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pings(net: MininetDriver, from: string, to: string): Promise<boolean> {
  const { code } = await net.cmd(from, `ping -c1 -W1 ${to}`, { timeoutMs: 3000 });
  return code === 0;
}

/** tshark in a host, one line per frame: eth type, ARP opcode, sender MAC, sender IP, target MAC, target IP. */
async function capture(net: MininetDriver, host: string, iface: string, filter: string): Promise<HostProcess> {
  const fields = ['eth.type', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4'];
  const tshark = net.spawn(host, `exec tshark -l -n -i ${iface} -f '${filter}' -T fields -E separator=, ${fields.map((f) => `-e ${f}`).join(' ')}`);
  await tshark.waitForLine(/^Capturing on/, 20_000);
  return tshark;
}

/** A TCP port that was free a moment ago (for a peer controller that cannot listen on port 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function json(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}

describe('MininetDriver (plain L2 switches, no controller)', function () {
  this.timeout(120_000);
  let net: MininetDriver;
  let bridgesBefore: string[];
  let linksBefore: string[];

  before(async () => {
    [bridgesBefore, linksBefore] = await Promise.all([bridges(), rootLinks()]);
    net = await MininetDriver.start({ plainL2: true });
    console.log(`      started in ${net.topology.startMs.toFixed(0)} ms (prefix ${net.topology.prefix})`);
  });

  after(async () => {
    await net?.stop();
  });

  it('builds the reference topology: dpids, port plan, addresses', async () => {
    expect(net.topology.switches.s1?.dpid).to.equal('0000000000000001');
    expect(net.topology.switches.s3?.dpid).to.equal('0000000000000003');
    const s1 = await net.ofctl('s1', 'show');
    expect(s1).to.match(/ 1\(\w+-eth1\)/).and.match(/ 2\(\w+-eth2\)/).and.match(/ 10\(\w+vm-p0\)/);
    const s2 = await net.ofctl('s2', 'show');
    expect(s2).to.match(/ 1\(\w+-eth1\)/).and.match(/ 2\(\w+-eth2\)/).and.not.match(/vm-p/);
    expect(await net.check('vm', 'ip -br addr show vm-eth0')).to.contain('10.0.1.10/24');
    expect(await net.check('vm', 'cat /sys/class/net/vm-eth0/address')).to.contain('02:00:00:00:01:0a');
    expect(await net.check('cnB', 'ip route show default')).to.contain('via 10.0.2.1');
    expect(await net.check('r', 'sysctl -n net.ipv4.ip_forward')).to.equal('1\n');
    expect(await net.check('r', 'cat /sys/class/net/r-eth2/address')).to.contain('02:00:00:00:03:01');
    expect(await net.check('cnA', 'ethtool -k cnA-eth0')).to.match(/tx-checksumming: off/);
  });

  it('pings on-link, through the router, and to the external host', async () => {
    await waitUntil(() => pings(net, 'cnA', '10.0.1.10'), { timeoutMs: 10_000, what: 'cnA to reach the VM' });
    expect(await pings(net, 'cnA', '10.0.2.20'), 'cnA -> cnB').to.equal(true);
    expect(await pings(net, 'cnA', '10.0.9.2'), 'cnA -> ext').to.equal(true);
    expect(await pings(net, 'cnC', '10.0.1.10'), 'cnC -> vm').to.equal(true);
  });

  it('runs host commands with exit codes and fails clearly on timeout', async () => {
    expect(await net.cmd('cnA', 'exit 3')).to.include({ code: 3 });
    const started = Date.now();
    let failure: unknown;
    await net.cmd('vm', 'sleep 30', { timeoutMs: 300 }).catch((error: unknown) => (failure = error));
    expect(String(failure)).to.match(/vm: "sleep 30" timed out after 300 ms/);
    expect(Date.now() - started).to.be.below(10_000);
    expect(String(await net.cmd('nohost', 'true').catch((e: unknown) => e))).to.match(/unknown host 'nohost'/);
  });

  it('streams the lines of a spawned process and kills it', async () => {
    const proc = net.spawn('cnB', 'for i in 1 2 3; do echo line$i; done; exec sleep 60');
    expect(await proc.waitForLine(/line3/)).to.equal('line3');
    expect(proc.stdout).to.deep.equal(['line1', 'line2', 'line3']);
    const exit = await proc.kill();
    expect(exit.code).to.equal(null);
    expect(alive(proc.pid!)).to.equal(false);
  });

  it('keeps a TCP stream alive across an intra-subnet migration (s1 port 10 -> s1 port 11)', async () => {
    const server = net.spawn('vm', `${HOST_PYTHON} ${TCP_STREAM} serve --port 5001`);
    await server.waitForLine(/listening/);
    const rarps = await capture(net, 'cnA', 'cnA-eth0', 'ether proto 0x8035');
    const client = net.spawn('cnA', `${HOST_PYTHON} ${TCP_STREAM} send --host 10.0.1.10 --port 5001 --duration 3 --rate 500000`);
    await server.waitForLine(/accepted/);

    const phases: Array<[string, number]> = [];
    const carrierChanges = () => net.check('vm', 'cat /sys/class/net/vm-eth0/carrier_changes');
    const changesBefore = await carrierChanges();
    const times = await net.migrate('vm', { toSwitch: 's1', toPort: 11, pauseMs: 100, announce: 'rarp', onPhase: (phase, at) => phases.push([phase, at]) });
    expect(times).to.include({ fromSwitch: 's1', fromPort: 10, toSwitch: 's1', toPort: 11 });
    // Heard as they happened (what a host agent hears from QEMU), with the instants the times report.
    expect(phases).to.deep.equal([['stopped', times.pausedAt], ['resumed', times.resumedAt]]);
    // The destination's port came before the stop, as a destination hypervisor's tap does, and the
    // paused VM kept its carrier, as a paused guest does.
    expect(times.movedAt).to.be.below(times.pausedAt);
    expect(await carrierChanges()).to.equal(changesBefore);
    expect(times.resumedAt - times.pausedAt).to.equal(times.pauseMs).and.to.be.at.least(100);
    expect(times.announcements.map((a) => a.kind)).to.deep.equal(['rarp', 'rarp', 'rarp', 'rarp', 'rarp']);
    expect(times.announcedAt).to.be.at.least(times.resumedAt);

    const clientExit = await client.wait(30_000);
    const sent = json(client.stdout[client.stdout.length - 1]!);
    const summary = json(await server.waitForLine(/"done"/, 30_000));
    expect(clientExit.code, client.stdout.join('\n')).to.equal(0);
    expect(sent).to.include({ event: 'done', error: null });
    expect(sent.bytes as number).to.be.greaterThan(1_400_000);
    expect(summary).to.include({ event: 'done', inOrder: true, error: null, bytes: sent.bytes });
    const gap = gapAround(summary.timeline as Timeline, times.pausedAt, Number.POSITIVE_INFINITY);
    console.log(
      `      pause ${times.pauseMs.toFixed(1)} ms (asked ${times.requestedPauseMs}); ` +
        `first RARP ${(times.announcedAt! - times.resumedAt).toFixed(1)} ms after resume; ` +
        `application gap ${gap} ms`,
    );
    expect(await net.attachment('vm')).to.include({ switch: 's1', port: 11 });
    await server.wait(5000);

    // The announce as an independent decoder sees it, flooded to cnA: RARP reverse requests, sha = tha = the VM.
    await waitUntil(() => rarps.stdout.length >= 5, { timeoutMs: 5000, what: 'tshark on cnA to see 5 RARP frames' });
    await rarps.kill();
    const rarp = '0x8035,3,02:00:00:00:01:0a,0.0.0.0,02:00:00:00:01:0a,0.0.0.0';
    expect(rarps.stdout).to.deep.equal([rarp, rarp, rarp, rarp, rarp]);
  });

  it('refuses to move the VM onto a port that is taken', async () => {
    const failure = await net.migrate('vm', { toSwitch: 's1', toPort: 1 }).catch((error: unknown) => error);
    expect(String(failure)).to.match(/port 1 on \w+s1 is taken/);
    for (const toPort of [0, 65280, 1.5]) {
      const bad = await net.prepare('vm', { toSwitch: 's1', toPort }).catch((error: unknown) => error);
      expect(String(bad)).to.match(/toPort must be an OpenFlow port number/);
    }
    const badVif = await net.prepare('vm', { toSwitch: 's2', vif: { ifaceId: 'a b"c', vmUuid: 'x' } }).catch((error: unknown) => error);
    expect(String(badVif)).to.match(/vif.ifaceId must be 1-64 characters/);
    expect(await net.attachment('vm')).to.include({ switch: 's1', port: 11 });
  });

  it('moves the VM link to s2 and leaves the VM untouched (address, routes, ARP cache)', async () => {
    await waitUntil(() => pings(net, 'vm', '10.0.1.1'), { timeoutMs: 5000, what: 'the VM to reach its gateway' });
    const addrBefore = await net.check('vm', 'ip -br addr show vm-eth0');
    const routesBefore = await net.check('vm', 'ip route');
    expect(await net.check('vm', 'ip neigh show 10.0.1.1')).to.contain('02:00:00:00:01:01');

    // The VM runs Linux's defaults (IPv6 on): count only its announcements, not its NDP/MLD.
    const heard = await capture(net, 'cnB', 'cnB-eth0', 'ether src 02:00:00:00:01:0a and (arp or rarp)');
    const times = await net.migrate('vm', { toSwitch: 's2', announce: 'both', announceRounds: 2, lingerMs: 4000 });
    expect(times).to.include({ fromSwitch: 's1', toSwitch: 's2', toPort: 10 });
    expect(times.announcements.map((a) => a.kind)).to.deep.equal(['rarp', 'garp', 'rarp', 'garp']);
    // The move left the VM as it was: address, routes, the gateway's MAC in its ARP cache. Read at
    // once: later the kernel's own neighbour checks may find the gateway unreachable from subnet B
    // (plain L2 here) and mark it FAILED, which is Linux, not the migration.
    expect(await net.check('vm', 'ip -br addr show vm-eth0')).to.equal(addrBefore);
    expect(await net.check('vm', 'ip route')).to.equal(routesBefore);
    expect(await net.check('vm', 'ip neigh show 10.0.1.1')).to.contain('02:00:00:00:01:01');
    // The VM now floods into subnet B: cnB hears both kinds, a GARP being a request with spa = tpa = EID.
    // (Userspace OVS may reorder the first two: each is the first packet of its flow, an upcall.)
    // Only announcements count: RARPs and GARPs (spa = tpa). The VM's own ARP requests (Linux
    // re-checking its gateway, unreachable from subnet B in plain L2) are Linux, not the move.
    const announcements = () => [...heard.stdout].filter((l) => { const f = l.split(','); return f[0] === '0x8035' || f[3] === f[5]; });
    await waitUntil(() => announcements().length >= 4, { timeoutMs: 5000, what: 'tshark on cnB to see the announce' });
    await heard.kill();
    const rarp = '0x8035,3,02:00:00:00:01:0a,0.0.0.0,02:00:00:00:01:0a,0.0.0.0';
    const garp = '0x0806,1,02:00:00:00:01:0a,10.0.1.10,00:00:00:00:00:00,10.0.1.10';
    expect(announcements().sort()).to.deep.equal([garp, garp, rarp, rarp]);

    const tap = times.port;
    expect(tap).to.match(/vm-p[01]$/);
    expect(await portToBridge(tap)).to.equal(net.bridge('s2'));
    expect(await net.ofctl('s2', 'show')).to.match(new RegExp(` 10\\(${tap}\\)`));
    // The source's port stays up after the move, as a hypervisor leaves a paused source's tap, then goes.
    const source = new RegExp(` ${times.fromPort}\\(\\w+vm-p[01]\\)`);
    expect(await net.ofctl('s1', 'show')).to.match(source);
    expect(times.sourceQuitAt).to.be.a('number');
    await waitUntil(async () => !source.test(await net.ofctl('s1', 'show')), { timeoutMs: 8000, what: 'the source port to go after its linger' });
    expect(await net.ofctl('s1', 'show')).to.not.match(/vm-p/);
    expect(await net.attachment('vm')).to.deep.equal({ tap, switch: 's2', bridge: net.bridge('s2'), port: 10 });
    expect(await net.check('vm', 'ip -br addr show vm-eth0')).to.equal(addrBefore);
    expect(await net.check('vm', 'ip route')).to.equal(routesBefore);
  });

  it('uses a port prepared ahead, and a move back before the source quit takes the source\'s place', async () => {
    const { addedAt } = await net.prepare('vm', { toSwitch: 's3' });
    expect(await net.ofctl('s3', 'show')).to.match(/ 10\(\w+vm-p[01]\)/);
    expect(await net.attachment('vm')).to.include({ switch: 's2', port: 10 }); // still running at its source
    const there = await net.migrate('vm', { toSwitch: 's3', announce: 'none', lingerMs: 5000 });
    expect(there.movedAt).to.equal(addedAt);
    // Back to s2 port 10 while the source's port still lingers there (5 s): that source quits first.
    const back = await net.migrate('vm', { toSwitch: 's2', announce: 'none' });
    expect(back).to.include({ fromSwitch: 's3', toSwitch: 's2', toPort: 10 });
    expect(back.movedAt).to.be.above(there.resumedAt);
    expect(await net.attachment('vm')).to.deep.equal({ tap: back.port, switch: 's2', bridge: net.bridge('s2'), port: 10 });
    expect((await net.ofctl('s2', 'show')).match(/vm-p[01]/g)).to.have.length(1);
    expect(await net.ofctl('s3', 'show')).to.match(new RegExp(` 10\\(${there.port}\\)`)); // this move's source, lingering
  });

  it('takes a switch port down and up', async () => {
    expect(await pings(net, 'cnB', '10.0.2.1')).to.equal(true);
    await net.portDown('s2', 1);
    expect(await pings(net, 'cnB', '10.0.2.1')).to.equal(false);
    await net.portUp('s2', 1);
    await waitUntil(() => pings(net, 'cnB', '10.0.2.1'), { timeoutMs: 10_000, what: 'cnB to reach its gateway again' });
  });

  it('stop() removes every bridge, link, host namespace and process it created', async () => {
    const ours = Object.values(net.topology.switches).map((s) => s.bridge);
    const hostPids = Object.values(net.topology.hosts).map((h) => h.pid);
    const sleeper: HostProcess = net.spawn('ext', 'exec sleep 600');
    await sleeper.ready();
    expect(await bridges()).to.include.members(ours);
    expect(await rootLinks()).to.include.members([...net.topology.rootLinks, `${net.topology.prefix}vm-p0`]);
    const hubs = async () => (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${net.topology.prefix}vm-hv`));
    expect(await hubs(), 'the VM\'s hub namespace').to.have.length(1);
    expect(hostPids.every(alive)).to.equal(true);

    const started = Date.now();
    await net.stop();
    console.log(`      stopped in ${Date.now() - started} ms`);
    await net.stop(); // idempotent

    const prefix = net.topology.prefix;
    const newBridges = (await bridges()).filter((b) => !bridgesBefore.includes(b) && b.startsWith(prefix));
    const newLinks = (await rootLinks()).filter((l) => !linksBefore.includes(l) && l.startsWith(prefix));
    expect(newBridges).to.deep.equal([]);
    expect(newLinks).to.deep.equal([]);
    expect(await hubs()).to.deep.equal([]);
    expect(hostPids.filter(alive), 'host shells (their namespaces) still alive').to.deep.equal([]);
    expect(alive(sleeper.pid!), 'process spawned in a host').to.equal(false);
    expect(sleeper.exit).to.not.equal(undefined);
  });
});

describe('MininetDriver with a remote controller (ovs-testcontroller)', function () {
  this.timeout(120_000);
  let net: MininetDriver | undefined;
  let controller: ChildProcess | undefined;

  after(async () => {
    await net?.stop();
    controller?.kill();
  });

  it('points every switch at the controller and waits for the connections', async () => {
    const port = await freePort();
    controller = spawn('ovs-testcontroller', ['-O', 'OpenFlow13', `ptcp:${port}:127.0.0.1`], { stdio: 'ignore' });
    net = await MininetDriver.start({ controller: { host: '127.0.0.1', port } });
    const started = net;
    await waitUntil(async () => Object.values(await started.connected()).every(Boolean), {
      timeoutMs: 20_000,
      what: 'all three switches to connect to ovs-testcontroller',
    });
    expect(Object.keys(await net.connected())).to.deep.equal(['s1', 's2', 's3']);
    // The learning switch installs flows: traffic crosses s1, the router and s2.
    await waitUntil(() => pings(started, 'cnA', '10.0.2.20'), { timeoutMs: 10_000, what: 'cnA to reach cnB' });
    expect(await net.ofctl('s2', 'dump-flows')).to.match(/actions=output/);
  });
});
