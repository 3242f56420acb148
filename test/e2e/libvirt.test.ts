// End to end with real libvirt: two libvirtd "hosts" on this machine (topologies/libvirt), a TCG
// domain plugged into the Mininet lab's s1 by libvirt itself (`<virtualport type='openvswitch'/>`,
// libvirt's own external_ids on the port), a Seamless host agent per host, and `virsh migrate
// --live` from host A (s1, subnet A) to host B (s2, subnet B) with the destination's bridge changed
// in `--xml`, as an operator does. Twice: with agents that follow libvirt's events (`--libvirt`,
// nothing added to the domain), and with agents on a second QMP monitor of the domain's
// (`--vm`, `<qemu:commandline>`). The controller reads libvirt's port rows (OVSDB) for the
// destination, and the libvirt hook (contrib/libvirt/qemu, installed on each host) posts an intent
// too; the controller hears the stop from the source host's agent, holds the frames of the stop
// and hands them to the VM at s2. With libvirt's events, a migration back that the operator
// cancels (virsh domjobabort) is called off at the controller, and the VM stays where it runs.
// Starts Mininet, libvirtd and QEMU: run under `flock /tmp/seamless-lab.lock`.

import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echoReplies } from '../../bench/guest-restart.js';
import { ControllerProcess, type LogLine } from '../../topologies/case-study/controller-process.js';
import { dropsBetween, readDropCounters, WORK_PREFIX, type DropCounters } from '../../topologies/case-study/drop-counters.js';
import { LibvirtHost, domainXml } from '../../topologies/libvirt/libvirt-host.js';
import { MininetDriver, type HostProcess } from '../../topologies/mininet-driver.js';
import { kernelCommandLine } from '../../topologies/qemu/command-line.js';
import { ensureGuestImage, REPO_ROOT } from '../../topologies/qemu/guest-image.js';
import { waitUntil } from '../lib/wait.js';

const VM = { name: 'seamless-e2e-vm', mac: '02:00:00:00:01:0a', eid: '10.0.1.10' };

/** A host agent process (controller/host-agent/main.ts) and its JSON log lines. */
interface Agent {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
}

function startAgent(api: string, follow: readonly string[]): Agent {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'controller', 'host-agent', 'main.ts'), '--api', api, '--log-level', 'debug', ...follow], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString();
    const parts = text.split('\n');
    rest = parts.pop()!;
    for (const part of parts) {
      try { lines.push(JSON.parse(part) as LogLine); } catch { /* not a log line */ }
    }
  });
  return { child, lines };
}

/** What an agent told the controller, in order (its 'migration signal' log lines). */
const signals = (agent: Agent) => agent.lines.filter((l) => l.msg === 'migration signal').map((l) => l.signal);

/** Echo requests from a ping's output that got no reply, between its first and last reply. */
function missingPings(output: readonly string[]): { replies: number; first: number; last: number; missing: number[] } {
  const seqs = echoReplies(output).map((r) => r.seq);
  const first = Math.min(...seqs);
  const last = Math.max(...seqs);
  return { replies: seqs.length, first, last, missing: Array.from({ length: last - first + 1 }, (_, i) => first + i).filter((s) => !seqs.includes(s)) };
}

for (const mode of ['libvirt', 'qmp'] as const) {
  const agentKind = mode === 'libvirt' ? 'agents that follow libvirt\'s events (--libvirt)' : 'agents on a QMP monitor of their own (--vm)';
  describe(`e2e: a libvirt domain live-migrated by virsh between two libvirt hosts, across subnets, loss-free; ${agentKind}`, function () {
    this.timeout(300_000);
    const stateDir = mkdtempSync(join(tmpdir(), 'seamless-e2e-libvirt-'));
    const hookLogs = mkdtempSync(join(tmpdir(), 'seamless-e2e-libvirt-hooks-'));
    let ctl: ControllerProcess | undefined;
    let net: MininetDriver | undefined;
    const hosts: LibvirtHost[] = [];
    const agents: Agent[] = [];
    let ping: HostProcess | undefined;
    let from = 0;
    /** What the counters on the way dropped during the move (drop-counters.ts), to read a loss by. */
    let drops: DropCounters = {};

    before(async () => {
      ctl = await ControllerProcess.start({ stateDir });
      net = await MininetDriver.start({ controller: { host: '127.0.0.1', port: ctl.openflowPort }, vm: 'none' });
      await ctl.waitFor(() => ctl!.find('switch up').length >= 3, 30_000, 'three switches up');
      const api = `http://127.0.0.1:${ctl.httpPort}`;
      // Each host also has the libvirt hook (contrib/libvirt/qemu), as docs/hypervisors.md installs it.
      const qemuHook = (log: string) => ({ script: join(REPO_ROOT, 'contrib', 'libvirt', 'qemu'), settings: { SEAMLESS_API_URL: api, SEAMLESS_HOOK_LOG: log } });
      hosts.push(await LibvirtHost.start('a', '5ea41e55-0000-4000-8000-00000000000a', { qemuHook: qemuHook(join(hookLogs, 'hook-a.log')) }));
      hosts.push(await LibvirtHost.start('b', '5ea41e55-0000-4000-8000-00000000000b', { qemuHook: qemuHook(join(hookLogs, 'hook-b.log')) }));
      for (const host of hosts) agents.push(startAgent(api, mode === 'libvirt' ? ['--libvirt', host.uri] : ['--vm', `${VM.mac}=${host.hostFile(VM.name, 'agent.qmp')}`]));
      const image = await ensureGuestImage();
      await hosts[0]!.startDomain(domainXml({
        name: VM.name, mac: VM.mac, bridge: net.bridge('s1'), kernel: image.kernel, initrd: image.initrd,
        cmdline: kernelCommandLine({ mac: VM.mac, address: `${VM.eid}/24`, gateway: '10.0.1.1' }), agentMonitor: mode === 'qmp',
      }), VM.name);
      await waitUntil(async () => (await net!.cmd('cnA', `ping -c 1 -W 1 ${VM.eid}`)).code === 0, { timeoutMs: 90_000, intervalMs: 500, what: 'the guest to answer cnA' });
      await ctl.waitFor((l) => l.msg === 'endpoint learned' && l.eid === VM.eid, 10_000, 'the guest learned at s1');
      const following = mode === 'libvirt' ? 'following libvirt' : 'following a VM';
      await waitUntil(() => agents[0]!.lines.some((l) => l.msg === following), { timeoutMs: 10_000, what: `host A's agent: ${following}` });
      from = ctl.lines.length;
      ping = net.spawn('cnB', `ping -D -O -n -i 0.01 ${VM.eid}`); // -O: "no answer yet" as the next goes, when a missing one was sent
      await ping.waitForLine(/icmp_seq=/, 10_000);
      const before = await readDropCounters(net, undefined, { sender: 'cnB', ctl });
      await hosts[0]!.migrate(VM.name, hosts[1]!, net.bridge('s2'));
      await ctl.waitFor((l) => l.msg === 'migration completed' && l.eid === VM.eid, 20_000, 'the move to s2', from);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await ping.kill();
      drops = dropsBetween(before, await readDropCounters(net, undefined, { sender: 'cnB', ctl }));
    });

    after(async () => {
      await ping?.kill().catch(() => undefined);
      for (const agent of agents) agent.child.kill('SIGKILL');
      for (const host of hosts) await host.stop().catch(() => undefined);
      await net?.stop();
      await ctl?.stop();
      rmSync(stateDir, { recursive: true, force: true });
      rmSync(hookLogs, { recursive: true, force: true });
    });

    it('moves the domain to host B and s2: libvirt plugged it there, and the controller took the move from libvirt\'s port row', async () => {
      expect(await hosts[0]!.running(), 'host A').to.deep.equal([]);
      expect(await hosts[1]!.running(), 'host B').to.deep.equal([VM.name]);
      const moved = ctl!.lines.slice(from).filter((l) => l.msg === 'migration completed' && l.eid === VM.eid);
      expect(moved, 'one move').to.have.length(1);
      expect(moved[0]!.to, 'to s2 (subnet B)').to.match(/^B\/0*2:/);
      expect(moved[0]!.reason, 'announced ahead (OVSDB attached-mac, or the agent\'s intent)').to.equal('intent');
    });

    it('runs the libvirt hook on the destination host at the incoming migration: it posts an intent for s2', () => {
      const log = readFileSync(join(hookLogs, 'hook-b.log'), 'utf8');
      expect(log).to.match(new RegExp(`${VM.name} migrate: intent posted: ${VM.eid.replaceAll('.', '\\.')} \\(${VM.mac}\\) to ${net!.bridge('s2')} dpid 0*2 `));
      expect(existsSync(join(hookLogs, 'hook-a.log')) ? readFileSync(join(hookLogs, 'hook-a.log'), 'utf8') : '', 'host A: its domain started, no migration came in').to.not.match(/intent posted/);
    });

    if (mode === 'libvirt') {
      it('hears the migration from libvirt: the stop from host A, the resume from host B as the VM runs there (and from A once libvirt ends the job)', () => {
        expect(signals(agents[0]!), 'host A (source)').to.deep.equal(['migrating', 'converging', 'stopping', 'resumed']);
        expect(signals(agents[1]!), 'host B (destination)').to.deep.equal(['resumed']);
        const at = (agent: Agent, kind: string) => Number(agent.lines.find((l) => l.msg === 'migration signal' && l.signal === kind)!.at);
        expect(at(agents[1]!, 'resumed'), 'B\'s resume before A\'s end of the job').to.be.below(at(agents[0]!, 'resumed'));
        expect(agents[0]!.lines.find((l) => l.msg === 'migration signal')!.macs, 'the domain\'s MAC, from libvirt').to.deep.equal([VM.mac]);
        const resumed = ctl!.lines.slice(from).filter((l) => l.msg === 'VM runs again: the frames that waited for it are delivered');
        expect(resumed, 'one hold, ended').to.have.length(1);
        expect(resumed[0]!.dropped, 'none dropped').to.equal(0);
        console.log(`      host B said resumed ${at(agents[0]!, 'resumed') - at(agents[1]!, 'resumed')} ms before host A; converging ${at(agents[0]!, 'stopping') - at(agents[0]!, 'converging')} ms before the stop; ${String(resumed[0]!.frames)} frames held, none dropped`);
      });

      it('adds nothing to the domain: libvirt does not mark it tainted for the agent (as for a monitor of the agent\'s: custom-argv)', () => {
        const log = readFileSync(join(hosts[1]!.dir, 'log', 'qemu', `${VM.name}.log`), 'utf8');
        expect(log, 'the domain\'s QEMU log on host B').to.include('-name guest=');
        // The lab's own taint stays: its QEMU runs as root (high-privileges).
        expect(log.split('\n').filter((l) => l.includes('tainted')).map((l) => l.replace(/^.*tainted: /, '')), 'taints').to.not.include.members(['custom-argv', 'custom-monitor']);
      });
    } else {
      it('hears the stop from the source host\'s agent only, each signal once', () => {
        expect(signals(agents[0]!), 'host A (source)').to.deep.equal(['migrating', 'converging', 'stopping', 'resumed']);
        expect(signals(agents[1]!), 'host B (destination)').to.deep.equal([]);
        const resumed = ctl!.lines.slice(from).filter((l) => l.msg === 'VM runs again: the frames that waited for it are delivered');
        expect(resumed, 'one hold, ended').to.have.length(1);
        expect(resumed[0]!.dropped, 'none dropped').to.equal(0);
        console.log(`      signals from host A only; ${String(resumed[0]!.frames)} frames held in the stop, none dropped`);
      });

      it('the second monitor (<qemu:commandline>) makes libvirt mark the domain tainted', () => {
        const log = readFileSync(join(hosts[1]!.dir, 'log', 'qemu', `${VM.name}.log`), 'utf8');
        expect(log.split('\n').filter((l) => l.includes('tainted')).map((l) => l.replace(/^.*tainted: /, ''))).to.include('custom-argv');
      });
    }

    it('loses no ping from cnB (subnet B) to the domain across the move', () => {
      const { replies, first, last, missing } = missingPings(ping!.stdout);
      // How the stop went, to read a loss by: the copy's lead on the stop, the stop signal's delay, the copies taken.
      const at = (kind: string) => Number(agents[0]!.lines.find((l) => l.msg === 'migration signal' && l.signal === kind)?.at);
      const stopped = ctl!.lines.slice(from).find((l) => l.msg === 'VM stopped: frames for it wait at the controller');
      const lastBefore = echoReplies(ping!.stdout).filter((r) => r.at <= at('stopping')).at(-1);
      const lead = Math.round(at('stopping') - at('converging'));
      const copied = ctl!.lines.slice(from).find((l) => l.msg === 'VM migrating: its frames are copied');
      const rulesLead = copied === undefined ? 'never' : `${Math.round(at('stopping') - Date.parse(String(copied.time)))} ms`;
      // ping -O says "no answer yet for icmp_seq=N" as it sends N+1, 10 ms after N.
      const sentAt = (seq: number) => {
        const line = ping!.stdout.find((l) => new RegExp(`no answer yet for icmp_seq=${seq}\\b`).test(l));
        const m = line === undefined ? null : /^\[(\d+(?:\.\d+)?)\]/.exec(line);
        return m === null ? '?' : `${Math.round(Number(m[1]) * 1000 - 10 - at('stopping'))} ms`;
      };
      const story = `${missing.map((seq) => `seq ${seq} sent at ${sentAt(seq)} from the stop`).join(', ')}${missing.length === 0 ? '' : '; '}converging ${lead} ms before the stop (the copy rules in place ${rulesLead} before it), the stop signalled ${String(stopped?.signalLateMs)} ms late, `
        + `${String(stopped?.recovered)} copies taken of ${String(stopped?.copies)} (by the port's counters: ${String(stopped?.byPortCounters)}, their swing ${String(stopped?.readsSpread)} over ${String(stopped?.readings)} readings, `
        + `read ${String(stopped?.readAtStop)} at the stop, unread from copy ${String(stopped?.unreadFromCopy)}: ${String(stopped?.takenByCount)} taken so); `
        + `last reply before the stop: seq ${String(lastBefore?.seq)}, ${lastBefore === undefined ? '?' : Math.round(at('stopping') - lastBefore.at)} ms before it; `
        + `dropped on the way: ${Object.entries(drops).filter(([k]) => !k.startsWith(WORK_PREFIX)).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing counted'}`;
      expect(replies, 'pings answered').to.be.greaterThan(100);
      // Copies from before the stop: a converging after it (estimated from progress read late) lost the frames of the signal's delay.
      expect(lead, `copying began before the stop (${story})`).to.be.greaterThan(0);
      if (missing.length > 0) {
        // What the controller and the source's agent did around the stop, in their own words (ms from the agent's stop).
        const said = (who: string, lines: readonly LogLine[]) => lines.map((l) => {
          const { msg, time, level, component, ...rest } = l as Record<string, unknown>;
          void level; void component;
          return { ms: Date.parse(String(time)) - at('stopping'), text: `${who}: ${String(msg)} ${JSON.stringify(rest).slice(0, 300)}` };
        });
        const slow = (l: LogLine) => l.msg !== 'virsh answered' || Number(l.ms) >= 20; // the agent's quick answers from libvirt are many
        const told = [...said('controller', ctl!.lines.slice(from)), ...said('agent A', agents[0]!.lines.filter(slow))].filter((l) => Math.abs(l.ms) < 5000).sort((a, b) => a.ms - b.ms);
        for (const l of told) console.log(`        ${Math.round(l.ms)} ms: ${l.text}`);
      }
      expect(missing, `echo requests never answered (${story})`).to.deep.equal([]);
      console.log(`      ${replies} pings answered, seq ${first}-${last}, none missing; ${story}`);
    });

    if (mode === 'libvirt') {
      it('a migration back that the operator cancels (virsh domjobabort) is called off at the controller: the domain runs on at B, no ping lost', async () => {
        const b = agents[1]!;
        const said = signals(b).length;
        const at = ctl!.lines.length;
        const pings = net!.spawn('cnB', `ping -D -n -i 0.01 ${VM.eid}`);
        try {
          await pings.waitForLine(/icmp_seq=/, 10_000);
          // 20 MiB/s: the first pass over the guest's memory takes seconds, time to cancel it.
          const back = hosts[1]!.migrate(VM.name, hosts[0]!, net!.bridge('s1'), { bandwidthMiBs: 20 }).then(() => 'migrated', (e: Error) => e.message);
          await waitUntil(() => signals(b).length > said, { timeoutMs: 30_000, intervalMs: 20, what: 'host B\'s agent: migrating' });
          await new Promise((resolve) => setTimeout(resolve, 300));
          await hosts[1]!.virsh(['domjobabort', VM.name]);
          const outcome = await back;
          expect(/cancel/i.test(outcome), `virsh migrate said: ${outcome}`).to.equal(true);
          await waitUntil(() => signals(b).slice(said).includes('called-off'), { timeoutMs: 10_000, intervalMs: 20, what: 'host B\'s agent: called-off' });
          await ctl!.waitFor((l) => l.msg === 'staged move withdrawn' && l.eid === VM.eid, 10_000, 'the staged move withdrawn', at);
          await new Promise((resolve) => setTimeout(resolve, 1000));
        } finally {
          await pings.kill();
        }
        // Converging with migrating: a guest this small (its size read ahead) is within the agent's floor
        // (copyLeadMs x 2 GB/s), so its frames were copied when the migration was called off.
        expect(signals(b).slice(said), 'host B (source of the migration back)').to.deep.equal(['migrating', 'converging', 'called-off']);
        expect(signals(agents[0]!).slice(4), 'host A (its destination, cancelled)').to.deep.equal([]);
        expect(await hosts[1]!.running(), 'host B').to.deep.equal([VM.name]);
        expect(await hosts[0]!.running(), 'host A').to.deep.equal([]);
        expect(ctl!.lines.slice(at).filter((l) => l.msg === 'migration completed' && l.eid === VM.eid), 'no move').to.deep.equal([]);
        const { replies, missing } = missingPings(pings.stdout);
        expect(replies, 'pings answered').to.be.greaterThan(100);
        expect(missing, 'echo requests never answered').to.deep.equal([]);
        console.log(`      called off ${replies} pings answered, none missing`);
      });
    }
  });
}
