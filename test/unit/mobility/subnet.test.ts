import { expect } from 'chai';
import { parseSubnets, SubnetConfigError, SubnetMap } from '../../../controller/mobility/index.js';
import { RAW_SUBNETS } from './fixtures.js';

type RawSubnet = Record<string, unknown>;
const base = (): RawSubnet[] => structuredClone(RAW_SUBNETS) as RawSubnet[];
const edit = (i: number, patch: RawSubnet): RawSubnet[] => base().map((s, j) => (j === i ? { ...s, ...patch } : s));

describe('mobility/subnet', () => {
  it('parses the case-study subnets with dpids in every notation', () => {
    const subnets = parseSubnets(RAW_SUBNETS);
    expect(subnets.map((s) => s.name)).to.deep.equal(['A', 'B', 'C']);
    expect(subnets.map((s) => s.edges[0]?.dpid)).to.deep.equal([1n, 2n, 3n]);
    expect(subnets[0]).to.deep.include({ prefix: { network: '10.0.1.0', length: 24, mask: '255.255.255.0' } });
    expect(subnets[0]!.gateway).to.deep.equal({ ip: '10.0.1.1', mac: '02:00:00:00:01:01' });
    expect(subnets[2]!.locatorPool).to.deep.equal({ first: 0x0a0003c0, last: 0x0a0003df });
  });

  const bad: { name: string; raw: unknown; message: RegExp }[] = [
    { name: 'not an array', raw: { A: {} }, message: /subnets: must be an array/ },
    { name: 'bad CIDR', raw: edit(1, { prefix: '10.0.2.0/33' }), message: /subnets\[1\] \(B\)\.prefix: not a CIDR/ },
    { name: 'host bits in the prefix', raw: edit(1, { prefix: '10.0.2.5/24' }), message: /subnets\[1\] \(B\)\.prefix: host bits set/ },
    { name: 'overlapping prefixes', raw: edit(2, { prefix: '10.0.0.0/16', gateway: { ip: '10.0.0.1' }, locatorPool: '10.0.9.0/24' }), message: /\(C\)\.prefix: 10\.0\.0\.0\/16 overlaps A's 10\.0\.1\.0\/24/ },
    { name: 'gateway outside the prefix', raw: edit(0, { gateway: { ip: '10.0.2.1' } }), message: /subnets\[0\] \(A\)\.gateway\.ip: 10\.0\.2\.1 is outside 10\.0\.1\.0\/24/ },
    { name: 'bad gateway MAC', raw: edit(0, { gateway: { ip: '10.0.1.1', mac: 'zz' } }), message: /\(A\)\.gateway\.mac/ },
    { name: 'pool outside its prefix', raw: edit(1, { locatorPool: '10.0.2.200-10.0.3.10' }), message: /\(B\)\.locatorPool: .* is not inside 10\.0\.2\.0\/24/ },
    { name: 'pool containing the gateway', raw: edit(1, { locatorPool: '10.0.2.0/25' }), message: /\(B\)\.locatorPool: .* contains the gateway 10\.0\.2\.1/ },
    { name: 'pool range backwards', raw: edit(1, { locatorPool: '10.0.2.250-10.0.2.200' }), message: /\(B\)\.locatorPool: range .* ends before it starts/ },
    { name: 'duplicate dpid across subnets', raw: edit(2, { edges: [{ dpid: '0000000000000002', routerPort: 1 }] }), message: /\(C\)\.edges: dpid 0000000000000002 is already an edge of B/ },
    { name: 'duplicate dpid inside one subnet', raw: edit(2, { edges: [{ dpid: 3 }, { dpid: 3 }] }), message: /subnets\[2\] \(C\)\.edges\[1\]\.dpid: duplicate/ },
    { name: 'bad dpid', raw: edit(2, { edges: [{ dpid: 'xyz' }] }), message: /\(C\)\.edges\[0\]\.dpid: must be a datapath id/ },
    { name: 'bad router port', raw: edit(2, { edges: [{ dpid: 3, routerPort: 0 }] }), message: /\(C\)\.edges\[0\]\.routerPort/ },
    { name: 'bad uplink ports', raw: edit(2, { edges: [{ dpid: 3, routerPort: 1, uplinkPorts: [0] }] }), message: /\(C\)\.edges\[0\]\.uplinkPorts: must be an array/ },
    { name: 'the router port as an uplink', raw: edit(2, { edges: [{ dpid: 3, routerPort: 1, uplinkPorts: [4, 1] }] }), message: /uplinkPorts: contains the router port 1/ },
    { name: 'an unknown edge key', raw: edit(2, { edges: [{ dpid: 3, routerport: 1 }] }), message: /\(C\)\.edges\[0\]\.routerport: unknown key/ },
    { name: 'no edges', raw: edit(2, { edges: [] }), message: /\(C\)\.edges: must be a non-empty array/ },
    { name: 'duplicate names', raw: edit(2, { name: 'B' }), message: /\(B\)\.name: duplicate name/ },
    { name: 'unknown key', raw: edit(0, { gatewy: {} }), message: /\(A\)\.gatewy: unknown key/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}, naming the entry and key`, () => {
      let error: unknown;
      try { parseSubnets(c.raw); } catch (e) { error = e; }
      expect(error).to.be.instanceOf(SubnetConfigError);
      expect((error as Error).message).to.match(c.message);
    });
  }

  it('lists every problem at once', () => {
    const raw = edit(0, { prefix: 'nope', locatorPool: 7 });
    try { parseSubnets(raw); expect.fail('should throw'); } catch (e) {
      expect((e as SubnetConfigError).problems).to.have.length(2);
    }
  });

  it('accepts uplink ports to other switches of a subnet', () => {
    const subnets = parseSubnets(edit(0, { edges: [{ dpid: 1, routerPort: 1, uplinkPorts: [5] }, { dpid: 4, uplinkPorts: [1] }] }));
    expect(subnets[0]!.edges).to.deep.equal([{ dpid: 1n, routerPort: 1, uplinkPorts: [5] }, { dpid: 4n, uplinkPorts: [1] }]);
  });

  it('answers lookups by dpid, address and pool', () => {
    const map = new SubnetMap(parseSubnets(RAW_SUBNETS));
    expect(map.ofDpid(2n)?.name).to.equal('B');
    expect(map.ofDpid(9n)).to.equal(undefined);
    expect(map.edge(3n)).to.deep.equal({ dpid: 3n, routerPort: 1 });
    expect(map.ofAddress('10.0.3.77')?.name).to.equal('C');
    expect(map.ofAddress('192.168.0.1')).to.equal(undefined);
    expect(map.poolOf('10.0.2.201')?.name).to.equal('B');
    expect(map.poolOf('10.0.2.20')).to.equal(undefined);
  });
});
