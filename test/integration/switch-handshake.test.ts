import { expect } from 'chai';
import { OFPP_LOCAL, OFPPR_ADD, OFPPR_DELETE, type PortStatus } from '../../controller/openflow/index.js';
import { ConnectionState, type SwitchMessage } from '../../controller/switch/index.js';
import { OvsLab, showPorts } from '../lib/ovs.js';
import { waitFor, waitUntil } from '../lib/wait.js';
import { startTestController, waitForSwitch, type TestController } from './harness.js';

describe('integration: switch handshake with Open vSwitch', function () {
  this.timeout(60000);
  const DPID = 0x5ea0000000000001n;
  let lab: OvsLab;
  let controller: TestController;
  let bridge: string;

  before(async () => {
    lab = new OvsLab();
    controller = await startTestController();
    bridge = await lab.bridge({ dpid: DPID, controllerPort: controller.port });
    await lab.netnsPort(bridge, 1, '02:00:00:00:01:01');
    await lab.netnsPort(bridge, 2, '02:00:00:00:01:02');
  });

  after(async () => {
    await controller?.stop();
    await lab?.cleanup();
  });

  it('reaches MAIN with the datapath id we configured and the ports ovs-ofctl shows', async () => {
    const sw = await waitForSwitch(controller.registry, DPID);
    expect(sw.state).to.equal(ConnectionState.MAIN);
    expect(sw.dpidText).to.equal('5ea0000000000001');
    expect(sw.desc?.mfrDesc).to.match(/Nicira/);
    // Ports from PORT_DESC (PORT_STATUS may still trickle in for the ports just added).
    await waitUntil(() => sw.ports.size === 3, { what: 'three ports (LOCAL + 2 veths) on the switch' });
    const shown = await showPorts(bridge);
    const ours = [...sw.ports.values()].map((p) => ({ portNo: p.portNo === OFPP_LOCAL ? 'LOCAL' : p.portNo, name: p.name, hwAddr: p.hwAddr }));
    const sortKey = (p: { portNo: number | string }) => String(p.portNo);
    expect(ours.sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).to.deep.equal(shown.sort((a, b) => sortKey(a).localeCompare(sortKey(b))));
  });

  it('reports a port added and removed on portStatus$, and keeps its port table current', async () => {
    const sw = await waitForSwitch(controller.registry, DPID);
    const events: SwitchMessage<PortStatus>[] = [];
    const subscription = controller.registry.portStatus$.subscribe((e) => events.push(e));
    try {
      const name = await lab.internalPort(bridge, 7);
      const added = await waitFor(() => events.find((e) => e.message.reason === OFPPR_ADD && e.message.port.name === name), { what: `PORT_STATUS ADD for ${name}` });
      expect(added.message.port.portNo).to.equal(7);
      expect(added.dpid).to.equal(DPID);
      expect(sw.ports.get(7)?.name).to.equal(name);
      await lab.removePort(bridge, name);
      await waitFor(() => events.find((e) => e.message.reason === OFPPR_DELETE && e.message.port.name === name), { what: `PORT_STATUS DELETE for ${name}` });
      expect(sw.ports.has(7)).to.equal(false);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('lets Open vSwitch reconnect after the controller restarts on the same port', async () => {
    const first = await waitForSwitch(controller.registry, DPID);
    const port = controller.port;
    await controller.stop();
    expect(first.state).to.equal(ConnectionState.DEAD);
    controller = await startTestController({ port });
    const again = await waitForSwitch(controller.registry, DPID, 20000);
    expect(again).to.not.equal(first);
    await again.barrier();
    await waitUntil(() => again.ports.size === 3, { what: 'the port table after reconnection' });
  });
});
