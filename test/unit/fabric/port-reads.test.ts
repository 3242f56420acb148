import { expect } from 'chai';
import { PortReads, UNREAD_MARGIN } from '../../../controller/fabric/port-reads.js';

const at = (txPackets: number) => ({ txPackets: BigInt(txPackets), txDropped: 0n });

describe('fabric: PortReads (which copies a stopped VM\'s tap had not handed on)', () => {
  it('a guest that kept up: the copies beyond its tap\'s count at the stop, less the margin', () => {
    // 5,000 frames before the copying began, all read; then 300 copies, of which the guest read 260.
    const reads = new PortReads();
    reads.sample(0, at(5000));
    reads.sample(120, at(5120));
    expect(reads.unreadFrom(300, at(5260))).to.equal(260 - UNREAD_MARGIN);
  });

  it('a sample that found the tap holding frames bounds less well; the best sample decides', () => {
    const reads = new PortReads();
    reads.sample(0, at(4990)); // 10 of the earlier frames still waited in the tap
    reads.sample(50, at(5050)); // it had caught up: exact
    reads.sample(80, at(5060)); // 20 copies waiting
    expect(reads.unreadFrom(300, at(5100))).to.equal(100 - UNREAD_MARGIN);
  });

  it('frames the port was given that were never copied (a flood) count as read copies unless a sample saw them: the margin covers a few', () => {
    const reads = new PortReads();
    reads.sample(0, at(5000));
    // 3 floods, then 100 copies read; 50 more copies unread at the stop.
    const from = reads.unreadFrom(150, at(5103))!;
    expect(from, 'the first unread copy is number 100').to.be.at.most(100);
    expect(100 - from).to.equal(UNREAD_MARGIN - 3);
  });

  it('a guest that read nothing since the copying began: every copy is unread', () => {
    const reads = new PortReads();
    reads.sample(0, at(5000));
    reads.sample(40, at(5000));
    expect(reads.unreadFrom(90, at(5000))).to.equal(0);
  });

  it('a port that counts frames as they go (a veth) reads every copy at once: only the margin is left to the counters', () => {
    const reads = new PortReads();
    reads.sample(0, at(0));
    reads.sample(100, at(100));
    // Frames that reached it after the stop counted too: the span by time covers them (FrameBuffers).
    expect(reads.unreadFrom(130, at(130))).to.equal(130 - UNREAD_MARGIN);
  });

  it('cannot tell without a sample before the stop, or when the count went backwards (a new port of the same number)', () => {
    expect(new PortReads().unreadFrom(10, at(100))).to.equal(undefined);
    const reads = new PortReads();
    reads.sample(0, at(5000));
    expect(reads.unreadFrom(10, at(3))).to.equal(undefined);
  });
});
