import FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { followMigrations, followSource, qmpSource, type QmpLike } from '../../../controller/host-agent/follow.js';
import type { MigrationSignal } from '../../../controller/host-agent/migration-signals.js';
import type { QmpEvent } from '../../../controller/host-agent/qmp.js';

/** A source QEMU whose migration goes through `total` bytes at `bytesPerMs` from its setup. */
class FakeSource implements QmpLike {
  readonly reads: number[] = [];
  private listener: ((e: QmpEvent) => void) | undefined;
  private startedAt = 0;
  statusReads = 0;
  constructor(
    private readonly total: number,
    private readonly bytesPerMs: number,
    private readonly failFirst = false,
    /** What query-status answers (after `statusDelayMs`); null: it fails. */
    private readonly status: string | null = 'running',
    private readonly statusDelayMs = 0,
  ) {}
  execute<T>(command: string): Promise<T> {
    if (command === 'query-status') {
      this.statusReads++;
      const answer = this.status;
      return new Promise((resolve, reject) => setTimeout(() => (answer === null ? reject(new Error('no answer')) : resolve({ status: answer, running: answer === 'running' } as T)), this.statusDelayMs));
    }
    if (command === 'query-memory-size-summary') return Promise.resolve({ 'base-memory': this.total } as T);
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
    const stop = followMigrations(source, (s) => signals.push({ ...s, seen: Date.now() }), { copyLeadMs: 300, fastPassBytesPerMs: 0, pollMs: 20 });
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
    const stop = followMigrations(source, (s) => signals.push(s.kind), { copyLeadMs: 300, fastPassBytesPerMs: 0, pollMs: 10 });
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

  it('follows a destination (inmigrate) from its RESUME on: its incoming migration says nothing, not even events that came before its run state', async () => {
    const destination = new FakeSource(1000, 1, false, 'inmigrate', 30);
    const signals: string[] = [];
    const stop = followMigrations(destination, (s) => signals.push(s.kind), { copyLeadMs: 300, fastPassBytesPerMs: 0, pollMs: 10 });
    destination.emit('MIGRATION', { status: 'setup' }); // before the run state is known: held until it is
    await sleep(40);
    destination.emit('MIGRATION', { status: 'active' });
    await sleep(200);
    expect(destination.reads, 'no progress read on a destination').to.have.length(0);
    destination.emit('RESUME');
    destination.emit('MIGRATION', { status: 'completed' });
    expect(signals, 'nothing from the incoming migration').to.deep.equal([]);
    destination.emit('MIGRATION', { status: 'setup' });
    await sleep(1000);
    destination.emit('STOP');
    destination.emit('MIGRATION', { status: 'completed' });
    expect(signals, 'the next migration, as its source').to.deep.equal(['migrating', 'converging', 'stopping', 'resumed']);
    expect(destination.statusReads).to.equal(1);
    stop();
  });

  it('a VM whose memory the first pass may go through within the lead (query-memory-size-summary) says converging with migrating', async () => {
    for (const [total, expected] of [[128 << 20, ['migrating@0', 'converging@0']], [1024 << 20, ['migrating@0']]] as const) {
      const source = new FakeSource(total, 100_000); // 100 MB/s
      const signals: string[] = [];
      const stop = followMigrations(source, (s) => signals.push(`${s.kind}@${s.at - Date.now()}`), { copyLeadMs: 250 }); // 500 MB at 2 GB/s
      await sleep(1);
      source.emit('MIGRATION', { status: 'setup' });
      expect(signals, `${total} bytes`).to.deep.equal(expected);
      stop();
    }
  });

  it('follows as a source when the run state cannot be read, and says so', async () => {
    const source = new FakeSource(1000, 1, false, null);
    const signals: string[] = [];
    const errors: string[] = [];
    const stop = followMigrations(source, (s) => signals.push(s.kind), { fastPassBytesPerMs: 0, onPollError: (e) => errors.push(e.message) });
    source.emit('MIGRATION', { status: 'setup' });
    await sleep(5);
    source.emit('STOP');
    source.emit('MIGRATION', { status: 'completed' });
    expect(signals).to.deep.equal(['migrating', 'stopping', 'resumed']);
    expect(errors).to.include('no answer');
    stop();
  });

  it('reads the progress on until the stop where the source asks so (libvirt), and says called-off when a read finds the migration gone', async () => {
    const qmp = new FakeSource(1000, 1);
    const signals: string[] = [];
    let cancelled = false;
    const source = { ...qmpSource(qmp), progressUntilStop: true, progress: async () => (cancelled ? { status: 'cancelled' } : qmpSource(qmp).progress()) };
    const stop = followSource(source, (s) => signals.push(s.kind), { copyLeadMs: 300, fastPassBytesPerMs: 0, pollMs: 20 });
    await sleep(1);
    qmp.emit('MIGRATION', { status: 'setup' });
    await sleep(800);
    expect(signals).to.deep.equal(['migrating', 'converging']);
    const reads = qmp.reads.length;
    await sleep(100);
    expect(qmp.reads.length, 'still reading after converging').to.be.within(reads + 4, reads + 5);
    cancelled = true;
    await sleep(25);
    expect(signals).to.deep.equal(['migrating', 'converging', 'called-off']);
    const after = qmp.reads.length;
    await sleep(100);
    expect(qmp.reads.length, 'no reads once called off').to.equal(after);
    stop();
  });
});
