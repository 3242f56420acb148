import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BindingRegistry, FileBindingRepository, MemoryBindingRepository, MoveDetector, PoolExhaustedError, parseSubnets, SubnetMap,
  type BindingEvent, type Sighting,
} from '../../../controller/mobility/index.js';
import { caseStudyMap, RAW_SUBNETS, VM } from './fixtures.js';

const sight = (dpid: bigint, port: number, now: number, rest: Partial<Sighting> = {}): Sighting =>
  ({ dpid, port, mac: VM.mac, ip: VM.eid, kind: 'ipv4', now, ...rest });

describe('mobility/binding-registry', () => {
  const subnets = caseStudyMap();
  const detector = new MoveDetector(subnets);

  async function run(registry: BindingRegistry, steps: [Sighting, boolean][]): Promise<(BindingEvent | undefined)[]> {
    return steps.map(([s, portDown]) => registry.apply(detector.decide(registry.bindings, s, { oldPortDown: portDown }), s.now));
  }

  it('learns, moves A -> B -> C -> A with locators from each pool and releases them', async () => {
    const repo = new MemoryBindingRepository();
    const { registry } = await BindingRegistry.open(subnets, repo, { reuseGraceMs: 1000 });
    const events = await run(registry, [
      [sight(1n, 3, 0), false],
      [sight(1n, 3, 5), false],
      [sight(2n, 3, 100, { kind: 'rarp', ip: undefined }), true],
      [sight(3n, 3, 200, { kind: 'garp' }), true],
      [sight(1n, 3, 300), true],
    ]);
    expect(events.map((e) => e?.type)).to.deep.equal(['BINDING_ADDED', undefined, 'BINDING_MOVED', 'BINDING_MOVED', 'BINDING_MOVED']);
    expect(events.map((e) => e?.binding.locator.address)).to.deep.equal([VM.eid, undefined, '10.0.2.200', '10.0.3.192', VM.eid]);
    expect(registry.bindings.byEid(VM.eid)?.version).to.equal(4);
    expect(registry.bindings.byEid(VM.eid)?.lastSeen).to.equal(300);
    expect(registry.pool('B')?.isInUse('10.0.2.200')).to.equal(false);
    expect(registry.pool('C')?.isInUse('10.0.3.192')).to.equal(false);
    expect(registry.state(400).released).to.deep.equal([
      { subnet: 'B', address: '10.0.2.200', releasedAt: 200 },
      { subnet: 'C', address: '10.0.3.192', releasedAt: 300 },
    ]);
    await registry.flush(400);
    expect(repo.journal.map((e) => e.type)).to.deep.equal(['BINDING_ADDED', 'BINDING_MOVED', 'BINDING_MOVED', 'BINDING_MOVED']);
  });

  it('keeps the locator for a move between ports of the same foreign subnet', async () => {
    const { registry } = await BindingRegistry.open(subnets, new MemoryBindingRepository(), { reuseGraceMs: 1000 });
    const events = await run(registry, [[sight(1n, 3, 0), false], [sight(2n, 3, 100), true], [sight(2n, 7, 200), true]]);
    expect(events.map((e) => e?.binding.locator)).to.deep.equal([
      { subnet: 'A', dpid: 1n, port: 3, address: VM.eid },
      { subnet: 'B', dpid: 2n, port: 3, address: '10.0.2.200' },
      { subnet: 'B', dpid: 2n, port: 7, address: '10.0.2.200' },
    ]);
    expect(registry.pool('B')?.isInUse('10.0.2.200')).to.equal(true);
    expect(registry.state(300).released).to.deep.equal([]);
  });

  it('changes nothing when the new subnet has no free locator (its gateway alias is never handed out)', async () => {
    const tiny = new SubnetMap(parseSubnets(RAW_SUBNETS.map((s) => (s.name === 'B' ? { ...s, locatorPool: '10.0.2.200-10.0.2.201' } : s))));
    const d = new MoveDetector(tiny);
    const repo = new MemoryBindingRepository();
    const { registry } = await BindingRegistry.open(tiny, repo);
    registry.apply(d.decide(registry.bindings, sight(1n, 3, 0)), 0);
    registry.apply(d.decide(registry.bindings, sight(1n, 4, 0, { ip: '10.0.1.11', mac: '02:00:00:00:01:0b' })), 0);
    registry.apply(d.decide(registry.bindings, sight(2n, 3, 10), { oldPortDown: true }), 10);
    const second = d.decide(registry.bindings, sight(2n, 4, 20, { ip: '10.0.1.11', mac: '02:00:00:00:01:0b' }), { oldPortDown: true });
    expect(() => registry.apply(second, 20)).to.throw(PoolExhaustedError);
    expect(registry.bindings.byEid('10.0.1.11')?.locator.subnet).to.equal('A');
    expect(registry.bindings.byEid(VM.eid)?.locator.address).to.equal('10.0.2.200');
  });

  it('survives a restart through the file repository: bindings, ids and pool state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seamless-registry-'));
    try {
      const repo = new FileBindingRepository({ dir });
      const { registry } = await BindingRegistry.open(subnets, repo, { reuseGraceMs: 1000 });
      await run(registry, [[sight(1n, 3, 0), false], [sight(2n, 3, 100), true], [sight(3n, 3, 200), true]]);
      registry.remove(VM.eid, 250);
      registry.apply(detector.decide(registry.bindings, sight(1n, 5, 260, { ip: '10.0.1.12', mac: '02:00:00:00:01:0c' })), 260);
      await registry.flush(300);
      await repo.close();

      const repo2 = new FileBindingRepository({ dir });
      const { registry: again, problems } = await BindingRegistry.open(subnets, repo2, { reuseGraceMs: 1000 });
      expect(problems).to.deep.equal([]);
      expect(again.bindings.list()).to.deep.equal(registry.bindings.list());
      expect(again.state(300)).to.deep.equal(registry.state(300));
      // 10.0.2.200 (released at 200) and 10.0.3.192 (at 250) are still resting: B hands out .201.
      const back = again.apply(detector.decide(again.bindings, sight(1n, 3, 300)), 300);
      expect(back?.binding.id).to.equal(3);
      const moved = again.apply(detector.decide(again.bindings, sight(2n, 3, 400), { oldPortDown: true }), 400);
      expect(moved?.binding.locator.address).to.equal('10.0.2.201');
      await repo2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports persisted bindings that no longer fit the config', async () => {
    const repo = new MemoryBindingRepository();
    const { registry } = await BindingRegistry.open(subnets, repo);
    await run(registry, [[sight(1n, 3, 0), false], [sight(3n, 3, 100), true]]);
    await registry.flush(100);
    const withoutC = new SubnetMap(parseSubnets(RAW_SUBNETS.filter((s) => s.name !== 'C')));
    const { registry: again, problems } = await BindingRegistry.open(withoutC, repo);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/10\.0\.1\.10 .* subnet C is no longer configured/);
    expect(again.bindings.size).to.equal(0);
  });

  it('compacts when the repository asks for it', async () => {
    const repo = new MemoryBindingRepository();
    repo.needsCompaction = () => repo.journal.length >= 2;
    const { registry } = await BindingRegistry.open(subnets, repo);
    await run(registry, [[sight(1n, 3, 0), false], [sight(2n, 3, 100), true]]);
    await registry.flush(100);
    expect(repo.journal).to.have.length(0);
    expect((await repo.load()).bindings.map((b) => b.locator.address)).to.deep.equal(['10.0.2.200']);
  });
});
