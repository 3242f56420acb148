// Make-before-break through the real runtime: barriers are held at each step of a move, and what
// every peer sees in between is checked. Then the negative control: the send side alone (the
// wrong order) shows the locator to a correspondent.

import { expect } from 'chai';
import { planBindingChange } from '../../../controller/pipeline/index.js';
import { parseDpid } from '../../../controller/switch/dpid.js';
import { FabricLab } from '../../lib/fabric-lab.js';
import { VM } from '../mobility/fixtures.js';

describe('fabric: make-before-break ordering', function () {
  this.timeout(20_000);

  const holdAll = (lab: FabricLab) => { for (const sw of lab.switches.list()) sw.holdBarriers = true; };
  const releaseAll = (lab: FabricLab, keepHolding: boolean) => { for (const sw of lab.switches.list()) sw.releaseBarriers(keepHolding); };
  const held = (lab: FabricLab) => lab.switches.list().reduce((n, sw) => n + sw.heldBarrierCount, 0);

  it('after each step of A -> B and B -> C, no correspondent sees a locator; the VM\'s frames wait at the controller until its send side is queued behind step 1\'s confirmation', async () => {
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    for (const [dpid, port] of [[2n, 3], [3n, 4]] as const) {
      holdAll(lab);
      await lab.migrate({ dpid, port });
      await lab.advance(60); // the probe window, then step 1 goes out
      expect(held(lab), `step 1 towards ${dpid} waits for its barriers`).to.be.greaterThan(0);
      lab.net.send(lab.vm, lab.cnC.ip, `early-${dpid}`);
      await lab.advance(5);
      expect(lab.net.lastIp(lab.cnC, `early-${dpid}`), 'held at the controller, not leaked').to.equal(undefined);
      for (const peer of [lab.cnA, lab.cnB, lab.cnC, lab.ext]) lab.net.send(peer, VM.eid, `step1-${dpid}`);
      expect(lab.leaks(), `after step 1 towards ${dpid}`).to.deep.equal([]);
      releaseAll(lab, true);
      await lab.advance(5);
      expect(held(lab), `step 2 towards ${dpid} waits for its barriers`).to.be.greaterThan(0);
      const early = lab.net.lastIp(lab.cnC, `early-${dpid}`);
      expect(early, 'released behind the step-2 rules of its switch, before their barrier is back').to.deep.include({ ipv4_src: VM.eid, ipv4_dst: lab.cnC.ip });
      expect(lab.leaks()).to.deep.equal([]);
      releaseAll(lab, false);
      await lab.settle();
      expect(await lab.allExchanges(`after-${dpid}`)).to.deep.equal([]);
      expect(lab.leaks()).to.deep.equal([]);
    }
    lab.stop();
  });

  it('negative control: the send side without the receive side shows the locator to a correspondent', async () => {
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    const previous = lab.binding;
    const next = lab.registry.prepareMove(VM.eid, { subnet: 'B', dpid: 2n, port: 3 }, 'allocate', lab.clock.now())!;
    const { plan } = planBindingChange(previous, next, lab.fabric.topologyState());
    lab.fabric.stop(); // the runtime steps aside: only the wrong-order rules act
    lab.net.move(lab.vm, { dpid: 2n, port: 3 });
    for (const [dpid, mods] of plan.steps[1].mods) lab.table(parseDpid(dpid)).applyAll(mods);
    lab.net.send(lab.vm, lab.cnC.ip, 'wrong');
    expect(lab.leaks()).to.include('cnC saw source 10.0.2.200 (wrong)');
  });
});
