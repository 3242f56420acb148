// The loss-free benchmark's verdict line: issue 12's targets (nothing lost; gap <= downtime + 20 ms
// median, + 50 ms p99) said for the loss-free rows only, from the figures they printed.
import { expect } from 'chai';
import { beforeStopSpecs, gapPlot, lossFreeVerdict, readsFigures, replayRateSpecs, type LossFreeFigures } from '../../../bench/loss-free.js';

function row(overrides: Partial<LossFreeFigures>): LossFreeFigures {
  return {
    scenario: 'seamless-loss-free', pauseMs: 100, moves: 6, downtimeMs: 100, gapMedianMs: 108, gapP99Ms: 115,
    excessMedianMs: 8.1, excessP99Ms: 14.7, retransmissions: 6, movesWithLoss: 6, udpSent: 27_749, udpLost: 0,
    movesWithUdpLoss: 0, resets: 0, survived: true, drops: {}, udpLostAtMs: [], reads: null, ...overrides,
  };
}

describe('bench/loss-free: the verdict against issue 12', () => {
  it('says met when nothing was lost and the gap is within +20 / +50 ms', () => {
    expect(lossFreeVerdict(row({}))).to.equal('targets (issue 12): nothing lost: met; gap beyond the downtime +8.1 / +14.7 ms against +20 / +50: met');
  });

  it('says missed for a loss, or a median or a p99 beyond its bound', () => {
    expect(lossFreeVerdict(row({ udpLost: 2709 }))).to.match(/2709 lost: missed; .*: met$/);
    expect(lossFreeVerdict(row({ excessMedianMs: 20.1 }))).to.match(/nothing lost: met; .*: missed$/);
    expect(lossFreeVerdict(row({ excessP99Ms: 50.5 }))).to.match(/: missed$/);
  });

  it('does not claim nothing was lost where no datagram was counted, and says nothing for the other rows', () => {
    expect(lossFreeVerdict(row({ udpSent: 0 }))).to.match(/losses not counted/);
    expect(lossFreeVerdict(row({ scenario: 'l2-intra-subnet' }))).to.equal(undefined);
    expect(lossFreeVerdict(row({ scenario: 'seamless' }))).to.equal(undefined);
  });

  it('sums up where the gap goes: per move the latest read before the stop and the earliest after the resume', () => {
    const move = (a: [number | null, number | null], b: [number | null, number | null]) => ({ reads: {
      cnB: { lastBeforeStopMs: a[0], firstAfterResumeMs: a[1] }, ext: { lastBeforeStopMs: b[0], firstAfterResumeMs: b[1] },
    } });
    expect(readsFigures([move([4, 30], [2, 45]), move([8, 60], [null, 20]), move([3, 12], [5, 50])])).to.deep.equal({
      lastBeforeStopMedianMs: 3, firstAfterResumeMedianMs: 20, firstAfterResumeMinMs: 12, firstAfterResumeMaxMs: 30,
    });
    expect(readsFigures([move([4, null], [2, null])]), 'no read after any resume').to.equal(null);
    expect(readsFigures([]), 'no moves').to.equal(null);
  });

  it('--replay-rates: one loss-free row per rate, each with its controller flag, 0 named unpaced', () => {
    const specs = replayRateSpecs(1000, 6, [5000, 0]);
    expect(specs.map((s) => s.name)).to.deep.equal(['seamless-loss-free-5000fps', 'seamless-loss-free-unpaced']);
    expect(specs.map((s) => s.controllerArgs)).to.deep.equal([['--buffer-replay-frames-per-sec', '5000'], ['--buffer-replay-frames-per-sec', '0']]);
    expect(specs.every((s) => s.lossFree === true && s.pauseMs === 1000 && s.moves.length === 6), 'loss-free rows of the pause asked').to.equal(true);
  });

  it('--before-stop-spans: one loss-free row per span before the stop, each with its controller flag', () => {
    const specs = beforeStopSpecs(100, 4, [5, 100]);
    expect(specs.map((s) => s.name)).to.deep.equal(['seamless-loss-free-before-stop-5ms', 'seamless-loss-free-before-stop-100ms']);
    expect(specs.map((s) => s.controllerArgs)).to.deep.equal([['--buffer-replay-before-stop-ms', '5'], ['--buffer-replay-before-stop-ms', '100']]);
    expect(specs.every((s) => s.lossFree === true && s.pauseMs === 100 && s.moves.length === 4)).to.equal(true);
  });
});

describe('bench/loss-free: the gap plot', () => {
  it('draws a # per 50 ms of median gap, | at the downtime, grouped by pause, with the UDP count', () => {
    const lines = gapPlot([
      row({ scenario: 'l2-intra-subnet', pauseMs: 100, downtimeMs: 100.3, gapMedianMs: 318.2, gapP99Ms: 1697.2, udpLost: 3799, udpSent: 33_841 }),
      row({ scenario: 'seamless-loss-free', pauseMs: 100, downtimeMs: 100.5, gapMedianMs: 108.5, udpLost: 0, udpSent: 28_481 }),
      row({ scenario: 'seamless-loss-free', pauseMs: 1000, downtimeMs: 1000.4, gapMedianMs: 1009.9, udpLost: 0, udpSent: 33_975 }),
    ]);
    expect(lines).to.deep.equal([
      '100 ms pause    L2 today          ##|####               318 ms   p99 1,697 ms UDP lost 3,799 of 33,841',
      '                Seamless loss-free##|                   109 ms   p99 115 ms   UDP lost 0 of 28,481',
      '1,000 ms pause  Seamless loss-free####################| 1,010 ms p99 115 ms   UDP lost 0 of 33,975',
    ]);
  });

  it('draws a row whose gap is shorter than its downtime, or unknown, without breaking', () => {
    const [short, unknown, uncounted] = gapPlot([
      row({ downtimeMs: 200, gapMedianMs: 120 }), row({ gapMedianMs: Number.NaN }), row({ scenario: 'buffer-10000pps', udpSent: 0 }),
    ]);
    expect(short).to.match(/^100 ms pause {4}Seamless loss-free##\| +120 ms/);
    expect(unknown).to.contain('| ').and.to.contain('no gap');
    expect(uncounted).to.contain('buffer-10000pps').and.to.contain('UDP not counted');
  });
});
