// A moved VM and the router's own addresses (gateways: DNS, NTP, health checks often live there)
// reach each other both ways, with the router at Linux's defaults: it drops a packet whose source
// is one of its own addresses (accept_local=0).

import { expect } from 'chai';
import { FabricLab } from '../../lib/fabric-lab.js';
import { VM } from '../mobility/fixtures.js';

describe('fabric: a moved VM and the router\'s own addresses', function () {
  this.timeout(20_000);
  const GATEWAYS = ['10.0.1.1', '10.0.2.1', '10.0.3.1'];

  for (const [where, to] of [['B', { dpid: 2n, port: 3 }], ['C', { dpid: 3n, port: 4 }]] as const) {
    it(`moved to ${where}: the VM pings every gateway address and gets the reply from that address`, async () => {
      const lab = await FabricLab.create();
      await lab.migrate(to);
      await lab.settle();
      for (const gw of GATEWAYS) {
        lab.net.send(lab.vm, gw, `ping-${gw}>`);
        await lab.settle(300, 10);
        const reply = lab.net.lastIp(lab.vm, `ping-${gw}><`);
        expect(reply, `reply from ${gw}`).to.deep.include({ ipv4_src: gw, ipv4_dst: VM.eid });
      }
      expect(lab.net.martians, 'the router never saw its own address come back').to.deep.equal([]);
      expect(lab.leaks()).to.deep.equal([]);
      lab.stop();
    });

    it(`moved to ${where}: the router reaches the VM from its own address (a health check) and the VM answers`, async () => {
      const lab = await FabricLab.create();
      await lab.migrate(to);
      await lab.settle();
      lab.net.routerSend(VM.eid, 'health>');
      await lab.settle(300, 10);
      const got = lab.net.lastIp(lab.vm, 'health>');
      expect(got, 'delivered to the VM').to.deep.include({ ipv4_src: '10.0.1.1', ipv4_dst: VM.eid });
      lab.net.send(lab.vm, '10.0.1.1', 'health<');
      await lab.settle(300, 10);
      expect(lab.net.routerInbox.map((f) => [f.tag, f.ipv4_src])).to.deep.include(['health<', VM.eid]);
      expect(lab.net.martians).to.deep.equal([]);
      lab.stop();
    });
  }

  it('negative control: without the gateway alias rules the router drops its own reply as a martian', async () => {
    const lab = await FabricLab.create();
    await lab.migrate({ dpid: 2n, port: 3 });
    await lab.settle();
    lab.table(1n).applyAll(lab.table(1n).flows(2).filter((f) => f.priority === 260).map((f) => ({
      type: 'FLOW_MOD', xid: 0, cookie: f.cookie, cookieMask: 0xffffffffffffffffn, tableId: 2, command: 4, idleTimeout: 0, hardTimeout: 0,
      priority: 260, bufferId: 0xffffffff, outPort: 0xffffffff, outGroup: 0xffffffff, flags: 0, match: f.match, instructions: [],
    } as const)));
    lab.net.send(lab.vm, '10.0.1.1', 'ping>');
    await lab.settle(300, 10);
    expect(lab.net.lastIp(lab.vm, 'ping><')).to.equal(undefined);
    expect(lab.net.martians.map((f) => f.ipv4_src)).to.deep.equal(['10.0.1.1']);
    lab.stop();
  });
});
