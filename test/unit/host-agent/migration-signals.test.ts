import { expect } from 'chai';
import { MigrationSignals, type QmpEventLike } from '../../../controller/host-agent/migration-signals.js';

const migration = (status: string, at?: number): QmpEventLike => ({ event: 'MIGRATION', data: { status }, ...(at === undefined ? {} : { at }) });
const STOP: QmpEventLike = { event: 'STOP', data: {} };

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

  it('carries the time of the event that gave the signal (QMP timestamp), else the time of reading', () => {
    const s = new MigrationSignals();
    expect(s.onEvent(migration('setup', 1000), 5000)).to.deep.equal({ kind: 'migrating', at: 1000 });
    expect(s.onEvent(STOP, 5100)).to.deep.equal({ kind: 'stopping', at: 5100 });
    expect(s.onEvent(migration('completed', 5300), 9000)).to.deep.equal({ kind: 'resumed', at: 5300 });
  });
});
