import { expect } from 'chai';
import { gapAround } from '../../../topologies/case-study/measure.js';
import { GuestClock } from '../../../topologies/qemu/guest-clock.js';
import { onHostClock, probeClientCommand, probeServerCommand, streamServeCommand } from '../../../topologies/qemu/guest-tools.js';

describe("the lab guest's tools", () => {
  it('builds the commands the case study runs in the guest', () => {
    expect(streamServeCommand(5001)).to.equal('exec /sbin/seamless-guest stream serve --port 5001');
    expect(probeServerCommand('udp', 6002)).to.equal('exec /sbin/seamless-guest probe udp-server --port 6002');
    expect(probeClientCommand('tcp', '10.0.2.20', 6001)).to.equal('exec /sbin/seamless-guest probe tcp --host 10.0.2.20 --port 6001');
    expect(() => streamServeCommand(0)).to.throw(/port must be 1..65535/);
    expect(() => probeClientCommand('udp', '10.0.2.20; reboot', 1)).to.throw(/expected an IPv4 address/);
  });

  it("puts a receiver's monotonic times on the host clock, so that a migration's gap is measured in host time", () => {
    // Guest monotonic 100 s = host epoch 1_000_000 s; the VM was paused 120 ms at guest 101.0 s.
    const clock = GuestClock.fromSamples([{ sentAt: 1_000_000_000, receivedAt: 1_000_000_000, guestMs: 100_000 }]);
    clock.pause(1_000_001_000, 1_000_001_120);
    const guestResult = {
      event: 'done', role: 'receiver', bytes: 300, inOrder: true, firstBadOffset: null, error: null,
      start: 100.5, end: 102, clock: 'monotonic', counters: { retransSegs: 1, outRsts: 0, estabResets: 0 },
      timeline: [[100.99, 100], [101.0, 200], [101.02, 300]],
    };
    const result = onHostClock(guestResult, clock);
    expect(result).to.not.have.property('clock');
    expect(result).to.include({ bytes: 300, inOrder: true, start: 1_000_000.5, end: 1_000_002.12 });
    expect(result.timeline.map(([t]) => Math.round(t * 1000))).to.deep.equal([1_000_000_990, 1_000_001_120, 1_000_001_140]);
    // The guest saw 10 ms between its last byte before and its first byte after; the application waited 130 ms.
    expect(gapAround(result.timeline, 1_000_001_000, Number.POSITIVE_INFINITY)).to.equal(130);
  });

  it('passes a result already in host time through, and refuses what is not a receiver result', () => {
    const clock = GuestClock.fromSamples([{ sentAt: 0, receivedAt: 0, guestMs: 0 }]);
    const hostResult = { event: 'done', role: 'receiver', bytes: 1, start: 5, end: 6, timeline: [[5.5, 1]] };
    expect(onHostClock(hostResult, clock)).to.deep.include({ start: 5, end: 6, timeline: [[5.5, 1]] });
    expect(() => onHostClock({ event: 'listening' }, clock)).to.throw(/not a stream receiver result/);
  });
});
