// OpenFlow roles against real Open vSwitch, one bridge connected to two controllers: a SLAVE
// request with a generation id older than the switch's is refused as stale and leaves the
// connection EQUAL (packet-ins and writes allowed, as for a master); requestRole() asks the switch
// for its id and becomes SLAVE. A stale MASTER request is refused and not retried.
// (Found in the cluster e2e: a replica whose switch connected just after another replica was
// elected stayed EQUAL on it.)

import { expect } from 'chai';
import { isStaleRole, requestRole } from '../../../controller/cluster/switch-role.js';
import { OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, OFPCR_ROLE_NOCHANGE, OFPCR_ROLE_SLAVE } from '../../../controller/openflow/index.js';
import type { SwitchConnection } from '../../../controller/switch/index.js';
import { OvsLab, vsctl } from '../../lib/ovs.js';
import { startTestController, waitForSwitch, type TestController } from '../harness.js';

describe('integration: OpenFlow roles with Open vSwitch (two controllers)', function () {
  this.timeout(60_000);
  const DPID = 0x5ea0000000000011n;
  let lab: OvsLab;
  let a: TestController;
  let b: TestController;
  let swA: SwitchConnection;
  let swB: SwitchConnection;

  before(async () => {
    lab = new OvsLab('rl');
    a = await startTestController();
    b = await startTestController();
    const bridge = await lab.bridge({ dpid: DPID });
    await vsctl('set-controller', bridge, `tcp:127.0.0.1:${a.port}`, `tcp:127.0.0.1:${b.port}`);
    [swA, swB] = await Promise.all([waitForSwitch(a.registry, DPID), waitForSwitch(b.registry, DPID)]);
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await lab?.cleanup();
  });

  const roleOf = async (sw: SwitchConnection) => (await sw.request({ type: 'ROLE_REQUEST', role: OFPCR_ROLE_NOCHANGE, generationId: 0n })).role;

  it('a SLAVE request older than the elected master is refused as stale and leaves the connection EQUAL', async () => {
    const reply = await swA.request({ type: 'ROLE_REQUEST', role: OFPCR_ROLE_MASTER, generationId: 10n });
    expect(reply.role).to.equal(OFPCR_ROLE_MASTER);
    let refused: unknown;
    await swB.request({ type: 'ROLE_REQUEST', role: OFPCR_ROLE_SLAVE, generationId: 3n }).catch((e: unknown) => { refused = e; });
    expect(isStaleRole(refused), String(refused)).to.equal(true);
    expect(await roleOf(swB)).to.equal(OFPCR_ROLE_EQUAL);
  });

  it('requestRole: a stale SLAVE request is asked again with the switch\'s generation id, and the connection is SLAVE', async () => {
    const stale: Array<[bigint, bigint | undefined]> = [];
    const reply = await requestRole(swB, OFPCR_ROLE_SLAVE, 3n, (asked, holds) => stale.push([asked, holds]));
    expect(stale, 'the refusal is reported with the switch\'s id').to.deep.equal([[3n, 10n]]);
    expect(reply.role).to.equal(OFPCR_ROLE_SLAVE);
    expect(reply.generationId).to.equal(10n);
    expect(await roleOf(swB)).to.equal(OFPCR_ROLE_SLAVE);
    expect(await roleOf(swA), 'the master stays master').to.equal(OFPCR_ROLE_MASTER);
  });

  it('requestRole: a stale MASTER request is refused, not retried (a deposed replica stays deposed)', async () => {
    let refused: unknown;
    const stale: Array<[bigint, bigint | undefined]> = [];
    await requestRole(swB, OFPCR_ROLE_MASTER, 9n, (asked, holds) => stale.push([asked, holds])).catch((e: unknown) => { refused = e; });
    expect(isStaleRole(refused), String(refused)).to.equal(true);
    expect(stale).to.deep.equal([[9n, undefined]]);
    expect(await roleOf(swB)).to.equal(OFPCR_ROLE_SLAVE);
    expect(await roleOf(swA)).to.equal(OFPCR_ROLE_MASTER);
  });

  it('a newer MASTER request moves mastership: the old master becomes SLAVE', async () => {
    await requestRole(swB, OFPCR_ROLE_MASTER, 11n);
    expect(await roleOf(swB)).to.equal(OFPCR_ROLE_MASTER);
    expect(await roleOf(swA)).to.equal(OFPCR_ROLE_SLAVE);
  });
});
