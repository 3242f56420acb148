import { expect } from 'chai';
import { FAST_PASS_BYTES_PER_MS, MigrationSignals, type MigrationProgress, type QmpEventLike } from '../../../controller/host-agent/migration-signals.js';

const migration = (status: string, at?: number): QmpEventLike => ({ event: 'MIGRATION', data: { status }, ...(at === undefined ? {} : { at }) });
const STOP: QmpEventLike = { event: 'STOP', data: {} };
const pass = (n: number): QmpEventLike => ({ event: 'MIGRATION_PASS', data: { pass: n } });
const MiB = 1 << 20;
/** A 250 ms lead at the pass's own rates only (no FAST_PASS_BYTES_PER_MS floor). */
const ESTIMATE = { copyLeadMs: 250, fastPassBytesPerMs: 0 };
const progress = (remaining: number, total = 1024 * MiB, syncs = 1): MigrationProgress => ({ status: 'active', ram: { total, remaining, 'dirty-sync-count': syncs } });

describe('host-agent/migration-signals', () => {
  const run = (events: QmpEventLike[]) => { const s = new MigrationSignals(); return events.map((e) => s.onEvent(e, 0)).filter((x) => x !== undefined).map((x) => x.kind); };

  it('says migrating at setup, stopping once when the source stops (device state or STOP), resumed on completion', () => {
    expect(run([migration('setup'), migration('active'), STOP, migration('device'), migration('completed')])).to.deep.equal(['migrating', 'stopping', 'resumed']);
    expect(run([migration('setup'), migration('active'), migration('device'), STOP, migration('completed')])).to.deep.equal(['migrating', 'stopping', 'resumed']);
  });

  it('says called-off when a migration failed or was cancelled, before or after the stop', () => {
    expect(run([migration('setup'), migration('active'), migration('device'), migration('failed')])).to.deep.equal(['migrating', 'stopping', 'called-off']);
    expect(run([migration('setup'), migration('active'), migration('cancelled')])).to.deep.equal(['migrating', 'called-off']);
  });

  it('a STOP or completion outside a migration says nothing; every migration is judged afresh', () => {
    expect(run([STOP, { event: 'RESUME', data: {} }, migration('completed')])).to.deep.equal([]);
    expect(run([migration('setup'), migration('device'), migration('failed'), migration('setup'), migration('active'), migration('device'), migration('completed')]))
      .to.deep.equal(['migrating', 'stopping', 'called-off', 'migrating', 'stopping', 'resumed']);
  });

  it('a destination (run state inmigrate) says nothing of its incoming migration, and is followed as the source once the VM runs there', () => {
    const RESUME: QmpEventLike = { event: 'RESUME', data: {} };
    const s = new MigrationSignals();
    s.onStatus('inmigrate');
    expect(s.isIncoming).to.equal(true);
    // What an incoming QEMU emits (seen with QEMU 7.2): setup, active, RESUME, completed.
    const incoming = [migration('setup'), migration('active'), RESUME, migration('completed')].map((e) => s.onEvent(e, 0));
    expect(incoming, 'nothing from the destination').to.deep.equal([undefined, undefined, undefined, undefined]);
    expect(s.isIncoming, 'the VM runs here now').to.equal(false);
    expect(s.awaitingConvergence, 'no progress to read for an incoming migration').to.equal(false);
    const next = [migration('setup'), migration('active'), STOP, migration('completed')].map((e) => s.onEvent(e, 0)?.kind);
    expect(next, 'its next migration, as the source').to.deep.equal(['migrating', undefined, 'stopping', 'resumed']);
  });

  it('a source (running, paused or any other state) is followed as before', () => {
    for (const status of ['running', 'paused', 'postmigrate', 'undefined']) {
      const s = new MigrationSignals();
      s.onStatus(status);
      expect([migration('setup'), STOP, migration('completed')].map((e) => s.onEvent(e, 0)?.kind), status).to.deep.equal(['migrating', 'stopping', 'resumed']);
    }
  });

  it('carries the time of the event that gave the signal (QMP timestamp), else the time of reading', () => {
    const s = new MigrationSignals();
    expect(s.onEvent(migration('setup', 1000), 5000)).to.deep.equal({ kind: 'migrating', at: 1000 });
    expect(s.onEvent(STOP, 5100)).to.deep.equal({ kind: 'stopping', at: 5100 });
    expect(s.onEvent(migration('completed', 5300), 9000)).to.deep.equal({ kind: 'resumed', at: 5300 });
  });

  it('says converging once the first pass over memory ends within the copy lead, at the rate it went so far', () => {
    const s = new MigrationSignals(ESTIMATE);
    expect(s.onEvent(migration('setup', 0), 0)?.kind).to.equal('migrating');
    expect(s.awaitingConvergence).to.equal(true);
    // 1 GiB, 100 MiB gone through in the first second: about 9.2 s to go.
    expect(s.onProgress(progress(924 * MiB), 1000)).to.equal(undefined);
    // 8.2 s on, 40 MiB left at 125 MiB/s: 320 ms to go, still more than the lead.
    expect(s.onProgress(progress(40 * MiB), 8200)).to.equal(undefined);
    // 20 MiB left at about 123 MiB/s: 162 ms.
    expect(s.onProgress(progress(20 * MiB), 8300)).to.deep.equal({ kind: 'converging', at: 8300 });
    expect(s.awaitingConvergence).to.equal(false);
    expect(s.onProgress(progress(1 * MiB), 8350)).to.equal(undefined);
    expect(s.onEvent(pass(2), 8400)).to.equal(undefined);
    expect(s.onEvent(STOP, 8500)?.kind).to.equal('stopping');
  });

  it('says converging when the first pass ended (a second dirty-page sync, as event or in the progress), whatever the estimate', () => {
    expect(run([migration('setup'), pass(1), pass(2), pass(3), STOP, migration('completed')])).to.deep.equal(['migrating', 'converging', 'stopping', 'resumed']);
    const s = new MigrationSignals(ESTIMATE);
    s.onEvent(migration('setup', 0), 0);
    expect(s.onProgress(progress(900 * MiB, 1024 * MiB, 2), 100)?.kind).to.equal('converging');
  });

  it('never says converging outside a migration, after its stop, twice, or from an answer it cannot read', () => {
    const s = new MigrationSignals(ESTIMATE);
    expect(s.awaitingConvergence).to.equal(false);
    expect(s.onProgress(progress(0), 10)).to.equal(undefined);
    expect(s.onEvent(pass(2), 10)).to.equal(undefined);
    s.onEvent(migration('setup', 100), 100);
    for (const bad of [{}, { ram: {} }, { ram: { total: 'x', remaining: 1 } }, { ram: { total: 0, remaining: 0 } }, { ram: { total: 10, remaining: -1 } }, { ram: { total: 1024, remaining: 1024 } }] as MigrationProgress[]) {
      expect(s.onProgress(bad, 200), JSON.stringify(bad)).to.equal(undefined);
    }
    expect(s.onProgress(progress(1, 1024), 100), 'no time gone by').to.equal(undefined);
    expect(s.onEvent(STOP, 300)?.kind).to.equal('stopping');
    expect(s.awaitingConvergence).to.equal(false);
    expect(s.onProgress(progress(0), 310)).to.equal(undefined);
    expect(s.onEvent(pass(2), 310)).to.equal(undefined);
    // The next migration is judged afresh: its rate counts from its own setup.
    s.onEvent(migration('completed', 400), 400);
    s.onEvent(migration('setup', 1000), 1000);
    expect(s.onProgress(progress(512 * MiB), 2000)).to.equal(undefined);
    expect(s.onProgress(progress(10 * MiB), 2990)?.kind).to.equal('converging');
  });

  it('takes a pass to go at least FAST_PASS_BYTES_PER_MS: converging once copyLeadMs x that is left, whatever its rate so far', () => {
    expect(FAST_PASS_BYTES_PER_MS).to.equal(2_000_000);
    const small = new MigrationSignals({ copyLeadMs: 250 });
    small.onEvent(migration('setup', 0), 0);
    expect(small.onProgress(progress(127 * MiB, 128 * MiB), 50), 'a 128 MiB guest: at its first read').to.deep.equal({ kind: 'converging', at: 50 });
    const large = new MigrationSignals({ copyLeadMs: 250 });
    large.onEvent(migration('setup', 0), 0);
    // 4 GiB at 100 MiB/s: 500,000,000 bytes (477 MiB) is 250 ms at 2 GB/s.
    expect(large.onProgress(progress(3 * 1024 * MiB, 4096 * MiB), 10_240)).to.equal(undefined);
    expect(large.onProgress(progress(478 * MiB, 4096 * MiB), 36_180)).to.equal(undefined);
    expect(large.onProgress(progress(476 * MiB, 4096 * MiB), 36_200)).to.deep.equal({ kind: 'converging', at: 36_200 });
    const later = new MigrationSignals({ copyLeadMs: 100 });
    later.onEvent(migration('setup', 0), 0);
    expect(later.onProgress(progress(300 * MiB, 4096 * MiB), 10_000), 'a shorter lead: 200 MB').to.equal(undefined);
  });

  it('a VM small enough to be gone through within the lead at FAST_PASS_BYTES_PER_MS is near from its migration\'s start (its size, read ahead)', () => {
    const s = new MigrationSignals({ copyLeadMs: 250 });
    expect(s.onMemorySize(128 * MiB, 5), 'no migration yet').to.equal(undefined);
    expect(s.onEvent(migration('setup', 10), 10)?.kind).to.equal('migrating');
    expect(s.nearFromStart(10)).to.deep.equal({ kind: 'converging', at: 10 });
    expect(s.nearFromStart(11), 'once').to.equal(undefined);
    const late = new MigrationSignals({ copyLeadMs: 250 });
    late.onEvent(migration('setup', 10), 10);
    expect(late.nearFromStart(10), 'size not known yet').to.equal(undefined);
    expect(late.onMemorySize(128 * MiB, 40), 'its size comes during the migration').to.deep.equal({ kind: 'converging', at: 40 });
    const large = new MigrationSignals({ copyLeadMs: 250 });
    large.onMemorySize(1024 * MiB, 0);
    large.onEvent(migration('setup', 10), 10);
    expect(large.nearFromStart(10), '1 GiB: more than 500 MB').to.equal(undefined);
    for (const bad of [0, -1, Number.NaN]) expect(new MigrationSignals().onMemorySize(bad, 0), String(bad)).to.equal(undefined);
    const estimate = new MigrationSignals(ESTIMATE);
    estimate.onMemorySize(1 * MiB, 0);
    estimate.onEvent(migration('setup', 10), 10);
    expect(estimate.nearFromStart(10), 'no floor: the progress decides').to.equal(undefined);
  });

  it('a migration shorter than the lead says converging at its first progress read', () => {
    const s = new MigrationSignals(ESTIMATE);
    s.onEvent(migration('setup', 0), 0);
    expect(s.onProgress(progress(48 * MiB, 64 * MiB), 50)?.kind).to.equal('converging');
  });

  it('a source that runs again after its stop had its migration called off (QEMU resumes it before it reports the cancel; libvirt says only that)', () => {
    const RESUME: QmpEventLike = { event: 'RESUME', data: {} };
    expect(run([migration('setup'), STOP, RESUME, migration('cancelled')])).to.deep.equal(['migrating', 'stopping', 'called-off']);
    expect(run([migration('setup'), RESUME, STOP, migration('completed')]), 'a RESUME before the stop (the VM was paused) calls nothing off').to.deep.equal(['migrating', 'stopping', 'resumed']);
    expect(run([STOP, RESUME]), 'a pause outside a migration').to.deep.equal([]);
  });

  it('a progress read that finds the migration failed or cancelled before the stop says called-off (libvirt: no event says so)', () => {
    for (const status of ['failed', 'cancelled']) {
      const s = new MigrationSignals(ESTIMATE);
      s.onEvent(migration('setup', 0), 0);
      expect(s.onProgress(progress(20 * MiB, 1024 * MiB, 2), 100)?.kind, 'converging first').to.equal('converging');
      expect(s.beforeStop).to.equal(true);
      expect(s.onProgress({ status }, 200), status).to.deep.equal({ kind: 'called-off', at: 200 });
      expect(s.beforeStop).to.equal(false);
      expect(s.onEvent(STOP, 300), 'a later pause is no stop-and-copy').to.equal(undefined);
    }
    const stopped = new MigrationSignals(ESTIMATE);
    stopped.onEvent(migration('setup', 0), 0);
    stopped.onEvent(STOP, 10);
    expect(stopped.onProgress({ status: 'cancelled' }, 20), 'after the stop, the events say it').to.equal(undefined);
  });

  it('with resumeFromDestination, a destination says resumed at its RESUME, and nothing else of its incoming migration', () => {
    const s = new MigrationSignals({ copyLeadMs: 250, resumeFromDestination: true });
    s.onStatus('inmigrate');
    const said = [migration('setup', 1), migration('active', 2), { event: 'RESUME', data: {}, at: 3 }, migration('completed', 4)].map((e) => s.onEvent(e, 0));
    expect(said).to.deep.equal([undefined, undefined, { kind: 'resumed', at: 3 }, undefined]);
    expect(run([{ event: 'RESUME', data: {} }]), 'not for a VM running here already').to.deep.equal([]);
  });
});
