// The controller process takes its scheduling priority at start (controller/priority.ts): read
// back from the kernel (/proc) for the event loop's thread, by default and when configured.

import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControllerProcess } from '../../topologies/case-study/controller-process.js';

/** The nice value of a thread, field 19 of /proc/PID/task/TID/stat (after the command's closing parenthesis: field 3 onwards). */
function niceOf(pid: number, tid = pid): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('integration: the controller process\'s scheduling priority', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const started: ControllerProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => c.stop().catch(() => undefined)));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function start(args: string[]): Promise<ControllerProcess> {
    const stateDir = mkdtempSync(join(tmpdir(), 'seamless-priority-'));
    dirs.push(stateDir);
    const ctl = await ControllerProcess.start({ stateDir, args: [...args, '--ovsdb', 'off'] });
    started.push(ctl);
    return ctl;
  }

  it('takes the configured nice value for its event loop and logs it', async () => {
    const ctl = await start(['--nice', '7']);
    expect(niceOf(ctl.pid!)).to.equal(7);
    // Every thread: V8's helpers (garbage collection) too, and libuv's pool started since.
    const threads = readdirSync(`/proc/${ctl.pid!}/task`).map(Number);
    expect(threads.length).to.be.greaterThan(4);
    expect(Object.fromEntries(threads.map((t) => [t, niceOf(ctl.pid!, t)]))).to.deep.equal(Object.fromEntries(threads.map((t) => [t, 7])));
    expect(ctl.find('scheduling priority set')[0]).to.deep.include({ nice: 7 });
  });

  it('by default, as root, runs at Open vSwitch\'s -10; with keep, at the priority it was started with', async function () {
    if (process.getuid?.() !== 0) this.skip(); // a negative nice value needs root (the CI runs as root)
    const ctl = await start([]);
    expect(niceOf(ctl.pid!)).to.equal(-10);
    const kept = await start(['--nice', 'keep']);
    expect(niceOf(kept.pid!)).to.equal(niceOf(process.pid));
    expect(kept.find('scheduling priority set')).to.deep.equal([]);
  });
});
