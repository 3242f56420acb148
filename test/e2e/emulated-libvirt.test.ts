// End to end, real OVS + Mininet + the controller as a child process: the emulated VM's destination
// hypervisor writing libvirt's external_ids on its port (MigrateOptions.vif). The controller's OVSDB
// watcher reads the move ahead from them, as from a libvirt host; without them it verifies the
// move with its ARP probe of the old port. Assertions are about what the controller decided.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { completedMove, startLab, VM, VM_MAC, warmUp, type Lab } from '../../topologies/case-study/experiment.js';

const run = promisify(execFile);

describe('e2e: the emulated VM\'s destination port with libvirt\'s external_ids (Mininet)', function () {
  this.timeout(180_000);
  let lab: Lab;
  const vif = { ifaceId: randomUUID(), vmUuid: randomUUID() };

  before(async () => {
    lab = await startLab({ controller: 'seamless' });
    await warmUp(lab.net, ['cnB']);
  });

  after(async () => {
    await lab?.stop();
  });

  it('puts attached-mac, iface-id, vm-uuid and iface-status on the destination\'s Interface row, before the stop', async () => {
    const { addedAt } = await lab.net.prepare(VM, { toSwitch: 's2', vif });
    const port = (await run('ovs-vsctl', ['--format=json', '--columns=name,external_ids', 'find', 'Interface', `external_ids:vm-uuid="${vif.vmUuid}"`])).stdout;
    const [[name, ids]] = (JSON.parse(port) as { data: [[string, ['map', [string, string][]]]] }).data;
    expect(name).to.match(/vm-p[01]$/);
    expect(Object.fromEntries(ids[1])).to.deep.equal({ 'attached-mac': VM_MAC, 'iface-id': vif.ifaceId, 'vm-uuid': vif.vmUuid, 'iface-status': 'active' });
    expect(addedAt).to.be.below(Date.now());
  });

  it('the controller takes the move from the database: an intent, no probe of the old port', async () => {
    const ctl = lab.ctl!;
    const mark = ctl.lines.length;
    const times = await lab.net.migrate(VM, { toSwitch: 's2', vif, announce: 'both', announceRounds: 2 });
    expect(times.movedAt, 'the prepared port was used').to.be.below(times.pausedAt);
    const done = await completedMove(ctl, mark, lab.net.topology.switches.s2!.dpid, 10);
    expect(done, 'the controller reported the move').to.not.equal(undefined);
    expect(done!.reason).to.equal('intent');
  });

  it('without them the same kind of move is verified by the ARP probe of the old port', async () => {
    const ctl = lab.ctl!;
    const mark = ctl.lines.length;
    await lab.net.migrate(VM, { toSwitch: 's3', announce: 'both', announceRounds: 2 });
    const done = await completedMove(ctl, mark, lab.net.topology.switches.s3!.dpid, 10);
    expect(done, 'the controller reported the move').to.not.equal(undefined);
    expect(done!.reason).to.equal('old-attachment-silent');
  });
});
