import { expect } from 'chai';
import {
  intToIpv4, ipv4FromBytes, ipv4ToInt, isIpv4, isMac, isMulticastMac, macFromBytes, macToBytes, normalizeMac, prefixLengthToMask,
} from '../../../controller/packet/index.js';

describe('packet/address', () => {
  const ips: [string, boolean][] = [
    ['10.0.1.10', true], ['0.0.0.0', true], ['255.255.255.255', true],
    ['256.0.0.1', false], ['10.0.1', false], ['10.0.01.1', false], ['10.0.1.1 ', false], ['a.b.c.d', false],
  ];
  for (const [ip, valid] of ips) it(`isIpv4(${JSON.stringify(ip)}) = ${valid}`, () => expect(isIpv4(ip)).to.equal(valid));

  it('converts IPv4 to unsigned integers and back', () => {
    expect(ipv4ToInt('255.255.255.255')).to.equal(0xffffffff);
    expect(ipv4ToInt('10.0.1.10')).to.equal(0x0a00010a);
    expect(intToIpv4(0xc0a80001)).to.equal('192.168.0.1');
    expect(() => ipv4ToInt('1.2.3')).to.throw(/not an IPv4/);
  });

  it('normalises MACs and converts them to bytes and back', () => {
    expect(isMac('02:00:00:00:01:0A')).to.equal(true);
    expect(isMac('02:00:00:00:01')).to.equal(false);
    expect(normalizeMac('02:00:00:00:01:0A')).to.equal('02:00:00:00:01:0a');
    expect([...macToBytes('02:00:00:00:01:0a')]).to.deep.equal([2, 0, 0, 0, 1, 10]);
    expect(macFromBytes(Uint8Array.of(9, 0xaa, 2, 0, 0, 0, 1, 10), 2)).to.equal('02:00:00:00:01:0a');
    expect(isMulticastMac('ff:ff:ff:ff:ff:ff')).to.equal(true);
    expect(isMulticastMac('01:00:5e:00:00:01')).to.equal(true);
    expect(isMulticastMac('02:00:00:00:01:0a')).to.equal(false);
  });

  it('formats every octet and tells multicast by the first octet\'s low bit, for all 256 values', () => {
    for (let b = 0; b < 256; b++) {
      const mac = macFromBytes(Uint8Array.of(b, 255 - b, 0, 1, 0x0f, 0xf0));
      const hex = b.toString(16).padStart(2, '0');
      expect(mac).to.equal(`${hex}:${(255 - b).toString(16).padStart(2, '0')}:00:01:0f:f0`);
      expect(isMulticastMac(mac), mac).to.equal((b & 1) === 1);
      expect(isMulticastMac(mac.toUpperCase()), mac).to.equal((b & 1) === 1);
      expect(ipv4FromBytes(Uint8Array.of(7, b, 255 - b, 0, 1), 1)).to.equal(`${b}.${255 - b}.0.1`);
    }
  });

  it('turns prefix lengths into dotted masks', () => {
    expect([0, 8, 16, 24, 30, 32].map(prefixLengthToMask)).to.deep.equal([
      '0.0.0.0', '255.0.0.0', '255.255.0.0', '255.255.255.0', '255.255.255.252', '255.255.255.255',
    ]);
  });
});
