// Every announcement seen, whatever a host sends first: IPv6-on hosts (Linux's defaults: NDP and
// MLD before any ARP), a VM that comes home announcing with a gratuitous ARP only, a VM whose
// first frame at its new edge is IPv6.

import { expect } from 'chai';
import { COOKIE_LEARNER } from '../../../controller/pipeline/index.js';
import { FabricLab } from '../../lib/fabric-lab.js';
import type { Headers } from '../../lib/fake-flow-table.js';
import { VM } from '../mobility/fixtures.js';

const mld = (mac: string): Headers => ({ eth_src: mac, eth_dst: '33:33:00:00:00:16', eth_type: 0x86dd, tag: 'mld-report' });

describe('fabric: announcements and IPv6-on hosts', function () {
  this.timeout(20_000);

  it('a host whose first frames are IPv6 (MLD, NDP) becomes an endpoint with its first ARP, and its IPv6 is fast-pathed meanwhile', async () => {
    const lab = await FabricLab.create();
    const h = lab.plug('h6', '02:00:00:00:02:21', '10.0.2.21/24', '10.0.2.1', { dpid: 2n, port: 6 });
    const pins = lab.net.packetIns.length;
    lab.net.inject(h, mld(h.mac));
    await lab.settle();
    lab.net.inject(h, mld(h.mac));
    await lab.settle();
    expect(lab.packetInsSince(pins), 'the second IPv6 frame takes the IPv6-only fast path').to.have.length(1);
    expect(lab.registry.bindings.byMac(h.mac)).to.equal(undefined);
    lab.net.send(h, '10.0.2.20', 'first-ipv4'); // ARPs for cnB first
    await lab.settle();
    expect(lab.registry.bindings.byMac(h.mac)?.locator).to.deep.include({ subnet: 'B', dpid: 2n, port: 6, address: '10.0.2.21' });
    expect(lab.net.lastIp(lab.cnB, 'first-ipv4')).to.not.equal(undefined);
    const learned = lab.table(2n).flows(0).filter((f) => f.cookie === COOKIE_LEARNER && f.match.eth_src === h.mac).map((f) => f.match);
    expect(learned, 'widened to a full source rule').to.deep.equal([{ in_port: 6, eth_src: h.mac }]);
    lab.stop();
  });

  it('the VM resumes in B and its first frame is IPv6: the move is detected from it, and its address never leaks into B', async () => {
    const lab = await FabricLab.create();
    await lab.migrate({ dpid: 2n, port: 3 }, { announce: 'ipv6-then-garp' });
    await lab.settle();
    expect(lab.fabric.migrations.list().map((m) => [m.trigger, m.to.subnet])).to.deep.equal([['ipv6', 'B']]);
    expect(lab.net.received.filter((r) => r.host === 'cnB' && (r.frame.arp_spa === VM.eid || r.frame.eth_type === 0x86dd)), 'neither the GARP nor the IPv6 frame reached B').to.deep.equal([]);
    expect(await lab.allExchanges('after-ipv6-first')).to.deep.equal([]);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  for (const announce of ['garp', 'rarp'] as const) {
    it(`a VM coming home announcing with ${announce === 'garp' ? 'a gratuitous ARP' : 'RARP'} only is seen at once, not at its next IPv4 packet`, async () => {
      const lab = await FabricLab.create();
      await lab.migrate({ dpid: 2n, port: 3 });
      await lab.settle();
      await lab.migrate({ dpid: 1n, port: 3 }, { announce });
      const announcedAt = lab.clock.now();
      await lab.settle();
      const back = lab.fabric.migrations.list()[1];
      expect(back, 'the return was detected').to.deep.include({ trigger: announce });
      expect(back!.detectedAt - announcedAt, 'from the announce itself').to.be.below(60);
      expect(lab.binding.locator).to.deep.include({ subnet: 'A', address: VM.eid });
      lab.stop();
    });
  }
});
