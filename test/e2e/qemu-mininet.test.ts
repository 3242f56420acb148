/**
 * A real QEMU guest in the Mininet reference lab (started with `vm: 'none'`), on plain L2 switches
 * (no controller): it takes the emulated VM's place on s1 port 10, reaches its subnet, the router
 * and the other subnets, and live-migrates within subnet A (s1 port 10 -> 11) as the case study's
 * intra-subnet baseline does.
 *
 * Starts Mininet and QEMU: run under `flock /tmp/seamless-lab.lock`.
 */
import { expect } from 'chai';
import { topologyFile } from '../../topologies/agent-channel.js';
import { HOST_PYTHON, MininetDriver } from '../../topologies/mininet-driver.js';
import { probeServerCommand } from '../../topologies/qemu/guest-tools.js';
import { QemuVm } from '../../topologies/qemu/qemu-vm.js';
import { interfaceRow } from '../../topologies/qemu/tap-port.js';
import { waitUntil } from '../lib/wait.js';

const PROBE = topologyFile('case-study/probe.py');

describe('QemuVm in the Mininet reference lab (plain L2)', function () {
  this.timeout(180_000);
  let net: MininetDriver;
  let vm: QemuVm;

  before(async () => {
    net = await MininetDriver.start({ plainL2: true, vm: 'none' });
    vm = await QemuVm.boot({ network: { mac: '02:00:00:00:01:0a', address: '10.0.1.10/24', gateway: '10.0.1.1' }, bridge: net.bridge('s1'), port: 10 });
  });

  after(async () => {
    await vm?.stop();
    await net?.stop();
  });

  it('has no emulated VM host; the guest sits on s1 port 10', async () => {
    expect(Object.keys(net.topology.hosts)).to.not.include('vm');
    expect(net.topology.vms).to.deep.equal({});
    expect(await net.ofctl('s1', 'show')).to.match(new RegExp(` 10\\(${vm.attachment().tap}\\)`));
  });

  it('reaches its subnet, its gateway, the other subnets and the external host, and is reached from them', async () => {
    await waitUntil(async () => (await vm.cmd('ping -c 1 -W 1 10.0.1.20')).code === 0, { timeoutMs: 20_000, what: 'the guest to reach cnA' });
    for (const peer of ['10.0.1.1', '10.0.2.20', '10.0.3.20', '10.0.9.2']) {
      const r = await vm.cmd(`ping -c 2 -i 0.2 -W 2 ${peer}`);
      expect(r.code, `guest -> ${peer}: ${r.stdout}`).to.equal(0);
    }
    const server = vm.spawn(probeServerCommand('tcp', 6001));
    await server.waitForLine(/listening/);
    for (const host of ['cnA', 'cnB', 'ext']) {
      const probe = await net.cmd(host, `${HOST_PYTHON} ${PROBE} tcp --host 10.0.1.10 --port 6001`);
      expect(probe.code, `${host} -> guest: ${probe.stdout}`).to.equal(0);
    }
    await server.kill();
  });

  it('live-migrates from s1 port 10 to port 11 and answers there', async () => {
    const oldTap = vm.attachment().tap;
    const { times, sourceRetired } = await vm.migrate({ toBridge: net.bridge('s1'), toPort: 11, lingerMs: 500 });
    expect(times.to).to.include({ bridge: net.bridge('s1'), port: 11 });
    expect(await interfaceRow(times.to.tap)).to.deep.include({ ofport: 11 });
    await sourceRetired;
    expect(await interfaceRow(oldTap)).to.equal(null);
    await waitUntil(async () => (await net.cmd('cnB', 'ping -c 1 -W 1 10.0.1.10')).code === 0, { timeoutMs: 10_000, what: 'cnB to reach the guest at port 11' });
    expect((await vm.cmd('ping -c 2 -i 0.2 -W 2 10.0.9.2')).code).to.equal(0);
    console.log(`      s1:10 -> s1:11: downtime ${times.downtimeMs} ms, total ${times.totalTimeMs} ms`);
  });
});
