// End to end, real OVS + Mininet + the controller as a child process: loss-free migration
// (issue 12). The emulated VM's host agent tells the controller the migration's phases; a numbered
// UDP stream (1,000 datagrams/s from cnB) counts what the network lost. The same moves without the
// host agent lose the pause's datagrams: the count can fail. Assertions are about what arrived,
// never about times.

import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lossFreeSpecs } from '../../bench/loss-free.js';
import { runScenario, type ScenarioResult } from '../../topologies/case-study/experiment.js';

const MOVES = 3; // A -> B -> C -> A

describe('e2e: loss-free migration across subnets (Mininet, 100 ms pause)', function () {
  this.timeout(600_000);
  const [, plain, lossFree] = lossFreeSpecs(100, MOVES);
  const dir = mkdtempSync(join(tmpdir(), 'seamless-loss-free-'));
  let withAgent: ScenarioResult;
  let withoutAgent: ScenarioResult;
  let resumed: Array<Record<string, unknown>>;

  before(async () => {
    const log = join(dir, 'controller.jsonl');
    withAgent = await runScenario(lossFree!, { controllerLog: log });
    resumed = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'VM runs again: the frames that waited for it are delivered');
    withoutAgent = await runScenario(plain!);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no datagram of the stream, and every TCP stream arrives whole, with no reset', () => {
    expect(withAgent.migrations).to.have.length(MOVES);
    expect(withAgent.udp?.sent, 'the UDP stream ran').to.be.greaterThan(5_000);
    expect(withAgent.udp?.lost, JSON.stringify(withAgent.migrations.map((m) => ({ to: m.to, lost: m.udpLost, at: m.udpLostAtMs, drops: m.drops })))).to.equal(0);
    expect(withAgent.migrations.map((m) => m.udpLost)).to.deep.equal(Array(MOVES).fill(0));
    expect(withAgent.survived).to.equal(true);
    expect(withAgent.resets).to.equal(0);
  });

  it('held each stop\'s frames at the controller and delivered them when the VM ran, dropping none', () => {
    expect(resumed).to.have.length(MOVES);
    for (const r of resumed) {
      expect(r.frames, 'frames held in the pause').to.be.greaterThan(50); // 1,000 datagrams/s for 100 ms, and the TCP streams'
      expect(r.dropped).to.equal(0);
    }
    expect(withAgent.migrations.map((m) => m.reason)).to.deep.equal(Array(MOVES).fill('intent'));
    expect(Object.keys(withAgent.drops).filter((k) => k.startsWith('controller')), 'the controller dropped nothing').to.deep.equal([]);
  });

  it('without the host agent the same moves lose the pause\'s datagrams (what loss-free removes)', () => {
    expect(withoutAgent.survived, 'the streams still survive: Seamless keeps them').to.equal(true);
    for (const m of withoutAgent.migrations) expect(m.udpLost, `move to ${m.to}`).to.be.greaterThan(20);
  });
});
