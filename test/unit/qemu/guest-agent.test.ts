// The host end of the guest agent against fake guests on unix sockets: requests, answers, streamed
// output, and the move from the source QEMU's socket to the destination's during a migration.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { GuestAgent, GuestAgentError, LineSplitter, encodeAgentRequest, parseAgentLine } from '../../../topologies/qemu/guest-agent.js';

/** A guest's side of the port: records request lines, answers through `onRequest`. */
class FakeGuest {
  readonly received: string[] = [];
  socket: Socket | undefined;
  private readonly server: Server;
  private readonly connected: Promise<Socket>;

  constructor(
    readonly path: string,
    private readonly onRequest: (line: string, guest: FakeGuest) => void,
    greet: boolean,
  ) {
    let connected!: (s: Socket) => void;
    this.connected = new Promise((resolve) => (connected = resolve));
    this.server = createServer((socket) => {
      this.socket = socket;
      socket.setEncoding('utf8');
      const lines = new LineSplitter();
      socket.on('data', (chunk: string) => lines.push(chunk).forEach((l) => {
        this.received.push(l);
        this.onRequest(l, this);
      }));
      if (greet) socket.write('{"event": "ready", "version": 1}\n');
      connected(socket);
    });
  }

  listen(): Promise<this> {
    return new Promise((resolve) => this.server.listen(this.path, () => resolve(this)));
  }

  whenConnected(): Promise<Socket> {
    return this.connected;
  }

  write(text: string): void {
    this.socket!.write(text);
  }

  close(): Promise<void> {
    this.socket?.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Answers spawn with handle = request id, runs "echo X" / "exit N" / "sleep", answers clock. */
function shell(line: string, guest: FakeGuest): void {
  const [op, id, ...rest] = line.split(' ');
  const command = rest.join(' ');
  if (op === 'clock') return guest.write(`{"id": ${id}, "ok": true, "monotonicUs": 5000000, "realtimeUs": 1}\n`);
  if (op === 'kill') {
    const [handle, signal] = rest;
    guest.write(`{"id": ${id}, "ok": true, "alive": true}\n`);
    return guest.write(`{"event": "exit", "handle": ${handle}, "code": null, "signal": "${signal === '9' ? 'SIGKILL' : 'SIGTERM'}"}\n`);
  }
  if (op !== 'spawn') return guest.write(`{"id": ${id}, "ok": false, "error": "unknown request"}\n`);
  guest.write(`{"id": ${id}, "ok": true, "handle": ${id}, "pid": 100}\n`);
  const echo = /^echo (.*)$/.exec(command);
  if (echo) {
    guest.write(`{"event": "line", "handle": ${id}, "stream": "stdout", "line": ${JSON.stringify(echo[1])}}\n`);
    guest.write(`{"event": "exit", "handle": ${id}, "code": 0}\n`);
  }
  const exit = /^exit (\d+)$/.exec(command);
  if (exit) {
    guest.write(`{"event": "line", "handle": ${id}, "stream": "stderr", "line": "failing"}\n`);
    guest.write(`{"event": "exit", "handle": ${id}, "code": ${exit[1]}}\n`);
  }
}

describe('guest agent protocol', () => {
  it('encodes requests and refuses commands that would end the line early', () => {
    expect(encodeAgentRequest('spawn', 3, 'ping -c 1 10.0.1.20')).to.equal('spawn 3 ping -c 1 10.0.1.20\n');
    expect(encodeAgentRequest('clock', 4)).to.equal('clock 4\n');
    expect(() => encodeAgentRequest('spawn', 5, 'true\nreboot')).to.throw(GuestAgentError, /line breaks/);
  });

  it('parses answers and events, and reports anything else as invalid', () => {
    expect(parseAgentLine('{"id": 1, "ok": true, "handle": 3, "pid": 120}')).to.deep.include({ kind: 'answer', id: 1, ok: true });
    expect(parseAgentLine('{"id": 2, "ok": false, "error": "too many"}')).to.deep.equal({ kind: 'answer', id: 2, ok: false, error: 'too many' });
    expect(parseAgentLine('{"event": "line", "handle": 3, "stream": "stderr", "line": "x"}')).to.deep.equal({ kind: 'line', handle: 3, stream: 'stderr', line: 'x' });
    expect(parseAgentLine('{"event": "exit", "handle": 3, "code": 2}')).to.deep.equal({ kind: 'exit', handle: 3, exit: { code: 2 } });
    expect(parseAgentLine('{"event": "exit", "handle": 3, "code": null, "signal": "SIGTERM"}')).to.deep.equal({ kind: 'exit', handle: 3, exit: { code: null, signal: 'SIGTERM' } });
    expect(parseAgentLine('{"event": "ready", "version": 1}')).to.deep.equal({ kind: 'ready' });
    expect(parseAgentLine('garbage').kind).to.equal('invalid');
    expect(parseAgentLine('{"event": "other"}').kind).to.equal('invalid');
  });

  it('splits lines across chunks', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('a\nb')).to.deep.equal(['a']);
    expect(splitter.push('c\n\nd')).to.deep.equal(['bc', '']);
    expect(splitter.push('\n')).to.deep.equal(['d']);
  });
});

describe('GuestAgent against a fake guest', function () {
  this.timeout(10_000);
  let dir: string;
  const guests: FakeGuest[] = [];
  let agent: GuestAgent | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-test-'));
  });

  afterEach(async () => {
    agent?.close();
    agent = undefined;
    await Promise.all(guests.splice(0).map((g) => g.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function guest(name: string, greet = true): Promise<FakeGuest> {
    const g = await new FakeGuest(join(dir, name), shell, greet).listen();
    guests.push(g);
    return g;
  }

  it('waits for the guest to be ready, then runs commands with their output and exit code', async () => {
    const g = await guest('a.sock');
    agent = await GuestAgent.connect(g.path, 'vm', 2000);
    expect(await agent.cmd('echo hello')).to.deep.equal({ stdout: 'hello\n', stderr: '', code: 0 });
    expect(await agent.cmd('exit 3')).to.deep.equal({ stdout: '', stderr: 'failing\n', code: 3 });
    expect(String(await agent.check('exit 4').catch((e: unknown) => e))).to.match(/vm: "exit 4" exited 4: failing/);
    expect((await agent.clock()).guestMs).to.equal(5000);
  });

  it('a guest that stops answering (its kernel died, QEMU runs on) fails a clock sample in bounded time, and the agent goes on', async () => {
    let mute = true;
    const g = await new FakeGuest(join(dir, 'mute.sock'), (line, guest) => { if (!(mute && line.startsWith('clock'))) shell(line, guest); }, true).listen();
    guests.push(g);
    agent = await GuestAgent.connect(g.path, 'vm', 2000);
    const failure = await agent.clock(200).catch((e: unknown) => e);
    expect(String(failure)).to.match(/vm: clock: no answer within 200 ms \(the guest hung\?\)/);
    mute = false;
    expect((await agent.clock(200)).guestMs, 'a later sample').to.equal(5000);
  });

  it('fails clearly when the guest agent never says it is ready', async () => {
    const g = await guest('silent.sock', false);
    const failure = await GuestAgent.connect(g.path, 'vm', 300).catch((e: unknown) => e);
    expect(String(failure)).to.match(/vm: the guest agent did not start within 300 ms/);
  });

  it('kills a command that runs past its timeout and says so', async () => {
    const g = await guest('b.sock');
    agent = await GuestAgent.connect(g.path, 'vm', 2000);
    const failure = await agent.cmd('sleep 60', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(String(failure)).to.match(/vm: "sleep 60" timed out after 200 ms/);
    expect(g.received).to.deep.equal(['spawn 1 sleep 60', 'kill 2 1 9']);
  });

  it('moves to the destination socket without losing, reordering or misdirecting anything', async () => {
    const source = await guest('source.sock');
    const destination = await guest('destination.sock', false); // a migrated guest does not greet again
    agent = await GuestAgent.connect(source.path, 'vm', 2000);
    const stream = agent.spawn('stream');
    await stream.ready();
    source.write('{"event": "line", "handle": 1, "stream": "stdout", "line": "before"}\n');
    await stream.waitForLine(/before/);

    agent.hold(); // the VM is in flight: this request must reach the guest where it lands
    const held = agent.spawn('echo after');
    // The source's last bytes end mid-line; the destination's first bytes finish it.
    source.write('{"event": "line", "handle": 1, "stream": "stdout", "li');
    const switched = agent.switchTo(destination.path);
    (await destination.whenConnected()).write('ne": "across"}\n');
    await switched;

    expect(await stream.waitForLine(/across/)).to.equal('across');
    expect(stream.stdout).to.deep.equal(['before', 'across']);
    expect((await held.wait(2000)).code).to.equal(0);
    expect(held.stdout).to.deep.equal(['after']);
    expect(source.received).to.deep.equal(['spawn 1 stream']);
    expect(destination.received).to.deep.equal(['spawn 2 echo after']);
  });

  it('sends held requests to the source again when the migration failed', async () => {
    const source = await guest('source2.sock');
    agent = await GuestAgent.connect(source.path, 'vm', 2000);
    agent.hold();
    const pending = agent.cmd('echo still-here');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(source.received).to.deep.equal([]);
    agent.release();
    expect((await pending).stdout).to.equal('still-here\n');
  });

  it('ends its commands and refuses new ones when the socket closes unexpectedly (QEMU died)', async () => {
    const g = await guest('c.sock');
    agent = await GuestAgent.connect(g.path, 'vm', 2000);
    const proc = agent.spawn('sleep 60');
    await proc.ready();
    g.socket!.destroy();
    expect(await proc.wait(2000)).to.deep.equal({ code: null, signal: 'guest agent lost' });
    expect(String(await agent.cmd('echo x').catch((e: unknown) => e))).to.match(/control socket closed/);
  });
});
