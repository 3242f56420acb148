import { expect } from 'chai';
import { applyActions, flowMod, outputPort, packetOut, OFPP_CONTROLLER, OFPR_NO_MATCH, type PacketIn } from '../../controller/openflow/index.js';
import type { SwitchConnection, SwitchMessage } from '../../controller/switch/index.js';
import { OvsLab, testFrame, type NetnsPort, type TapPort } from '../lib/ovs.js';
import { waitFor } from '../lib/wait.js';
import { startTestController, waitForSwitch, type TestController } from './harness.js';

const TEST_ETHERTYPE = 0x88b5;

describe('integration: packet-in and packet-out through Open vSwitch', function () {
  this.timeout(60000);
  const DPID = 0x5ea0000000000003n;
  let lab: OvsLab;
  let controller: TestController;
  let sw: SwitchConnection;
  let h1: NetnsPort;
  let h2: NetnsPort;
  let tap: TapPort;

  before(async () => {
    lab = new OvsLab();
    controller = await startTestController();
    const bridge = await lab.bridge({ dpid: DPID, controllerPort: controller.port });
    h1 = await lab.netnsPort(bridge, 1, '02:00:00:00:03:01');
    h2 = await lab.netnsPort(bridge, 2, '02:00:00:00:03:02');
    tap = await lab.tapPort(bridge, 3);
    sw = await waitForSwitch(controller.registry, DPID);
    // Table-miss to the controller: every frame becomes a PACKET_IN.
    await sw.sendBatch([flowMod({ priority: 0, instructions: [applyActions(outputPort(OFPP_CONTROLLER))] })]);
  });

  after(async () => {
    await controller?.stop();
    await lab?.cleanup();
  });

  it('receives a frame from a namespace as PACKET_IN and delivers it to another port with PACKET_OUT', async () => {
    const packetIns: SwitchMessage<PacketIn>[] = [];
    const subscription = controller.registry.packetIn$.subscribe((e) => packetIns.push(e));
    try {
      const marker = `seamless-${Date.now()}`;
      const frame = testFrame('02:00:00:00:03:02', h1.mac, TEST_ETHERTYPE, marker);
      const capture = await lab.capture(h2, TEST_ETHERTYPE, 1, 10000);
      await lab.sendFrames(h1, [frame]);

      const event = await waitFor(() => packetIns.find((e) => Buffer.from(e.message.data).includes(marker)), { what: 'the PACKET_IN of our frame' });
      expect(event.dpid).to.equal(DPID);
      expect(event.message.match.in_port).to.equal(h1.ofport);
      expect(event.message.reason).to.equal(OFPR_NO_MATCH); // OF1.3 reports the table-miss flow as NO_MATCH
      expect(event.message.bufferId).to.equal(0xffffffff); // miss_send_len = NO_BUFFER: the whole frame
      expect(Buffer.from(event.message.data).toString('hex')).to.equal(frame);

      event.sw.send(packetOut({ inPort: h1.ofport, actions: [outputPort(h2.ofport)], data: event.message.data }));
      const delivered = await capture.frames;
      expect(delivered).to.deep.equal([frame]);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('a tap\'s port stats (what the loss-free replay watches): a frame counts as sent when the reader takes it, as dropped when the tap\'s queue was full', async () => {
    // As QEMU's tap: the reader holds it open and reads nothing for now.
    const before = await sw.portStats(tap.ofport);
    expect(before, 'port stats of the tap').to.not.equal(undefined);
    const frame = Buffer.from(testFrame('02:00:00:00:03:03', h1.mac, TEST_ETHERTYPE, 'replay'), 'hex');
    const given = 1100; // more than the tap queues (txqueuelen 1,000)
    for (let i = 0; i < given; i++) sw.send(packetOut({ inPort: OFPP_CONTROLLER, actions: [outputPort(tap.ofport)], data: frame }));
    await sw.barrier();
    const queued = await sw.portStats(tap.ofport);
    const sent = (s: typeof before) => Number(s!.txPackets - before!.txPackets);
    const dropped = (s: typeof before) => Number(s!.txDropped - before!.txDropped);
    expect(sent(queued), 'sent while unread').to.equal(0);
    expect(dropped(queued), 'dropped beyond the queue').to.be.within(1, given - 500);
    const read = await tap.read();
    expect(read, 'what the reader took').to.equal(given - dropped(queued));
    const after = await sw.portStats(tap.ofport);
    expect(sent(after), 'sent once read').to.equal(read);
    expect(await sw.portStats(99), 'no such port').to.equal(undefined);
  });
});
