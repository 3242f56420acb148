import FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { followMigrations, type QmpLike } from '../../../controller/host-agent/follow.js';
import type { MigrationSignal } from '../../../controller/host-agent/migration-signals.js';
import type { QmpEvent } from '../../../controller/host-agent/qmp.js';

/** A source QEMU whose migration goes through `total` bytes at `bytesPerMs` from its setup. */
class FakeSource implements QmpLike {
  readonly reads: number[] = [];
  private listener: ((e: QmpEvent) => void) | undefined;
  private startedAt = 0;
  constructor(private readonly total: number, private readonly bytesPerMs: number, private readonly failFirst = false) {}
  execute<T>(command: string): Promise<T> {
    if (command !== 'query-migrate') return Promise.reject(new Error(`unexpected ${command}`));
    this.reads.push(Date.now());
    if (this.failFirst && this.reads.length === 1) return Promise.reject(new Error('busy'));
    const remaining = Math.max(0, this.total - (Date.now() - this.startedAt) * this.bytesPerMs);
    return Promise.resolve({ status: 'active', ram: { total: this.total, remaining, 'dirty-sync-count': 1 } } as T);
  }
  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.listener = listener;
    return () => { this.listener = undefined; };
  }
  emit(event: string, data: Record<string, unknown> = {}): void {
    if (event === 'MIGRATION' && data.status === 'setup') this.startedAt = Date.now();
    this.listener?.({ event, data, at: Date.now() });
  }
}

describe('host-agent/follow', () => {
  let clock: ReturnType<typeof FakeTimers.install>;
  const sleep = (ms: number) => clock.tickAsync(ms);
  beforeEach(() => { clock = FakeTimers.install({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] }); });
  afterEach(() => clock.uninstall());

  it('reads the progress only while the migration copies memory, and says converging about the lead before the end of the first pass', async () => {
    const source = new FakeSource(1000, 1); // 1 s for the first pass
    const signals: Array<MigrationSignal & { readonly seen: number }> = [];
    const stop = followMigrations(source, (s) => signals.push({ ...s, seen: Date.now() }), { copyLeadMs: 300, pollMs: 20 });
    await sleep(50);
    expect(source.reads, 'no migration, no reads').to.have.length(0);
    const t0 = Date.now();
    source.emit('MIGRATION', { status: 'setup' });
    await sleep(1000);
    const converging = signals.find((s) => s.kind === 'converging');
    expect(converging, 'converging said').to.not.equal(undefined);
    // 700 ms after the setup (1 s pass, 300 ms lead), at one poll's precision.
    expect(converging!.seen - t0).to.be.within(700, 720);
    const readsAtConvergence = source.reads.length;
    expect(readsAtConvergence).to.equal(35);
    await sleep(100);
    expect(source.reads.length, 'no more reads once converging was said').to.equal(readsAtConvergence);
    source.emit('STOP');
    source.emit('MIGRATION', { status: 'completed' });
    expect(signals.map((s) => s.kind)).to.deep.equal(['migrating', 'converging', 'stopping', 'resumed']);
    stop();
  });

  it('keeps reading after a failed read, and stops reading when told to stop following', async () => {
    const source = new FakeSource(1_000_000, 1, true);
    const signals: string[] = [];
    const stop = followMigrations(source, (s) => signals.push(s.kind), { copyLeadMs: 300, pollMs: 10 });
    source.emit('MIGRATION', { status: 'setup' });
    await sleep(100);
    expect(source.reads.length).to.be.greaterThan(2);
    stop();
    const reads = source.reads.length;
    await sleep(60);
    expect(source.reads.length).to.be.at.most(reads + 1);
    source.emit('STOP');
    expect(signals).to.deep.equal(['migrating']);
  });
});
