// End to end with a real hypervisor: loss-free migration (issue 12) of a QEMU guest across subnets
// at a 1 s stop-and-copy (pause-before-switchover), the host agent's code hearing QEMU's QMP events.
// Over a thousand frames wait for the guest in each stop; its tap queues at most 1,000 until the
// just-resumed guest reads them. Handed out at once they overflowed it (the tap's tx_drop); given as
// the tap's counters show the guest takes them (bufferReplayPortBacklog), nothing of the numbered
// UDP stream (1,000 datagrams/s from cnB, counted in the guest) is lost, and the taps drop next to
// nothing. Assertions are about what arrived, never about times.
// Starts Mininet and QEMU: run under `flock /tmp/seamless-lab.lock`.

import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lossFreeSpecs } from '../../bench/loss-free.js';
import { runScenario, type ScenarioResult } from '../../topologies/case-study/experiment.js';

const MOVES = 2; // A -> B -> C

describe('e2e: loss-free migration of a real QEMU guest across subnets (1 s pause)', function () {
  this.timeout(600_000);
  const lossFree = lossFreeSpecs(1000, MOVES)[2]!;
  const dir = mkdtempSync(join(tmpdir(), 'seamless-qemu-loss-free-'));
  let result: ScenarioResult;
  let resumed: Array<Record<string, unknown>>;

  before(async () => {
    const log = join(dir, 'controller.jsonl');
    result = await runScenario(lossFree, { vm: 'qemu', qemu: { holdStop: true }, controllerLog: log });
    resumed = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'VM runs again: the frames that waited for it are delivered');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('held more frames in each stop than the guest\'s tap can queue, and the controller dropped none', () => {
    expect(resumed).to.have.length(MOVES);
    for (const r of resumed) {
      expect(r.frames, 'frames held in the 1 s stop').to.be.greaterThan(1000);
      expect(r.dropped).to.equal(0);
    }
    expect(result.migrations.map((m) => m.reason)).to.deep.equal(Array(MOVES).fill('intent'));
  });

  it('loses no datagram of the stream (but what Open vSwitch\'s sockets on its way in dropped), next to nothing at the guest\'s tap, and every TCP stream arrives whole, with no reset', () => {
    expect(result.migrations).to.have.length(MOVES);
    expect(result.udp?.sent, 'the UDP stream ran').to.be.greaterThan(5_000);
    const where = JSON.stringify(result.migrations.map((m) => ({ to: m.to, lost: m.udpLost, at: m.udpLostAtMs, drops: m.drops })));
    // What the network lost is the stream's loss, with one exception that is counted, not guessed:
    // Open vSwitch's own packet sockets of the ports on the stream's way in (cnB's, s2 port 1; the
    // router's) dropping frames before the switch ever saw them, when the userspace datapath's main
    // thread falls behind on this 2-core machine (two CI runs of 2026-12-02: 24 frames at cnB's port, 1
    // of them a datagram; 1 datagram at the router's port into s3). No more datagrams than those sockets
    // dropped may be missing in a move; a tap or the buffer losing one still fails the test.
    const senderSocket = (m: (typeof result.migrations)[number]) => Object.entries(m.drops).filter(([k]) => /^ovs socket_drop \w*s\d+-eth[12]$/.test(k)).reduce((n, [, v]) => n + v, 0);
    const unexplained = result.migrations.map((m) => Math.max(0, (m.udpLost ?? 0) - senderSocket(m)));
    expect(unexplained, `datagrams lost beyond what Open vSwitch's sockets on the way dropped: ${where}`).to.deep.equal(Array(MOVES).fill(0));
    expect(result.udp?.lost, `in all, no more than those sockets dropped during the moves: ${where}`).to.be.at.most(result.migrations.reduce((n, m) => n + senderSocket(m), 0));
    if ((result.udp?.lost ?? 0) > 0) console.log(`      ${result.udp?.lost} datagram(s) lost at Open vSwitch's packet sockets on the way: ${where}`);
    // The frames of the last replayBeforeStopMs before the stop are given twice (the slow guest may
    // not have read them). At 5,000 a second a tap dropped 1 frame in 4 of 12 runs on 2026-12-01,
    // and in one CI run of 2026-12-02 a stream's datagram was lost; unpaced and unwatched, the taps
    // dropped over a thousand (docs/benchmarks.md).
    const tapDrops = Object.entries(result.drops).filter(([k]) => / tx_drop /.test(k)).reduce((n, [, v]) => n + v, 0);
    expect(tapDrops, `frames the guest's taps dropped: ${where}`).to.be.at.most(5);
    if (tapDrops > 0) console.log(`      the guest's taps dropped ${tapDrops} frame(s), none of the stream's`);
    expect(result.survived).to.equal(true);
    expect(result.resets).to.equal(0);
  });
});
