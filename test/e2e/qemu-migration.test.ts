// End to end with a real hypervisor: a QEMU guest (Linux defaults, IPv6 on, checksum offload off)
// in the Mininet reference lab under Seamless, live-migrated over QMP A -> B -> C -> A the way
// libvirt does it (the destination's tap in OVSDB with external_ids first, the paused source left
// up for a while). Streams survive with every byte in order, probes from every peer pass after
// every move, and no move is refused. Assertions are about correctness, never about times.
// Starts Mininet and QEMU: run under `flock /tmp/seamless-lab.lock`.

import { expect } from 'chai';
import { runScenario, type ScenarioResult } from '../../topologies/case-study/experiment.js';
import { SEAMLESS } from '../../topologies/case-study/scenarios.js';

describe('e2e: a real QEMU VM migrated A -> B -> C -> A under Seamless', function () {
  this.timeout(900_000);
  let result: ScenarioResult;

  before(async () => {
    result = await runScenario({ ...SEAMLESS, dwellMs: 5000 }, { vm: 'qemu' });
  });

  it('keeps every TCP stream alive: no reset, every byte delivered in order', () => {
    expect(result.migrations).to.have.length(3);
    for (const s of result.streams) {
      expect(s.senderError, `${s.from} sender`).to.equal(null);
      expect(s.receiverError, `${s.from} receiver`).to.equal(null);
      expect(s.inOrder, `${s.from} in order`).to.equal(true);
      expect(s.bytesReceived, `${s.from} every byte`).to.equal(s.bytesSent);
      expect(s.bytesSent).to.be.greaterThan(100_000);
    }
    expect(result.resets).to.equal(0);
  });

  it('after each move, new connections, UDP and ping from the old, new, third subnet and outside work both ways', () => {
    for (const m of result.migrations) expect(m.probes.filter((p) => !p.ok), `after the move to ${m.to}`).to.deep.equal([]);
  });

  it('every move was confirmed by the controller and none was refused as a conflict', () => {
    for (const m of result.migrations) expect(m.reconvergenceMs, m.to).to.be.a('number');
    expect(result.conflicts, 'legitimate moves are never conflicts').to.equal(0);
  });
});
