// End to end with a real hypervisor: a QEMU guest (Linux defaults) live-migrated over QMP from
// subnet A to B while the controller is down. QEMU's RARP rounds and the guest's gratuitous ARPs
// reach no controller; the source QEMU quits and its tap goes. Back, the controller reloads the
// binding (the guest at its old port), sees that port gone, looks for the guest with ARP probes at
// every edge port, and the guest's own kernel answers at its new port: the move follows, and every
// peer reaches it again. Assertions are about correctness; the time it took is printed.
// Starts Mininet and QEMU: run under `flock /tmp/seamless-lab.lock`.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ControllerProcess, type LogLine } from '../../topologies/case-study/controller-process.js';
import { MininetDriver } from '../../topologies/mininet-driver.js';
import { QemuVm } from '../../topologies/qemu/qemu-vm.js';
import { waitUntil } from '../lib/wait.js';

const run = promisify(execFile);
const GUEST = { mac: '02:00:00:00:01:0a', address: '10.0.1.10/24', gateway: '10.0.1.1' };
const EID = '10.0.1.10';
const LOOKING = 'looking for a lost endpoint: its port is down and no move told where it went';

describe('e2e: a real QEMU guest migrated while the controller was down is found when it is back', function () {
  this.timeout(300_000);
  let stateDir: string;
  let ctl: ControllerProcess | undefined;
  let net: MininetDriver | undefined;
  let vm: QemuVm | undefined;

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'seamless-e2e-lost-'));
    ctl = await ControllerProcess.start({ stateDir });
    net = await MininetDriver.start({ controller: { host: '127.0.0.1', port: ctl.openflowPort }, vm: 'none' });
    await ctl.waitFor(() => ctl!.find('switch up').length >= 3, 30_000, 'three switches up');
    vm = await QemuVm.boot({ network: GUEST, bridge: net.bridge('s1'), port: 10 });
    await waitUntil(async () => (await vm!.cmd('ping -c 1 -W 1 10.0.1.20')).code === 0, { timeoutMs: 30_000, what: 'the guest to reach cnA' });
    await ctl.waitFor((l) => l.msg === 'endpoint learned' && l.eid === EID, 10_000, 'the guest learned');
  });

  after(async () => {
    await vm?.stop().catch(() => undefined);
    await net?.stop().catch(() => undefined);
    await ctl?.stop().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('its move is found by the search and applied; the guest reaches, and is reached from, every subnet and outside', async function () {
    await ctl!.stop();
    const { times, sourceRetired } = await vm!.migrate({ toBridge: net!.bridge('s2'), toPort: 10, lingerMs: 500 });
    await sourceRetired; // the source QEMU quit and its tap went: the binding's port is gone
    ctl = await ControllerProcess.start({ stateDir, openflowPort: ctl!.openflowPort });
    for (const sw of ['s1', 's2', 's3']) await run('ovs-vsctl', ['set-controller', net!.bridge(sw), `tcp:127.0.0.1:${ctl.openflowPort}`]);
    const moved = await ctl.waitFor((l) => l.msg === 'migration completed' && l.eid === EID, 30_000, 'the guest found and its move applied');
    expect(moved.to as string).to.match(/^B\/0000000000000002:10\//);
    const looked = ctl.find(LOOKING).filter((l) => l.eid === EID);
    // The guest may have sent a frame of its own first (IPv6 now and then); then no round was needed.
    if (moved.trigger === 'arp') expect(looked, 'the answer to a round').to.not.deep.equal([]);
    for (const host of ['cnA', 'cnB', 'cnC', 'ext']) {
      await waitUntil(async () => (await net!.cmd(host, `ping -c 1 -W 1 ${EID}`)).code === 0, { timeoutMs: 15_000, what: `${host} to reach the guest` });
    }
    for (const peer of ['10.0.1.20', '10.0.2.20', '10.0.3.20', '10.0.9.2']) {
      expect((await vm!.cmd(`ping -c 1 -W 2 ${peer}`)).code, `guest -> ${peer}`).to.equal(0);
    }
    const at = (line: LogLine) => Date.parse(String(line.time));
    const up = Math.max(...ctl.find('switch up').map(at));
    this.test!.title += ` (QEMU downtime ${times.downtimeMs} ms; found by ${looked.length > 0 && moved.trigger === 'arp' ? 'the search' : `its own ${String(moved.trigger)} frame`}, ${at(moved) - up} ms after the switches came up)`;
  });
});
