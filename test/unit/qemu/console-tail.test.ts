import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleTail } from '../../../topologies/qemu/console-tail.js';

describe('qemu lab: consoleTail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-tail-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

  it('gives a dead guest kernel\'s first complaint and its call trace, not the register dump after it', () => {
    const path = file('bug.txt', [
      '[    9.500000] Run /init as init process',
      '[    9.513247] kernel BUG at lib/list_debug.c:59!',
      '[    9.517870] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
      '[    9.526312] RIP: 0010:__list_del_entry_valid.cold+0x37/0x6f',
      '[    9.569619]  <TASK>',
      '[    9.573323]  pick_next_task_fair+0x131/0x330',
      '[    9.575439]  __schedule+0x15d/0xa00',
      '[    9.588240] RIP: 0033:0x44ac79',
      '[    9.590000] R13: ffff888007a326b8 R14: ffff888007a31cc0',
    ].join('\n'));
    expect(consoleTail(path)).to.equal('kernel BUG at lib/list_debug.c:59! (call trace: pick_next_task_fair < __schedule)');
  });

  it('gives the last lines of a console with no complaint, and says so of one it cannot read', () => {
    expect(consoleTail(file('ok.txt', 'a\nb\nc\n'), 2)).to.equal('b | c');
    expect(consoleTail(join(dir, 'missing.txt'))).to.equal('(unreadable)');
  });
});
