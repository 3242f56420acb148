import { expect } from 'chai';
import { LAG_SPREAD, PortReads, TRUSTED_SAMPLES, UNREAD_MARGIN } from '../../../controller/fabric/port-reads.js';

const at = (txPackets: number) => ({ txPackets: BigInt(txPackets), txDropped: 0n });

describe('fabric: PortReads (which copies a stopped VM\'s tap had not handed on)', () => {
  it('a guest that kept up: the copies beyond its tap\'s count at the stop, less the margin; its reads did not swing', () => {
    // 5,000 frames before the copying began, all read; then 300 copies, of which the guest read 260.
    const reads = new PortReads();
    reads.sample(0, at(5000));
    reads.sample(120, at(5120));
    reads.sample(200, at(5200));
    expect(reads.unreadFrom(300, at(5260))).to.deep.equal({ from: 260 - UNREAD_MARGIN, read: 5260, spread: 0, samples: 3, trusted: true });
  });

  it('fewer than TRUSTED_SAMPLES readings: the count is told, but not trusted alone', () => {
    const reads = new PortReads();
    for (let i = 0; i < TRUSTED_SAMPLES - 1; i++) reads.sample(i * 10, at(5000 + i * 10));
    expect(reads.unreadFrom(100, at(5060))).to.deep.include({ from: 60 - UNREAD_MARGIN, spread: 0, trusted: false });
  });

  it('a sample that found the tap holding frames bounds less well; the best sample decides, and the swing is told', () => {
    const reads = new PortReads();
    reads.sample(0, at(4990)); // 10 of the earlier frames still waited in the tap
    reads.sample(50, at(5050)); // it had caught up: exact
    reads.sample(80, at(5060)); // 20 copies waiting
    expect(reads.unreadFrom(300, at(5100))).to.deep.equal({ from: 100 - UNREAD_MARGIN, read: 5100, spread: 20, samples: 3, trusted: false });
  });

  it('frames the port was given that were never copied (a flood) count as read copies unless a sample saw them: the margin covers a few', () => {
    const reads = new PortReads();
    reads.sample(0, at(5000));
    // 3 floods, then 100 copies read; 50 more copies unread at the stop.
    const { from } = reads.unreadFrom(150, at(5103))!;
    expect(from, 'the first unread copy is number 100').to.be.at.most(100);
    expect(100 - from).to.equal(UNREAD_MARGIN - 3);
  });

  it('a reader that lagged at every sample: the bound is short by its least backlog, and the swing shows the lag', () => {
    // The tap held 30, 45 and 25 frames at the samples; at the stop 40 copies waited.
    const reads = new PortReads();
    reads.sample(100, at(5000 + 100 - 30));
    reads.sample(200, at(5000 + 200 - 45));
    reads.sample(300, at(5000 + 300 - 25));
    const unread = reads.unreadFrom(400, at(5000 + 400 - 40))!;
    expect(unread.from - (400 - 40), 'unread copies the count alone misses: the least backlog, less the margin').to.equal(25 - UNREAD_MARGIN);
    expect(unread.spread).to.equal(20).and.to.be.greaterThan(LAG_SPREAD);
    expect(unread.trusted, 'a swing beyond LAG_SPREAD: not trusted alone').to.equal(false);
  });

  it('a guest that read nothing since the copying began: every copy is unread', () => {
    const reads = new PortReads();
    reads.sample(0, at(5000));
    reads.sample(40, at(5000));
    expect(reads.unreadFrom(90, at(5000))).to.deep.include({ from: 0 });
  });

  it('a port that counts frames as they go (a veth) reads every copy at once: only the margin is left to the counters, and nothing swings', () => {
    const reads = new PortReads();
    reads.sample(0, at(0));
    reads.sample(100, at(100));
    // Frames that reached it after the stop counted too: the span by time covers them (FrameBuffers).
    expect(reads.unreadFrom(130, at(130))).to.deep.include({ from: 130 - UNREAD_MARGIN, spread: 0, samples: 2 });
  });

  it('cannot tell without a sample before the stop, or when the count went backwards (a new port of the same number)', () => {
    expect(new PortReads().unreadFrom(10, at(100))).to.equal(undefined);
    const reads = new PortReads();
    reads.sample(0, at(5000));
    expect(reads.unreadFrom(10, at(3))).to.equal(undefined);
  });
});
