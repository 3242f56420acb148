import { expect } from 'chai';
import { QmpFramer, classifyQmp, encodeQmpCommand, timestampMs } from '../../../controller/host-agent/qmp.js';

// Lines as QEMU 7.2 sends them (CRLF-terminated), captured from a lab guest's migration.
const GREETING = '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18"}, "capabilities": ["oob"]}}\r\n';
const STOP = '{"timestamp": {"seconds": 1795979499, "microseconds": 744759}, "event": "STOP"}\r\n';
const MIGRATION = '{"timestamp": {"seconds": 1795979499, "microseconds": 752773}, "event": "MIGRATION", "data": {"status": "completed"}}\r\n';
const RETURN = '{"return": {"status": "completed", "downtime": 9, "total-time": 530}, "id": 7}\r\n';
const ERROR = '{"id": 8, "error": {"class": "GenericError", "desc": "There\'s a migration process in progress"}}\r\n';

describe('QMP framing and messages', () => {
  it('classifies the greeting, returns, errors and events', () => {
    const framer = new QmpFramer();
    const messages = framer.push(GREETING + STOP + MIGRATION + RETURN + ERROR);
    expect(messages.map((m) => m.kind)).to.deep.equal(['greeting', 'event', 'event', 'return', 'error']);
    expect(messages[1]).to.deep.equal({ kind: 'event', event: { event: 'STOP', data: {}, at: 1795979499744.759 } });
    expect(messages[2]).to.deep.include({ kind: 'event', event: { event: 'MIGRATION', data: { status: 'completed' }, at: 1795979499752.773 } });
    expect(messages[3]).to.deep.equal({ kind: 'return', id: 7, value: { status: 'completed', downtime: 9, 'total-time': 530 } });
    expect(messages[4]).to.deep.equal({ kind: 'error', id: 8, errorClass: 'GenericError', desc: "There's a migration process in progress" });
  });

  it('cuts messages split at every byte offset the same way', () => {
    const stream = GREETING + STOP + RETURN;
    const whole = new QmpFramer().push(stream);
    for (let cut = 1; cut < stream.length; cut++) {
      const framer = new QmpFramer();
      expect([...framer.push(stream.slice(0, cut)), ...framer.push(stream.slice(cut))], `cut at ${cut}`).to.deep.equal(whole);
    }
  });

  it('reports garbage and unknown objects as invalid without throwing, and keeps going', () => {
    const messages = new QmpFramer().push('not json\n[1,2]\n{"foo": 1}\n' + STOP);
    expect(messages.map((m) => m.kind)).to.deep.equal(['invalid', 'invalid', 'invalid', 'event']);
    expect(classifyQmp(null)).to.include({ kind: 'invalid' });
  });

  it('bounds a line that never ends', () => {
    const framer = new QmpFramer(1000);
    expect(framer.push('x'.repeat(999))).to.deep.equal([]);
    expect(framer.push('xx')).to.deep.equal([{ kind: 'invalid', reason: 'line longer than 1000 bytes' }]);
    expect(framer.push(STOP).map((m) => m.kind)).to.deep.equal(['event']);
  });

  it('encodes commands with and without arguments', () => {
    expect(encodeQmpCommand(1, 'qmp_capabilities')).to.equal('{"execute":"qmp_capabilities","id":1}\n');
    expect(JSON.parse(encodeQmpCommand(2, 'migrate', { uri: 'tcp:127.0.0.1:4444' }))).to.deep.equal({ execute: 'migrate', arguments: { uri: 'tcp:127.0.0.1:4444' }, id: 2 });
  });

  it('turns QMP timestamps into epoch milliseconds', () => {
    expect(timestampMs({ seconds: 2, microseconds: 500 })).to.equal(2000.5);
  });
});
