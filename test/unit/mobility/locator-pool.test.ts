import { expect } from 'chai';
import { LocatorPool, parsePrefix, parseRange, PoolExhaustedError, type AddressRange, type Prefix } from '../../../controller/mobility/index.js';

const range = (text: string): AddressRange => parseRange(text) as AddressRange;
const prefix = (text: string): Prefix => parsePrefix(text) as Prefix;

function pool(text: string, reuseGraceMs = 1000, p = '10.0.2.0/24'): LocatorPool {
  return new LocatorPool({ subnet: 'B', range: range(text), prefix: prefix(p), reuseGraceMs });
}

describe('mobility/locator-pool', () => {
  it('hands out fresh addresses in order, never one in use', () => {
    const p = pool('10.0.2.200-10.0.2.203');
    const got = [p.allocate(0), p.allocate(0), p.allocate(0), p.allocate(0)];
    expect(got).to.deep.equal(['10.0.2.200', '10.0.2.201', '10.0.2.202', '10.0.2.203']);
    expect(new Set(got).size).to.equal(4);
    expect(p.inUseCount).to.equal(4);
  });

  it('throws PoolExhaustedError when everything is in use', () => {
    const p = pool('10.0.2.200-10.0.2.201');
    p.allocate(0); p.allocate(0);
    expect(() => p.allocate(5)).to.throw(PoolExhaustedError, /subnet B is exhausted \(2 addresses/);
  });

  it('keeps a released address out of use for the grace period, then reuses it', () => {
    const p = pool('10.0.2.200-10.0.2.201', 1000);
    const a = p.allocate(0);
    p.allocate(0);
    expect(p.release(a, 100)).to.equal(true);
    let error: unknown;
    try { p.allocate(1099); } catch (e) { error = e; }
    expect(error).to.be.instanceOf(PoolExhaustedError);
    expect((error as PoolExhaustedError).nextFreeAt).to.equal(1100);
    expect(p.allocate(1100)).to.equal(a);
  });

  it('prefers fresh addresses over released ones past their grace', () => {
    const p = pool('10.0.2.200-10.0.2.202', 10);
    const a = p.allocate(0);
    p.release(a, 0);
    expect(p.allocate(1000)).to.equal('10.0.2.201');
    expect(p.allocate(1000)).to.equal('10.0.2.202');
    expect(p.allocate(1000)).to.equal(a);
  });

  it('reports a double release and ignores addresses it never handed out', () => {
    const p = pool('10.0.2.200-10.0.2.201');
    const a = p.allocate(0);
    expect(p.release(a, 1)).to.equal(true);
    expect(p.release(a, 2)).to.equal(false);
    expect(p.release('10.0.2.201', 2)).to.equal(false);
  });

  it("never hands out the prefix's network or broadcast address", () => {
    const p = pool('10.0.2.252/30', 0, '10.0.2.252/30');
    expect(p.size).to.equal(2);
    expect([p.allocate(0), p.allocate(0)]).to.deep.equal(['10.0.2.253', '10.0.2.254']);
    expect(() => p.allocate(0)).to.throw(PoolExhaustedError);
  });

  it('restores in-use and released addresses from persisted state', () => {
    const p = pool('10.0.2.200-10.0.2.203', 1000);
    expect(p.reserve('10.0.2.201')).to.equal(true);
    expect(p.reserve('10.0.3.1')).to.equal(false);
    p.restoreReleased({ address: '10.0.2.200', releasedAt: 500 });
    p.restoreReleased({ address: '10.0.2.201', releasedAt: 400 }); // in use: ignored
    expect(p.releasedInGrace(600)).to.deep.equal([{ address: '10.0.2.200', releasedAt: 500 }]);
    expect(p.allocate(600)).to.equal('10.0.2.202');
    expect(p.allocate(600)).to.equal('10.0.2.203');
    expect(() => p.allocate(1499)).to.throw(PoolExhaustedError);
    expect(p.allocate(1500)).to.equal('10.0.2.200');
    expect(p.releasedInGrace(1500)).to.deep.equal([]);
  });

  it('counts what is available at a given time', () => {
    const p = pool('10.0.2.200-10.0.2.209', 100);
    const a = p.allocate(0);
    p.allocate(0);
    p.release(a, 0);
    expect(p.available(50)).to.equal(8);
    expect(p.available(100)).to.equal(9);
  });
});
