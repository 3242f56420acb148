// How soon a real QEMU guest answers again after a live migration's stop-and-copy, with no
// controller in the way: plain L2 (every switch `actions=NORMAL`), the TCG guest of docs/qemu-lab.md
// on s1 port 10, moves between s1 ports 10 and 11 with the stop-and-copy held for --pause-ms
// (QEMU's pause-before-switchover), and ext pinging the guest every --interval-ms throughout.
// QEMU's own RARP at the resume teaches the bridge the new port at once, so the first echo reply
// after QEMU's RESUME event measures the guest: how long after the resume it runs its network stack
// again (plus at most one interval). What the loss-free rows of bench/loss-free.ts --vm qemu pay
// beyond the downtime on top of the network's part (docs/benchmarks.md).
//
//   flock /tmp/seamless-lab.lock npx tsx bench/guest-restart.ts [--moves 5] [--pause-ms 100]
//        [--interval-ms 5] [--streams] [--in-place]
//   --streams: the loss-free rows' two TCP streams into the guest too
//   --in-place: no migration; QMP `stop`, --pause-ms, `cont` on the same QEMU, so the guest resumes
//   with the translated code it had (TCG translates a migrated guest's code anew on the destination)

import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { topologyFile } from '../topologies/agent-channel.js';
import { median, percentile } from '../topologies/case-study/measure.js';
import { HOST_PYTHON, MininetDriver, type HostProcess } from '../topologies/mininet-driver.js';
import { streamServeCommand } from '../topologies/qemu/guest-tools.js';
import { QemuVm } from '../topologies/qemu/qemu-vm.js';
import { sleep } from '../controller/host-agent/unix-socket.js';

export interface EchoReply {
  /** Host epoch ms the reply arrived (ping -D). */
  readonly at: number;
  readonly seq: number;
}

/** The echo replies in `ping -D -n` output; other lines (the header, errors, the summary) are skipped. */
export function echoReplies(lines: readonly string[]): EchoReply[] {
  const out: EchoReply[] = [];
  for (const line of lines) {
    const m = /^\[(\d+(?:\.\d+)?)\] \d+ bytes from [^:]+: icmp_seq=(\d+)/.exec(line);
    if (m) out.push({ at: Number(m[1]) * 1000, seq: Number(m[2]) });
  }
  return out;
}

export interface Restart {
  /** The last reply before the stop, ms before it (null: none). */
  readonly lastBeforeStopMs: number | null;
  /** The first reply after the resume, ms after it (null: none came). */
  readonly firstAfterResumeMs: number | null;
}

/** Where the replies stop and start again around a pause [stoppedAt, resumedAt] (epoch ms). */
export function restartOf(replies: readonly EchoReply[], stoppedAt: number, resumedAt: number): Restart {
  if (!(resumedAt >= stoppedAt)) throw new RangeError(`resume (${resumedAt}) before stop (${stoppedAt})`);
  const before = replies.filter((r) => r.at <= stoppedAt).at(-1);
  const after = replies.find((r) => r.at > resumedAt);
  return {
    lastBeforeStopMs: before === undefined ? null : stoppedAt - before.at,
    firstAfterResumeMs: after === undefined ? null : after.at - resumedAt,
  };
}

interface Options {
  moves: number;
  pauseMs: number;
  intervalMs: number;
  streams: boolean;
  inPlace: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: { moves: { type: 'string' }, 'pause-ms': { type: 'string' }, 'interval-ms': { type: 'string' }, streams: { type: 'boolean' }, 'in-place': { type: 'boolean' } },
  });
  const number = (name: 'moves' | 'pause-ms' | 'interval-ms', fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number between ${min} and ${max}, got ${raw}`);
    return n;
  };
  return { moves: number('moves', 5, 1, 100), pauseMs: number('pause-ms', 100, 1, 10_000), intervalMs: number('interval-ms', 5, 1, 1000), streams: values.streams === true, inPlace: values['in-place'] === true };
}

async function main(): Promise<void> {
  const o = options();
  const net = await MininetDriver.start({ plainL2: true, vm: 'none' });
  let vm: QemuVm | undefined;
  const processes: HostProcess[] = [];
  try {
    vm = await QemuVm.boot({ network: { mac: '02:00:00:00:01:0a', address: '10.0.1.10/24', gateway: '10.0.1.1' }, bridge: net.bridge('s1'), port: 10 });
    say(`guest booted in ${vm.bootMs} ms (TCG)`);
    await net.check('ext', `ping -c 1 -W 5 ${vm.ip}`, { timeoutMs: 10_000 });
    if (o.streams) {
      const senders = ['cnB', 'ext'];
      const receivers = senders.map((_, i) => vm!.spawn(streamServeCommand(5001 + i)));
      await Promise.all(receivers.map((r) => r.waitForLine(/listening/)));
      senders.forEach((host, i) => processes.push(net.spawn(host, `${HOST_PYTHON} ${topologyFile('case-study/stream.py')} send --host ${vm!.ip} --port ${5001 + i} --rate 200000 --duration 3600 --linger 5`)));
      await Promise.all(receivers.map((r) => r.waitForLine(/accepted/)));
      say('two TCP streams of 0.2 MB/s into the guest');
    }
    const rows: Array<Restart & { downtimeMs: number | null }> = [];
    for (let i = 0; i < o.moves; i++) {
      await sleep(1500);
      const ping = net.spawn('ext', `ping -D -n -i ${(o.intervalMs / 1000).toFixed(3)} ${vm.ip}`);
      processes.push(ping);
      await sleep(500);
      const from = vm.attachment().port;
      const toPort = o.inPlace ? from : from === 10 ? 11 : 10;
      const times = o.inPlace
        ? { ...(await vm.pauseInPlace(o.pauseMs)), downtimeMs: null }
        : (await vm.migrate({ toBridge: net.bridge('s1'), toPort, lingerMs: 1000, stopMs: o.pauseMs })).times;
      await sleep(1000);
      await ping.kill();
      const restart = restartOf(echoReplies(ping.stdout), times.stoppedAt, times.resumedAt);
      rows.push({ ...restart, downtimeMs: times.downtimeMs });
      const ms = (v: number | null) => (v === null ? 'none' : `${v.toFixed(1)} ms`);
      say(`${o.inPlace ? 'pause' : 'move'} ${i + 1} s1:${from} -> s1:${toPort}: ${o.inPlace ? `paused ${(times.resumedAt - times.stoppedAt).toFixed(0)} ms in place` : `QEMU downtime ${times.downtimeMs} ms`}; last reply ${ms(restart.lastBeforeStopMs)} before the STOP, first reply ${ms(restart.firstAfterResumeMs)} after the RESUME`);
    }
    const firsts = rows.map((r) => r.firstAfterResumeMs).filter((v): v is number => v !== null);
    const summary = {
      bench: 'guest-restart', moves: rows.length, pauseMs: o.pauseMs, intervalMs: o.intervalMs, streams: o.streams, inPlace: o.inPlace,
      downtimeMs: median(rows.map((r) => r.downtimeMs).filter((v): v is number => v !== null)),
      firstReplyAfterResumeMs: { median: median(firsts), min: percentile(firsts, 0), max: percentile(firsts, 100), missing: rows.length - firsts.length },
    };
    say(`first echo reply after the RESUME: median ${summary.firstReplyAfterResumeMs.median?.toFixed(1)} ms (${summary.firstReplyAfterResumeMs.min?.toFixed(1)}-${summary.firstReplyAfterResumeMs.max?.toFixed(1)}), ${summary.downtimeMs === null ? 'paused in place (no migration, no QEMU downtime)' : `QEMU downtime median ${summary.downtimeMs} ms`}`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await Promise.all(processes.map((p) => p.kill().catch(() => undefined)));
    await vm?.stop();
    await net.stop();
  }
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`guest-restart failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
