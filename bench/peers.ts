// The controllers under test, each a child process pinned to one core with taskset: Seamless
// (tsx on the sources), os-ken with the benchmark's simple_switch_13 app, and ovs-testcontroller
// (Open vSwitch's C learning switch). stop() ends only the process started here, by PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OFPT_HELLO } from '../controller/openflow/index.js';
import { CONTROLLER_NODE_FLAGS } from '../controller/node-flags.js';
import { freePort } from '../topologies/case-study/controller-process.js';
import { sleep } from './switch-emulator.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

export type PeerName = 'seamless' | 'os-ken' | 'ovs-testcontroller';

export interface PeerProcess {
  readonly name: PeerName;
  readonly port: number;
  readonly pid: number;
  /** Seamless's HTTP port (its /metrics), undefined for the peers. */
  readonly httpPort?: number;
  /** The last lines the controller wrote (stdout and stderr), for a run that went wrong. */
  readonly output: readonly string[];
  stop(): Promise<void>;
}

export interface PeerOptions {
  /** Core the controller is pinned to. */
  readonly core: number;
  /** Extra flags for Seamless (e.g. a --config file). */
  readonly seamlessArgs?: readonly string[];
  /** Run Seamless under `node --cpu-prof` and write the profile into this directory. */
  readonly cpuProfDir?: string;
  /** Run the Seamless of another checkout (a git worktree with node_modules), to compare two trees; default: this one. */
  readonly repo?: string;
}

export async function startPeer(name: PeerName, options: PeerOptions): Promise<PeerProcess> {
  const port = await freePort();
  const cleanups: (() => void)[] = [];
  let argv: string[];
  let httpPort: number | undefined;
  switch (name) {
    case 'seamless': {
      const state = mkdtempSync(join(tmpdir(), 'seamless-bench-'));
      cleanups.push(() => rmSync(state, { recursive: true, force: true }));
      const prof = options.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir];
      // The controller's own Node flags, then SEAMLESS_LAB_NODE_ARGS (as for the lab's controller; a later flag wins).
      const nodeArgs = [...CONTROLLER_NODE_FLAGS, ...(process.env.SEAMLESS_LAB_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '')];
      argv = [process.execPath, ...nodeArgs, ...prof, '--import', 'tsx', join(options.repo ?? REPO, 'controller', 'main.ts'),
        '--openflow-host', '127.0.0.1', '--openflow-port', String(port), '--http-port', String(httpPort = await freePort()), '--state-dir', state,
        '--log-level', 'warn', '--log-format', 'json', '--rewrite', 'true',
        // The priority the other controllers run at (each has a core of its own here): the comparison is of the code, not of the scheduler.
        ...(existsSync(join(options.repo ?? REPO, 'controller', 'priority.ts')) ? ['--nice', 'keep'] : []),
        ...(options.seamlessArgs ?? [])];
      break;
    }
    case 'os-ken':
      argv = ['osken-manager', '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port),
        join(REPO, 'bench', 'peers', 'simple_switch_13.py')];
      break;
    case 'ovs-testcontroller':
      argv = ['ovs-testcontroller', '-O', 'OpenFlow13', '-vconsole:emer', '-vsyslog:emer', `ptcp:${port}:127.0.0.1`];
      break;
  }
  const child = spawn('taskset', ['-c', String(options.core), ...argv], { cwd: name === 'seamless' ? options.repo ?? REPO : REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  const output: string[] = [];
  const keep = (c: Buffer) => {
    for (const line of c.toString().split('\n')) if (line.trim() !== '') output.push(line.slice(0, 500));
    if (output.length > 200) output.splice(0, output.length - 100);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', (c: Buffer) => { keep(c); if (stderr.length < 200) stderr.push(c.toString()); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitServing(port, child, 30_000);
  } catch (error) {
    await kill(child, exited);
    throw new Error(`${name} did not start: ${(error as Error).message}\n${stderr.join('').slice(-2000)}`);
  }
  return {
    name, port, pid: child.pid!, output, ...(httpPort === undefined ? {} : { httpPort }),
    async stop() {
      await kill(child, exited);
      for (const c of cleanups) c();
    },
  };
}

/** SIGINT first (node writes its --cpu-prof profile on a clean exit), SIGKILL after 5 s. */
async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Ready means the controller speaks OpenFlow: it sends its HELLO on a new connection. Accepting a
 * connection is not enough: Seamless holds its port from the start (controller/port-reservation.ts)
 * and closes whatever connects until its store is loaded.
 */
async function waitServing(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    if (await sendsHello(port)) return;
    await sleep(100);
  }
  throw new Error(`no OpenFlow HELLO from 127.0.0.1:${port} after ${timeoutMs} ms`);
}

function sendsHello(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { clearTimeout(timer); s.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), 1000);
    s.once('data', (chunk: Buffer) => done(chunk.length >= 2 && chunk[1] === OFPT_HELLO));
    s.once('close', () => done(false));
    s.once('error', () => done(false));
  });
}

/** Pins this process (all its threads) to one core. */
export async function pinSelf(core: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const p = spawn('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
    p.once('exit', () => resolve());
    p.once('error', () => resolve());
  });
}
