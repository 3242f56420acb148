// The plain-L2 QEMU baseline: what live migration gives a TCP stream today. The reference lab with
// every switch a plain L2 learning switch (priority=0,actions=NORMAL, no controller), a real QEMU
// guest on s1 port 10, streams from cnB and ext (as in the case study), and moves between s1 port 10
// and port 11 (one subnet) with QEMU's defaults. Prints each move and a summary, then one JSON line.
//
//   flock /tmp/seamless-lab.lock npx tsx topologies/qemu/l2-baseline.ts [--moves 5] [--linger-ms 1000]
//        [--downtime-limit-ms N] [--dwell-ms 4000] [--rate 200000]

import { parseArgs } from 'node:util';
import { topologyFile } from '../agent-channel.js';
import { gapAround, median, percentile } from '../case-study/measure.js';
import { HOST_PYTHON, MininetDriver, type HostProcess } from '../mininet-driver.js';
import { onHostClock, streamServeCommand } from './guest-tools.js';
import { QemuVm, type QemuMigrationTimes } from './qemu-vm.js';
import { sleep } from '../../controller/host-agent/unix-socket.js';

const STREAM = topologyFile('case-study/stream.py');
const SENDERS = ['cnB', 'ext'];

interface Options {
  moves: number;
  lingerMs: number;
  downtimeLimitMs: number | undefined;
  dwellMs: number;
  rate: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: { moves: { type: 'string' }, 'linger-ms': { type: 'string' }, 'downtime-limit-ms': { type: 'string' }, 'dwell-ms': { type: 'string' }, rate: { type: 'string' } },
  });
  const number = (name: keyof typeof values, fallback: number | undefined, min: number, max: number): number | undefined => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number between ${min} and ${max}, got ${raw}`);
    return n;
  };
  return {
    moves: number('moves', 5, 1, 100)!,
    lingerMs: number('linger-ms', 1000, 0, 60_000)!,
    downtimeLimitMs: number('downtime-limit-ms', undefined, 1, 10_000),
    dwellMs: number('dwell-ms', 4000, 1000, 60_000)!,
    rate: number('rate', 200_000, 1000, 10_000_000)!,
  };
}

async function main(): Promise<void> {
  const o = options();
  const net = await MininetDriver.start({ plainL2: true, vm: 'none' });
  let vm: QemuVm | undefined;
  const senders: HostProcess[] = [];
  try {
    vm = await QemuVm.boot({ network: { mac: '02:00:00:00:01:0a', address: '10.0.1.10/24', gateway: '10.0.1.1' }, bridge: net.bridge('s1'), port: 10 });
    say(`guest booted in ${vm.bootMs} ms (TCG)`);
    for (const host of SENDERS) await net.check(host, 'ping -c 1 -W 5 10.0.1.10', { timeoutMs: 10_000 });
    const receivers = SENDERS.map((_, i) => vm!.spawn(streamServeCommand(5001 + i)));
    await Promise.all(receivers.map((r) => r.waitForLine(/listening/)));
    SENDERS.forEach((host, i) => senders.push(net.spawn(host, `${HOST_PYTHON} ${STREAM} send --host 10.0.1.10 --port ${5001 + i} --rate ${o.rate} --duration 3600 --linger 5`)));
    await Promise.all(receivers.map((r) => r.waitForLine(/accepted/)));

    const moves: QemuMigrationTimes[] = [];
    for (let i = 0; i < o.moves; i++) {
      await sleep(o.dwellMs / 2);
      const toPort = vm.attachment().port === 10 ? 11 : 10;
      const { times } = await vm.migrate({ toBridge: net.bridge('s1'), toPort, lingerMs: o.lingerMs, ...(o.downtimeLimitMs ? { downtimeLimitMs: o.downtimeLimitMs } : {}) });
      moves.push(times);
      await sleep(o.dwellMs / 2);
    }
    await Promise.all(senders.map((s) => s.kill()));
    const results = await Promise.all(receivers.map(async (r) => onHostClock(JSON.parse(await r.waitForLine(/"done"/, 30_000)), vm!.clock)));

    const rows = moves.map((t, i) => {
      const until = moves[i + 1]?.stoppedAt ?? Number.POSITIVE_INFINITY;
      const gaps = Object.fromEntries(SENDERS.map((host, s) => [host, gapAround(results[s]!.timeline, t.stoppedAt, until)]));
      say(`move ${i + 1} s1:${t.from.port} -> s1:${t.to.port}: downtime ${t.downtimeMs} ms, total ${t.totalTimeMs} ms, paused ${(t.resumedAt - t.stoppedAt).toFixed(1)} ms, gap ${SENDERS.map((h) => `${h} ${gaps[h]} ms`).join(', ')}`);
      return { downtimeMs: t.downtimeMs, totalTimeMs: t.totalTimeMs, gapMs: gaps };
    });
    const gaps = rows.flatMap((r) => Object.values(r.gapMs).filter((g): g is number => g !== null));
    const summary = {
      baseline: 'plain-l2-qemu', moves: rows.length, bootMs: vm.bootMs, lingerMs: o.lingerMs,
      streamsWhole: results.every((r) => r.inOrder && r.error === null),
      downtimeMs: { median: median(rows.map((r) => r.downtimeMs)), max: percentile(rows.map((r) => r.downtimeMs), 100) },
      totalTimeMs: { median: median(rows.map((r) => r.totalTimeMs)), max: percentile(rows.map((r) => r.totalTimeMs), 100) },
      gapMs: { median: median(gaps), min: percentile(gaps, 0), max: percentile(gaps, 100) },
      perMove: rows,
    };
    say(`gap median ${summary.gapMs.median} ms (${summary.gapMs.min}-${summary.gapMs.max}), downtime median ${summary.downtimeMs.median} ms, total median ${summary.totalTimeMs.median} ms, streams ${summary.streamsWhole ? 'whole' : 'BROKEN'}`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await Promise.all(senders.map((s) => s.kill().catch(() => undefined)));
    await vm?.stop();
    await net.stop();
  }
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`l2-baseline failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
