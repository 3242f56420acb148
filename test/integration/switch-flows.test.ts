import { expect } from 'chai';
import {
  applyActions, deleteFlows, flowMod, gotoTable, outputPort, setField,
  OFPP_ANY, OFPP_CONTROLLER, OFPET_BAD_ACTION, OFPET_BAD_INSTRUCTION,
} from '../../controller/openflow/index.js';
import { BatchError, type SwitchConnection, type SwitchErrorEvent } from '../../controller/switch/index.js';
import { dumpFlows, OvsLab, testFrame, type NetnsPort } from '../lib/ovs.js';
import { waitFor, waitUntil } from '../lib/wait.js';
import { startTestController, waitForSwitch, type TestController } from './harness.js';

const TEST_ETHERTYPE = 0x88b5; // IEEE local experimental: nothing else on the link uses it
const ALL_COOKIE_BITS = 0xffffffffffffffffn;

describe('integration: flows on Open vSwitch', function () {
  this.timeout(120000);
  const DPID = 0x5ea0000000000002n;
  let lab: OvsLab;
  let controller: TestController;
  let bridge: string;
  let sw: SwitchConnection;
  let h1: NetnsPort;

  before(async () => {
    lab = new OvsLab();
    controller = await startTestController();
    bridge = await lab.bridge({ dpid: DPID, controllerPort: controller.port });
    h1 = await lab.netnsPort(bridge, 1, '02:00:00:00:02:01');
    await lab.netnsPort(bridge, 2, '02:00:00:00:02:02');
    sw = await waitForSwitch(controller.registry, DPID);
  });

  after(async () => {
    await controller?.stop();
    await lab?.cleanup();
  });

  const flows = () => [
    flowMod({ cookie: 0x5ea1n, priority: 100, match: { in_port: 1, eth_type: TEST_ETHERTYPE }, instructions: [applyActions(outputPort(2))] }),
    flowMod({
      cookie: 0x5ea2n, priority: 90, match: { in_port: 2, eth_type: 0x0800, ipv4_dst: ['10.9.0.0', '255.255.255.0'] },
      instructions: [applyActions(setField('eth_dst', '02:00:00:00:00:99')), gotoTable(1)],
    }),
    flowMod({ cookie: 0x5ea3n, tableId: 1, priority: 10, instructions: [applyActions(outputPort(1))] }),
    flowMod({ cookie: 0x5ea4n, priority: 0, instructions: [applyActions(outputPort(OFPP_CONTROLLER))] }),
  ];

  it('installs flow-mods (matches, actions, goto, cookies) that ovs-ofctl dump-flows shows after the barrier', async () => {
    await sw.sendBatch(flows());
    const lines = await dumpFlows(bridge);
    const line = (cookie: string) => lines.find((l) => l.includes(`cookie=${cookie},`)) ?? `no flow with cookie ${cookie} in:\n${lines.join('\n')}`;
    expect(lines).to.have.length(4);
    expect(line('0x5ea1')).to.match(/priority=100,in_port=1,dl_type=0x88b5 actions=output:2$/);
    expect(line('0x5ea2')).to.match(/priority=90,ip,in_port=2,nw_dst=10\.9\.0\.0\/24 actions=set_field:02:00:00:00:00:99->eth_dst,goto_table:1$/);
    expect(line('0x5ea3')).to.match(/table=1, priority=10 actions=output:1$/);
    expect(line('0x5ea4')).to.match(/priority=0 actions=CONTROLLER:65535$/);
  });

  it('reads the flows back with flow-stats and sees packet counts grow with traffic', async () => {
    const stats = await sw.flowStats();
    expect(stats.map((f) => f.cookie).sort()).to.deep.equal([0x5ea1n, 0x5ea2n, 0x5ea3n, 0x5ea4n]);
    const forwarded = stats.find((f) => f.cookie === 0x5ea1n)!;
    expect(forwarded.match).to.deep.equal({ in_port: 1, eth_type: TEST_ETHERTYPE });
    expect(forwarded.priority).to.equal(100);
    const before = forwarded.packetCount;

    const frame = testFrame('02:00:00:00:02:02', h1.mac, TEST_ETHERTYPE, 'count-me');
    await lab.sendFrames(h1, [frame, frame, frame]);
    const after = await waitFor(async () => {
      const [f] = await sw.flowStats({ cookie: 0x5ea1n, cookieMask: ALL_COOKIE_BITS });
      return f !== undefined && f.packetCount >= before + 3n ? f : undefined;
    }, { what: 'the packet count of flow 0x5ea1 to grow by 3' });
    expect(after.packetCount - before).to.equal(3n);
    expect(after.byteCount >= 3n * 60n, `byte count ${after.byteCount}`).to.equal(true);
  });

  it('matches the ERROR of a bad flow-mod to it: in a batch, and when sent fire-and-forget', async () => {
    // Goto may only go forward: table 1 -> table 0 is refused.
    const badGoto = flowMod({ cookie: 0xbad1n, tableId: 1, priority: 5, match: { in_port: 2 }, instructions: [gotoTable(0)] });
    const good = flowMod({ cookie: 0x600dn, tableId: 1, priority: 6, match: { in_port: 1 }, instructions: [applyActions(outputPort(2))] });
    const error = await sw.sendBatch([good, badGoto]).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(BatchError);
    const [rejected, ...others] = (error as BatchError).errors;
    expect(others).to.have.length(0);
    expect(rejected!.errorType).to.equal(OFPET_BAD_INSTRUCTION);
    expect(rejected!.errorName).to.match(/^OFPET_BAD_INSTRUCTION\//);
    expect(rejected!.request).to.deep.include({ type: 'FLOW_MOD', cookie: 0xbad1n });

    // Output to OFPP_ANY is not a port.
    const events: SwitchErrorEvent[] = [];
    const subscription = controller.registry.errors$.subscribe((e) => events.push(e));
    try {
      const xid = sw.send(flowMod({ cookie: 0xbad2n, priority: 7, match: { in_port: 2 }, instructions: [applyActions(outputPort(OFPP_ANY))] }));
      const event = await waitFor(() => events[0], { what: 'the ERROR of the fire-and-forget flow-mod on errors$' });
      expect(event.dpid).to.equal(DPID);
      expect(event.error.errorType).to.equal(OFPET_BAD_ACTION);
      expect(event.error.request).to.deep.include({ type: 'FLOW_MOD', xid, cookie: 0xbad2n });
    } finally {
      subscription.unsubscribe();
    }
    const cookies = (await dumpFlows(bridge)).join('\n');
    expect(cookies).to.contain('cookie=0x600d,');
    expect(cookies).to.not.contain('cookie=0xbad');
  });

  it('reassembles a flow-stats reply that OVS splits with OFPMPF_REPLY_MORE (2000 flows)', async () => {
    const count = 2000;
    const many = Array.from({ length: count }, (_, i) => flowMod({
      cookie: 0x70000n + BigInt(i), tableId: 2, priority: 100,
      match: { eth_type: 0x0800, ipv4_dst: `10.77.${i >> 8}.${i & 0xff}` },
      instructions: [applyActions(outputPort(1))],
    }));
    await sw.sendBatch(many);
    await waitUntil(async () => (await dumpFlows(bridge, 'table=2')).length === count, { what: `${count} flows in table 2`, timeoutMs: 30000 });
    // One OpenFlow message holds at most 65535 bytes and a flow-stats entry takes at least 56,
    // so 2000 entries cannot fit in fewer than two parts: the reply was split and reassembled.
    const stats = await sw.flowStats({ tableId: 2 });
    expect(stats).to.have.length(count);
    expect(new Set(stats.map((f) => f.cookie)).size).to.equal(count);
    expect(stats.every((f) => f.tableId === 2)).to.equal(true);
    await sw.sendBatch([deleteFlows({ tableId: 2 })]);
    expect(await sw.flowStats({ tableId: 2 })).to.have.length(0);
  });
});
