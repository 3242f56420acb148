import { expect } from 'chai';
import { WaitTimeoutError, waitFor, waitUntil } from '../../lib/wait.js';

describe('test/lib/wait', () => {
  it('resolves as soon as the predicate holds', async () => {
    let calls = 0;
    await waitUntil(() => ++calls === 3, { intervalMs: 1 });
    expect(calls).to.equal(3);
  });

  it('accepts async predicates', async () => {
    let calls = 0;
    await waitUntil(async () => ++calls >= 2, { intervalMs: 1 });
    expect(calls).to.equal(2);
  });

  it('names what it waited for when it times out, with the last failure', async () => {
    const error = await waitUntil(
      () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 30, intervalMs: 5, what: 'the controller to listen' },
    ).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(WaitTimeoutError);
    expect(String(error)).to.match(/timed out after 30 ms waiting for the controller to listen/);
    expect(String(error)).to.contain('connection refused');
  });

  it('evaluates the predicate once even with a zero timeout', async () => {
    let calls = 0;
    await waitUntil(() => ++calls > 0, { timeoutMs: 0 });
    expect(calls).to.equal(1);
    const error = await waitUntil(() => false, { timeoutMs: 0 }).catch((e: unknown) => e);
    expect(String(error)).to.match(/waiting for a condition$/);
  });

  it('waitFor returns the first defined value', async () => {
    const values = [undefined, undefined, 7];
    expect(await waitFor(() => values.shift(), { intervalMs: 1 })).to.equal(7);
  });
});
