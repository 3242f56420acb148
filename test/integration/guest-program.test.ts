// The lab guest's program (topologies/qemu/guest/, static, built by scripts/build-guest.sh) run on
// the host over loopback against the Python tools it stands in for: same wire pattern, same checks,
// same JSON. What holds here holds in the guest, where there is no Python.
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { AGENT_PYTHON, topologyFile } from '../../topologies/agent-channel.js';
import { ensureGuestImage } from '../../topologies/qemu/guest-image.js';

const run = promisify(execFile);
const STREAM = topologyFile('case-study/stream.py');
const PROBE = topologyFile('case-study/probe.py');
const UDP_STREAM = topologyFile('case-study/udp_stream.py');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A long-running program: its JSON lines as they come, and its exit. */
function start(command: string, args: string[]) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    waiters.splice(0).forEach((w) => w());
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  async function line(event: string): Promise<Record<string, unknown>> {
    for (;;) {
      const found = lines.find((l) => l.event === event);
      if (found) return found;
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited.then(() => { throw new Error(`${command} exited before "${event}"`); })]);
    }
  }
  return { child, lines, line, exited };
}

/** Send raw bytes to a receiver and close. */
async function sendBytes(port: number, bytes: Buffer): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  await new Promise<void>((resolve) => socket.end(bytes, () => resolve()));
}

function pattern(from: number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (from + i) % 251));
}

describe('seamless-guest (the guest program) against stream.py and probe.py', function () {
  this.timeout(60_000);
  let guest: string;

  before(async () => {
    guest = join((await ensureGuestImage()).dir, 'seamless-guest');
  });

  it('receives a stream.py stream and reports it as stream.py serve does (times on the monotonic clock)', async () => {
    const port = await freePort();
    const receiver = start(guest, ['stream', 'serve', '--port', String(port)]);
    await receiver.line('listening');
    const { stdout } = await run(AGENT_PYTHON, [STREAM, 'send', '--host', '127.0.0.1', '--port', String(port), '--rate', '2000000', '--duration', '1']);
    const sent = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    const done = await receiver.line('done');
    expect(sent).to.include({ event: 'done', error: null });
    expect(done).to.include({ role: 'receiver', bytes: sent.bytes, inOrder: true, firstBadOffset: null, error: null, clock: 'monotonic' });
    expect(Object.keys(done).sort()).to.deep.equal(['bytes', 'clock', 'counters', 'end', 'error', 'event', 'firstBadOffset', 'inOrder', 'role', 'start', 'timeline'].sort());
    const timeline = done.timeline as Array<[number, number]>;
    expect(timeline.length).to.be.greaterThan(100);
    // One point per millisecond (its first delivery), as stream.py records it.
    expect(timeline[timeline.length - 1]![1]).to.be.at.most(sent.bytes as number).and.above((sent.bytes as number) - 100_000);
    expect(timeline.every(([t], i) => i === 0 || t >= timeline[i - 1]![0])).to.equal(true);
    expect(await receiver.exited).to.equal(0);
  });

  it('finds a corrupt stream at the same offset as stream.py', async () => {
    const good = pattern(0, 70_000);
    const bad = Buffer.concat([good, Buffer.from([7, 7, 7]), pattern(70_003, 1000)]);
    const results = [];
    for (const [command, args] of [[guest, ['stream', 'serve']], [AGENT_PYTHON, [STREAM, 'serve']]] as const) {
      const port = await freePort();
      const receiver = start(command, [...args, '--port', String(port)]);
      await receiver.line('listening');
      await sendBytes(port, bad);
      const done = await receiver.line('done');
      results.push({ bytes: done.bytes, inOrder: done.inOrder, firstBadOffset: done.firstBadOffset, error: done.error });
    }
    // The first wrong byte, wherever recv() happened to cut the stream (both once named the chunk's start).
    expect(results[0]).to.include({ bytes: bad.length, inOrder: false, firstBadOffset: 70_000 });
    expect(results[0]).to.deep.equal(results[1]);
  });

  it('serves probe.py clients (TCP and UDP echo) and probes probe.py servers', async () => {
    const [tcpPort, udpPort, pyUdpPort, pyTcpPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const servers = [
      start(guest, ['probe', 'tcp-server', '--port', String(tcpPort)]),
      start(guest, ['probe', 'udp-server', '--port', String(udpPort)]),
      start(AGENT_PYTHON, [PROBE, 'udp-server', '--port', String(pyUdpPort)]),
      start(AGENT_PYTHON, [PROBE, 'tcp-server', '--port', String(pyTcpPort)]),
    ];
    try {
      await Promise.all(servers.map((s) => s.line('listening')));
      const clients: Array<[string, string[]]> = [
        [AGENT_PYTHON, [PROBE, 'tcp', '--host', '127.0.0.1', '--port', String(tcpPort)]],
        [AGENT_PYTHON, [PROBE, 'udp', '--host', '127.0.0.1', '--port', String(udpPort)]],
        [guest, ['probe', 'udp', '--host', '127.0.0.1', '--port', String(pyUdpPort)]],
        [guest, ['probe', 'tcp', '--host', '127.0.0.1', '--port', String(pyTcpPort)]],
      ];
      for (const [command, args] of clients) {
        const { stdout } = await run(command, args);
        expect(JSON.parse(stdout), `${command} ${args.join(' ')}`).to.include({ ok: true, peer: '127.0.0.1', error: null });
      }
      expect(servers[0]!.lines).to.deep.include({ event: 'served', peer: '127.0.0.1' });
      expect(servers[1]!.lines).to.deep.include({ event: 'served', peer: '127.0.0.1' });
    } finally {
      servers.forEach((s) => s.child.kill());
    }
  });

  it('reports a failed probe the way probe.py does: ok false, the error, exit status 1', async () => {
    const closed = await freePort();
    const failures = [];
    for (const [command, args] of [[guest, ['probe', 'tcp']], [AGENT_PYTHON, [PROBE, 'tcp']]] as const) {
      const result = await run(command, [...args, '--host', '127.0.0.1', '--port', String(closed)]).catch((e: { code: number; stdout: string }) => e);
      failures.push({ code: (result as { code?: number }).code, ...(JSON.parse(result.stdout) as object) });
    }
    expect(failures[0]).to.deep.equal({ code: 1, ok: false, error: 'ConnectionRefusedError: [Errno 111] Connection refused' });
    expect(failures[0]).to.deep.equal(failures[1]);
  });

  it('counts numbered datagrams as udp_stream.py serve does: losses with the send time before each, duplicates, reordering', async () => {
    const datagram = (seq: bigint, sentAt: number, size = 200) => {
      const b = Buffer.alloc(size);
      if (size >= 16) { b.writeBigUInt64BE(seq); b.writeDoubleBE(sentAt, 8); }
      return b;
    };
    // 0..10 with 3 and 7 lost, 5 twice, 8 before 6; then a runt and a number far beyond any count
    // (skipped: it must not make the guest allocate for it).
    const t0 = 1_796_000_000.125;
    const sends = [0, 1, 2, 4, 5, 5, 8, 6, 9, 10].map((q) => datagram(BigInt(q), t0 + q / 1000));
    sends.push(datagram(0n, 0, 10), datagram(1n << 62n, t0));
    const dir = mkdtempSync(join(tmpdir(), 'guest-udp-'));
    const receivers = [
      { name: 'udp_stream.py', out: join(dir, 'py.json'), proc: undefined as ReturnType<typeof start> | undefined, args: [AGENT_PYTHON, [UDP_STREAM, 'serve']] as const },
      { name: 'guest --out', out: join(dir, 'guest.json'), proc: undefined as ReturnType<typeof start> | undefined, args: [guest, ['udp', 'serve']] as const },
      { name: 'guest', out: undefined, proc: undefined as ReturnType<typeof start> | undefined, args: [guest, ['udp', 'serve']] as const },
    ];
    try {
      for (const r of receivers) {
        const port = await freePort();
        r.proc = start(r.args[0], [...r.args[1], '--port', String(port), ...(r.out === undefined ? [] : ['--out', r.out])]);
        await r.proc.line('listening');
        const socket = createSocket('udp4');
        for (const d of sends) await new Promise<void>((resolve, reject) => socket.send(d, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
        socket.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const results = [];
      for (const r of receivers) {
        r.proc!.child.kill('SIGTERM');
        const done = await r.proc!.line('done');
        expect(await r.proc!.exited, r.name).to.equal(0);
        results.push(r.out === undefined ? done : (JSON.parse(readFileSync(r.out, 'utf8')) as Record<string, unknown>));
      }
      expect(results[0]).to.deep.equal({
        event: 'done', received: 9, highest: 10, duplicates: 1, reordered: 1, missingCount: 2,
        missing: [[3, t0 + 0.002], [7, t0 + 0.006]],
      });
      expect(results[1], 'the guest with --out').to.deep.equal(results[0]);
      expect(results[2], 'the guest without --out: the whole result as its done line').to.deep.equal(results[0]);
    } finally {
      receivers.forEach((r) => r.proc?.child.kill('SIGKILL'));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad arguments with a usage message', async () => {
    const failure = (await run(guest, ['probe', 'tcp', '--host', 'not-an-ip']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(failure.code).to.equal(2);
    expect(failure.stderr).to.match(/usage: seamless-guest probe/);
    const port = (await run(guest, ['stream', 'serve', '--port', '70000']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(port.code).to.equal(2);
    expect(port.stderr).to.match(/--port needs an integer between 1 and 65535/);
  });
});
