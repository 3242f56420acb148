import { expect } from 'chai';
import { MigrationSignals, type QmpEventLike } from '../../../controller/host-agent/migration-signals.js';

const migration = (status: string): QmpEventLike => ({ event: 'MIGRATION', data: { status } });
const STOP: QmpEventLike = { event: 'STOP', data: {} };

describe('host-agent/migration-signals', () => {
  const run = (events: QmpEventLike[]) => { const s = new MigrationSignals(); return events.map((e) => s.onEvent(e)).filter((x) => x !== undefined); };

  it('says "stopping" once when the source stops for the stop-and-copy (device state or STOP), nothing on completion', () => {
    expect(run([migration('setup'), migration('active'), STOP, migration('device'), migration('completed')])).to.deep.equal(['stopping']);
    expect(run([migration('setup'), migration('active'), migration('device'), STOP, migration('completed')])).to.deep.equal(['stopping']);
  });

  it('says "called-off" when a migration that had stopped the VM failed or was cancelled, nothing before the stop', () => {
    expect(run([migration('setup'), migration('active'), migration('device'), migration('failed')])).to.deep.equal(['stopping', 'called-off']);
    expect(run([migration('setup'), migration('active'), migration('cancelled')])).to.deep.equal([]);
  });

  it('a STOP outside a migration (a paused VM) says nothing; every migration is judged afresh', () => {
    expect(run([STOP, { event: 'RESUME', data: {} }])).to.deep.equal([]);
    expect(run([migration('setup'), migration('device'), migration('failed'), migration('setup'), migration('active'), migration('device'), migration('completed')])).to.deep.equal(['stopping', 'called-off', 'stopping']);
  });
});
