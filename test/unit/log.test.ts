import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { createLogger, peerText, RateLimitedLog, safeFields, type LogFormat, type LogLevel } from '../../controller/log.js';

describe('log', () => {
  const clock = () => new Date('2024-05-01T10:00:00.000Z');
  function capture(level: LogLevel, format: LogFormat = 'json') {
    const lines: string[] = [];
    return { lines, log: createLogger({ level, format, clock, colorize: false, sink: (line) => lines.push(line) }) };
  }

  it('writes one JSON object per line with time, level, msg and fields', () => {
    const { lines, log } = capture('info');
    log.info('switch up', { dpid: '0000000000000001', ports: 3, id: 5n });
    expect(lines).to.have.length(1);
    expect(JSON.parse(lines[0]!)).to.deep.equal({
      time: '2024-05-01T10:00:00.000Z', level: 'info', msg: 'switch up', dpid: '0000000000000001', ports: 3, id: '5',
    });
  });

  it('drops lines below the level without touching their fields', () => {
    const { lines, log } = capture('warn');
    let touched = false;
    const fields = { get costly() { touched = true; return 1; } };
    log.debug('noise', fields);
    log.info('noise', fields);
    log.warn('kept');
    expect(lines.map((l) => JSON.parse(l).msg)).to.deep.equal(['kept']);
    expect(touched).to.equal(false);
    expect(log.isLevelEnabled('debug')).to.equal(false);
    expect(log.isLevelEnabled('error')).to.equal(true);
    expect(log.level).to.equal('warn');
  });

  it('binds fields in child loggers, the call site winning', () => {
    const { lines, log } = capture('debug');
    const child = log.child({ dpid: 'aa', component: 'switch' });
    child.debug('hello', { component: 'handshake', xid: 7 });
    child.child({ dpid: 'bb' }).info('grandchild');
    expect(JSON.parse(lines[0]!)).to.include({ dpid: 'aa', component: 'handshake', xid: 7 });
    expect(JSON.parse(lines[1]!)).to.include({ dpid: 'bb', component: 'switch' });
  });

  it('keeps reserved keys from being overwritten and serialises errors with their cause', () => {
    const { lines, log } = capture('info');
    log.error('boom', { msg: 'inner', level: 'x', error: new Error('bad thing', { cause: new Error('root') }) });
    const record = JSON.parse(lines[0]!);
    expect(record.msg).to.equal('boom');
    expect(record.level).to.equal('error');
    expect(record.field_msg).to.equal('inner');
    expect(record.field_level).to.equal('x');
    expect(record.error).to.include({ name: 'Error', message: 'bad thing' });
    expect(record.error.cause).to.include({ message: 'root' });
  });

  it('logs a cyclic field instead of throwing out of the call', () => {
    const { lines, log } = capture('info');
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const shared = { x: 1 };
    expect(() => log.info('cycle', { a, pair: [shared, shared] })).to.not.throw();
    const record = JSON.parse(lines[0]!);
    expect(record.a).to.deep.equal({ name: 'a', self: '[Circular]' });
    expect(record.pair).to.deep.equal([{ x: 1 }, { x: 1 }]); // the same object twice is no cycle
  });

  it('logs Buffers as hex, cut after 256 bytes, not as arrays of numbers', () => {
    const { lines, log } = capture('info');
    log.info('frame', { small: Buffer.from([0x04, 0x0a, 0xff]), big: Buffer.alloc(1000, 0xab), view: new Uint8Array([1, 2]) });
    const record = JSON.parse(lines[0]!);
    expect(record.small).to.equal('040aff');
    expect(record.view).to.equal('0102');
    expect(record.big).to.equal(`${'ab'.repeat(256)}... (1000 bytes)`);
  });

  it('turns Maps, Sets and nested bigints into JSON', () => {
    expect(safeFields({ m: new Map([[1n, { n: 2n }]]), s: new Set([3n]) })).to.deep.equal({ m: { 1: { n: '2' } }, s: ['3'] });
  });

  it('prints one readable line with pino-pretty, without colours when asked', () => {
    const { lines, log } = capture('info', 'pretty');
    log.warn('echo timeout', { dpid: '0000000000000002', reason: 'no reply', n: 2 });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^\[2024-05-01.*\] WARN: echo timeout \{"dpid":"0000000000000002","reason":"no reply","n":2\}$/);
    expect(lines[0]).to.not.match(/\x1b\[/);
  });

  it('is silent at level silent', () => {
    const { lines, log } = capture('silent');
    log.fatal('nothing');
    expect(lines).to.deep.equal([]);
  });

  it('writes asynchronously to stdout and flushes what is buffered on exit', function () {
    this.timeout(20_000);
    const script = [
      "import { createLogger } from './controller/log.ts';",
      "const log = createLogger({ level: 'info', format: 'json' });",
      "process.on('exit', () => log.flush());",
      "for (let i = 0; i < 2000; i++) log.info('line', { i });",
      'process.exit(0);',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(run.status, run.stderr).to.equal(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).to.have.length(2000);
    expect(JSON.parse(lines[1999]!)).to.include({ msg: 'line', i: 1999 });
  });

  describe('peerText', () => {
    it('escapes control characters and bidirectional overrides', () => {
      expect(peerText('ok\n\x1b[31mred\x00\u202eevil\\')).to.equal('ok\\x0a\\x1b[31mred\\x00\\u202eevil\\\\');
    });

    it('cuts long text and says how much was left out', () => {
      expect(peerText('x'.repeat(300))).to.equal(`${'x'.repeat(256)}...(+44 chars)`);
      expect(peerText('abcdef', 3)).to.equal('abc...(+3 chars)');
      expect(peerText('plain text')).to.equal('plain text');
    });
  });

  describe('RateLimitedLog', () => {
    it('writes a burst per key and window, then counts, then says how many it held back', () => {
      const { lines, log } = capture('info');
      let now = 0;
      const limited = new RateLimitedLog(log, { burst: 2, windowMs: 1000, now: () => now });
      for (let i = 0; i < 5; i++) limited.warn('peer-1', 'undecodable message', { i });
      limited.warn('peer-2', 'undecodable message', { i: 0 });
      expect(lines.map((l) => JSON.parse(l).i)).to.deep.equal([0, 1, 0]);
      expect(limited.suppressedTotal).to.equal(3);
      now = 1000;
      expect(limited.warn('peer-1', 'undecodable message', { i: 5 })).to.equal(true);
      expect(JSON.parse(lines[3]!)).to.include({ i: 5, suppressed: 3, level: 'warn' });
    });

    it('remembers a bounded number of keys', () => {
      const { lines, log } = capture('info');
      const limited = new RateLimitedLog(log, { burst: 1, maxKeys: 2, now: () => 0 });
      limited.info('a', 'x');
      limited.info('b', 'x');
      limited.info('c', 'x'); // forgets a
      limited.info('a', 'x'); // a is new again
      limited.info('c', 'x'); // c is over its budget
      expect(lines).to.have.length(4);
    });

    it('costs nothing below the level', () => {
      const { lines, log } = capture('error');
      const limited = new RateLimitedLog(log, { burst: 1 });
      expect(limited.warn('a', 'x')).to.equal(false);
      expect(limited.suppressedTotal).to.equal(0);
      expect(lines).to.deep.equal([]);
    });
  });
});
