// End to end, a cluster (issue 11): a 3-member etcd on loopback, three controller processes with
// `--store etcd`, and the Mininet reference lab with every switch connected to all three, all
// started here. Replicas are killed (-9), stopped past their lease and resumed, etcd loses a member
// and its quorum; TCP streams run across. Checked: streams keep every byte in order with no reset,
// moves are completed by whoever survives, the bindings in etcd lose nothing and record each
// move once, and afterwards every switch holds exactly the rules one controller compiles for
// those bindings (no rule missing, duplicated or stale). Assertions are about correctness, never
// about times. A replica's dashboard (headless Chromium, Debian's) shows the same masters and
// etcd's state. Run under `flock /tmp/seamless-lab.lock`.

import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { topologyFile } from '../../topologies/agent-channel.js';
import { HOST_PYTHON } from '../../topologies/mininet-driver.js';
import { ClusterLab, DPIDS, SWITCHES, type LabReplica, type SwitchName } from '../lib/cluster-lab.js';
import { TcpStream } from '../lib/tcp-stream.js';
import { waitFor, waitUntil } from '../lib/wait.js';

const run = promisify(execFile);
const VM = 'vm';
const VM_EID = '10.0.1.10';
const VM_MAC = '02:00:00:00:01:0a';
const PEERS = ['cnA', 'cnB', 'cnC', 'ext'] as const;
const CORRESPONDENT: Record<SwitchName, string> = { s1: 'cnA', s2: 'cnB', s3: 'cnC' };
const ANNOUNCE = topologyFile('announce.py');
const LEASE_TTL_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const switchOf = (dpid: string): SwitchName => SWITCHES.find((s) => DPIDS[s] === dpid) ?? (() => { throw new Error(`unknown dpid ${dpid}`); })();
const cookieOf = (bindingId: number, version: number) => `cookie=0x${((BigInt(bindingId) << 32n) | BigInt(version)).toString(16)},`;

describe('e2e: three replicas on a 3-member etcd, every switch connected to all (Mininet)', function () {
  this.timeout(120_000);
  let lab: ClusterLab;
  let browser: Browser | undefined;
  let port = 5300;

  /** What a replica's dashboard shows in its cluster panel: the state line, the switches (bridge names) per replica, etcd members' states. */
  interface Panel { ok: boolean; status: string; masters: Record<string, string[]>; members: string[] }
  const dashboardPanel = async (r: LabReplica, what: string, wanted: (p: Panel) => boolean): Promise<Panel> => {
    browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const page = await browser.newPage();
    let last: Panel | undefined;
    try {
      await page.goto(`${r.base}/`);
      return await waitFor(async () => {
        last = await page.evaluate(() => {
          const panel = document.getElementById('cluster-panel')!;
          const status = panel.querySelector('#cluster-status')!;
          const masters: Record<string, string[]> = {};
          for (const tr of panel.querySelectorAll<HTMLTableRowElement>('#cluster-replicas tbody tr')) {
            const names = tr.cells[2]!.textContent!;
            masters[tr.dataset.replica || '(none)'] = names === '–' ? [] : names.split(', ');
          }
          const members = [...panel.querySelectorAll<HTMLTableRowElement>('#etcd-members tbody tr')].map((tr) => tr.dataset.state ?? '');
          return { ok: !panel.hidden && status.classList.contains('ok'), status: panel.hidden ? '(hidden)' : status.textContent ?? '', masters, members };
        });
        return wanted(last) ? last : undefined;
      }, { timeoutMs: 10_000, intervalMs: 200, what: `${r.id}'s dashboard to show ${what}` });
    } catch (error) {
      throw new Error(`${(error as Error).message}; it shows ${JSON.stringify(last)}`);
    } finally {
      await page.close();
    }
  };
  const bridgesOf = (masters: Record<SwitchName, LabReplica>, r: LabReplica) => SWITCHES.filter((s) => masters[s] === r).map((s) => lab.net.bridge(s)).sort();

  const vmBinding = async () => {
    const b = (await lab.storedBindings()).get(VM_EID);
    if (b === undefined) throw new Error('the VM has no binding in etcd');
    return b;
  };

  /** What the replicas logged (debug aside) since `marks`: printed when a wait fails, to tell why. */
  const dumpSince = (marks: Map<string, number>) => {
    for (const r of lab.replicas) for (const l of r.lines.slice(marks.get(r.id))) if (l.level !== 'debug') console.log(r.id, JSON.stringify(l).slice(0, 400));
  };

  const everyPeerReachesVm = async () => {
    for (const host of PEERS) {
      await waitUntil(async () => (await lab.net.cmd(host, `ping -c 1 -W 1 ${VM_EID}`)).code === 0, { timeoutMs: 20_000, what: `${host} to reach the VM` });
    }
  };

  /** The bindings in etcd: the four endpoints, none lost. */
  const expectFourBindings = async () => {
    const stored = await lab.storedBindings();
    expect([...stored.keys()].sort(), 'bindings in etcd').to.deep.equal(['10.0.1.10', '10.0.1.20', '10.0.2.20', '10.0.3.20']);
  };

  const expectStreamSurvived = (r: Awaited<ReturnType<TcpStream['finish']>>, what: string) => {
    expect(r.senderError, `${what}: sender`).to.equal(null);
    expect(r.receiverError, `${what}: receiver`).to.equal(null);
    expect(r.inOrder, `${what}: every byte in order`).to.equal(true);
    expect(r.bytesSent, `${what}: sent something`).to.be.greaterThan(50_000);
    expect(r.bytesReceived, `${what}: every byte delivered`).to.equal(r.bytesSent);
    expect(r.resets, `${what}: no reset`).to.equal(0);
  };

  before(async function () {
    this.timeout(180_000);
    lab = await ClusterLab.start({ leaseTtlMs: LEASE_TTL_MS });
    await everyPeerReachesVm();
    await waitUntil(async () => (await lab.storedBindings()).size === 4, { timeoutMs: 10_000, what: 'four bindings in etcd' });
  });

  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    await lab?.destroy();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && lab !== undefined) {
      for (const line of lab.problems().slice(-20)) process.stderr.write(`${line}\n`);
    }
  });

  it('every switch has one master, spread over the replicas; each replica writes only its own and knows the others\'', async () => {
    const masters = await lab.waitMastered();
    expect(new Set(Object.values(masters).map((r) => r.id)).size, 'three switches over three replicas').to.equal(3);
    for (const r of lab.replicas) {
      const view = await r.cluster();
      expect(view.mode).to.equal('cluster');
      expect(view.replicas).to.deep.equal(['c1', 'c2', 'c3']);
      expect(view.mastered).to.deep.equal(SWITCHES.filter((s) => masters[s] === r).map((s) => DPIDS[s]));
      expect(Object.fromEntries(view.switches.map((s) => [s.dpid, s.master]))).to.deep.equal(Object.fromEntries(SWITCHES.map((s) => [DPIDS[s], masters[s].id])));
      expect(view.lease?.alive).to.equal(true);
      expect(view.etcd?.quorum).to.equal(true);
      expect(view.etcd?.reachable).to.equal(3);
    }
    // Open vSwitch agrees: the master's connection is MASTER, every other one SLAVE (none left EQUAL,
    // which would get packet-ins and could write).
    for (const sw of SWITCHES) {
      const expected = new Map(lab.replicas.map((r) => [r.openflowPort, r === masters[sw] ? 'master' : 'slave']));
      await waitUntil(async () => JSON.stringify([...(await lab.switchRoles(sw))].sort()) === JSON.stringify([...expected].sort()),
        { timeoutMs: 10_000, what: `OVS to report one master and two slaves on ${sw}` });
    }
    await lab.waitRulesConverged(lab.running()[0]!);
    // The dashboard's cluster panel says the same.
    const wanted = Object.fromEntries(lab.replicas.map((r) => [r.id, bridgesOf(masters, r)]));
    const panel = await dashboardPanel(lab.replicas[0]!, 'the masters and a healthy etcd', (p) => p.ok && JSON.stringify(p.masters) === JSON.stringify(wanted));
    expect([...panel.members].sort(), 'etcd members').to.deep.equal(['follower', 'follower', 'leader']);
  });

  it('a replica killed between a move\'s receive and send steps: the move is in etcd and the survivors finish it', async function () {
    const masters = await lab.waitMastered();
    const vm = await vmBinding();
    const from = switchOf(vm.locator.dpid);
    const others = SWITCHES.filter((s) => s !== from);
    // The move's handler masters the target; the correspondent switch's master is held (SIGSTOP)
    // so that the handler waits for its ack; the old switch's master answers the probe.
    const target = others[0]!;
    const held = others[1]!;
    const handler = masters[target];
    const heldReplica = masters[held];
    expect(new Set([handler.id, heldReplica.id, masters[from].id]).size, 'the three switches have three masters').to.equal(3);
    const stream = await TcpStream.start(lab.net, { from: CORRESPONDENT[held], to: VM, toIp: VM_EID, port: port++ });
    const ackKey = `${lab.prefix}cluster/acks/${vm.id}/${vm.version + 1}/${DPIDS[target]}`;

    lab.pause(heldReplica.id);
    const pausedAt = Date.now();
    const migration = lab.net.migrate(VM, { toSwitch: target });
    let killedAt = 0;
    let atKill = '';
    try {
      // The handler confirmed the receive side on its switch and waits for the others: kill it now.
      await waitUntil(async () => (await lab.client.get(ackKey).string()) !== null, { timeoutMs: 10_000, intervalMs: 5, what: 'the handler\'s receive ack' });
      // What the target holds as the handler dies (read just before: once it is dead the others see it
      // on their liveness connections at once, and the target's next master may finish within 100 ms).
      atKill = await lab.net.ofctl(target, 'dump-flows');
      killedAt = await lab.kill(handler.id);
    } finally {
      lab.resume(heldReplica.id);
    }
    expect(killedAt - pausedAt, 'the held replica was back before its lease could expire').to.be.lessThan(LEASE_TTL_MS);
    // Between the steps: the new version's receive side is on the target, its send side is not.
    const cookie = cookieOf(vm.id, vm.version + 1);
    expect(atKill.split('\n').filter((l) => l.includes(cookie) && l.includes('table=2') && l.includes('priority=300,')), 'receive side on the target').to.have.length(1);
    expect(atKill.split('\n').filter((l) => l.includes(cookie) && l.includes('table=0') && l.includes('priority=100,')), 'send side (the VM\'s gate) on the target').to.have.length(0);
    await migration;

    // The target's new master (the handler's lease revoked by the others, or expired) brings it to the desired rules.
    const after = await lab.waitMastered(30_000);
    expect(after[target].id).not.to.equal(handler.id);
    const moved = await vmBinding();
    expect(moved.locator.dpid, 'the move is recorded in etcd').to.equal(DPIDS[target]);
    expect(moved.version, 'exactly once').to.equal(vm.version + 1);
    await lab.waitRulesConverged(after[target], 20_000);
    await everyPeerReachesVm();
    expectStreamSurvived(await stream.finish(), `${CORRESPONDENT[held]} -> VM`);
    await expectFourBindings();
    this.test!.title += ` (killed ${killedAt - pausedAt} ms after the hold)`;
  });

  it('kill -9 of the master of the VM\'s switch while a TCP stream runs, then a migration: the stream survives, the new master completes the move, nothing is lost', async function () {
    await lab.recover();
    const masters = await lab.waitMastered();
    const vm = await vmBinding();
    const here = switchOf(vm.locator.dpid);
    const victim = masters[here];
    const orphans = SWITCHES.filter((s) => masters[s] === victim);
    const stream = await TcpStream.start(lab.net, { from: 'ext', to: VM, toIp: VM_EID, port: port++ });
    await sleep(500);
    const killedAt = await lab.kill(victim.id);
    const after = await lab.waitMastered(30_000);
    const failoverMs = Date.now() - killedAt;
    for (const s of orphans) expect(after[s].id, `${s} has a new master`).not.to.equal(victim.id);

    const target = SWITCHES.find((s) => s !== here)!;
    const handler = after[target];
    const mark = handler.lines.length;
    await lab.net.migrate(VM, { toSwitch: target });
    const done = await handler.proc.waitFor((l) => l.msg === 'migration completed' && l.eid === VM_EID && l.version === vm.version + 1, 15_000, 'the new master to complete the move', 0)
      .catch(() => undefined) ?? handler.find('migration completed', mark).find((l) => l.version === vm.version + 1);
    expect(done, `${handler.id} (master of ${target}) completed the move`).not.to.equal(undefined);
    const moved = await vmBinding();
    expect(moved.locator.dpid).to.equal(DPIDS[target]);
    expect(moved.version, 'one move recorded').to.equal(vm.version + 1);
    await lab.waitRulesConverged(handler);
    await everyPeerReachesVm();
    expectStreamSurvived(await stream.finish(), 'ext -> VM');
    await expectFourBindings();
    this.test!.title += ` (${victim.id} held ${orphans.join(', ')}; re-mastered ${failoverMs} ms after the kill)`;
  });

  it('a master stopped (SIGSTOP) past its lease: another takes over with a higher generation id; resumed, the switch refuses it as stale and it steps down by itself; nothing is lost', async function () {
    await lab.recover();
    const masters = await lab.waitMastered();
    const vm = await vmBinding();
    const here = switchOf(vm.locator.dpid);
    const stale = masters[here];
    const held = SWITCHES.filter((s) => masters[s] === stale);
    const generations = new Map<SwitchName, bigint>();
    for (const s of held) generations.set(s, (await lab.masterKey(s))!.generationId);
    const stream = await TcpStream.start(lab.net, { from: 'ext', to: VM, toIp: VM_EID, port: port++ });
    const mark = stale.lines.length;

    // Stopped for the TTL and a little more, well below Open vSwitch's inactivity probe (5 s idle, then
    // 5 s for an echo reply), so that its connections stay open: a deposed master still connected.
    const marks = lab.mark();
    const pausedAt = lab.pause(stale.id);
    let after: Record<SwitchName, LabReplica>;
    let takenOverMs: number;
    try {
      after = await lab.waitMastered(30_000);
      takenOverMs = Date.now() - pausedAt;
      for (const s of held) {
        expect(after[s].id, `${s} taken over`).not.to.equal(stale.id);
        const current = (await lab.masterKey(s))!.generationId;
        expect(current > generations.get(s)!, `${s}: a higher generation id`).to.equal(true);
        // The switch granted the new master its role with that id (OVS demotes the other master to slave).
        await waitUntil(() => after[s].find('switch role granted', marks.get(after[s].id)).some((l) => l.dpid === DPIDS[s] && l.role === 'master' && BigInt(l.generationId as string) === current),
          { timeoutMs: 5000, what: `${s} to grant ${after[s].id} the master role` });
      }
      await sleep(300);
    } finally {
      lab.resume(stale.id);
    }
    const stoppedMs = Date.now() - pausedAt;

    // By itself: its local lease deadline passed while it was stopped, so it reports slave before anything else.
    await waitUntil(() => held.every((s) => stale.find('switch no longer mastered', mark).some((l) => l.dpid === DPIDS[s])), { timeoutMs: 10_000, what: `${stale.id} to step down` });
    const view = await waitFor(async () => {
      const v = await stale.cluster();
      return v.lease?.alive === true && held.every((s) => v.switches.find((x) => x.dpid === DPIDS[s])?.master === after[s].id) ? v : undefined;
    }, { timeoutMs: 10_000, what: `${stale.id} to hold a new lease and know the new masters` });
    for (const s of held) expect(view.mastered, `${stale.id} no longer writes ${s}`).not.to.include(DPIDS[s]);
    // Fenced by the switches themselves: OVS holds its connection as slave; whatever it asked with
    // its old generation id (when its step-down came before etcd's news of the new master) was
    // refused as stale; what the switch granted it is SLAVE under the new master's id.
    let refusedOld = 0;
    for (const s of held) {
      const current = (await lab.masterKey(s))!.generationId;
      const refused = stale.find('switch refused a stale generation id', mark).filter((l) => l.dpid === DPIDS[s]);
      for (const l of refused) expect(BigInt(l.generationId as string) < current, `${s}: refused only below the new master's id`).to.equal(true);
      refusedOld += refused.filter((l) => BigInt(l.generationId as string) === generations.get(s)).length;
      const granted = stale.find('switch role granted', mark).filter((l) => l.dpid === DPIDS[s]);
      expect(granted.length, `${s} granted ${stale.id} a role after it resumed`).to.be.greaterThan(0);
      for (const l of granted) {
        expect(l.role, `${s}: ${stale.id} granted`).to.equal('slave');
        expect(BigInt(l.generationId as string) >= current, `${s}: granted under the new master's id`).to.equal(true);
      }
      // OVS refreshes the roles it reports in its database every few seconds.
      await waitUntil(async () => {
        const roles = await lab.switchRoles(s);
        return roles.get(stale.openflowPort) === 'slave' && roles.get(after[s].openflowPort) === 'master';
      }, { timeoutMs: 10_000, what: `OVS to report ${stale.id} as a slave of ${s} and ${after[s].id} as its master` });
    }
    // Unsolicited switch errors are logged by their connection (the composition root's 'switch error' line is gone).
    expect(stale.find('switch reported an error', mark), 'no other error from the switches').to.deep.equal([]);
    expect(stale.find('switch mastered', mark), 'it took nothing back').to.have.length(0);

    await lab.waitRulesConverged(after[here]);
    await everyPeerReachesVm();
    expectStreamSurvived(await stream.finish(), 'ext -> VM');
    await expectFourBindings();
    expect((await vmBinding()).version, 'no move happened').to.equal(vm.version);
    this.test!.title += ` (${stale.id} held ${held.join(', ')}; taken over ${takenOverMs} ms after the stop, resumed after ${stoppedMs} ms; ${refusedOld} request(s) with its old generation id refused)`;
  });

  it('one etcd member down: moves work; quorum lost: no move, traffic flows on the installed rules, the API and metrics say so; quorum back: the VM moved meanwhile is looked for and found, and moves work again', async function () {
    await lab.recover();
    await lab.waitMastered();
    let vm = await vmBinding();
    const steady = await TcpStream.start(lab.net, { from: 'cnC', to: 'cnA', toIp: '10.0.1.20', port: port++ });

    // One member down (the leader): a move goes through.
    const leader = (await lab.running()[0]!.cluster()).etcd!.members.findIndex((m) => m.leader);
    await lab.etcd.kill(leader);
    await waitUntil(async () => (await Promise.all(lab.running().map((r) => r.cluster()))).every((v) => v.etcd!.reachable === 2 && v.etcd!.quorum),
      { timeoutMs: 10_000, what: 'every replica to see two members and a quorum' });
    const first = SWITCHES.find((s) => DPIDS[s] !== vm.locator.dpid)!;
    await lab.net.migrate(VM, { toSwitch: first });
    await waitUntil(async () => { const b = await vmBinding(); return b.locator.dpid === DPIDS[first] && b.version === vm.version + 1; }, { timeoutMs: 15_000, what: 'the move with one member down' });
    vm = await vmBinding();
    await lab.waitRulesConverged(await lab.masterOf(first));
    await everyPeerReachesVm();

    // Quorum lost: every replica's lease runs out, so none masters a switch; the API and metrics say so.
    const second = [0, 1, 2].find((i) => i !== leader)!;
    const lostAt = Date.now();
    await lab.etcd.kill(second);
    await waitUntil(async () => (await Promise.all(lab.running().map((r) => r.cluster()))).every((v) => !v.etcd!.quorum && v.lease!.alive === false && v.mastered.length === 0),
      { timeoutMs: 15_000, what: 'every replica to report no quorum, no lease, no switch' });
    const dark = await dashboardPanel(lab.running()[0]!, 'no quorum', (p) => p.status.startsWith('etcd has no quorum'));
    expect(dark.ok).to.equal(false);
    expect(dark.status).to.include('no VM can move');
    // The two killed members are unreachable; the survivor answers without a quorum (or, slowed down, not within the deadline).
    expect(dark.members.filter((m) => m === 'unreachable').length, 'etcd members down').to.be.at.least(2);
    expect(dark.members.filter((m) => m === 'leader' || m === 'follower'), 'etcd members in a quorum').to.deep.equal([]);
    for (const r of lab.running()) {
      const text = await r.metrics();
      expect(text, r.id).to.match(/^seamless_cluster_etcd_quorum 0$/m);
      expect(text, r.id).to.match(/^seamless_cluster_lease_alive 0$/m);
      expect(text, r.id).to.match(/^seamless_cluster_mastered_switches 0$/m);
    }
    const marks = lab.mark();
    const second2 = SWITCHES.find((s) => s !== first)!;
    await lab.net.migrate(VM, { toSwitch: second2 });
    await sleep(3000);
    for (const r of lab.running()) {
      const b = await r.api<{ locator: { dpid: string }; version: number }>(`/api/bindings/${VM_EID}`);
      expect([b.locator.dpid, b.version], `${r.id} moved nothing`).to.deep.equal([DPIDS[first], vm.version]);
      expect(r.find('migration completed', marks.get(r.id)), r.id).to.deep.equal([]);
    }
    for (const [from, to] of [['cnA', '10.0.3.20'], ['cnB', '10.0.1.20'], ['ext', '10.0.2.20']] as const) {
      expect((await lab.net.cmd(from, `ping -c 2 -W 1 ${to}`)).code, `${from} -> ${to} on the installed rules`).to.equal(0);
    }
    const outage = { from: lostAt + 1000, to: Date.now() };

    // Quorum back: the same masters (etcd extends the leases), and moves work again.
    await lab.etcd.restart(second);
    await lab.etcd.restart(leader);
    await lab.waitMastered(30_000);
    await waitUntil(async () => (await Promise.all(lab.running().map((r) => r.cluster()))).every((v) => v.etcd!.quorum && v.lease!.alive),
      { timeoutMs: 15_000, what: 'quorum and leases back' });
    await dashboardPanel(lab.running()[0]!, 'the quorum back', (p) => p.ok && p.members.every((m) => m === 'leader' || m === 'follower'));
    // The VM moved while no replica could record it (its announcements reached no master) and its
    // old port went with its source: the master of its new switch looks for it and finds it there.
    // Found by the search (its answer to a probe: an ARP sighting), or by a frame the VM happened to
    // send first (Linux's IPv6 chatter, now and then), by whichever replica mastered its switch then.
    // Its log line comes after the commit to etcd and the switches' barriers: waited for, not assumed.
    const foundMove = () => lab.replicas.flatMap((r) => r.find('migration completed', marks.get(r.id))
      .filter((l) => l.eid === VM_EID && (l.to as string).includes(`/${DPIDS[second2]}:`)).map((line) => ({ r, line })))[0];
    const found = await waitFor(async () => foundMove(), { timeoutMs: 15_000, what: 'the VM that moved during the outage to be found' })
      .catch((e) => { dumpSince(marks); throw e; });
    const stored = await vmBinding();
    expect([stored.locator.dpid, stored.version], 'the move in etcd, recorded once').to.deep.equal([DPIDS[second2], vm.version + 1]);
    const finder = found.r;
    const searched = finder.find('looking for a lost endpoint: its port is down and no move told where it went', marks.get(finder.id)).some((l) => l.eid === VM_EID);
    if (found.line.trigger === 'arp') expect(searched, `${finder.id} looked for it`).to.equal(true);
    this.test!.title += ` (found by ${searched && found.line.trigger === 'arp' ? `${finder.id}'s search` : `its own ${String(found.line.trigger)} frame`})`;
    vm = await vmBinding();
    await lab.waitRulesConverged(await lab.masterOf(second2));
    await everyPeerReachesVm();
    // And it moves on as ever.
    const third = SWITCHES.find((s) => s !== second2 && s !== first)!;
    const again = lab.mark();
    await lab.net.migrate(VM, { toSwitch: third });
    await waitUntil(async () => { const b = await vmBinding(); return b.locator.dpid === DPIDS[third] && b.version === vm.version + 1; }, { timeoutMs: 15_000, what: 'a move after quorum returned' })
      .catch((e) => { dumpSince(again); throw e; });
    await lab.waitRulesConverged(await lab.masterOf(third));
    await everyPeerReachesVm();
    const r = await steady.finish();
    expectStreamSurvived(r, 'cnC -> cnA');
    expect(TcpStream.delivered(r.timeline, outage.from, outage.to), 'cnC -> cnA delivered during the outage').to.be.greaterThan(50_000);
    await expectFourBindings();
  });

  it('two replicas claim the same endpoint at once (its MAC announced at two switches with different masters): the store records exactly one move, the other claim is refused', async function () {
    await lab.recover();
    // Two switches with different masters for the two claims. Mastership does not move back to a
    // replica that rejoins (docs/cluster.md), so after the outages above one replica may hold every
    // switch: restarting it spreads them over the others (at most their share each).
    const differentMasters = (m: Record<(typeof SWITCHES)[number], { id: string }>) => SWITCHES.flatMap((a) => SWITCHES.map((b) => [a, b] as const)).find(([a, b]) => a < b && m[a].id !== m[b].id);
    let masters = await lab.waitMastered();
    for (let i = 0; i < 2 && differentMasters(masters) === undefined; i++) {
      const sole = masters[SWITCHES[0]].id;
      await lab.kill(sole);
      masters = await lab.waitMastered(30_000, [sole]);
      await lab.recover();
    }
    const found = differentMasters(masters);
    expect(found, `two switches with different masters: ${JSON.stringify(Object.fromEntries(SWITCHES.map((sw) => [sw, masters[sw].id])))}`).to.not.equal(undefined);
    const pair = found!;
    const vm = await vmBinding();
    const home = switchOf(vm.locator.dpid);
    const conflictsBefore = await storeConflicts();
    const twins = [await Twin.create(lab, pair[0], 1), await Twin.create(lab, pair[1], 2)];
    try {
      // The VM's own port goes down (a moved VM's source): the claims need no probe, both go straight to the store.
      await lab.net.portDown(home, 10);
      await waitUntil(async () => (await Promise.all(lab.running().map((r) => r.api<Array<{ portNo: number; up: boolean }>>(`/api/switches/${DPIDS[home]}/ports`)))).every((ps) => ps.find((p) => p.portNo === 10)?.up === false),
        { timeoutMs: 10_000, what: 'every replica to see the VM\'s port down' });
      const marks = lab.mark();
      await Promise.all(twins.map((t) => t.ready()));
      await Promise.all(twins.map((t) => t.answerArp()));
      for (const t of twins) t.announce();
      await waitUntil(async () => (await vmBinding()).version > vm.version, { timeoutMs: 10_000, what: 'a move' });
      const conflicts = () => lab.replicas.flatMap((r) => r.find('conflicting claim: refused', marks.get(r.id)).filter((l) => l.eid === VM_EID));
      await waitUntil(() => conflicts().length > 0, { timeoutMs: 10_000, what: 'the other claim to be refused' }).catch((e) => { dumpSince(marks); throw e; });
      await sleep(1500);
      const moved = await vmBinding();
      expect(moved.version, 'exactly one move recorded').to.equal(vm.version + 1);
      expect([pair[0], pair[1]].map((s) => DPIDS[s])).to.include(moved.locator.dpid);
      expect(moved.locator.port).to.equal(12);
      const completed = lab.replicas.flatMap((r) => r.find('migration completed', marks.get(r.id)).filter((l) => l.eid === VM_EID).map((l) => r.id));
      expect(completed, 'one replica completed the move').to.have.length(1);
      expect(completed[0]).to.equal(masters[switchOf(moved.locator.dpid)].id);
      expect(conflicts().map((l) => l.reason)).to.include('old-attachment-active');
      const raced = (await storeConflicts()) - conflictsBefore;
      this.test!.title += ` (store conflicts: ${raced})`;
    } finally {
      for (const t of twins) await t.remove();
      await lab.net.portUp(home, 10);
    }
    // The real VM announces again at its port: it moves back there (the twins' ports are gone).
    await lab.net.check(VM, `${HOST_PYTHON} ${ANNOUNCE} --iface vm-eth0 --mac ${VM_MAC} --ip ${VM_EID} --mode both --rounds 3`);
    await waitUntil(async () => { const b = await vmBinding(); return b.locator.dpid === DPIDS[home] && b.locator.port === 10; }, { timeoutMs: 15_000, what: 'the VM back at its port' });
    await lab.waitRulesConverged(await lab.masterOf(home));
    await everyPeerReachesVm();
    await expectFourBindings();
  });

  /** Store commits that lost a compare-and-swap, over every running replica. */
  async function storeConflicts(): Promise<number> {
    let n = 0;
    for (const r of lab.running()) n += Number(/^seamless_store_commit_seconds_count\{outcome="conflict"\} (\d+)/m.exec(await r.metrics())?.[1] ?? 0);
    return n;
  }
});

/**
 * A second copy of the VM (its MAC and EID) on a free port of a switch, in a namespace of its own:
 * it answers ARP for the EID (once told to) and sends the VM's RARP when triggered, so that two
 * copies can announce within a millisecond of each other. IPv6 is off on it, so that it says
 * nothing before it is told to.
 */
class Twin {
  private announcer: ChildProcess | undefined;
  private readyLine: Promise<void> | undefined;

  private constructor(private readonly ns: string, private readonly outside: string, private readonly inside: string, private readonly bridge: string) {}

  static async create(lab: ClusterLab, sw: SwitchName, n: number): Promise<Twin> {
    const prefix = lab.net.topology.prefix;
    const twin = new Twin(`${prefix}twin${n}`, `${prefix}tw${n}o`, `${prefix}tw${n}i`, lab.net.bridge(sw));
    const sh = (cmd: string) => run('bash', ['-c', cmd]);
    const inNs = (cmd: string) => sh(`ip netns exec ${twin.ns} ${cmd}`);
    await sh(`ip netns add ${twin.ns}`);
    await sh(`ip link add ${twin.outside} type veth peer name ${twin.inside}`);
    await sh(`ip link set ${twin.inside} netns ${twin.ns}`);
    await inNs('sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1');
    await inNs(`sysctl -qw net.ipv4.conf.all.arp_ignore=8`);
    await inNs(`ip link set ${twin.inside} address ${VM_MAC}`);
    await inNs(`ip addr add ${VM_EID}/24 dev ${twin.inside}`);
    await inNs(`ethtool -K ${twin.inside} tx off`);
    await inNs(`ip link set ${twin.inside} up`);
    await sh(`ethtool -K ${twin.outside} tx off >/dev/null; sysctl -qw net.ipv6.conf.${twin.outside}.disable_ipv6=1; ip link set ${twin.outside} up`);
    await sh(`ovs-vsctl add-port ${twin.bridge} ${twin.outside} -- set interface ${twin.outside} ofport_request=12`);
    twin.announcer = spawn('ip', ['netns', 'exec', twin.ns, HOST_PYTHON, ANNOUNCE, '--iface', twin.inside, '--mac', VM_MAC, '--mode', 'rarp', '--rounds', '1', '--wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: twin.announcer.stdout! });
    twin.readyLine = new Promise((resolve) => lines.on('line', (l) => { if (l.includes('ready')) resolve(); }));
    return twin;
  }

  ready(): Promise<void> {
    return this.readyLine ?? Promise.resolve();
  }

  async answerArp(): Promise<void> {
    await run('ip', ['netns', 'exec', this.ns, 'sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=0']);
  }

  announce(): void {
    this.announcer?.stdin?.write('go\n');
  }

  async remove(): Promise<void> {
    this.announcer?.kill('SIGKILL');
    await run('ovs-vsctl', ['--if-exists', 'del-port', this.bridge, this.outside]).catch(() => undefined);
    await run('ip', ['link', 'del', this.outside]).catch(() => undefined);
    await run('ip', ['netns', 'del', this.ns]).catch(() => undefined);
  }
}
