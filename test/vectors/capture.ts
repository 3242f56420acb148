// Captures golden vectors from a real Open vSwitch 3.1 (run as root: `npx tsx test/vectors/capture.ts`).
//
// Two directions are recorded, as raw bytes plus what our codec decodes and what
// `ovs-ofctl ofp-print` says about them:
//  - switch -> controller: a temporary netdev bridge (vecbr0) connects to a controller we run on
//    127.0.0.1:<ephemeral>; we drive it through the handshake, stats, errors, port changes,
//    flow removal and packet-ins (frames sent from a veth inside a namespace we create).
//  - controller -> switch: `ovs-ofctl -O OpenFlow13 <command> tcp:127.0.0.1:<port>` connects to a
//    fake switch we run, so we keep the bytes OVS itself encodes (flow-mods with Nicira moves, ...).
// Everything created here (vecbr0, vecns0, vecv0, vecp1) is deleted again at the end.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as OF from '../../controller/openflow/index.js';
import { ofpPrint } from './ofp-print.js';
import { Peer, type Received } from './peer.js';
import { stringifyTagged } from './vector-json.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), 'ovs-3.1');
const BR = 'vecbr0';
const NS = 'vecns0';
const VETH = 'vecv0';
const VETH_PEER = 'vecv0p';
const INTERNAL = 'vecp1';

function sh(cmd: string, args: string[], okToFail = false): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if (okToFail) return '';
    throw e;
  }
}
const vsctl = (...a: string[]) => sh('ovs-vsctl', a);
const ofctl = (...a: string[]) => sh('ovs-ofctl', ['-O', 'OpenFlow13', ...a]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- vector files --------------------------------------------------------------------------

let saved = 0;
function save(name: string, direction: 'switch-to-controller' | 'controller-to-switch', source: string, r: Received): void {
  // Only a frame in another OpenFlow version may stay undecoded; it is stored with the error.
  if (!r.message && r.raw[0] === OF.OFP_VERSION) throw new Error(`${name}: our codec failed to decode OVS bytes: ${r.error}`);
  const print = ofpPrint(r.raw);
  const result = OF.decodeMessage(r.raw);
  const outcome = result.ok ? { message: result.message } : { decodeError: result.error };
  const vector = { name, direction, source, hex: r.raw.toString('hex'), ofpPrint: print.text, ...outcome };
  writeFileSync(join(OUT, `${name}.json`), stringifyTagged(vector) + '\n');
  saved++;
  console.log(`saved ${name} (${r.raw.length} bytes)`);
}

function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer(onConnection);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });
}

// ---- switch -> controller ------------------------------------------------------------------

function cleanup(): void {
  sh('ovs-vsctl', ['--if-exists', 'del-br', BR], true);
  sh('ip', ['netns', 'del', NS], true);
  sh('ip', ['link', 'del', VETH], true);
}

const is = <T extends OF.OfpMessage['type']>(type: T) => (m: OF.OfpMessage) => m.type === type;
const isMp = (kind: string) => (m: OF.OfpMessage) => m.type === 'MULTIPART_REPLY' && m.body.kind === kind;

const REWRITE_FLOWS = [
  'priority=310,arp,arp_op=1,arp_tpa=10.0.1.10 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:01:0a->eth_src,set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:02:00:00:00:01:0a->arp_sha,move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:10.0.1.10->arp_spa,in_port',
  'priority=210,in_port=2,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,set_field:02:00:00:00:01:01->eth_dst,set_field:02:00:00:00:01:0a->eth_src,in_port',
  'priority=200,in_port=2,ip,nw_src=10.0.2.200 actions=set_field:10.0.1.10->ip_src,NORMAL',
  'priority=320,in_port=10,arp,arp_spa=10.0.1.10,arp_tpa=10.0.1.10 actions=drop',
  'priority=310,in_port=10,arp,arp_op=1,arp_tpa=10.0.1.0/24 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:02:00:00:00:02:01->eth_src,set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:02:00:00:00:02:01->arp_sha,move:NXM_OF_ARP_TPA[]->NXM_NX_REG0[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],move:NXM_NX_REG0[]->NXM_OF_ARP_SPA[],in_port',
  'priority=310,in_port=10,ip,nw_src=10.0.1.10,nw_dst=10.0.0.0/16 actions=set_field:10.0.2.200->ip_src,set_field:02:00:00:00:02:01->eth_dst,output:2',
  'cookie=0x1,table=1,priority=200,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,goto_table:2',
  'cookie=0xabc,table=2,idle_timeout=300,hard_timeout=600,send_flow_rem,priority=100,tcp,nw_src=10.0.3.0/24,tp_dst=80 actions=output:CONTROLLER',
  'table=2,priority=90,udp,dl_src=02:00:00:00:00:00/ff:ff:ff:00:00:00,udp_src=53 actions=CONTROLLER:128,IN_PORT',
  'table=3,priority=50,ipv6,ipv6_dst=2001:db8::/32 actions=write_metadata:0x5/0xff,goto_table:4',
  'table=4,priority=40,icmp,icmp_type=8 actions=clear_actions,write_actions(output:3)',
  'table=4,dl_vlan=5,actions=pop_vlan,output:1',
  'priority=0 actions=NORMAL',
];

async function switchSide(): Promise<void> {
  let peer: Peer | undefined;
  let connected!: () => void;
  const ready = new Promise<void>((r) => (connected = r));
  const { server, port } = await listen((s) => {
    if (peer) return void s.destroy(); // one switch connection only
    peer = new Peer(s);
    peer.onMessage = (r, p) => {
      if (r.message?.type === 'ECHO_REQUEST') p.send(OF.echoReply(r.message));
    };
    connected();
  });
  cleanup();
  vsctl('add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail_mode=secure',
    'other-config:disable-in-band=true', 'other-config:datapath-id=0000000000000abc', 'other-config:hwaddr=02:00:00:00:0a:bc');
  vsctl('set-controller', BR, `tcp:127.0.0.1:${port}`);
  vsctl('set', 'controller', BR, 'inactivity_probe=1000');
  await ready;
  const p = peer as Peer;
  const S = 'switch-to-controller';

  save('hello', S, 'vecbr0 connecting to our controller', await p.waitFor(is('HELLO'), 'HELLO'));
  p.send(OF.hello(1));
  save('features-reply', S, 'reply to FEATURES_REQUEST', await p.request(OF.featuresRequest(2), 'FEATURES_REPLY'));
  p.send(OF.setConfig(3, OF.OFPCML_NO_BUFFER));
  save('get-config-reply', S, 'reply to GET_CONFIG_REQUEST', await p.request({ type: 'GET_CONFIG_REQUEST', xid: 4 }, 'GET_CONFIG_REPLY'));
  save('role-reply', S, 'reply to ROLE_REQUEST master gen 7', await p.request({ type: 'ROLE_REQUEST', xid: 5, role: OF.OFPCR_ROLE_MASTER, generationId: 7n }, 'ROLE_REPLY'));
  save('echo-reply', S, 'reply to ECHO_REQUEST with 4 data bytes', await p.request(OF.echoRequest(6, Buffer.from('cafe0042', 'hex')), 'ECHO_REPLY'));
  save('multipart-reply-desc', S, 'OFPMP_DESC', await p.request(OF.descRequest(7), 'DESC'));
  save('multipart-reply-port-desc', S, 'OFPMP_PORT_DESC', await p.request(OF.portDescRequest(8), 'PORT_DESC'));
  save('multipart-reply-table', S, 'OFPMP_TABLE', await p.request({ type: 'MULTIPART_REQUEST', xid: 9, flags: 0, body: { kind: 'TABLE' } }, 'TABLE'));

  // Flows installed by ovs-ofctl (the hand-tested rewrite rules and friends), then read back.
  for (const f of REWRITE_FLOWS) ofctl('add-flow', BR, f);
  ofctl('add-group', BR, 'group_id=1,type=all,bucket=output:1,bucket=output:2');
  ofctl('add-group', BR, 'group_id=2,type=select,bucket=weight:10,actions=set_field:02:00:00:00:00:09->eth_dst,output:3,bucket=weight:20,actions=output:4');
  ofctl('add-group', BR, 'group_id=3,type=fast_failover,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2');
  const flows = await p.request(OF.flowStatsRequest({ xid: 10 }), 'FLOW');
  save('multipart-reply-flow', S, `OFPMP_FLOW after ovs-ofctl add-flow of:\n${REWRITE_FLOWS.join('\n')}`, flows);
  const dump = ofctl('dump-flows', BR).split('\n').filter((l) => l.startsWith(' ')).map((l) => l.trim());
  writeFileSync(join(OUT, 'dump-flows.txt'), dump.join('\n') + '\n');
  save('multipart-reply-aggregate', S, 'OFPMP_AGGREGATE (all tables)', await p.request(OF.aggregateStatsRequest({ xid: 11 }), 'AGGREGATE'));
  save('multipart-reply-port-stats', S, 'OFPMP_PORT_STATS (OFPP_ANY)', await p.request(OF.portStatsRequest(12), 'PORT_STATS'));
  save('multipart-reply-group-desc', S, 'OFPMP_GROUP_DESC after three add-group', await p.request({ type: 'MULTIPART_REQUEST', xid: 13, flags: 0, body: { kind: 'GROUP_DESC' } }, 'GROUP_DESC'));
  save('barrier-reply', S, 'reply to BARRIER_REQUEST', await p.request(OF.barrierRequest(14), 'BARRIER_REPLY'));

  // Errors OVS sends for bad requests.
  save('error-bad-prereq', S, 'FLOW_MOD matching ipv4_dst without eth_type',
    await p.request(OF.flowMod({ xid: 20, match: { ipv4_dst: '10.0.0.1' } }), 'ERROR bad prereq'));
  save('error-match-inconsistent', S, 'FLOW_MOD with set_field ipv4_dst but no eth_type match',
    await p.request(OF.flowMod({ xid: 21, instructions: [OF.applyActions(OF.setField('ipv4_dst', '10.0.0.2'))] }), 'ERROR match inconsistent'));
  save('error-bad-goto', S, 'FLOW_MOD in table 3 with goto_table:1 (backwards)',
    await p.request(OF.flowMod({ xid: 24, tableId: 3, instructions: [OF.gotoTable(1)] }), 'ERROR bad goto'));
  save('error-bad-table', S, 'FLOW_MOD ADD to table 255',
    await p.request(OF.flowMod({ xid: 22, tableId: 255 }), 'ERROR bad table'));
  save('error-bad-type', S, 'message type 0xee',
    await p.request({ type: 'UNKNOWN', xid: 23, msgType: 0xee, body: new Uint8Array(0) }, 'ERROR bad type'));

  // FLOW_REMOVED: one deleted by us, one timing out.
  p.send(OF.flowMod({ xid: 30, priority: 7, cookie: 0x77n, flags: OF.OFPFF_SEND_FLOW_REM, match: { eth_type: 0x0800, ipv4_src: '192.0.2.1' } }));
  await p.request(OF.barrierRequest(31), 'barrier');
  p.send(OF.flowMod({ xid: 32, command: OF.OFPFC_DELETE_STRICT, priority: 7, match: { eth_type: 0x0800, ipv4_src: '192.0.2.1' } }));
  save('flow-removed-delete', S, 'flow with send_flow_rem deleted by DELETE_STRICT', await p.waitFor(is('FLOW_REMOVED'), 'FLOW_REMOVED delete'));
  const since = p.received.length;
  p.send(OF.flowMod({ xid: 33, priority: 8, cookie: 0x78n, hardTimeout: 1, flags: OF.OFPFF_SEND_FLOW_REM, match: { eth_type: 0x0806, arp_tpa: ['198.51.100.0', '255.255.255.0'] } }));
  save('flow-removed-hard-timeout', S, 'flow with hard_timeout=1 and send_flow_rem',
    await p.waitFor(is('FLOW_REMOVED'), 'FLOW_REMOVED timeout', 8000, since));

  // PORT_STATUS add / modify / delete of an internal port.
  let mark = p.received.length;
  vsctl('add-port', BR, INTERNAL, '--', 'set', 'interface', INTERNAL, 'type=internal', 'ofport_request=7');
  save('port-status-add', S, `ovs-vsctl add-port ${BR} ${INTERNAL} (internal)`, await p.waitFor(is('PORT_STATUS'), 'PORT_STATUS add', 5000, mark));
  mark = p.received.length;
  sh('ip', ['link', 'set', INTERNAL, 'up']);
  save('port-status-modify', S, `ip link set ${INTERNAL} up`, await p.waitFor((m) => m.type === 'PORT_STATUS' && m.reason === OF.OFPPR_MODIFY, 'PORT_STATUS modify', 5000, mark));
  mark = p.received.length;
  vsctl('del-port', BR, INTERNAL);
  save('port-status-delete', S, `ovs-vsctl del-port ${BR} ${INTERNAL}`, await p.waitFor((m) => m.type === 'PORT_STATUS' && m.reason === OF.OFPPR_DELETE, 'PORT_STATUS delete', 5000, mark));

  // PACKET_IN from real frames: a veth whose peer lives in a namespace we own.
  ofctl('del-flows', BR);
  ofctl('add-flow', BR, 'cookie=0x42,priority=100,arp actions=CONTROLLER:65535');
  ofctl('add-flow', BR, 'priority=0 actions=CONTROLLER:65535');
  sh('ip', ['netns', 'add', NS]);
  sh('ip', ['link', 'add', VETH, 'type', 'veth', 'peer', 'name', VETH_PEER]);
  sh('ip', ['link', 'set', VETH_PEER, 'netns', NS]);
  sh('ip', ['netns', 'exec', NS, 'sysctl', '-qw', `net.ipv6.conf.all.disable_ipv6=1`]);
  sh('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', VETH_PEER, 'address', '02:00:00:00:99:01']);
  sh('ip', ['netns', 'exec', NS, 'ip', 'addr', 'add', '10.99.0.1/24', 'dev', VETH_PEER]);
  sh('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', VETH_PEER, 'up']);
  sh('sysctl', ['-qw', `net.ipv6.conf.${VETH}.disable_ipv6=1`], true);
  sh('ip', ['link', 'set', VETH, 'up']);
  mark = p.received.length;
  vsctl('add-port', BR, VETH, '--', 'set', 'interface', VETH, 'ofport_request=3');
  await p.waitFor(is('PORT_STATUS'), 'PORT_STATUS veth', 5000, mark);
  const ping = (ip: string) => spawn('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '-W', '1', ip], { stdio: 'ignore' });
  mark = p.received.length;
  ping('10.99.0.2');
  save('packet-in-arp', S, 'ARP request from a namespace, flow cookie=0x42 arp actions=CONTROLLER',
    await p.waitFor((m) => m.type === 'PACKET_IN' && Buffer.from(m.data).readUInt16BE(12) === 0x0806, 'ARP PACKET_IN', 5000, mark));
  sh('ip', ['netns', 'exec', NS, 'ip', 'neigh', 'replace', '10.99.0.3', 'lladdr', '02:00:00:00:99:03', 'dev', VETH_PEER]);
  mark = p.received.length;
  ping('10.99.0.3');
  save('packet-in-ipv4', S, 'ICMP echo from a namespace, table-miss flow actions=CONTROLLER',
    await p.waitFor((m) => m.type === 'PACKET_IN' && Buffer.from(m.data).readUInt16BE(12) === 0x0800, 'IPv4 PACKET_IN', 5000, mark));

  // The inactivity probe: OVS sends ECHO_REQUEST after 1 s without traffic.
  mark = p.received.length;
  save('echo-request', S, 'inactivity probe (inactivity_probe=1000)', await p.waitFor(is('ECHO_REQUEST'), 'ECHO_REQUEST', 8000, mark));

  // A wrong version last: OVS may drop the connection after it.
  const bad = OF.encodeMessage(OF.barrierRequest(40));
  bad[0] = 1;
  mark = p.received.length;
  p.sendRaw(bad);
  const answer = await p.waitForRaw(mark, 'ERROR bad version');
  save('error-bad-version', S, 'BARRIER_REQUEST with version 1 after negotiating 1.3: OVS answers in version 1', answer);

  p.socket.destroy();
  server.close();
}

// ---- controller -> switch (ovs-ofctl talking to our fake switch) ---------------------------

const FAKE_DPID = 0x0000000000000defn;

function answerAsSwitch(r: Received, p: Peer): void {
  const m = r.message;
  if (!m) return;
  const xid = m.xid;
  switch (m.type) {
    case 'HELLO': return p.send(OF.hello(0));
    case 'ECHO_REQUEST': return p.send(OF.echoReply(m));
    case 'FEATURES_REQUEST':
      return p.send({ type: 'FEATURES_REPLY', xid, datapathId: FAKE_DPID, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 });
    case 'GET_CONFIG_REQUEST': return p.send({ type: 'GET_CONFIG_REPLY', xid, flags: 0, missSendLen: 128 });
    case 'BARRIER_REQUEST': return p.send({ type: 'BARRIER_REPLY', xid });
    case 'ROLE_REQUEST': return p.send({ type: 'ROLE_REPLY', xid, role: m.role, generationId: m.generationId });
    case 'MULTIPART_REQUEST': {
      const b = m.body;
      const body: OF.MultipartReplyBody | undefined =
        b.kind === 'DESC' ? { kind: 'DESC', desc: { mfrDesc: 'fake', hwDesc: 'fake', swDesc: 'fake', serialNum: 'None', dpDesc: 'None' } }
          : b.kind === 'FLOW' ? { kind: 'FLOW', flows: [] }
            : b.kind === 'AGGREGATE' ? { kind: 'AGGREGATE', stats: { packetCount: 0n, byteCount: 0n, flowCount: 0 } }
              : b.kind === 'TABLE' ? { kind: 'TABLE', tables: [] }
                : b.kind === 'PORT_STATS' ? { kind: 'PORT_STATS', ports: [] }
                  : b.kind === 'PORT_DESC' ? { kind: 'PORT_DESC', ports: [] }
                    : b.kind === 'GROUP_DESC' ? { kind: 'GROUP_DESC', groups: [] }
                      : undefined;
      // Table features and the like: say "not supported", as a switch may.
      if (!body) return p.send({ type: 'ERROR', xid, errorType: OF.OFPET_BAD_REQUEST, code: OF.OFPBRC_BAD_MULTIPART, data: r.raw.subarray(0, 64) });
      return p.send({ type: 'MULTIPART_REPLY', xid, flags: 0, body });
    }
    default:
  }
}

/** Runs one ovs-ofctl command against the fake switch; returns what it sent (not HELLO/handshake). */
async function fromOfctl(port: number, peers: Peer[], args: string[]): Promise<Received[]> {
  const before = peers.length;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ovs-ofctl', ['-O', 'OpenFlow13', '--no-names', ...args.map((a) => (a === 'SW' ? `tcp:127.0.0.1:${port}` : a))], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ovs-ofctl ${args.join(' ')}: ${err}`))));
  });
  await sleep(50);
  return peers.slice(before).flatMap((p) => p.received);
}

async function controllerSide(): Promise<void> {
  const peers: Peer[] = [];
  const { server, port } = await listen((s) => {
    const p = new Peer(s);
    p.onMessage = answerAsSwitch;
    peers.push(p);
  });
  const C = 'controller-to-switch';
  const pick = (rs: Received[], type: string, nth = 0) => {
    const r = rs.filter((x) => x.message?.type === type)[nth];
    if (!r) throw new Error(`no ${type} among ${rs.map((x) => x.message?.type).join(',')}`);
    return r;
  };
  const run = (...args: string[]) => fromOfctl(port, peers, args);

  const flowMods: [string, string][] = [
    ['flow-mod-arp-responder', REWRITE_FLOWS[0] as string],
    ['flow-mod-home-redirect', REWRITE_FLOWS[1] as string],
    ['flow-mod-reg-moves', REWRITE_FLOWS[4] as string],
    ['flow-mod-goto-cookie', REWRITE_FLOWS[6] as string],
    ['flow-mod-timeouts-flags', REWRITE_FLOWS[7] as string],
    ['flow-mod-masked-controller', REWRITE_FLOWS[8] as string],
    ['flow-mod-ipv6-metadata', REWRITE_FLOWS[9] as string],
    ['flow-mod-write-clear', REWRITE_FLOWS[10] as string],
    ['flow-mod-vlan', REWRITE_FLOWS[11] as string],
    ['flow-mod-partial-move', 'priority=5,tcp,tcp_src=22 actions=move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31],move:NXM_NX_REG2[3]->NXM_NX_REG3[5]'],
  ];
  const first = await run('add-flow', 'SW', flowMods[0]![1]);
  save('hello-ovs-ofctl', C, 'ovs-ofctl -O OpenFlow13 opening a connection', pick(first, 'HELLO'));
  save(flowMods[0]![0], C, `ovs-ofctl add-flow ${flowMods[0]![1]}`, pick(first, 'FLOW_MOD'));
  save('barrier-request', C, 'ovs-ofctl add-flow (barrier after the flow-mod)', pick(first, 'BARRIER_REQUEST'));
  for (const [name, flow] of flowMods.slice(1)) save(name, C, `ovs-ofctl add-flow ${flow}`, pick(await run('add-flow', 'SW', flow), 'FLOW_MOD'));
  save('flow-mod-modify', C, 'ovs-ofctl mod-flows ip,nw_dst=10.0.1.10 actions=output:5', pick(await run('mod-flows', 'SW', 'ip,nw_dst=10.0.1.10 actions=output:5'), 'FLOW_MOD'));
  save('flow-mod-delete', C, 'ovs-ofctl del-flows cookie=0x1/-1,table=1,ip', pick(await run('del-flows', 'SW', 'cookie=0x1/-1,table=1,ip'), 'FLOW_MOD'));
  save('flow-mod-delete-strict', C, 'ovs-ofctl --strict del-flows priority=210,in_port=2,ip,nw_dst=10.0.1.10',
    pick(await run('--strict', 'del-flows', 'SW', 'priority=210,in_port=2,ip,nw_dst=10.0.1.10'), 'FLOW_MOD'));
  save('group-mod-select', C, 'ovs-ofctl add-group select with two weighted buckets',
    pick(await run('add-group', 'SW', 'group_id=2,type=select,bucket=weight:10,actions=set_field:02:00:00:00:00:09->eth_dst,output:3,bucket=weight:20,actions=output:4'), 'GROUP_MOD'));
  save('packet-out', C, 'ovs-ofctl packet-out of an ARP request, in_port=CONTROLLER actions=output:1',
    pick(await run('packet-out', 'SW', 'in_port=CONTROLLER packet=ffffffffffff020000009901080600010800060400010200000099010a6300010000000000000a630002 actions=output:1'), 'PACKET_OUT'));
  save('multipart-request-flow', C, 'ovs-ofctl dump-flows table=1,ip', pick(await run('dump-flows', 'SW', 'table=1,ip'), 'MULTIPART_REQUEST'));
  save('multipart-request-aggregate', C, 'ovs-ofctl dump-aggregate', pick(await run('dump-aggregate', 'SW'), 'MULTIPART_REQUEST'));
  save('multipart-request-port-stats', C, 'ovs-ofctl dump-ports', pick(await run('dump-ports', 'SW'), 'MULTIPART_REQUEST'));
  save('multipart-request-port-desc', C, 'ovs-ofctl dump-ports-desc', pick(await run('dump-ports-desc', 'SW'), 'MULTIPART_REQUEST'));
  save('multipart-request-desc', C, 'ovs-ofctl dump-desc', pick(await run('dump-desc', 'SW'), 'MULTIPART_REQUEST'));
  save('get-config-request', C, 'ovs-ofctl get-frags', pick(await run('get-frags', 'SW'), 'GET_CONFIG_REQUEST'));
  save('echo-request-ovs-ofctl', C, 'ovs-ofctl probe', pick(await run('probe', 'SW'), 'ECHO_REQUEST'));
  save('features-request', C, 'ovs-ofctl show', pick(await run('show', 'SW'), 'FEATURES_REQUEST'));
  for (const p of peers) p.socket.destroy();
  server.close();
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) rmSync(join(OUT, f));
  try {
    await switchSide();
    await controllerSide();
  } finally {
    cleanup();
  }
  console.log(`${saved} vectors in ${OUT}`);
}

main().catch((e: unknown) => {
  console.error(e);
  cleanup();
  process.exit(1);
});
