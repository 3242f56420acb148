// The controller's scheduling priority (controller/priority.ts): taken, kept, or refused by the
// system with a warning that says what it means.

import { expect } from 'chai';
import { applyPriority } from '../../controller/priority.js';
import { createLogger } from '../../controller/log.js';

describe('scheduling priority', () => {
  function captureLogger() {
    const text: string[] = [];
    const log = createLogger({ level: 'info', format: 'json', colorize: false, sink: (line) => text.push(line) });
    return { log, get lines(): Record<string, unknown>[] { return text.map((l) => JSON.parse(l) as Record<string, unknown>); } };
  }
  function fakeOs(start: number, refuse?: string) {
    let nice = start;
    const calls: number[] = [];
    return {
      calls,
      os: {
        get: () => nice,
        set: (n: number) => { calls.push(n); if (refuse !== undefined) throw new Error(refuse); nice = n; },
      },
    };
  }

  it('takes the configured nice value and logs it', () => {
    const logged = captureLogger();
    const { log } = logged;
    const { os, calls } = fakeOs(0);
    expect(applyPriority(-10, log, os)).to.deep.equal({ nice: -10 });
    expect(calls).to.deep.equal([-10]);
    expect(logged.lines.find((l) => l.msg === 'scheduling priority set')).to.deep.include({ nice: -10, was: 0 });
  });

  it('keeps the one it was started with when told to, or when it has it already', () => {
    const { log } = captureLogger();
    const a = fakeOs(5);
    expect(applyPriority('keep', log, a.os)).to.deep.equal({ nice: 5 });
    const b = fakeOs(-10);
    expect(applyPriority(-10, log, b.os)).to.deep.equal({ nice: -10 });
    expect([...a.calls, ...b.calls]).to.deep.equal([]);
  });

  it('refused (no root, no CAP_SYS_NICE), it goes on at the priority it has and warns why that matters', () => {
    const logged = captureLogger();
    const { log } = logged;
    const { os } = fakeOs(0, 'EACCES: permission denied');
    expect(applyPriority(-10, log, os)).to.deep.equal({ nice: 0, problem: 'EACCES: permission denied' });
    const warning = logged.lines.find((l) => l.level === 'warn');
    expect(warning?.msg as string).to.match(/competes with Open vSwitch/);
    expect(warning).to.deep.include({ wanted: -10, nice: 0 });
  });
});
