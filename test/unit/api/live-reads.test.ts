// LiveReads: one read in flight per switch and kind, shared by every client, answered from the
// last result for the cache window, ended by a rule change, never keeping a failure.

import { expect } from 'chai';
import { Registry } from 'prom-client';
import { LiveReads } from '../../../controller/api/live-reads.js';

/** A read the test settles by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

describe('LiveReads (shared flow/table stats reads)', () => {
  let t: number;
  let reads: LiveReads;
  let registry: Registry;
  const s1 = { dpidText: '0000000000000001' };
  const s2 = { dpidText: '0000000000000002' };
  const counted = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels.dpid, v.labels.kind, v.value]);

  beforeEach(() => {
    t = 1000;
    registry = new Registry();
    reads = new LiveReads({ ttlMs: 1000, now: () => t, metrics: registry });
  });

  it('shares one read in flight between every request for the same switch and kind', async () => {
    const pending = deferred<string[]>();
    let calls = 0;
    const read = () => { calls++; return pending.promise; };
    const answers = [reads.read(s1, 'flow_stats', read), reads.read(s1, 'flow_stats', read), reads.read(s1, 'flow_stats', read)];
    expect(calls).to.equal(1);
    pending.resolve(['rule']);
    expect(await Promise.all(answers)).to.deep.equal([['rule'], ['rule'], ['rule']]);
    expect(await counted('seamless_switch_stats_reads_total')).to.deep.equal([['0000000000000001', 'flow_stats', 1]]);
    expect(await counted('seamless_switch_stats_reads_shared_total')).to.deep.equal([['0000000000000001', 'flow_stats', 2]]);
  });

  it('answers from the last result for the cache window, then reads again', async () => {
    let calls = 0;
    const read = async () => ++calls;
    expect(await reads.read(s1, 'flow_stats', read)).to.equal(1);
    t += 999;
    expect(await reads.read(s1, 'flow_stats', read)).to.equal(1);
    t += 1;
    expect(await reads.read(s1, 'flow_stats', read)).to.equal(2);
    expect(calls).to.equal(2);
  });

  it('keeps switches and kinds apart', async () => {
    let calls = 0;
    const read = async () => ++calls;
    await reads.read(s1, 'flow_stats', read);
    await reads.read(s1, 'table_stats', read);
    await reads.read(s2, 'flow_stats', read);
    await reads.read(s1, 'flow_stats', read);
    expect(calls).to.equal(3);
  });

  it('a reconnected switch (a new connection with the same dpid) shares nothing with the old one', async () => {
    let calls = 0;
    const read = async () => ++calls;
    await reads.read(s1, 'flow_stats', read);
    await reads.read({ dpidText: s1.dpidText }, 'flow_stats', read);
    expect(calls).to.equal(2);
  });

  it('a rule change ends the window: the next request reads afresh, even while an older read is in flight', async () => {
    const old = deferred<string>();
    let calls = 0;
    const first = reads.read(s1, 'flow_stats', () => { calls++; return old.promise; });
    reads.invalidate(s1.dpidText);
    const second = reads.read(s1, 'flow_stats', async () => { calls++; return 'after the change'; });
    old.resolve('before the change');
    expect(await first).to.equal('before the change');
    expect(await second).to.equal('after the change');
    expect(await reads.read(s1, 'flow_stats', async () => { calls++; return 'never'; })).to.equal('after the change');
    expect(calls).to.equal(2);
  });

  it('shares a failure with the requests that waited for it, and keeps none', async () => {
    const pending = deferred<string>();
    const a = reads.read(s1, 'flow_stats', () => pending.promise);
    const b = reads.read(s1, 'flow_stats', () => pending.promise);
    pending.reject(new Error('switch did not answer'));
    for (const p of [a, b]) {
      try { await p; expect.fail('should reject'); } catch (error) { expect((error as Error).message).to.equal('switch did not answer'); }
    }
    expect(await reads.read(s1, 'flow_stats', async () => 'retried')).to.equal('retried');
  });

  it('forgets a switch that left: its entries and its counter series', async () => {
    await reads.read(s1, 'flow_stats', async () => 1);
    await reads.read(s2, 'flow_stats', async () => 1);
    reads.forget(s1.dpidText);
    expect(reads.size).to.equal(1);
    expect(await counted('seamless_switch_stats_reads_total')).to.deep.equal([['0000000000000002', 'flow_stats', 1]]);
  });
});
