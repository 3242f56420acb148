// Issue 9, row 1: a peer that handshakes as a switch, sends one PACKET_IN from table 1 whose
// source is a moved VM's locator (an on-demand cache fill) and disconnects before the
// re-injection used to end the controller process (a rejected promise nobody caught). A real
// controller process, real sockets, scripted switches: it must keep serving, with no bug counted.

import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OFP_NO_BUFFER, OFPPR_DELETE, OFPR_ACTION, type PacketIn } from '../../controller/openflow/index.js';
import { buildEthernet, buildGratuitousArp, buildIpv4, buildRarpAnnounce, buildUdp, ETH_TYPE_IPV4, IP_PROTO_UDP } from '../../controller/packet/index.js';
import { ControllerProcess } from '../../topologies/case-study/controller-process.js';
import { FakeSwitch, port } from '../unit/switch/fake-switch.js';
import { waitUntil } from '../lib/wait.js';

const VM_MAC = '02:00:00:00:01:0a';
const VM_EID = '10.0.1.10';

function packetIn(inPort: number, data: Uint8Array, tableId = 0): PacketIn {
  return { type: 'PACKET_IN', xid: 0, bufferId: OFP_NO_BUFFER, totalLen: data.length, reason: OFPR_ACTION, tableId, cookie: 0n, match: { in_port: inPort }, data };
}

describe('integration: a switch that drops in the middle of a cache fill cannot end the controller', function () {
  this.timeout(60_000);
  let dir: string;
  let ctl: ControllerProcess | undefined;
  const switches: FakeSwitch[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seamless-crash-'));
    ctl = await ControllerProcess.start({ stateDir: dir, args: ['--correspondent-rules', 'on-demand', '--ovsdb', 'off'] });
  });
  after(async () => {
    for (const sw of switches) sw.destroy();
    await ctl?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps serving, counts no bug, and the VM stays where it moved', async () => {
    const ports = [port(1), port(2), port(10)];
    for (const dpid of [1n, 2n]) switches.push(await FakeSwitch.connect(ctl!.openflowPort, { dpid, ports }));
    const [s1, s2] = switches as [FakeSwitch, FakeSwitch];
    await ctl!.waitFor(() => ctl!.find('switch up').length >= 2, 10_000, 'two switches up');
    s1.send(packetIn(10, buildGratuitousArp({ mac: VM_MAC, ip: VM_EID })));
    await ctl!.waitFor((l) => l.msg === 'endpoint learned' && l.eid === VM_EID, 10_000, 'the VM learned at home');
    // The VM moves to s2: its old port is gone, its RARP shows up there.
    s1.send({ type: 'PORT_STATUS', xid: 0, reason: OFPPR_DELETE, port: port(10) });
    s2.send(packetIn(10, buildRarpAnnounce(VM_MAC)));
    const moved = await ctl!.waitFor((l) => l.msg === 'migration completed', 10_000, 'the move to B');
    const locator = String(moved.to).split('/').at(-1)!;
    // A third "switch" of subnet C: a packet from the router with the locator as source, from
    // table 1 (the on-demand miss), then it is gone before the re-injection.
    const evil = await FakeSwitch.connect(ctl!.openflowPort, { dpid: 3n, ports });
    switches.push(evil);
    await ctl!.waitFor(() => ctl!.find('switch up').length >= 3, 10_000, 'the third switch up');
    const udp = buildUdp({ src: locator, dst: '10.0.3.20', srcPort: 5000, dstPort: 6000, payload: new Uint8Array(8) });
    const frame = buildEthernet({ dst: '02:00:00:00:03:14', src: '02:00:00:00:03:01', ethertype: ETH_TYPE_IPV4, payload: buildIpv4({ src: locator, dst: '10.0.3.20', protocol: IP_PROTO_UDP, payload: udp }) });
    for (let i = 0; i < 20; i++) evil.send(packetIn(2, frame, 1));
    evil.destroy();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(ctl!.exitCode, 'the controller is still running').to.equal(null);
    const health = await fetch(`http://127.0.0.1:${ctl!.httpPort}/api/health`);
    expect(health.status).to.equal(200);
    const metrics = await (await fetch(`http://127.0.0.1:${ctl!.httpPort}/metrics`)).text();
    const bugs = [...metrics.matchAll(/^seamless_unexpected_errors_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(bugs, 'no unhandled rejection, subscriber error or exception').to.equal(0);
    await waitUntil(async () => (await (await fetch(`http://127.0.0.1:${ctl!.httpPort}/api/bindings`)).text()).includes(locator), { timeoutMs: 5000, what: 'the binding to stay moved' });
  });
});
