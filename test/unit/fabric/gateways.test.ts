import { expect } from 'chai';
import { Gateways } from '../../../controller/fabric/gateways.js';
import { parseSubnets, SubnetMap } from '../../../controller/mobility/index.js';
import { buildArpRequest, parsePacket, type Packet } from '../../../controller/packet/index.js';

const subnets = new SubnetMap(parseSubnets([
  { name: 'A', prefix: '10.0.1.0/24', gateway: { ip: '10.0.1.1', mac: '02:00:00:00:01:01' }, edges: [{ dpid: 1, routerPort: 2 }], locatorPool: '10.0.1.200-10.0.1.250' },
  { name: 'B', prefix: '10.0.2.0/24', gateway: { ip: '10.0.2.1' }, edges: [{ dpid: 2 }], locatorPool: '10.0.2.200-10.0.2.250' },
]));

function arp(senderMac: string, senderIp: string, targetIp: string): Packet {
  const parsed = parsePacket(buildArpRequest({ senderMac, senderIp, targetIp }));
  if (!parsed.ok) throw new Error(parsed.error.reason);
  return parsed.value;
}

describe('Gateways', () => {
  it('uses configured router ports and gateway MACs', () => {
    const g = new Gateways(subnets);
    expect(g.routerPort(1n)).to.equal(2);
    expect(g.gatewayMac('A')).to.equal('02:00:00:00:01:01');
    expect(g.routerPort(2n)).to.equal(undefined);
  });

  it("learns an unconfigured gateway from the router's own ARP, once", () => {
    const g = new Gateways(subnets);
    const learned = g.observe(2n, 7, arp('02:00:00:00:02:01', '10.0.2.1', '10.0.2.20'));
    expect(learned).to.deep.equal({ subnet: 'B', mac: '02:00:00:00:02:01', dpid: 2n, port: 7 });
    expect(g.routerPort(2n)).to.equal(7);
    expect(g.gatewayMac('B')).to.equal('02:00:00:00:02:01');
    expect(g.observe(2n, 7, arp('02:00:00:00:02:01', '10.0.2.1', '10.0.2.30'))).to.equal(undefined);
  });

  it('ignores ARP from hosts and does not override configuration', () => {
    const g = new Gateways(subnets);
    expect(g.observe(2n, 1, arp('02:00:00:00:02:14', '10.0.2.20', '10.0.2.1'))).to.equal(undefined);
    expect(g.observe(1n, 5, arp('02:00:00:00:01:99', '10.0.1.1', '10.0.1.20'))).to.equal(undefined);
    expect(g.routerPort(1n)).to.equal(2);
  });

  it("tells the router's frames apart by port or by the gateway MAC", () => {
    const g = new Gateways(subnets);
    expect(g.isRouterSide(1n, 2, arp('02:00:00:00:01:14', '10.0.1.20', '10.0.1.1'))).to.equal(true);
    expect(g.isRouterSide(1n, 1, arp('02:00:00:00:01:01', '10.0.1.1', '10.0.1.20'))).to.equal(true);
    expect(g.isRouterSide(1n, 1, arp('02:00:00:00:01:14', '10.0.1.20', '10.0.1.1'))).to.equal(false);
  });
});
