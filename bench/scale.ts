// Scale: a Seamless controller (in this process, startController) with a generated config of 10
// subnets whose edges are S emulated switches connected over TCP, and B bindings at home spread
// over those edges. Measured:
//   - memory per binding: heapUsed delta / B for a BindingRegistry (store + pools + in-memory
//     journal) after a forced GC;
//   - one migration driven through the Fabric as a switch would: PORT_STATUS (old port down) from
//     the old edge, then a RARP packet-in from the new edge; time from packet-in to the last
//     barrier reply (the Fabric's reconvergenceMs / confirmMs), flow-mods on the wire, switches;
//   - the pure parts on the same state: full compile() (what the Fabric runs per move today)
//     and planBindingChange() (the incremental planner), to show where the time goes.
// The emulator shares the event loop with the controller here: its barrier replies are part of
// the measured time (an upper bound on the controller's own share).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { filter, firstValueFrom, take, timeout } from 'rxjs';
import { loadConfig } from '../controller/config.js';
import { createLogger } from '../controller/log.js';
import { startController, type Controller } from '../controller/main.js';
import {
  BindingRegistry, MemoryBindingRepository, parseSubnets, SubnetMap, type Binding,
} from '../controller/mobility/index.js';
import { OFPPR_MODIFY, OFPR_NO_MATCH, OFP_NO_BUFFER } from '../controller/openflow/index.js';
import { buildRarpAnnounce } from '../controller/packet/index.js';
import { compile, planBindingChange, resolveGatewayMacs, switchInfos } from '../controller/pipeline/index.js';
import { connectSwitches, DEFAULT_EMULATOR, emulatedPort, median, type EmulatedSwitch } from './switch-emulator.js';

const SUBNETS = 10;
const PORTS = 10;
const MIGRATIONS = 5;

export type CorrespondentMode = 'eager' | 'on-demand';

export interface ScaleOptions {
  readonly switchCounts: readonly number[];
  readonly bindingCounts: readonly number[];
  /** Correspondent-rule modes to measure (the controller's --correspondent-rules). */
  readonly modes?: readonly CorrespondentMode[];
  readonly log: (text: string) => void;
}

export interface ScaleCase {
  readonly mode: CorrespondentMode;
  readonly switches: number;
  readonly bindings: number;
  /** Milliseconds of one full reconcile after the bindings were loaded. */
  readonly fullReconcileMs: number;
  readonly migrations: readonly MigrationFigures[];
  readonly medianReconvergenceMs: number;
  readonly medianConfirmMs: number;
  readonly medianFlowModsOnWire: number;
  readonly rulesPerSwitch: { readonly median: number; readonly max: number };
  readonly pureCompileMs: number;
  readonly pureIncrementalPlanMs: number;
  readonly incrementalPlanFlowMods: number;
}

export interface MigrationFigures {
  readonly reconvergenceMs: number;
  readonly confirmMs: number;
  /** FLOW_MODs the TableSync plan sent in its confirmed steps. */
  readonly planFlowMods: number;
  /** Every FLOW_MOD the switches received because of the move (plan + learner cleanups + step 3). */
  readonly flowModsOnWire: number;
  readonly switchesInPlan: number;
  readonly switchesReceivingFlowMods: number;
}

export interface ScaleResult {
  readonly memory: { readonly bindings: number; readonly heapDeltaMB: number; readonly bytesPerBinding: number };
  readonly cases: readonly ScaleCase[];
}

export function scaleSubnets(switches: number): object[] {
  const perSubnet = Math.ceil(switches / SUBNETS);
  return Array.from({ length: SUBNETS }, (_, s) => ({
    name: `S${s}`,
    prefix: `10.${s + 1}.0.0/16`,
    gateway: { ip: `10.${s + 1}.0.1`, mac: `02:00:00:00:${hex(s + 1)}:01` },
    edges: Array.from({ length: perSubnet }, (_, e) => ({ dpid: edgeDpid(s, e), routerPort: 1 })),
    locatorPool: `10.${s + 1}.255.1-10.${s + 1}.255.254`,
  }));
}

const edgeDpid = (subnet: number, edge: number) => 0x1000 * (subnet + 1) + edge;
const hex = (n: number) => n.toString(16).padStart(2, '0');

/** Binding j: subnet j % 10, an edge of it, ports 2..10. */
function homeOf(j: number, edgesPerSubnet: number) {
  const s = j % SUBNETS;
  const n = Math.floor(j / SUBNETS);
  return {
    eid: `10.${s + 1}.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`,
    mac: `02:bb:${hex((j >> 24) & 0xff)}:${hex((j >> 16) & 0xff)}:${hex((j >> 8) & 0xff)}:${hex(j & 0xff)}`,
    at: { subnet: `S${s}`, dpid: BigInt(edgeDpid(s, n % edgesPerSubnet)), port: 2 + (n % (PORTS - 1)) },
  };
}

function addBindings(registry: BindingRegistry, count: number, edgesPerSubnet: number): void {
  const now = Date.now();
  for (let j = 0; j < count; j++) registry.apply({ kind: 'learn-new', ...homeOf(j, edgesPerSubnet) }, now);
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export async function measureMemory(bindings: number): Promise<ScaleResult['memory']> {
  const subnets = new SubnetMap(parseSubnets(scaleSubnets(1000)));
  gc();
  const before = process.memoryUsage().heapUsed;
  const { registry } = await BindingRegistry.open(subnets, new MemoryBindingRepository());
  addBindings(registry, bindings, 100);
  await registry.flush(Date.now());
  gc();
  const delta = process.memoryUsage().heapUsed - before;
  if (registry.bindings.size !== bindings) throw new Error(`expected ${bindings} bindings, have ${registry.bindings.size}`);
  return { bindings, heapDeltaMB: delta / 2 ** 20, bytesPerBinding: delta / bindings };
}

async function startScaleController(switches: number, mode: CorrespondentMode): Promise<{ controller: Controller; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'seamless-scale-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({ subnets: scaleSubnets(switches) }));
  const config = loadConfig(['--openflow-port', '0', '--openflow-host', '127.0.0.1', '--http-port', '0', '--state-dir', join(dir, 'state'),
    '--log-level', 'error', '--config', configPath, '--request-timeout-ms', '60000', '--correspondent-rules', mode], {}, { stdoutIsTTY: false, validateSubnets: (raw) => void parseSubnets(raw) });
  const controller = await startController(config, createLogger({ level: 'error', format: 'json' }));
  return { controller, dir };
}

async function runCase(switchCount: number, bindingCount: number, mode: CorrespondentMode, log: (t: string) => void): Promise<ScaleCase> {
  const { controller, dir } = await startScaleController(switchCount, mode);
  const edgesPerSubnet = Math.ceil(switchCount / SUBNETS);
  const dpids = Array.from({ length: SUBNETS * edgesPerSubnet }, (_, i) => BigInt(edgeDpid(i % SUBNETS, Math.floor(i / SUBNETS))));
  const address = controller.listener.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let switches: EmulatedSwitch[] = [];
  try {
    switches = await connectSwitches({ ...DEFAULT_EMULATOR, host: '127.0.0.1', port, switches: dpids.length, portsPerSwitch: PORTS }, dpids);
    await waitFor(() => controller.switches.list().length === dpids.length, 300_000, 'every switch up');
    // Every switch-up queued a full reconcile in TableSync: let that queue drain before timing anything.
    await controller.fabric.reconcile();
    addBindings(controller.registry, bindingCount, edgesPerSubnet);
    await controller.registry.flush(Date.now());
    let t = performance.now();
    await controller.fabric.reconcile();
    const fullReconcileMs = performance.now() - t;
    const rules = [...controller.fabric.desired().rules.values()].map((r) => r.length).sort((a, b) => a - b);
    log(`${dpids.length} switches, ${bindingCount} bindings: full reconcile ${fullReconcileMs.toFixed(1)} ms, rules per switch median ${median(rules)} max ${rules.at(-1)}`);

    const bySwitch = new Map(switches.map((s) => [s.dpid, s]));
    const vm = homeOf(0, edgesPerSubnet);
    let at = { dpid: vm.at.dpid, port: vm.at.port };
    const migrations: MigrationFigures[] = [];
    const profiler = await startProfile();
    for (let k = 1; k <= MIGRATIONS; k++) {
      const to = { dpid: BigInt(edgeDpid(k % SUBNETS, k % edgesPerSubnet)), port: 2 + (k % (PORTS - 1)) };
      migrations.push(await migrate(controller, bySwitch, vm.mac, at, to));
      at = to;
      await sleepMs(controller.fabric.options.graceMs + 200); // step 3 done before the next move
    }
    await profiler?.stop(`scale-${dpids.length}sw-${bindingCount}b-migrations`, log);
    // The pure parts on the same state.
    const state = {
      subnets: controller.subnets.subnets,
      switches: switchInfos(controller.subnets.subnets, dpids),
      gatewayMacs: resolveGatewayMacs(controller.subnets.subnets),
    };
    const list = controller.registry.bindings.list();
    t = performance.now();
    compile({ ...state, bindings: list });
    const pureCompileMs = performance.now() - t;
    const b = controller.registry.bindings.byMac(vm.mac)!;
    const previous: Binding = { ...b, locator: { ...b.locator, subnet: 'S0', dpid: vm.at.dpid, port: vm.at.port, address: vm.eid } };
    t = performance.now();
    const incremental = planBindingChange(previous, b, state);
    const pureIncrementalPlanMs = performance.now() - t;
    const incrementalPlanFlowMods = incremental.plan.steps.reduce((n, s) => n + [...s.mods.values()].reduce((m, l) => m + l.length, 0), 0);
    return {
      mode, switches: dpids.length, bindings: bindingCount, fullReconcileMs, migrations,
      medianReconvergenceMs: median(migrations.map((m) => m.reconvergenceMs)),
      medianConfirmMs: median(migrations.map((m) => m.confirmMs)),
      medianFlowModsOnWire: median(migrations.map((m) => m.flowModsOnWire)),
      rulesPerSwitch: { median: median(rules), max: rules.at(-1) ?? 0 },
      pureCompileMs, pureIncrementalPlanMs, incrementalPlanFlowMods,
    };
  } finally {
    for (const s of switches) s.close();
    await controller.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PORT_STATUS (old port down) from the old edge, then QEMU's RARP announce from the new one. */
async function migrate(
  controller: Controller, bySwitch: Map<bigint, EmulatedSwitch>, mac: string,
  from: { dpid: bigint; port: number }, to: { dpid: bigint; port: number },
): Promise<MigrationFigures> {
  const wire = () => [...bySwitch.values()].map((s) => s.counters.flowMods);
  const before = wire();
  const done = firstValueFrom(controller.fabric.events$.pipe(filter((e) => e.type === 'MIGRATION_COMPLETED'), take(1), timeout(60_000)));
  const old = bySwitch.get(from.dpid)!;
  old.write({ type: 'PORT_STATUS', xid: 0, reason: OFPPR_MODIFY, port: emulatedPort(from.dpid, from.port, true) });
  const oldSw = controller.switches.get(from.dpid)!;
  await waitFor(() => ((oldSw.ports.get(from.port)?.state ?? 0) & 1) === 1, 5000, 'old port down');
  const data = buildRarpAnnounce(mac);
  bySwitch.get(to.dpid)!.write({
    type: 'PACKET_IN', xid: 0, bufferId: OFP_NO_BUFFER, totalLen: data.length, reason: OFPR_NO_MATCH, tableId: 0,
    cookie: 0xffffffffffffffffn, match: { in_port: to.port }, data,
  });
  const event = await done;
  if (event.type !== 'MIGRATION_COMPLETED') throw new Error('unexpected event');
  // Bring the old port back up so a later move may return there.
  old.write({ type: 'PORT_STATUS', xid: 0, reason: OFPPR_MODIFY, port: emulatedPort(from.dpid, from.port, false) });
  await sleepMs(controller.fabric.options.graceMs + 100); // step 3 (cleanup) is on the wire too
  const after = wire();
  const perSwitch = after.map((n, i) => n - before[i]!);
  const m = event.migration;
  return {
    reconvergenceMs: m.reconvergenceMs, confirmMs: m.confirmMs, planFlowMods: m.flowMods,
    flowModsOnWire: perSwitch.reduce((a, b) => a + b, 0),
    switchesInPlan: m.switches,
    switchesReceivingFlowMods: perSwitch.filter((n) => n > 0).length,
  };
}

export async function benchScale(o: ScaleOptions): Promise<ScaleResult> {
  const memory = await measureMemory(Math.max(...o.bindingCounts));
  o.log(`memory: ${memory.bindings} bindings in a BindingRegistry: ${memory.heapDeltaMB.toFixed(1)} MB heap, ${Math.round(memory.bytesPerBinding)} B per binding`);
  const cases: ScaleCase[] = [];
  for (const mode of o.modes ?? ['eager', 'on-demand']) {
    for (const s of o.switchCounts) {
      for (const b of o.bindingCounts) {
        const c = await runCase(s, b, mode, o.log);
        cases.push(c);
        printCase(c, o.log);
      }
    }
  }
  return { memory, cases };
}

function printCase(c: ScaleCase, log: (t: string) => void): void {
  const m = c.migrations;
  log(`[${c.mode}] ${c.switches} switches x ${c.bindings} bindings: migration reconvergence median ${c.medianReconvergenceMs.toFixed(1)} ms `
    + `(confirm ${c.medianConfirmMs.toFixed(1)} ms), plan flow-mods ${median(m.map((x) => x.planFlowMods))} on ${median(m.map((x) => x.switchesInPlan))} switches, `
    + `flow-mods on the wire ${c.medianFlowModsOnWire} to ${median(m.map((x) => x.switchesReceivingFlowMods))} switches; `
    + `pure: full compile ${c.pureCompileMs.toFixed(1)} ms vs incremental plan ${c.pureIncrementalPlanMs.toFixed(2)} ms (${c.incrementalPlanFlowMods} flow-mods)`);
}

export function printScale(r: ScaleResult): void {
  console.log(`  memory per binding: ${Math.round(r.memory.bytesPerBinding)} B (${r.memory.heapDeltaMB.toFixed(1)} MB for ${r.memory.bindings}; target < 100 MB)`);
}

/** With BENCH_PROFILE_DIR set, a CPU profile of the migrations alone (not of the setup). */
async function startProfile(): Promise<{ stop(name: string, log: (t: string) => void): Promise<void> } | undefined> {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (dir === undefined) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(name, log) {
      const { profile } = await session.post('Profiler.stop');
      const path = join(dir, `${name}.cpuprofile`);
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
      log(`profile of the migrations: ${path}`);
    },
  };
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleepMs(10);
  }
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));
