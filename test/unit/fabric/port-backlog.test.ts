import { expect } from 'chai';
import { MIN_CAPACITY, PortBacklog } from '../../../controller/fabric/port-backlog.js';

const at = (txPackets: number, txDropped = 0) => ({ txPackets: BigInt(txPackets), txDropped: BigInt(txDropped) });

describe('fabric: PortBacklog (what a VM\'s tap still holds of a replay)', () => {
  it('what was given less what the port counted sent or dropped waits in it; others\' frames counted sent shorten it', () => {
    const b = new PortBacklog(at(1000, 7));
    b.gave(300);
    expect(b.read(at(1100, 7)), 'no drops').to.equal(0);
    expect(b.waiting()).to.equal(200);
    expect(b.room(500)).to.equal(300);
    b.gave(300);
    expect(b.read(at(1150, 57)), 'dropped since the last reading').to.equal(50);
    expect(b.waiting()).to.equal(600 - 150 - 50);
  });

  it('a port that dropped was full: what waited then is its capacity, never less than MIN_CAPACITY', () => {
    const tap = new PortBacklog(at(0));
    tap.gave(256);
    tap.read(at(0, 156));
    expect(tap.capacity).to.equal(100);
    expect(tap.bound(500)).to.equal(100);
    const veth = new PortBacklog(at(0));
    veth.gave(10);
    veth.read(at(5, 5)); // counts as it goes: nothing waits, yet it dropped
    expect(veth.capacity).to.equal(MIN_CAPACITY);
  });

  it('never a negative backlog, and no deadline unless given', () => {
    const b = new PortBacklog(at(10));
    b.read(at(50)); // a flood went out of the port
    expect(b.waiting()).to.equal(0);
    expect(b.deadline).to.equal(Infinity);
  });
});
