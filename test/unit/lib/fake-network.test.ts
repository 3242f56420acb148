// The fake data plane behaves as the real one where the runtime depends on it.

import { expect } from 'chai';
import { FakeNetwork } from '../../lib/fake-network.js';

describe('test lib: FakeNetwork', () => {
  it('drops a frame to a switch with no rule (no table-miss rule installed)', () => {
    const net = new FakeNetwork();
    net.addSwitch(1n);
    const h = net.addHost('h', '02:00:00:00:00:01', '10.9.0.1/24', '10.9.0.254', { dpid: 1n, port: 1 });
    net.send(h, '10.9.0.2', 'lost');
    expect(net.received).to.deep.equal([]);
    expect(net.packetIns).to.deep.equal([]);
  });

  it('a host answers an ARP probe (sender 0.0.0.0) to its sender without learning it, as Linux does', () => {
    const net = new FakeNetwork();
    const h = net.addHost('h', '02:00:00:00:00:01', '10.9.0.1/24', '10.9.0.254');
    const r = net.addRouterIface('r', '02:00:00:00:00:fe', '10.9.0.254/24', h);
    net.inject(h, { eth_src: h.mac, eth_dst: r.mac, eth_type: 0x0806, arp_op: 1, arp_sha: h.mac, arp_spa: '0.0.0.0', arp_tha: '00:00:00:00:00:00', arp_tpa: '10.9.0.254' });
    expect(r.arp.size, 'the probed side learns nothing').to.equal(0);
    const reply = net.received.find((x) => x.host === 'h' && x.frame.arp_op === 2)!.frame;
    expect(reply).to.deep.include({ eth_dst: h.mac, arp_spa: '10.9.0.254', arp_tha: h.mac, arp_tpa: '0.0.0.0' });
  });

  it('the router drops a packet whose source is one of its own addresses (accept_local=0)', () => {
    const net = new FakeNetwork();
    const h = net.addHost('h', '02:00:00:00:00:01', '10.9.0.1/24', '10.9.0.254');
    const r = net.addRouterIface('r', '02:00:00:00:00:fe', '10.9.0.254/24', h);
    net.inject(h, { eth_src: h.mac, eth_dst: r.mac, eth_type: 0x0800, ipv4_src: '10.9.0.254', ipv4_dst: '10.9.0.77', ip_ttl: 64, tag: 'martian' });
    expect(net.martians.map((f) => f.tag)).to.deep.equal(['martian']);
  });
});
