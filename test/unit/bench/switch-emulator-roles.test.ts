// The bench emulator's switch connected to three controllers (three real switch layers of
// Seamless over TCP), with the controller's own role code path (requestRole): the same answers
// as Open vSwitch gives in test/integration/cluster/switch-role.test.ts, and packet-ins only to
// the master, writes only from it, as the cluster packet-in benchmark relies on.

import { expect } from 'chai';
import { isStaleRole, requestRole } from '../../../controller/cluster/switch-role.js';
import {
  flowMod, OFP_NO_BUFFER, OFPBRC_IS_SLAVE, OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, OFPCR_ROLE_NOCHANGE, OFPCR_ROLE_SLAVE,
  OFPET_BAD_REQUEST, OFPP_FLOOD, outputPort, type PacketIn,
} from '../../../controller/openflow/index.js';
import { BatchError, type SwitchConnection } from '../../../controller/switch/index.js';
import { EmulatedSwitch } from '../../../bench/switch-emulator.js';
import { startTestController, waitForSwitch, type TestController } from '../../integration/harness.js';
import { waitUntil } from '../../lib/wait.js';

describe('bench switch emulator: one switch, three controllers, OpenFlow roles as OVS keeps them', function () {
  this.timeout(20_000);
  const DPID = 0x5ea0000000000021n;
  let controllers: TestController[];
  let sw: EmulatedSwitch;
  let conns: SwitchConnection[];
  /** Packet-ins each controller received. */
  let received: PacketIn[][];

  before(async () => {
    controllers = await Promise.all([0, 1, 2].map(() => startTestController({ requestTimeoutMs: 3000 })));
    received = controllers.map(() => []);
    controllers.forEach((c, i) => c.registry.packetIn$.subscribe(({ message }) => received[i]!.push(message)));
    sw = new EmulatedSwitch(DPID, { host: '127.0.0.1', port: controllers.map((c) => c.port), switches: 1, firstDpid: DPID, macsPerSwitch: 16, portsPerSwitch: 4 });
    await sw.connect();
    await sw.ready;
    conns = await Promise.all(controllers.map((c) => waitForSwitch(c.registry, DPID)));
  });

  after(async () => {
    sw?.close();
    await Promise.all((controllers ?? []).map((c) => c.stop()));
  });

  const roleOf = async (conn: SwitchConnection) => (await conn.request({ type: 'ROLE_REQUEST', role: OFPCR_ROLE_NOCHANGE, generationId: 0n })).role;
  const [a, b, c] = [0, 1, 2];
  const answer = (m: PacketIn) => ({ type: 'PACKET_OUT' as const, bufferId: OFP_NO_BUFFER, inPort: m.match.in_port as number, actions: [outputPort(OFPP_FLOOD)], data: m.data });
  const refusedAsSlave = (error: unknown) => error instanceof BatchError && error.errors.length > 0
    && error.errors.every((e) => e.errorType === OFPET_BAD_REQUEST && e.code === OFPBRC_IS_SLAVE);

  it('starts EQUAL on every connection, and a packet-in goes to all three', async () => {
    for (const conn of conns) expect(await roleOf(conn)).to.equal(OFPCR_ROLE_EQUAL);
    sw.load(1);
    await waitUntil(() => received.every((r) => r.length === 1), { what: 'the packet-in at every controller' });
    sw.stop();
    await conns[a]!.sendBatch([answer(received[a]![0]!)]);
    expect(sw.counters.packetOuts).to.equal(1);
  });

  it('a SLAVE request older than the elected master is refused as stale and leaves the connection EQUAL', async () => {
    const reply = await conns[a]!.request({ type: 'ROLE_REQUEST', role: OFPCR_ROLE_MASTER, generationId: 10n });
    expect([reply.role, reply.generationId]).to.deep.equal([OFPCR_ROLE_MASTER, 10n]);
    let refused: unknown;
    await conns[b]!.request({ type: 'ROLE_REQUEST', role: OFPCR_ROLE_SLAVE, generationId: 3n }).catch((e: unknown) => { refused = e; });
    expect(isStaleRole(refused), String(refused)).to.equal(true);
    expect(await roleOf(conns[b]!)).to.equal(OFPCR_ROLE_EQUAL);
  });

  it('requestRole: a stale SLAVE request is asked again with the switch\'s generation id, and the connection is SLAVE', async () => {
    const stale: Array<[bigint, bigint | undefined]> = [];
    const reply = await requestRole(conns[b]!, OFPCR_ROLE_SLAVE, 3n, (asked, holds) => stale.push([asked, holds]));
    expect(stale).to.deep.equal([[3n, 10n]]);
    expect([reply.role, reply.generationId]).to.deep.equal([OFPCR_ROLE_SLAVE, 10n]);
    await requestRole(conns[c]!, OFPCR_ROLE_SLAVE, 10n);
    expect(await Promise.all(conns.map(roleOf))).to.deep.equal([OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE, OFPCR_ROLE_SLAVE]);
    expect(sw.mastered).to.equal(true);
  });

  it('requestRole: a stale MASTER request is refused, not retried', async () => {
    let refused: unknown;
    await requestRole(conns[b]!, OFPCR_ROLE_MASTER, 9n).catch((e: unknown) => { refused = e; });
    expect(isStaleRole(refused), String(refused)).to.equal(true);
    expect(await Promise.all(conns.map(roleOf))).to.deep.equal([OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE, OFPCR_ROLE_SLAVE]);
  });

  it('packet-ins go to the master only; a slave\'s PACKET_OUT and FLOW_MOD are refused with OFPBRC_IS_SLAVE', async () => {
    const before = received.map((r) => r.length);
    sw.load(4);
    await waitUntil(() => received[a]!.length === before[a]! + 4, { what: 'four packet-ins at the master' });
    sw.stop();
    expect(received[b]!.length, 'slave b').to.equal(before[b]);
    expect(received[c]!.length, 'slave c').to.equal(before[c]);
    const fresh = received[a]!.slice(before[a]);
    let refused: unknown;
    await conns[b]!.sendBatch([answer(fresh[0]!), flowMod({ priority: 1 })]).catch((e: unknown) => { refused = e; });
    expect(refusedAsSlave(refused), String(refused)).to.equal(true);
    expect(sw.counters.slaveWrites).to.equal(2);
    expect(sw.counters.flowMods).to.equal(0);
    await conns[a]!.sendBatch([...fresh.map(answer), flowMod({ priority: 1 })]);
    expect(sw.counters.packetOuts).to.equal(1 + 4);
    expect(sw.counters.flowMods).to.equal(1);
  });

  it('a newer MASTER request moves mastership: the old master becomes SLAVE, and packet-ins follow', async () => {
    await requestRole(conns[b]!, OFPCR_ROLE_MASTER, 11n);
    expect(await Promise.all(conns.map(roleOf))).to.deep.equal([OFPCR_ROLE_SLAVE, OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE]);
    const before = received.map((r) => r.length);
    sw.load(1);
    await waitUntil(() => received[b]!.length === before[b]! + 1, { what: 'a packet-in at the new master' });
    sw.stop();
    expect(received[a]!.length, 'the old master').to.equal(before[a]);
    let refused: unknown;
    await conns[a]!.sendBatch([answer(received[b]!.at(-1)!)]).catch((e: unknown) => { refused = e; });
    expect(refusedAsSlave(refused), String(refused)).to.equal(true);
    let stale: unknown;
    await conns[a]!.request({ type: 'ROLE_REQUEST', role: OFPCR_ROLE_MASTER, generationId: 10n }).catch((e: unknown) => { stale = e; });
    expect(isStaleRole(stale), 'the deposed master\'s old id').to.equal(true);
  });
});
