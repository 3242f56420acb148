// Why a stream's receiver or sender left no result: how its process ended, or that it has not, and its
// last line on stderr (the soak's cnB receiver left none twice, with nothing to say why).

import { expect } from 'chai';
import { processState } from '../../../topologies/case-study/experiment.js';

describe('processState', () => {
  it('says a process is still running', () => {
    expect(processState({ exit: undefined, stderr: [] })).to.equal('still running');
  });

  it('gives the exit code or the signal that ended it', () => {
    expect(processState({ exit: { code: 1 }, stderr: [] })).to.equal('exited with code 1');
    expect(processState({ exit: { code: null, signal: 'SIGKILL' }, stderr: [] })).to.equal('ended by SIGKILL');
    expect(processState({ exit: { code: null }, stderr: [] })).to.equal('ended by a signal');
  });

  it('adds its last non-empty stderr line, cut to 200 characters', () => {
    const state = processState({ exit: { code: 1 }, stderr: ['Traceback (most recent call last):', `MemoryError: ${'x'.repeat(300)}`, '  '] });
    expect(state).to.match(/^exited with code 1; stderr: MemoryError: x+$/);
    expect(state.length).to.equal('exited with code 1; stderr: '.length + 200);
  });
});
