// On-demand correspondent rules (the map-cache) with the real runtime: filled by a conversation,
// evicted when the switch idles them out, and safe when the switch dies during a fill.

import { expect } from 'chai';
import { OFPRR_IDLE_TIMEOUT, type FlowRemoved } from '../../../controller/openflow/index.js';
import { RULE_KINDS } from '../../../controller/pipeline/index.js';
import { FabricLab } from '../../lib/fabric-lab.js';
import { VM } from '../mobility/fixtures.js';

const correspondentSrc = (lab: FabricLab, dpid: bigint) => lab.table(dpid).flows(1).filter((f) => f.priority === RULE_KINDS.correspondentSrc.priority);

describe('fabric: on-demand correspondent rules (map-cache)', function () {
  this.timeout(20_000);

  async function moved(): Promise<FabricLab> {
    const lab = await FabricLab.create({ fabric: { correspondentRules: 'on-demand' } });
    await lab.migrate({ dpid: 2n, port: 3 });
    await lab.settle();
    return lab;
  }

  it('after a move only the home edge holds the correspondent rules; a conversation from C adds them to C', async () => {
    const lab = await moved();
    expect(correspondentSrc(lab, 1n)).to.have.length(1);
    expect(correspondentSrc(lab, 3n)).to.deep.equal([]);
    expect(await lab.allExchanges('on-demand')).to.deep.equal([]);
    expect(correspondentSrc(lab, 3n), 'filled by the conversation').to.have.length(1);
    expect(correspondentSrc(lab, 3n)[0]!.idleTimeout).to.equal(300);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  it('the VM comes home after conversations filled the cache elsewhere: those rules go too, and everyone reaches it', async () => {
    const lab = await moved();
    expect(await lab.allExchanges('fill')).to.deep.equal([]);
    expect(correspondentSrc(lab, 3n)).to.have.length(1);
    await lab.migrate({ dpid: 1n, port: 3 });
    await lab.settle();
    await lab.advance(600);
    expect(lab.perBindingFlows(), 'no rule of the trip is left, cached ones included').to.deep.equal([]);
    expect(await lab.allExchanges('home')).to.deep.equal([]);
    lab.stop();
  });

  it('a rule the switch idled out takes the edge out of the cache (its other rule goes too); the next conversation fills it again', async () => {
    const lab = await moved();
    expect(await lab.allExchanges('fill')).to.deep.equal([]);
    const rule = correspondentSrc(lab, 3n)[0]!;
    lab.table(3n).applyAll([{ type: 'FLOW_MOD', xid: 0, cookie: rule.cookie, cookieMask: 0xffffffffffffffffn, tableId: 1, command: 4, idleTimeout: 0, hardTimeout: 0, priority: rule.priority, bufferId: 0xffffffff, outPort: 0xffffffff, outGroup: 0xffffffff, flags: 0, match: rule.match, instructions: [] }]);
    const removed: FlowRemoved = {
      type: 'FLOW_REMOVED', xid: 0, cookie: rule.cookie, priority: rule.priority, reason: OFPRR_IDLE_TIMEOUT, tableId: 1,
      durationSec: 300, durationNsec: 0, idleTimeout: 300, hardTimeout: 0, packetCount: 1n, byteCount: 60n, match: rule.match,
    };
    lab.switches.flowRemoved(3n, removed);
    await lab.settle();
    expect(lab.table(3n).flows(2).filter((f) => f.priority === RULE_KINDS.correspondentDst.priority), 'the send-side rule left with it').to.deep.equal([]);
    expect(await lab.allExchanges('refill')).to.deep.equal([]);
    expect(correspondentSrc(lab, 3n)).to.have.length(1);
    lab.stop();
  });

  it('the switch dies during a fill: no crash, and the conversation works once it is back', async () => {
    const lab = await moved();
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      lab.sw(3n).holdBarriers = true;
      lab.net.send(lab.vm, lab.cnC.ip, 'fill>');
      await lab.advance(5);
      expect(lab.sw(3n).heldBarrierCount, 'a fill is in flight').to.be.greaterThan(0);
      lab.switches.disconnect(3n);
      await lab.settle();
      lab.switches.connect(3n);
      await lab.settle();
      expect(unhandled).to.deep.equal([]);
      expect(await lab.allExchanges('after-reconnect')).to.deep.equal([]);
      expect(lab.binding.locator.address).to.not.equal(VM.eid);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      lab.stop();
    }
  });
});
