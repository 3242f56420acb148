import { expect } from 'chai';
import { negotiate, ourHello, OF13 } from '../../../controller/switch/handshake.js';
import { formatDpid, parseDpid } from '../../../controller/switch/dpid.js';

describe('switch/handshake', () => {
  const bitmap = (...versions: number[]) => [{ type: 'VERSIONBITMAP' as const, versions }];

  it('offers exactly OpenFlow 1.3 in our HELLO', () => {
    expect(ourHello(9)).to.deep.equal({ type: 'HELLO', xid: 9, version: 4, elements: [{ type: 'VERSIONBITMAP', versions: [4] }] });
  });

  it('uses the bitmap when the peer sends one', () => {
    expect(negotiate({ version: 6, elements: bitmap(1, 4, 6) })).to.deep.equal({ ok: true, version: OF13 });
    const r = negotiate({ version: 6, elements: bitmap(5, 6) });
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.reason).to.contain('0x05, 0x06');
  });

  it('takes the smaller header version without a bitmap', () => {
    expect(negotiate({ version: 4, elements: [] })).to.deep.equal({ ok: true, version: 4 });
    expect(negotiate({ version: 6, elements: [] })).to.deep.equal({ ok: true, version: 4 });
    const r = negotiate({ version: 1, elements: [] });
    expect(r).to.have.property('ok', false);
    if (!r.ok) expect(r.reason).to.match(/we support 0x04.*peer offers 0x01/);
  });

  it('ignores unknown hello elements', () => {
    const elements = [{ type: 'UNKNOWN' as const, elementType: 7, body: new Uint8Array(4) }];
    expect(negotiate({ version: 4, elements }).ok).to.equal(true);
  });
});

describe('switch/dpid', () => {
  it('formats 16 hex digits and parses the usual notations', () => {
    expect(formatDpid(1n)).to.equal('0000000000000001');
    expect(formatDpid(0xfedcba9876543210n)).to.equal('fedcba9876543210');
    expect(parseDpid('0000000000000abc')).to.equal(0xabcn);
    expect(parseDpid('0xABC')).to.equal(0xabcn);
    expect(parseDpid('00:00:00:00:00:00:0a:bc')).to.equal(0xabcn);
    expect(parseDpid(5n)).to.equal(5n);
    expect(() => parseDpid('xyz')).to.throw(/not a datapath id/);
    expect(() => parseDpid('1'.repeat(17))).to.throw(/not a datapath id/);
  });
});
