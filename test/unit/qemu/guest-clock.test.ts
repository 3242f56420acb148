import { expect } from 'chai';
import { GuestClock, GuestClockError, sampleOffset } from '../../../topologies/qemu/guest-clock.js';

// A guest booted 5 s ago (monotonic 5000 ms) at host instant 1_000_000 ms.
const sample = (sentAt: number, rtt: number, guestMs: number) => ({ sentAt, receivedAt: sentAt + rtt, guestMs });

describe('GuestClock: guest CLOCK_MONOTONIC onto the host clock', () => {
  it('places a sample mid-way through its round trip and keeps the shortest one', () => {
    expect(sampleOffset(sample(1_000_000, 4, 5002))).to.deep.equal({ offsetMs: 995_000, uncertaintyMs: 2 });
    const clock = GuestClock.fromSamples([sample(1_000_000, 10, 5004), sample(1_000_020, 2, 5021), sample(1_000_040, 6, 5041)]);
    expect(clock.currentOffsetMs).to.equal(995_000);
    expect(clock.uncertaintyMs).to.equal(1);
    expect(clock.toHostMs(6000)).to.equal(1_001_000);
  });

  it('adds each pause to the guest times after it, and only to those', () => {
    const clock = GuestClock.fromSamples([sample(1_000_000, 0, 5000)]);
    // Paused from host 1_002_000 to 1_002_120 (guest time 7000 stands still), then again for 40 ms.
    clock.pause(1_002_000, 1_002_120);
    clock.pause(1_003_120, 1_003_160);
    expect(clock.toHostMs(6999)).to.equal(1_001_999);
    expect(clock.toHostMs(7000)).to.equal(1_002_120); // the resume: the first instant after the pause
    expect(clock.toHostMs(7500)).to.equal(1_002_620);
    expect(clock.toHostMs(8000)).to.equal(1_003_160);
    expect(clock.toHostMs(9000)).to.equal(1_004_160);
    expect(clock.currentOffsetMs).to.equal(995_160);
  });

  it('measures how far a fresh sample disagrees with the mapping', () => {
    const clock = GuestClock.fromSamples([sample(1_000_000, 0, 5000)]);
    clock.pause(1_002_000, 1_002_100);
    expect(clock.errorOf(sample(1_003_100, 0, 8000))).to.equal(0);
    expect(clock.errorOf(sample(1_003_100, 0, 8003))).to.equal(3);
  });

  it('refuses impossible input', () => {
    expect(() => GuestClock.fromSamples([])).to.throw(GuestClockError, /no clock samples/);
    expect(() => sampleOffset({ sentAt: 10, receivedAt: 9, guestMs: 0 })).to.throw(GuestClockError, /before it was sent/);
    const clock = GuestClock.fromSamples([sample(1_000_000, 0, 5000)]);
    expect(() => clock.pause(1_002_000, 1_001_000)).to.throw(GuestClockError, /before stop/);
    clock.pause(1_002_000, 1_002_100);
    expect(() => clock.pause(1_001_000, 1_001_100)).to.throw(GuestClockError, /older than the previous/);
  });
});
