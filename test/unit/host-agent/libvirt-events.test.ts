import { expect } from 'chai';
import { isGone, isIncomingStart, macsFromIfList, memoryFromDomInfo, parseVirshEvent, progressFromJobInfo, qmpEquivalent, virshWord } from '../../../controller/host-agent/libvirt-events.js';

// As Debian 12's virsh 9.0 printed them in the lab (topologies/libvirt), a migration from host A to B.
const LINES = {
  iteration1: "2026-12-01 10:51:47.538+0000: event 'migration-iteration' for domain 'vm': iteration: '1'",
  iteration2: "2026-12-01 10:51:47.787+0000: event 'migration-iteration' for domain 'vm': iteration: '2'",
  suspended: "2026-12-01 10:51:47.790+0000: event 'lifecycle' for domain 'vm': Suspended Migrated",
  startedIncoming: "2026-12-01 10:51:47.487+0000: event 'lifecycle' for domain 'vm': Started Migrated",
  resumedHere: "2026-12-01 10:51:48.022+0000: event 'lifecycle' for domain 'vm': Resumed Migrated",
  resumedAfterCancel: "2026-12-01 10:52:46.002+0000: event 'lifecycle' for domain 'vm': Resumed Unpaused",
  stoppedMigrated: "2026-12-01 10:51:49.897+0000: event 'lifecycle' for domain 'vm': Stopped Migrated",
  stoppedFailed: "2026-12-01 10:52:47.886+0000: event 'lifecycle' for domain 'vm': Stopped Failed",
  booted: "2026-12-01 10:51:31.012+0000: event 'lifecycle' for domain 'vm': Started Booted",
  jobCompleted: "2026-12-01 10:51:49.897+0000: event 'job-completed' for domain 'vm':",
  rxFilter: "2026-12-01 10:51:33.485+0000: event 'lifecycle' for domain 'web 1: a\\'s': Defined Added",
};

const JOB_RUNNING = `Job type: 2

operation: 5
time_elapsed: 1457
downtime: 300
setup_time: 3
data_total: 134873088
memory_total: 134873088
memory_processed: 44351571
memory_remaining: 55373824
memory_bps: 128518105
memory_iteration: 1
memory_page_size: 4096
disk_total: 0
`;

describe('host-agent/libvirt-events', () => {
  it('reads virsh event lines: time (with its offset), event, domain and detail; nothing else', () => {
    expect(parseVirshEvent(LINES.suspended)).to.deep.equal({ at: Date.parse('2026-12-01T10:51:47.790Z'), type: 'lifecycle', domain: 'vm', detail: 'Suspended Migrated' });
    expect(parseVirshEvent(LINES.jobCompleted)).to.deep.include({ type: 'job-completed', domain: 'vm', detail: '' });
    expect(parseVirshEvent(LINES.rxFilter)?.domain, 'a name with spaces, colons and quotes').to.equal("web 1: a\\'s");
    expect(parseVirshEvent("2026-12-01 11:51:47.790+0100: event 'lifecycle' for domain 'vm': Suspended Migrated")?.at, 'another offset').to.equal(Date.parse('2026-12-01T10:51:47.790Z'));
    for (const other of ['\tmemory_iteration: 3', '', 'event loop timed out', "event 'lifecycle' for domain 'vm': Suspended Migrated", "2026-13-45 99:99:99.999+0000: event 'lifecycle' for domain 'vm': Suspended Migrated", "2026-12-01 10:51:47.790+0000: event 'lifecycle' for domain '': x"]) {
      expect(parseVirshEvent(other), JSON.stringify(other)).to.equal(undefined);
    }
  });

  it('says in QMP\'s words what a libvirt event says of a migration (docs/hypervisors.md\'s table)', () => {
    const qmp = (line: string) => { const e = qmpEquivalent(parseVirshEvent(line)!); return e === undefined ? undefined : { event: e.event, data: e.data }; };
    expect(qmp(LINES.iteration1)).to.deep.equal({ event: 'MIGRATION', data: { status: 'setup' } });
    expect(qmp(LINES.iteration2)).to.deep.equal({ event: 'MIGRATION_PASS', data: { pass: 2 } });
    expect(qmp(LINES.suspended)).to.deep.equal({ event: 'STOP', data: {} });
    expect(qmp(LINES.resumedHere)).to.deep.equal({ event: 'RESUME', data: {} });
    expect(qmp(LINES.resumedAfterCancel)).to.deep.equal({ event: 'RESUME', data: {} });
    expect(qmp(LINES.stoppedMigrated)).to.deep.equal({ event: 'MIGRATION', data: { status: 'completed' } });
    for (const line of [LINES.startedIncoming, LINES.stoppedFailed, LINES.booted, LINES.jobCompleted, LINES.rxFilter, LINES.suspended.replace('Migrated', 'Paused')]) expect(qmp(line), line).to.equal(undefined);
    expect(qmpEquivalent(parseVirshEvent(LINES.suspended)!)!.at, 'at virsh\'s time').to.equal(Date.parse('2026-12-01T10:51:47.790Z'));
    expect(isIncomingStart(parseVirshEvent(LINES.startedIncoming)!)).to.equal(true);
    expect(isIncomingStart(parseVirshEvent(LINES.booted)!)).to.equal(false);
    expect([LINES.stoppedMigrated, LINES.stoppedFailed, LINES.suspended].map((l) => isGone(parseVirshEvent(l)!))).to.deep.equal([true, true, false]);
  });

  it('reads domjobinfo --rawstats as query-migrate\'s answer; no job is the migration\'s end; an error is no answer', () => {
    expect(progressFromJobInfo(JOB_RUNNING)).to.deep.equal({ status: 'active', ram: { total: 134873088, remaining: 55373824, 'dirty-sync-count': 1 } });
    expect(progressFromJobInfo('Job type: 2\n\noperation: 5\ntime_elapsed: 162\nmemory_total: 0\nmemory_remaining: 0\nmemory_iteration: 0\n'), 'before QEMU migrates: nothing to estimate from')
      .to.deep.equal({ status: 'active', ram: { total: 0, remaining: 0, 'dirty-sync-count': 0 } });
    expect(progressFromJobInfo('Job type: 0\n\n')).to.deep.equal({ status: 'cancelled' });
    expect(progressFromJobInfo('Job type:         None\n')).to.deep.equal({ status: 'cancelled' });
    expect(progressFromJobInfo('Job type: 4\n')).to.deep.equal({ status: 'failed' });
    expect(progressFromJobInfo('')).to.equal(undefined);
    expect(progressFromJobInfo("error: failed to get domain 'vm'\n")).to.equal(undefined);
  });

  it('reads a domain\'s memory from dominfo (its maximum: the pass goes through all of it)', () => {
    // virsh 9.0 on libvirt's test driver.
    const text = 'Id:             1\nName:           test\nState:          running\nCPU(s):         2\nMax memory:     8388608 KiB\nUsed memory:    2097152 KiB\nPersistent:     yes\n';
    expect(memoryFromDomInfo(text)).to.equal(8 * 1024 * 1024 * 1024);
    expect(memoryFromDomInfo('Max memory:     no limit\n')).to.equal(undefined);
    expect(memoryFromDomInfo("error: failed to get domain 'vm'\n")).to.equal(undefined);
  });

  it('reads the MACs of a domain\'s interfaces from domiflist', () => {
    const text = ` Interface   Type     Source   Model    MAC
-----------------------------------------------------------
 vnet0       bridge   lva      virtio   02:00:00:00:01:0A
 -           network  default  e1000    52:54:00:12:34:56

`;
    expect(macsFromIfList(text)).to.deep.equal(['02:00:00:00:01:0a', '52:54:00:12:34:56']);
    expect(macsFromIfList('')).to.deep.equal([]);
    expect(macsFromIfList(' vnet0 bridge 02:00:00:00:01:0a0 x')).to.deep.equal([]);
  });

  it('quotes a domain name for virsh\'s shell as sh does; refuses a line break', () => {
    expect(virshWord('vm')).to.equal("'vm'");
    expect(virshWord("a b'c\\d")).to.equal("'a b'\\''c\\d'");
    expect(() => virshWord('a\necho x')).to.throw(TypeError);
  });
});
