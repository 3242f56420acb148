import { expect } from 'chai';
import {
  BindingStore, MoveDetector, type Locator, type MoveDecision, type MoveEvidence, type Sighting,
} from '../../../controller/mobility/index.js';
import { parseSubnets, SubnetMap } from '../../../controller/mobility/index.js';
import { RAW_SUBNETS, VM } from './fixtures.js';

/** The case study plus a second edge in A (dpid 4) reaching the router through s1 (port 5 <-> port 1). */
const withSecondEdge = () => new SubnetMap(parseSubnets(RAW_SUBNETS.map((s) => (s.name === 'A'
  ? { ...s, edges: [{ dpid: 1, routerPort: 1, uplinkPorts: [5] }, { dpid: 4, uplinkPorts: [1] }] } : s))));

const OTHER = { eid: '10.0.1.11', mac: '02:00:00:00:01:0b' };
const NOW = 10_000;

/** VM learned at home on s1 port 3 at t=0; OTHER at home on s1 port 4; VM2 away in B. */
function world(): BindingStore {
  const store = new BindingStore();
  store.add({ eid: VM.eid, mac: VM.mac, homeSubnet: 'A', dpid: 1n, port: 3 }, 0);
  store.add({ eid: OTHER.eid, mac: OTHER.mac, homeSubnet: 'A', dpid: 1n, port: 4 }, 0);
  store.add({ eid: '10.0.3.30', mac: '02:00:00:00:03:1e', homeSubnet: 'C', dpid: 3n, port: 2 }, 0);
  const inB: Locator = { subnet: 'B', dpid: 2n, port: 5, address: '10.0.2.200' };
  store.move('10.0.3.30', inB, 0);
  return store;
}

const at = (dpid: bigint, port: number, rest: Partial<Sighting> = {}): Sighting =>
  ({ dpid, port, mac: VM.mac, ip: VM.eid, kind: 'ipv4', now: NOW, ...rest });

type Expected = { kind: MoveDecision['kind']; reason?: string; locator?: string; to?: string };

const cases: { name: string; sighting: Sighting; evidence?: MoveEvidence; want: Expected }[] = [
  // first sight
  { name: 'unknown EID in the switch subnet is learned at home', sighting: at(1n, 7, { mac: '02:00:00:00:01:14', ip: '10.0.1.20' }), want: { kind: 'learn-new' } },
  { name: 'unknown EID outside the switch subnet is foreign-unknown', sighting: at(2n, 7, { mac: '02:00:00:00:01:14', ip: '10.0.1.20' }), want: { kind: 'ignore', reason: 'foreign-unknown' } },
  { name: 'unknown MAC without an IP (RARP) cannot be learned', sighting: at(1n, 7, { mac: '02:00:00:00:01:14', kind: 'rarp', ip: undefined }), want: { kind: 'ignore', reason: 'unknown-mac' } },
  { name: 'the gateway address is never an endpoint: a claim of it is refused', sighting: at(1n, 7, { mac: '02:00:00:00:01:14', ip: '10.0.1.1' }), want: { kind: 'refused', reason: 'gateway-claim' } },
  { name: 'a port that holds an endpoint: a new claim there is verified first', sighting: at(1n, 3, { mac: '02:00:00:00:01:15', ip: '10.0.1.21' }), want: { kind: 'verify-port' } },
  { name: 'a port whose endpoint still answers refuses a new claim', sighting: at(1n, 3, { mac: '02:00:00:00:01:15', ip: '10.0.1.21' }), evidence: { oldAttachment: 'active' }, want: { kind: 'refused', reason: 'port-holds-endpoint' } },
  { name: 'a port whose endpoint is gone takes a new claim', sighting: at(1n, 3, { mac: '02:00:00:00:01:15', ip: '10.0.1.21' }), evidence: { oldAttachment: 'silent' }, want: { kind: 'learn-new' } },
  { name: 'a locator-pool address is never an EID', sighting: at(1n, 7, { mac: '02:00:00:00:01:14', ip: '10.0.1.201' }), want: { kind: 'ignore', reason: 'locator-address' } },
  { name: 'the broadcast address is never an EID', sighting: at(1n, 7, { mac: '02:00:00:00:01:14', ip: '10.0.1.255' }), want: { kind: 'ignore', reason: 'not-a-host-address' } },
  { name: 'an unmanaged switch is ignored', sighting: at(9n, 1), want: { kind: 'ignore', reason: 'unmanaged-switch' } },
  { name: 'the router port is not an attachment point', sighting: at(2n, 1), want: { kind: 'ignore', reason: 'router-port' } },
  { name: 'an uplink to another switch is not an attachment point', sighting: at(4n, 1), want: { kind: 'ignore', reason: 'uplink-port' } },
  // known, same place
  { name: 'known EID at its place is same-place', sighting: at(1n, 3), want: { kind: 'same-place' } },
  { name: 'RARP for a known MAC at its place is same-place', sighting: at(1n, 3, { kind: 'rarp', ip: undefined }), want: { kind: 'same-place' } },
  // moves
  { name: 'move to B with the old port down allocates a locator', sighting: at(2n, 3, { kind: 'garp' }), evidence: { oldPortDown: true }, want: { kind: 'move', reason: 'old-port-down', locator: 'allocate', to: 'B' } },
  { name: 'RARP maps MAC -> binding and moves with port-down evidence', sighting: at(3n, 4, { kind: 'rarp', ip: undefined }), evidence: { oldPortDown: true }, want: { kind: 'move', reason: 'old-port-down', locator: 'allocate', to: 'C' } },
  { name: 'a matching intent moves without a check', sighting: at(2n, 3, { kind: 'rarp', ip: undefined }), evidence: { intent: { eid: VM.eid, toDpid: 2n, expiresAt: NOW + 1 } }, want: { kind: 'move', reason: 'intent', locator: 'allocate' } },
  { name: 'an intent naming the port moves from that port', sighting: at(2n, 3, { kind: 'rarp', ip: undefined }), evidence: { intent: { eid: VM.eid, toDpid: 2n, toPort: 3, expiresAt: NOW + 1 } }, want: { kind: 'move', reason: 'intent' } },
  { name: 'an intent naming another port is not evidence', sighting: at(2n, 3, { kind: 'rarp', ip: undefined }), evidence: { intent: { eid: VM.eid, toDpid: 2n, toPort: 4, expiresAt: NOW + 1 } }, want: { kind: 'pending' } },
  { name: 'an IPv6 frame of a known MAC elsewhere is a claim like a RARP', sighting: at(2n, 3, { kind: 'ipv6', ip: undefined }), evidence: { oldPortDown: true }, want: { kind: 'move', reason: 'old-port-down' } },
  { name: 'a flapping endpoint is refused even with evidence', sighting: at(2n, 3, { kind: 'garp' }), evidence: { oldPortDown: true, flapping: true }, want: { kind: 'conflict', reason: 'flapping' } },
  { name: 'an intent for another switch is not evidence', sighting: at(2n, 3), evidence: { intent: { eid: VM.eid, toDpid: 3n, expiresAt: NOW + 1 } }, want: { kind: 'pending' } },
  { name: 'an expired intent is not evidence', sighting: at(2n, 3), evidence: { intent: { eid: VM.eid, toSubnet: 'B', expiresAt: NOW } }, want: { kind: 'pending' } },
  { name: 'a silent old attachment (checked) allows the move', sighting: at(2n, 3), evidence: { oldAttachment: 'silent' }, want: { kind: 'move', reason: 'old-attachment-silent' } },
  { name: 'a move inside the home subnet (another port) uses the EID', sighting: at(1n, 9), evidence: { oldPortDown: true }, want: { kind: 'move', locator: 'home', to: 'A' } },
  { name: 'returning home uses the EID as locator', sighting: at(3n, 6, { mac: '02:00:00:00:03:1e', ip: '10.0.3.30' }), evidence: { oldPortDown: true }, want: { kind: 'move', locator: 'home' } },
  { name: 'another port in the same foreign subnet keeps the locator', sighting: at(2n, 6, { mac: '02:00:00:00:03:1e', ip: '10.0.3.30' }), evidence: { oldPortDown: true }, want: { kind: 'move', locator: 'keep' } },
  { name: 'moving on to a third subnet allocates there', sighting: at(1n, 6, { mac: '02:00:00:00:03:1e', ip: '10.0.3.30' }), evidence: { oldPortDown: true }, want: { kind: 'move', locator: 'allocate', to: 'A' } },
  // pending / conflicts
  { name: 'no evidence: pending, with the old attachment to check', sighting: at(2n, 3, { kind: 'garp' }), want: { kind: 'pending' } },
  { name: 'old attachment active (checked): conflict, binding stays', sighting: at(2n, 3), evidence: { oldAttachment: 'active' }, want: { kind: 'conflict', reason: 'old-attachment-active' } },
  { name: 'an intent for this place wins over an answer at the old one (the hypervisor said so)', sighting: at(2n, 3), evidence: { intent: { eid: VM.eid, toDpid: 2n, expiresAt: NOW + 1 }, oldAttachment: 'active' }, want: { kind: 'move', reason: 'intent' } },
  { name: 'MAC of one binding claiming the EID of another: spoof conflict', sighting: at(1n, 4, { mac: OTHER.mac, ip: VM.eid }), evidence: { oldPortDown: true }, want: { kind: 'conflict', reason: 'mac-and-eid-disagree' } },
  { name: 'unknown MAC claiming a bound EID: conflict', sighting: at(1n, 8, { mac: '02:00:00:00:01:99', ip: VM.eid }), want: { kind: 'conflict', reason: 'eid-bound-to-other-mac' } },
  { name: 'bound MAC claiming an unbound IP: conflict', sighting: at(1n, 3, { ip: '10.0.1.99' }), want: { kind: 'conflict', reason: 'mac-bound-to-other-eid' } },
];

describe('mobility/move-detector', () => {
  const detector = new MoveDetector(withSecondEdge());

  for (const c of cases) {
    it(c.name, () => {
      const d = detector.decide(world(), c.sighting, c.evidence);
      expect(d.kind).to.equal(c.want.kind);
      if (c.want.reason !== undefined) expect((d as { reason?: string }).reason).to.equal(c.want.reason);
      if (c.want.locator !== undefined) expect((d as { locator?: string }).locator).to.equal(c.want.locator);
      if (c.want.to !== undefined) expect((d as { to?: { subnet: string } }).to?.subnet).to.equal(c.want.to);
    });
  }

  it('learn-new carries the attachment in the home subnet', () => {
    const d = detector.decide(world(), at(1n, 7, { mac: '02:00:00:00:01:14', ip: '10.0.1.20' }));
    expect(d).to.deep.equal({ kind: 'learn-new', eid: '10.0.1.20', mac: '02:00:00:00:01:14', at: { subnet: 'A', dpid: 1n, port: 7 } });
  });

  it('pending says which attachment to check', () => {
    const d = detector.decide(world(), at(2n, 3, { kind: 'garp' }));
    if (d.kind !== 'pending') throw new Error(d.kind);
    expect(d.check).to.deep.equal({ eid: VM.eid, mac: VM.mac, dpid: 1n, port: 3 });
    expect(d.to).to.deep.equal({ subnet: 'B', dpid: 2n, port: 3 });
  });

  it('a recent sighting at the old place alone is no verdict: the old attachment is checked (a paused source is silent)', () => {
    const store = world();
    store.touch(VM.eid, NOW - 20);
    expect(detector.decide(store, at(2n, 3, { kind: 'garp' })).kind).to.equal('pending');
  });

  it('changes nothing in the store', () => {
    const store = world();
    const before = store.list();
    detector.decide(store, at(2n, 3), { oldPortDown: true });
    expect(store.list()).to.deep.equal(before);
  });
});
