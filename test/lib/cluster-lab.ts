// A cluster of Seamless replicas in the Mininet reference lab, for the e2e tests and the cluster
// benchmark: a 3-member etcd on loopback (test/lib/etcd-cluster.ts), N controller processes with
// `--store etcd` (each its own OpenFlow and HTTP port, kept across restarts so that the switches
// reconnect to the same targets), and the Mininet lab with every switch connected to all of them.
// Replicas can be killed (-9), stopped (SIGSTOP), resumed and started again. Everything started
// here is ended by PID in destroy(), or by the process exit hook if the test run dies first.
// Run it under `flock /tmp/seamless-lab.lock`.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Etcd3 } from 'etcd3';
import { connectEtcd } from '../../controller/cluster/etcd-client.js';
import { ControllerProcess, freePort, type LogLine } from '../../topologies/case-study/controller-process.js';
import { MininetDriver } from '../../topologies/mininet-driver.js';
import { compiledLines, desiredRules, type BindingJson } from './desired-rules.js';
import { EtcdCluster } from './etcd-cluster.js';
import { killAtExit, removeAtExit, untrackDir, untrackPid } from './exit-cleanup.js';
import { waitUntil } from './wait.js';

const run = promisify(execFile);

export const SWITCHES = ['s1', 's2', 's3'] as const;
export type SwitchName = (typeof SWITCHES)[number];
export const DPIDS: Record<SwitchName, string> = { s1: '0000000000000001', s2: '0000000000000002', s3: '0000000000000003' };

export interface ClusterLabOptions {
  readonly replicas?: number;
  readonly leaseTtlMs?: number;
  /** Extra controller flags for every replica. */
  readonly controllerArgs?: readonly string[];
  /** Print every replica's warnings and errors (SEAMLESS_TEST_DEBUG=1 too). */
  readonly verbose?: boolean;
}

/** GET /api/cluster. */
export interface ClusterJson {
  readonly mode: 'single' | 'cluster';
  readonly replica: string | null;
  readonly replicas: string[];
  readonly switches: Array<{ dpid: string; master: string | null; connected: boolean; writable: boolean }>;
  readonly mastered: string[];
  readonly lease: { id: string | null; alive: boolean; ttlMs: number } | null;
  readonly feed: { connected: boolean; error: string | null } | null;
  readonly etcd: { members: Array<{ endpoint: string; reachable: boolean; quorum: boolean; leader: boolean }>; reachable: number; quorum: boolean } | null;
}

export type ReplicaState = 'running' | 'paused' | 'dead';

export class LabReplica {
  state: ReplicaState = 'running';
  proc: ControllerProcess;

  constructor(
    readonly id: string, readonly openflowPort: number, readonly httpPort: number, proc: ControllerProcess,
    /** Log lines of every run of this replica, in order (a restart appends). */
    readonly lines: LogLine[],
  ) {
    this.proc = proc;
  }

  get base(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  async api<T>(path: string, timeoutMs = 2000): Promise<T> {
    const res = await fetch(`${this.base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`${this.id} ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  cluster(): Promise<ClusterJson> {
    return this.api<ClusterJson>('/api/cluster');
  }

  async metrics(): Promise<string> {
    const res = await fetch(`${this.base}/metrics`, { signal: AbortSignal.timeout(3000) });
    return res.text();
  }

  /** Lines with this message since `from` (an index into lines). */
  find(msg: string, from = 0): LogLine[] {
    return this.lines.slice(from).filter((l) => l.msg === msg);
  }
}

export class ClusterLab {
  readonly replicas: LabReplica[] = [];
  /** A client of the lab's etcd, for the tests' own reads. */
  readonly client: Etcd3;
  net!: MininetDriver;
  private readonly stateDir: string;
  private readonly verbose: boolean;

  private constructor(readonly etcd: EtcdCluster, readonly prefix: string, private readonly options: ClusterLabOptions) {
    this.client = connectEtcd({ endpoints: etcd.endpoints, requestTimeoutMs: 1000 });
    this.stateDir = mkdtempSync(join(tmpdir(), 'seamless-cluster-lab-'));
    removeAtExit(this.stateDir);
    this.verbose = options.verbose ?? process.env.SEAMLESS_TEST_DEBUG !== undefined;
  }

  get leaseTtlMs(): number {
    return this.options.leaseTtlMs ?? 2000;
  }

  /** etcd, the replicas, then Mininet with every switch connected to every replica; waits until each switch has a master. */
  static async start(options: ClusterLabOptions = {}): Promise<ClusterLab> {
    const etcd = await EtcdCluster.start({ members: 3 });
    const lab = new ClusterLab(etcd, `/e2e-${randomBytes(3).toString('hex')}/`, options);
    try {
      const count = options.replicas ?? 3;
      for (let i = 1; i <= count; i++) await lab.startReplica(`c${i}`);
      lab.net = await MininetDriver.start({ controllers: lab.replicas.map((r) => ({ host: '127.0.0.1', port: r.openflowPort })) });
      await lab.tuneControllers();
      await lab.waitMastered();
      return lab;
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  }

  replica(id: string): LabReplica {
    const r = this.replicas.find((x) => x.id === id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  running(): LabReplica[] {
    return this.replicas.filter((r) => r.state === 'running');
  }

  /** Starts a replica (again, on the same ports, when it exists): a fresh process that joins the cluster. */
  async startReplica(id: string): Promise<LabReplica> {
    const known = this.replicas.find((r) => r.id === id);
    const openflowPort = known?.openflowPort ?? await freePort();
    const httpPort = known?.httpPort ?? await freePort();
    const lines: LogLine[] = known?.lines ?? [];
    const proc = await ControllerProcess.start({
      stateDir: this.stateDir, openflowPort, httpPort,
      args: [
        '--store', 'etcd', '--etcd-endpoints', this.etcd.endpoints.join(','), '--etcd-prefix', this.prefix,
        '--replica-id', id, '--lease-ttl-ms', String(this.leaseTtlMs),
        // Three replicas, Mininet and etcd on 2 shared cores: a replica's switch connections can come
        // 100-200 ms after the others', and the default step (100 ms) then lets another take its switch.
        '--campaign-step-ms', '250', ...(this.options.controllerArgs ?? []),
      ],
      onLine: (line) => {
        lines.push(line);
        if (this.verbose && (line.level === 'warn' || line.level === 'error' || line.level === 'fatal' || /master|migration/.test(line.msg))) {
          process.stderr.write(`[${id}] ${line.level} ${line.msg} ${JSON.stringify(line).slice(0, 400)}\n`);
        }
      },
    });
    const pid = proc.pid;
    if (pid !== undefined) {
      killAtExit(pid);
      proc.waitExit().then(() => untrackPid(pid), () => undefined);
    }
    if (known !== undefined) {
      known.proc = proc;
      known.state = 'running';
      return known;
    }
    const r = new LabReplica(id, openflowPort, httpPort, proc, lines);
    this.replicas.push(r);
    return r;
  }

  /** kill -9: the process ends at once, its switch connections with it; its lease expires after the TTL. */
  async kill(id: string): Promise<number> {
    const r = this.replica(id);
    const at = Date.now();
    r.proc.signal('SIGKILL');
    await r.proc.waitExit();
    r.state = 'dead';
    return at;
  }

  /** SIGSTOP: the process keeps its connections but does nothing (a long pause, a hung host). */
  pause(id: string): number {
    const r = this.replica(id);
    r.proc.signal('SIGSTOP');
    r.state = 'paused';
    return Date.now();
  }

  resume(id: string): void {
    const r = this.replica(id);
    r.proc.signal('SIGCONT');
    r.state = 'running';
  }

  /**
   * A replica that was killed comes back as a fresh process (it masters nothing: no preemption).
   * What a failed scenario may have left stopped (etcd members, a paused replica) runs again.
   * Resolves once every running replica sees all the others.
   */
  async recover(): Promise<void> {
    for (const i of [0, 1, 2]) if (this.etcd.state(i) === 'stopped') await this.etcd.restart(i);
    for (const r of this.replicas.filter((x) => x.state === 'paused')) this.resume(r.id);
    for (const r of this.replicas.filter((x) => x.state === 'dead')) await this.startReplica(r.id);
    await waitUntil(async () => (await Promise.all(this.running().map((r) => r.cluster()))).every((v) => v.replicas.length === this.replicas.length),
      { timeoutMs: 15_000, what: 'every replica to see the others' });
  }

  /**
   * When a switch first granted a running replica the master role at or after `since` (epoch
   * ms), from the replicas' logs (the switch's answer to its role request, a few ms after the
   * replica won the switch in etcd); undefined when none did yet.
   */
  masteredAt(sw: SwitchName, since: number): { replica: string; at: number } | undefined {
    let first: { replica: string; at: number } | undefined;
    for (const r of this.running()) {
      for (const l of r.lines) {
        const at = Date.parse(l.time);
        if (l.msg === 'switch role granted' && l.role === 'master' && l.dpid === DPIDS[sw] && at >= since && (first === undefined || at < first.at)) first = { replica: r.id, at };
      }
    }
    return first;
  }

  /** Who masters a switch in etcd: the replica and the generation id (the master key's create revision). */
  async masterKey(sw: SwitchName): Promise<{ replica: string; generationId: bigint } | undefined> {
    const res = await this.client.kv.range({ key: Buffer.from(`${this.prefix}cluster/masters/${DPIDS[sw]}`) });
    const kv = res.kvs[0];
    if (kv === undefined) return undefined;
    return { replica: (JSON.parse(kv.value.toString()) as { replica: string }).replica, generationId: BigInt(kv.create_revision) };
  }

  /** The switch's master, confirmed: etcd names it and that replica says it writes the switch. */
  async confirmedMaster(sw: SwitchName): Promise<LabReplica | undefined> {
    const key = await this.masterKey(sw);
    if (key === undefined) return undefined;
    const r = this.replicas.find((x) => x.id === key.replica && x.state === 'running');
    if (r === undefined) return undefined;
    const view = await r.cluster().catch(() => undefined);
    return view?.mastered.includes(DPIDS[sw]) === true ? r : undefined;
  }

  /**
   * The switch's confirmed master, waiting up to `timeoutMs` for one: after an etcd member (the
   * leader, say) went down a replica may have let its lease go and be taking the switch again.
   */
  async masterOf(sw: SwitchName, timeoutMs = 10_000): Promise<LabReplica> {
    let r: LabReplica | undefined;
    try {
      await waitUntil(async () => (r = await this.confirmedMaster(sw)) !== undefined, { timeoutMs, what: `a confirmed master of ${sw}` });
    } catch {
      throw new Error(`${sw} has no confirmed master after ${timeoutMs} ms`);
    }
    return r!;
  }

  /** Waits until every switch has a running master that says it writes it. */
  async waitMastered(timeoutMs = 30_000, except: readonly string[] = []): Promise<Record<SwitchName, LabReplica>> {
    const out = {} as Record<SwitchName, LabReplica>;
    await waitUntil(async () => {
      for (const sw of SWITCHES) {
        const r = await this.confirmedMaster(sw);
        if (r === undefined || except.includes(r.id)) return false;
        out[sw] = r;
      }
      return true;
    }, { timeoutMs, intervalMs: 50, what: 'a confirmed master for every switch' });
    return out;
  }

  /** The bindings in etcd (the store itself, not a replica's mirror), by EID. */
  async storedBindings(): Promise<Map<string, BindingJson & { modRevision: number }>> {
    const res = await this.client.kv.range({ key: Buffer.from(`${this.prefix}state/bindings/`), range_end: Buffer.from(`${this.prefix}state/bindings0`) });
    const out = new Map<string, BindingJson & { modRevision: number }>();
    for (const kv of res.kvs) {
      const b = JSON.parse(kv.value.toString()) as BindingJson;
      out.set(b.eid, { ...b, modRevision: Number(kv.mod_revision) });
    }
    return out;
  }

  /**
   * Every switch's compiled rules (ovs-ofctl) against what one controller compiles for the
   * bindings in etcd, with the router ports and gateway MACs a replica learned: the differences,
   * per switch (empty: equal, no rule missing, duplicated or stale).
   */
  async ruleDifferences(via: LabReplica): Promise<Record<string, { missing: string[]; extra: string[] }>> {
    // Read at once (a benchmark polls this: one round is its resolution).
    const [storedMap, switches, subnets, dumps] = await Promise.all([
      this.storedBindings(),
      via.api<Array<{ dpid: string; routerPort: number | null }>>('/api/switches'),
      via.api<Array<{ name: string; gateway: { mac: string | null } }>>('/api/subnets'),
      Promise.all(SWITCHES.map(async (sw) => (await run('ovs-ofctl', ['-O', 'OpenFlow13', '--no-stats', 'dump-flows', this.net.bridge(sw)])).stdout)),
    ]);
    const stored = [...storedMap.values()];
    const desired = desiredRules(stored, switches.map((s) => s.dpid), {
      routerPorts: new Map(switches.filter((s) => s.routerPort !== null).map((s) => [s.dpid, s.routerPort!])),
      gatewayMacs: new Map(subnets.filter((s) => s.gateway.mac !== null).map((s) => [s.name, s.gateway.mac!])),
    });
    const out: Record<string, { missing: string[]; extra: string[] }> = {};
    for (const [i, sw] of SWITCHES.entries()) {
      const have = compiledLines(dumps[i]!);
      const want = desired.get(DPIDS[sw]) ?? [];
      const missing = want.filter((l) => !have.includes(l));
      const extra = have.filter((l) => !want.includes(l));
      if (missing.length > 0 || extra.length > 0 || have.length !== want.length) out[sw] = { missing, extra };
    }
    return out;
  }

  /** Waits until every switch holds exactly the reference rules; throws with the differences. */
  async waitRulesConverged(via: LabReplica, timeoutMs = 15_000): Promise<void> {
    let last: Record<string, { missing: string[]; extra: string[] }> = {};
    try {
      await waitUntil(async () => {
        last = await this.ruleDifferences(via);
        return Object.keys(last).length === 0;
      }, { timeoutMs, intervalMs: 250, what: 'every switch to hold exactly the rules one controller compiles' });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${JSON.stringify(last, null, 1)}`);
    }
  }

  /** Every running replica, its log lines with a level of at least warn (for failure messages). */
  problems(since: Map<string, number> = new Map()): string[] {
    return this.replicas.flatMap((r) => r.lines.slice(since.get(r.id) ?? 0).filter((l) => l.level === 'error' || l.level === 'fatal').map((l) => `[${r.id}] ${l.msg} ${JSON.stringify(l)}`));
  }

  /** How far each replica's log is now (for problems(since)). */
  mark(): Map<string, number> {
    return new Map(this.replicas.map((r) => [r.id, r.lines.length]));
  }

  /** OVS's view of each controller connection of a switch: the target's port -> role (master, slave, other; none when not connected). */
  async switchRoles(sw: SwitchName): Promise<Map<number, string>> {
    const uuids = await this.controllerUuids(sw);
    const { stdout } = await run('ovs-vsctl', ['--format=json', '--columns=_uuid,target,role', 'list', 'controller']);
    const rows = (JSON.parse(stdout) as { data: [[string, string], string, string | [string, unknown[]]][] }).data;
    const out = new Map<number, string>();
    for (const [[, uuid], target, role] of rows) {
      if (!uuids.includes(uuid)) continue;
      const port = Number(/:(\d+)$/.exec(target)?.[1]);
      out.set(port, typeof role === 'string' ? role : 'none');
    }
    return out;
  }

  /** Ends everything this lab started, by PID; removes its temp dirs. */
  async destroy(): Promise<void> {
    for (const r of this.replicas) if (r.state === 'paused') r.proc.signal('SIGCONT');
    await this.net?.stop().catch(() => undefined);
    await Promise.all(this.replicas.map((r) => r.proc.stop().catch(() => undefined)));
    this.client.close();
    await this.etcd.destroy();
    rmSync(this.stateDir, { recursive: true, force: true });
    untrackDir(this.stateDir);
  }

  private async controllerUuids(sw: SwitchName): Promise<string[]> {
    const { stdout } = await run('ovs-vsctl', ['get', 'bridge', this.net.bridge(sw), 'controller']);
    return stdout.replace(/[[\]\s]/g, '').split(',').filter((x) => x !== '');
  }

  /**
   * Open vSwitch backs off up to 8 s between reconnects to a controller that went away; a
   * replica started again should be back within a second. (Every other setting stays default.)
   */
  private async tuneControllers(): Promise<void> {
    for (const sw of SWITCHES) {
      for (const uuid of await this.controllerUuids(sw)) await run('ovs-vsctl', ['set', 'controller', uuid, 'max_backoff=1000']);
    }
  }
}
