// The host agent's open virsh shell (controller/host-agent/virsh.ts) against real virsh, on
// libvirt's built-in test driver (test:///default: one running domain "test", no daemon).

import { expect } from 'chai';
import { macsFromIfList, memoryFromDomInfo, virshWord } from '../../controller/host-agent/libvirt-events.js';
import { VirshShell } from '../../controller/host-agent/virsh.js';
import { waitUntil } from '../lib/wait.js';

describe('integration: the host agent\'s virsh shell (real virsh, libvirt\'s test driver)', () => {
  it('answers each command with its own output, in order, many on one shell', async () => {
    const shell = new VirshShell('test:///default');
    try {
      const answers = await Promise.all([shell.run('domiflist test'), shell.run('list --all --name'), shell.run(`domiflist ${virshWord('test')}`), shell.run('echo __seamless_9__x')]);
      expect(macsFromIfList(answers[0]!)).to.deep.equal(['aa:bb:cc:dd:ee:ff']);
      expect(answers[1]!.trim()).to.equal('test');
      expect(answers[2], 'a quoted name').to.equal(answers[0]);
      expect(answers[3]!.trim(), 'another marker-like text is output, not a marker').to.equal('__seamless_9__x');
      expect(answers.join('')).to.not.include('virsh #');
      expect(memoryFromDomInfo(await shell.run('dominfo test')), 'the test driver\'s domain: 8 GiB').to.equal(8 * 2 ** 30);
      const many = await Promise.all(Array.from({ length: 50 }, (_, i) => shell.run(`echo ${i}`)));
      expect(many.map((a) => a.trim())).to.deep.equal(Array.from({ length: 50 }, (_, i) => String(i)));
    } finally {
      shell.close();
    }
  });

  it('gives an error\'s output as empty, and keeps the shell for the next command', async () => {
    const shell = new VirshShell('test:///default');
    try {
      expect((await shell.run(`domiflist ${virshWord("no such 'domain'")}`)).trim()).to.equal('');
      // stderr is its own pipe: the message may come after the answer.
      await waitUntil(() => /failed to get domain 'no such 'domain''/.test(shell.lastError), { timeoutMs: 2000, intervalMs: 10, what: `virsh's error message (last: ${JSON.stringify(shell.lastError)})` });
      expect(macsFromIfList(await shell.run('domiflist test'))).to.deep.equal(['aa:bb:cc:dd:ee:ff']);
      // A hostile name is one word: the test driver's domain still runs on this connection.
      expect((await shell.run(`domiflist ${virshWord("x'; destroy test; echo '")}`)).trim()).to.equal('');
      expect((await shell.run('list --state-running --name')).trim()).to.equal('test');
      await shell.run('echo a\nlist').then(() => expect.fail('two lines taken'), (e: Error) => expect(e.message).to.match(/one line per command/));
    } finally {
      shell.close();
    }
  });

  it('rejects what waits when virsh cannot connect, and when it is closed', async () => {
    const shell = new VirshShell('qemu:///system?socket=/nonexistent/libvirt-sock', 5000);
    const started = Date.now();
    await shell.run('list').then(() => expect.fail('answered'), (e: Error) => expect(e.message).to.match(/virsh exited|no answer/));
    expect(Date.now() - started, 'at once, not at the timeout').to.be.below(4000);
    shell.close();
    await shell.run('list').then(() => expect.fail('answered'), (e: Error) => expect(e.message).to.match(/closed/));
  });
});
