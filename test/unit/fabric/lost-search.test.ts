// The lost-endpoint search with the real runtime: a VM whose port went and whose announcements
// never reached the controller (a move while no controller mastered the switch, lost frames) is
// looked for with ARP probes at every edge's host ports, found where it answers, and moved there.

import { expect } from 'chai';
import { OFPP_CONTROLLER, type PacketOut } from '../../../controller/openflow/index.js';
import { FabricLab } from '../../lib/fabric-lab.js';
import { decodeFrame } from '../../lib/frames.js';
import { VM } from '../mobility/fixtures.js';

/** The controller's ARP probes for the VM's EID sent to a switch: one per PACKET_OUT, with its output ports. */
const searchesAt = (lab: FabricLab, dpid: bigint) =>
  lab.sw(dpid).received.filter((m): m is PacketOut => m.type === 'PACKET_OUT' && m.inPort === OFPP_CONTROLLER)
    .map((m) => ({ ports: m.actions.map((a) => (a.type === 'OUTPUT' ? a.port : -1)), frame: decodeFrame(m.data) }))
    .filter((p) => p.frame.arp_tpa === VM.eid && p.frame.arp_spa === '0.0.0.0');

describe('fabric: the lost-endpoint search with the real runtime', function () {
  this.timeout(20_000);

  it('a VM that moved without a word (its port gone, no announcement) is asked for at every host port, found and moved; peers reach it again', async () => {
    const lab = await FabricLab.create();
    await lab.migrate({ dpid: 2n, port: 3 }, { keepOldPort: false, announce: 'none' });
    await lab.settle();
    expect(lab.binding.locator, 'nothing told the controller').to.deep.include({ dpid: 1n, port: 3 });
    await lab.advance(3000);
    await lab.settle();
    // One PACKET_OUT per edge: every up host port, never the router's; the frame is the VM's probe.
    const at2 = searchesAt(lab, 2n);
    expect(at2.length).to.be.at.least(1);
    expect([...at2[0]!.ports].sort()).to.deep.equal([2, 3]);
    expect(at2[0]!.frame).to.deep.include({ eth_dst: VM.mac, eth_src: '02:5e:a0:00:00:01', arp_op: 1 });
    expect(searchesAt(lab, 1n)[0]?.ports, 'not the VM\'s old port (gone) nor the router\'s').to.deep.equal([2]);
    expect(lab.binding.locator).to.deep.include({ dpid: 2n, port: 3 });
    expect(lab.fabric.lostSince(lab.binding)).to.equal(undefined);
    expect(lab.events.filter((e) => e.type === 'ENDPOINT_LOST')).to.have.length(1);
    expect(lab.fabric.migrations.list().map((m) => [m.reason, m.trigger])).to.deep.equal([['old-port-down', 'arp']]);
    expect(lab.logged('looking for a lost endpoint: its port is down and no move told where it went').map((l) => l.eid)).to.deep.equal([VM.eid]);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    // The answer was for us: no host saw it.
    expect(lab.net.received.filter((r) => r.frame.arp_op === 2 && r.frame.eth_dst === '02:5e:a0:00:00:01')).to.deep.equal([]);
    await lab.advance(1000); // the gauge counts what the last look (every second) found lost
    const metrics = await lab.fabric.metrics.registry.metrics();
    expect(metrics).to.match(/^seamless_lost_endpoints_found_total 1$/m);
    expect(metrics).to.match(/^seamless_lost_endpoints 0$/m);
    lab.stop();
  });

  it('a switch that comes back without the VM\'s port (it moved silently while the switch was away): the VM is looked for and found', async () => {
    const lab = await FabricLab.create();
    await lab.advance(2000); // past the first looks: nothing is a suspect any more
    lab.switches.disconnect(1n);
    await lab.settle();
    lab.net.move(lab.vm, { dpid: 2n, port: 3 }, { keepOldPort: false }); // no PORT_STATUS reaches the controller: s1 is away
    lab.switches.portStatus(2n, 3, 'add');
    lab.switches.connect(1n);
    await lab.advance(4000);
    await lab.settle();
    expect(searchesAt(lab, 2n).length, 'rounds at the other edges').to.be.at.least(1);
    expect(lab.binding.locator).to.deep.include({ dpid: 2n, port: 3 });
    expect(lab.fabric.migrations.list().map((m) => m.trigger)).to.deep.equal(['arp']);
    lab.stop();
  });

  it('a VM that announces itself is never searched for; neither is one whose port is up', async () => {
    const lab = await FabricLab.create();
    await lab.migrate({ dpid: 2n, port: 3 }, { keepOldPort: false });
    await lab.advance(5000);
    await lab.migrate({ dpid: 3n, port: 3 }, { keepOldPort: true });
    await lab.advance(5000);
    await lab.settle();
    expect([1n, 2n, 3n].flatMap((d) => searchesAt(lab, d).filter((p) => p.ports.length > 1)), 'no search round').to.deep.equal([]);
    expect(lab.binding.locator).to.deep.include({ dpid: 3n, port: 3 });
    lab.stop();
  });

  it('a VM shut down for good (its port gone, nowhere to answer) is asked for less and less often, and nothing moves', async () => {
    const lab = await FabricLab.create({ fabric: { lostSearch: { firstAfterMs: 2000, maxIntervalMs: 8000, maxPerRound: 64 } } });
    lab.vm.paused = true;
    lab.switches.portStatus(1n, 3, 'delete');
    await lab.advance(1500);
    expect(lab.fabric.lostSince(lab.binding), 'not lost before its first round is due (a VM that moved announces itself first)').to.equal(undefined);
    await lab.advance(38_500);
    await lab.settle();
    // Rounds at about 3, 7, 15, 23, 31, 39 s (the first tick after each due time).
    const rounds = searchesAt(lab, 1n).length;
    expect(rounds).to.be.within(5, 7);
    expect(lab.binding.locator).to.deep.include({ dpid: 1n, port: 3 });
    expect(lab.fabric.migrations.list()).to.deep.equal([]);
    expect(await lab.fabric.metrics.registry.metrics()).to.match(/^seamless_lost_endpoints 1$/m);
    // Reported once, at its first round, with when it was first seen lost; the API reads the same.
    const reported = lab.events.filter((e) => e.type === 'ENDPOINT_LOST');
    expect(reported.map((e) => e.type === 'ENDPOINT_LOST' && [e.eid, e.dpid, e.port])).to.deep.equal([[VM.eid, '0000000000000001', 3]]);
    const first = reported[0]!;
    const since = first.type === 'ENDPOINT_LOST' ? first.since : 0;
    expect(lab.fabric.lostSince(lab.binding)).to.equal(since);
    // Its port back (the VM was there all along): no longer lost, at once.
    lab.switches.portStatus(1n, 3, 'add');
    expect(lab.fabric.lostSince(lab.binding)).to.equal(undefined);
    lab.stop();
  });
});
