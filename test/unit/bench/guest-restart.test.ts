// bench/guest-restart: the echo replies read from `ping -D -n`, and where they stop and start again
// around a migration's pause.

import { expect } from 'chai';
import { echoReplies, restartOf } from '../../../bench/guest-restart.js';

const LINES = [
  'PING 10.0.1.10 (10.0.1.10) 56(84) bytes of data.',
  '[1796057088.300100] 64 bytes from 10.0.1.10: icmp_seq=10 ttl=63 time=0.512 ms',
  '[1796057088.305200] 64 bytes from 10.0.1.10: icmp_seq=11 ttl=63 time=0.498 ms',
  '[1796057088.450000] From 10.0.9.1 icmp_seq=30 Destination Host Unreachable',
  '[1796057088.452000] 64 bytes from 10.0.1.10: icmp_seq=38 ttl=63 time=0.701 ms',
  '',
  '--- 10.0.1.10 ping statistics ---',
];

describe('bench/guest-restart', () => {
  it('reads the echo replies, with their arrival times in ms, and nothing else', () => {
    const replies = echoReplies(LINES);
    expect(replies.map((r) => r.seq)).to.deep.equal([10, 11, 38]);
    expect(replies[0]!.at).to.be.closeTo(1796057088300.1, 0.001);
  });

  it('measures the last reply before the stop and the first after the resume', () => {
    const r = restartOf(echoReplies(LINES), 1796057088310, 1796057088420);
    expect(r.lastBeforeStopMs).to.be.closeTo(4.8, 0.001);
    expect(r.firstAfterResumeMs).to.be.closeTo(32, 0.001);
  });

  it('says none when no reply came after the resume, and refuses a resume before the stop', () => {
    expect(restartOf(echoReplies(LINES), 1796057088460, 1796057088500).firstAfterResumeMs).to.equal(null);
    expect(restartOf([], 1, 2)).to.deep.equal({ lastBeforeStopMs: null, firstAfterResumeMs: null });
    expect(() => restartOf([], 5, 4)).to.throw(RangeError);
  });
});
