// Loss-free migration with the real runtime: from the hypervisor's "stopping" until the VM's first
// frame at its new place, frames for it wait at the controller and are then delivered there, in
// order, before newer ones; bounded; and given back if the VM never moves.

import { expect } from 'chai';
import { FabricLab } from '../../lib/fabric-lab.js';
import { VM } from '../mobility/fixtures.js';

const tags = (lab: FabricLab, prefix: string) => lab.vm.inbox.filter((f) => (f.tag ?? '').startsWith(prefix)).map((f) => f.tag);

describe('fabric: loss-free migration (buffering during the stop-and-copy)', function () {
  this.timeout(30_000);

  for (const [label, first, second] of [
    ['home -> B', { dpid: 2n, port: 3 }, undefined],
    ['B -> C (buffered at an away edge, locator rewritten back)', { dpid: 2n, port: 3 }, { dpid: 3n, port: 4 }],
  ] as const) {
    it(`${label}: every frame sent during the pause reaches the VM at its new place, in order, before newer ones`, async () => {
      const lab = await FabricLab.create();
      expect(await lab.allExchanges('warm')).to.deep.equal([]);
      let to: { dpid: bigint; port: number } = first;
      if (second !== undefined) {
        await lab.migrate(first);
        await lab.settle();
        await lab.advance(600);
        to = second;
      }
      const peers = [lab.cnA, lab.cnB, lab.cnC, lab.ext];
      let n = 0;
      await lab.migrate(to, {
        stopping: true, pauseMs: 100,
        duringPause: () => { for (let i = 0; i < 5; i++) for (const p of peers) lab.net.send(p, VM.eid, `paused-${p.name}-${n++}`); },
      });
      await lab.settle();
      for (const p of peers) lab.net.send(p, VM.eid, `after-${p.name}`);
      await lab.settle();
      const got = tags(lab, 'paused-');
      expect(got, 'none lost').to.have.length(20);
      for (const p of peers) {
        const mine = got.filter((t) => t!.startsWith(`paused-${p.name}-`));
        expect(mine, `${p.name}'s frames in their order`).to.deep.equal([...mine].sort((a, b) => Number(a!.split('-').at(-1)) - Number(b!.split('-').at(-1))));
      }
      const order = lab.vm.inbox.map((f) => f.tag ?? '');
      const lastPaused = Math.max(...order.map((t, i) => (t.startsWith('paused-') ? i : -1)));
      const firstAfter = order.findIndex((t) => t.startsWith('after-'));
      expect(firstAfter, 'newer frames after the buffered ones').to.be.greaterThan(lastPaused);
      for (const f of lab.vm.inbox.filter((x) => (x.tag ?? '').startsWith('paused-'))) expect(f).to.deep.include({ ipv4_dst: VM.eid, eth_dst: VM.mac });
      expect(lab.fabric.buffers.counters).to.deep.include({ buffered: 20, delivered: 20, dropped: 0 });
      await lab.advance(2000);
      expect(lab.table(to.dpid === 2n ? 1n : 2n).flows().filter((f) => f.priority === 110 || f.priority === 320), 'buffer rules gone').to.deep.equal([]);
      expect(lab.leaks()).to.deep.equal([]);
      lab.stop();
    });
  }

  it('beyond its bound the buffer drops and counts; what it held still arrives', async () => {
    const lab = await FabricLab.create({ fabric: { buffer: { maxFrames: 8, maxBytes: 1 << 20, maxAgeMs: 5000 } } });
    expect(await lab.allExchanges('warm'), 'a stream runs: everyone knows the VM').to.deep.equal([]);
    let n = 0;
    await lab.migrate({ dpid: 2n, port: 3 }, { stopping: true, duringPause: () => { for (let i = 0; i < 20; i++) lab.net.send(lab.cnB, VM.eid, `paused-${n++}`); } });
    await lab.settle();
    expect(tags(lab, 'paused-')).to.deep.equal(['paused-0', 'paused-1', 'paused-2', 'paused-3', 'paused-4', 'paused-5', 'paused-6', 'paused-7']);
    expect(lab.fabric.buffers.counters).to.deep.include({ buffered: 8, delivered: 8, dropped: 12 });
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('a stop that no move follows (the migration failed, the source resumed): the frames go back to the VM, the buffer rules go', async () => {
    const lab = await FabricLab.create({ fabric: { buffer: { maxFrames: 1000, maxBytes: 1 << 20, maxAgeMs: 1000 } } });
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    const stopping = lab.fabric.stopping(VM.eid);
    await lab.settle(200, 5);
    expect(await stopping).to.equal(true);
    lab.vm.paused = true;
    for (let i = 0; i < 5; i++) lab.net.send(lab.cnB, VM.eid, `held-${i}`);
    await lab.advance(300);
    lab.vm.paused = false; // the source resumes where it was
    await lab.advance(1200);
    await lab.settle();
    expect(tags(lab, 'held-')).to.deep.equal(['held-0', 'held-1', 'held-2', 'held-3', 'held-4']);
    expect(lab.fabric.buffers.counters.expired).to.equal(1);
    await lab.advance(2000);
    expect(lab.table(1n).flows(3).filter((f) => f.priority === 110), 'buffer rule gone').to.deep.equal([]);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });
});
