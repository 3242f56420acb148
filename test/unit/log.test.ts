import { expect } from 'chai';
import { createLogger, type LogFormat, type LogLevel } from '../../controller/log.js';

describe('log', () => {
  const clock = () => new Date('2024-05-01T10:00:00.000Z');
  function capture(level: LogLevel, format: LogFormat = 'json') {
    const lines: string[] = [];
    return { lines, log: createLogger({ level, format, clock, sink: (line) => lines.push(line) }) };
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
  });

  it('binds fields in child loggers, the call site winning', () => {
    const { lines, log } = capture('debug');
    const child = log.child({ dpid: 'aa', component: 'switch' });
    child.debug('hello', { component: 'handshake', xid: 7 });
    expect(JSON.parse(lines[0]!)).to.include({ dpid: 'aa', component: 'handshake', xid: 7 });
  });

  it('keeps reserved keys from being overwritten and serialises errors', () => {
    const { lines, log } = capture('info');
    log.error('boom', { msg: 'inner', error: new Error('bad thing') });
    const record = JSON.parse(lines[0]!);
    expect(record.msg).to.equal('boom');
    expect(record.field_msg).to.equal('inner');
    expect(record.error).to.include({ name: 'Error', message: 'bad thing' });
  });

  it('prints a plain readable line without colours', () => {
    const { lines, log } = capture('info', 'pretty');
    log.warn('echo timeout', { dpid: '0000000000000002', reason: 'no reply', n: 2 });
    expect(lines[0]).to.equal('2024-05-01T10:00:00.000Z WARN  echo timeout dpid=0000000000000002 reason="no reply" n=2');
    expect(lines[0]).to.not.match(/\x1b\[/);
  });

  it('is silent at level silent', () => {
    const { lines, log } = capture('silent');
    log.fatal('nothing');
    expect(lines).to.deep.equal([]);
  });
});
