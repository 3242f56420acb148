// Properties of the packet parser (fast-check): what the builders make parses back to the same
// header fields, and no input (any bytes, any ethertype with any payload, valid frames cut short
// or mutated) makes parsePacket throw; it returns a packet or an error naming the layer.

import assert from 'node:assert/strict';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  buildArpFrame, buildEthernet, buildIcmp, buildIpv4, buildTcp, buildUdp, ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_IPV6,
  ETH_TYPE_QINQ, ETH_TYPE_RARP, ETH_TYPE_VLAN, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, macFromBytes, packetFields,
  parsePacket, type Layer, type PacketFields, type VlanTag,
} from '../../../controller/packet/index.js';

const LAYERS: readonly Layer[] = ['ethernet', 'vlan', 'arp', 'ipv4', 'tcp', 'udp', 'icmp'];
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macFromBytes(b));
const ip = fc.ipV4();
const vlans: fc.Arbitrary<VlanTag[]> = fc.array(
  fc.record({ tpid: fc.constantFrom(ETH_TYPE_VLAN, ETH_TYPE_QINQ), pcp: fc.integer({ min: 0, max: 7 }), vid: fc.integer({ min: 0, max: 0xfff }) }),
  { maxLength: 2 },
);

interface Built { readonly bytes: Uint8Array; readonly fields: PacketFields }

/** What an edge switch would see for a VLAN stack: the outer tag's vid and pcp. */
const outerTag = (tags: readonly VlanTag[]): PacketFields => (tags[0] ? { vlan_vid: tags[0].vid, vlan_pcp: tags[0].pcp } : {});

const arpFrame: fc.Arbitrary<Built> = fc.record({
  ethDst: mac, ethSrc: mac, op: fc.constantFrom(1, 2, 3, 4), sha: mac, spa: ip, tha: mac, tpa: ip, vlans,
}).map((spec) => ({
  bytes: buildArpFrame(spec),
  fields: {
    eth_dst: spec.ethDst, eth_src: spec.ethSrc, eth_type: spec.op >= 3 ? ETH_TYPE_RARP : ETH_TYPE_ARP, ...outerTag(spec.vlans),
    arp_op: spec.op, arp_spa: spec.spa, arp_tpa: spec.tpa, arp_sha: spec.sha, arp_tha: spec.tha,
  },
}));

const transport = fc.oneof(
  fc.record({ proto: fc.constant(IP_PROTO_TCP), srcPort: u16, dstPort: u16, flags: u8, payload: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ proto: fc.constant(IP_PROTO_UDP), srcPort: u16, dstPort: u16, payload: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ proto: fc.constant(IP_PROTO_ICMP), type: u8, code: u8 }),
);

const ipv4Frame: fc.Arbitrary<Built> = fc.record({
  dst: mac, src: mac, vlans, ipSrc: ip, ipDst: ip, dscp: fc.integer({ min: 0, max: 63 }), ecn: fc.integer({ min: 0, max: 3 }),
  ttl: u8, l4: transport,
}).map((s) => {
  const l4 = s.l4;
  const payload = l4.proto === IP_PROTO_TCP ? buildTcp({ src: s.ipSrc, dst: s.ipDst, srcPort: l4.srcPort, dstPort: l4.dstPort, flags: l4.flags, payload: l4.payload })
    : l4.proto === IP_PROTO_UDP ? buildUdp({ src: s.ipSrc, dst: s.ipDst, srcPort: l4.srcPort, dstPort: l4.dstPort, payload: l4.payload })
      : buildIcmp({ type: l4.type, code: l4.code });
  const transportFields: PacketFields = l4.proto === IP_PROTO_TCP ? { tcp_src: l4.srcPort, tcp_dst: l4.dstPort }
    : l4.proto === IP_PROTO_UDP ? { udp_src: l4.srcPort, udp_dst: l4.dstPort } : { icmpv4_type: l4.type, icmpv4_code: l4.code };
  const ipv4 = buildIpv4({ src: s.ipSrc, dst: s.ipDst, protocol: l4.proto, dscp: s.dscp, ecn: s.ecn, ttl: s.ttl, payload });
  return {
    bytes: buildEthernet({ dst: s.dst, src: s.src, ethertype: ETH_TYPE_IPV4, vlans: s.vlans, payload: ipv4 }),
    fields: {
      eth_dst: s.dst, eth_src: s.src, eth_type: ETH_TYPE_IPV4, ...outerTag(s.vlans),
      ip_dscp: s.dscp, ip_ecn: s.ecn, ip_proto: l4.proto, ipv4_src: s.ipSrc, ipv4_dst: s.ipDst, ...transportFields,
    },
  };
});

const validFrame = fc.oneof(arpFrame, ipv4Frame);

/**
 * Parses without throwing and returns a packet (whose fields can be read) or an error naming its
 * layer. node:assert rather than chai: chai's chains cost a quarter of a millisecond each.
 */
function expectParseKeepsPromises(bytes: Uint8Array, outcome: { ok: number; refused: number }): void {
  const r = parsePacket(bytes);
  if (r.ok) {
    outcome.ok++;
    packetFields(r.value);
  } else {
    outcome.refused++;
    assert.ok(LAYERS.includes(r.error.layer), `unknown layer ${r.error.layer}`);
    assert.ok(r.error.reason.length > 0, 'an error without a reason');
  }
}

describe('packet parser properties', function () {
  this.timeout(30_000);

  it('parses what the builders make back to the same header fields', () => {
    fc.assert(fc.property(validFrame, ({ bytes, fields }) => {
      const r = parsePacket(bytes);
      if (!r.ok) expect.fail(`${r.error.layer}: ${r.error.reason}`);
      expect(packetFields(r.value)).to.deep.equal(fields);
      if (r.value.kind === 'ipv4') expect(r.value.ipv4.checksumValid).to.equal(true);
    }), { numRuns: 500 });
  });

  it('never throws on any bytes', () => {
    const outcome = { ok: 0, refused: 0 };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 128 }), (b) => expectParseKeepsPromises(b, outcome)), { numRuns: 2000 });
    expect(outcome.refused).to.be.greaterThan(0);
  });

  it('never throws on any payload behind a known ethertype', () => {
    const outcome = { ok: 0, refused: 0 };
    // Up to three tags (one more than the parser takes), an ethertype, and a payload that often
    // starts like an IPv4 header so the inner parsers get exercised.
    const frame = fc.record({
      addresses: fc.uint8Array({ minLength: 12, maxLength: 12 }),
      tags: fc.array(fc.tuple(fc.constantFrom(ETH_TYPE_VLAN, ETH_TYPE_QINQ), u16), { maxLength: 3 }),
      ethertype: fc.oneof(fc.constantFrom(ETH_TYPE_ARP, ETH_TYPE_RARP, ETH_TYPE_IPV4, ETH_TYPE_IPV6), u16),
      ipv4Head: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 80 }),
    }).map(({ addresses, tags, ethertype, ipv4Head, payload }) => {
      const u16be = (v: number) => [v >> 8, v & 0xff];
      const head = [...addresses, ...tags.flatMap(([tpid, tci]) => [...u16be(tpid), ...u16be(tci)]), ...u16be(ethertype)];
      const b = Uint8Array.from([...head, ...payload]);
      if (ipv4Head && payload.length > 0) b[head.length] = 0x45;
      return b;
    });
    fc.assert(fc.property(frame, (b) => expectParseKeepsPromises(b, outcome)), { numRuns: 3000 });
    expect(outcome.ok).to.be.greaterThan(0);
    expect(outcome.refused).to.be.greaterThan(0);
  });

  it('never throws on valid frames cut short or with bytes replaced', () => {
    const outcome = { ok: 0, refused: 0 };
    const edits = fc.array(fc.tuple(fc.nat(), u8), { maxLength: 4 });
    fc.assert(fc.property(validFrame, fc.nat(), edits, ({ bytes }, n, changes) => {
      const b = Uint8Array.from(bytes.subarray(0, n % (bytes.length + 1)));
      for (const [at, v] of changes) if (b.length > 0) b[at % b.length] = v;
      expectParseKeepsPromises(b, outcome);
    }), { numRuns: 3000 });
    expect(outcome.ok).to.be.greaterThan(0);
    expect(outcome.refused).to.be.greaterThan(0);
  });
});
