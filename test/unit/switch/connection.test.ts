import { expect } from 'chai';
import {
  errorName, flowMod, gotoTable, OFPBRC_BAD_VERSION, OFPCML_NO_BUFFER, OFPET_BAD_INSTRUCTION, OFPET_BAD_REQUEST,
  OFPET_HELLO_FAILED, OFPHFC_INCOMPATIBLE, OFPMPF_REPLY_MORE, OFPBIC_BAD_TABLE_ID, encodeMessage,
  type FlowStats, type OfpMessage,
} from '../../../controller/openflow/index.js';
import { silentLogger } from '../../../controller/log.js';
import {
  BatchError, ConnectionClosedError, ConnectionState, OpenFlowError, RequestTimeoutError,
  SwitchListener, SwitchRegistry, type ConnectionOptions, type SwitchConnection, type SwitchListenerOptions,
} from '../../../controller/switch/index.js';
import { waitFor, waitUntil } from '../../lib/wait.js';
import { FakeSwitch, port, type FakeSwitchOptions } from './fake-switch.js';

const OPTIONS: ConnectionOptions = { echoIntervalMs: 5000, echoTimeoutMs: 15000, requestTimeoutMs: 2000 };

const flow = (cookie: bigint): FlowStats => ({
  tableId: 0, durationSec: 0, durationNsec: 0, priority: 1, idleTimeout: 0, hardTimeout: 0, flags: 0,
  cookie, packetCount: 0n, byteCount: 0n, match: {}, instructions: [],
});

describe('switch/connection (fake switch over TCP)', () => {
  let registry: SwitchRegistry;
  let listener: SwitchListener;
  let fakes: FakeSwitch[];

  async function start(options: Partial<ConnectionOptions> = {}, listenerOptions: Partial<SwitchListenerOptions> = {}): Promise<void> {
    registry = new SwitchRegistry(silentLogger);
    listener = new SwitchListener({ host: '127.0.0.1', port: 0, connection: { ...OPTIONS, ...options }, ...listenerOptions }, registry, silentLogger);
    await listener.listen();
  }

  async function fake(options: FakeSwitchOptions = {}): Promise<FakeSwitch> {
    const f = await FakeSwitch.connect(listener.address().port, options);
    fakes.push(f);
    return f;
  }

  /** A fake switch that has reached MAIN, with its controller-side connection. */
  async function upSwitch(options: FakeSwitchOptions = {}): Promise<{ f: FakeSwitch; sw: SwitchConnection }> {
    const dpid = options.dpid ?? 1n;
    const f = await fake({ ...options, dpid });
    const sw = await waitFor(() => registry.get(dpid), { what: `switch ${dpid} in MAIN`, timeoutMs: 3000 });
    return { f, sw };
  }

  beforeEach(async () => {
    fakes = [];
    await start();
  });

  afterEach(async () => {
    for (const f of fakes) f.destroy();
    await listener.close();
    registry.complete();
  });

  describe('handshake', () => {
    it('reaches MAIN with dpid, ports (reassembled PORT_DESC) and desc, and turns off switch buffering', async () => {
      const states: string[] = [];
      registry.switchUp$.subscribe((sw) => states.push(`up ${sw.dpidText}`));
      const { f, sw } = await upSwitch({ dpid: 0xabcn, ports: [port(1), port(2), port(3)], splitPortDesc: true });
      expect(sw.state).to.equal(ConnectionState.MAIN);
      expect(sw.dpid).to.equal(0xabcn);
      expect(sw.dpidText).to.equal('0000000000000abc');
      expect([...sw.ports.keys()]).to.deep.equal([1, 2, 3]);
      expect(sw.desc?.mfrDesc).to.equal('Fake');
      expect(states).to.deep.equal(['up 0000000000000abc']);
      expect(registry.get('0000000000000abc')).to.equal(sw);
      expect(registry.list()).to.deep.equal([sw]);
      const hello = f.of('HELLO')[0]!;
      expect(hello.version).to.equal(4);
      expect(hello.elements).to.deep.equal([{ type: 'VERSIONBITMAP', versions: [4] }]);
      expect(f.of('SET_CONFIG')[0]?.missSendLen).to.equal(OFPCML_NO_BUFFER);
    });

    it('goes HANDSHAKE -> CONFIG -> MAIN, observably', async () => {
      const seen: string[] = [];
      const attach = registry.attach.bind(registry);
      registry.attach = (sw) => { sw.state$.subscribe((s) => seen.push(s)); attach(sw); };
      const { f } = await upSwitch();
      f.destroy();
      await waitUntil(() => seen.includes('DEAD'), { what: 'the connection to die' });
      expect(seen).to.deep.equal(['HANDSHAKE', 'CONFIG', 'MAIN', 'DEAD']);
    });

    it('refuses an OpenFlow 1.0 peer with HELLO_FAILED/INCOMPATIBLE and a readable reason, then closes', async () => {
      const f = await fake({ hello: { type: 'HELLO', xid: 1, version: 1, elements: [] } });
      await f.waitClosed();
      const error = f.of('ERROR')[0];
      expect(error).to.include({ errorType: OFPET_HELLO_FAILED, code: OFPHFC_INCOMPATIBLE });
      expect(Buffer.from(error!.data).toString('ascii')).to.match(/OpenFlow 1\.3.*0x01/);
      expect(f.versions[f.received.indexOf(error!)]).to.equal(1); // in the peer's own version
      expect(registry.list()).to.have.length(0);
    });

    it('refuses a peer whose version bitmap lacks 1.3', async () => {
      const f = await fake({ hello: { type: 'HELLO', xid: 1, version: 6, elements: [{ type: 'VERSIONBITMAP', versions: [5, 6] }] } });
      await f.waitClosed();
      expect(f.of('ERROR')[0]).to.include({ errorType: OFPET_HELLO_FAILED, code: OFPHFC_INCOMPATIBLE });
    });

    it('closes a peer whose first message is not HELLO', async () => {
      const f = await fake({ hello: { type: 'BARRIER_REQUEST', xid: 1 } });
      await f.waitClosed();
      expect(f.of('ERROR')[0]).to.include({ errorType: OFPET_HELLO_FAILED });
    });

    it('delivers asynchronous messages that arrive during CONFIG once MAIN is reached, and never hello or echo', async () => {
      const packetIn: OfpMessage = { type: 'PACKET_IN', xid: 0, bufferId: 0xffffffff, totalLen: 4, reason: 0, tableId: 0, cookie: 0n, match: { in_port: 1 }, data: Uint8Array.of(1, 2, 3, 4) };
      const types: string[] = [];
      registry.messages$.subscribe((e) => types.push(e.message.type));
      await upSwitch({
        answer: (m) => {
          if (m.type !== 'MULTIPART_REQUEST' || m.body.kind !== 'DESC') return undefined;
          // A packet-in and an echo request right before the last CONFIG reply.
          return [packetIn, { type: 'ECHO_REQUEST', xid: 77, data: new Uint8Array() }, { type: 'MULTIPART_REPLY', xid: m.xid, flags: 0, body: { kind: 'DESC', desc: { mfrDesc: '', hwDesc: '', swDesc: '', serialNum: '', dpDesc: '' } } }];
        },
      });
      await waitUntil(() => types.length > 0, { what: 'the early packet-in' });
      expect(types).to.deep.equal(['PACKET_IN']);
    });
  });

  describe('keepalive', () => {
    it('answers ECHO_REQUEST with the same xid and data', async () => {
      const { f } = await upSwitch();
      f.send({ type: 'ECHO_REQUEST', xid: 4242, data: Uint8Array.of(9, 8, 7) });
      const reply = await f.waitFor('ECHO_REPLY');
      expect(reply.xid).to.equal(4242);
      expect([...reply.data]).to.deep.equal([9, 8, 7]);
    });

    it('probes an idle switch with ECHO_REQUEST and closes one that stays silent', async () => {
      await listener.close();
      await start({ echoIntervalMs: 50, echoTimeoutMs: 300 });
      const { f: alive } = await upSwitch({ dpid: 1n });
      const { f: silent, sw } = await upSwitch({ dpid: 2n, answerEcho: false });
      await silent.waitClosed();
      expect(sw.closeReason).to.match(/echo timeout/);
      expect(silent.of('ECHO_REQUEST').length).to.be.greaterThan(0);
      expect(alive.of('ECHO_REQUEST').length).to.be.greaterThan(0);
      expect(registry.get(1n)?.state).to.equal(ConnectionState.MAIN);
    });

    it('closes a peer that never says HELLO', async () => {
      await listener.close();
      await start({ echoIntervalMs: 50, echoTimeoutMs: 200 });
      const f = await fake({ mute: true });
      await f.waitClosed();
    });
  });

  describe('requests', () => {
    it('resolves a barrier and reassembles a multipart flow-stats reply', async () => {
      const { sw } = await upSwitch({
        answer: (m) => {
          if (m.type !== 'MULTIPART_REQUEST' || m.body.kind !== 'FLOW') return undefined;
          return [1, 2, 3].map((i) => ({ type: 'MULTIPART_REPLY', xid: m.xid, flags: i < 3 ? OFPMPF_REPLY_MORE : 0, body: { kind: 'FLOW', flows: [flow(BigInt(i)), flow(BigInt(i * 10))] } }));
        },
      });
      await sw.barrier();
      const flows = await sw.flowStats({ tableId: 0 });
      expect(flows.map((x) => x.cookie)).to.deep.equal([1n, 10n, 2n, 20n, 3n, 30n]);
    });

    it('runs a port-stats request\'s atReply where its reply stands among the messages read with it', async () => {
      // The reply and the packet-ins around it in one chunk: the promise settles only once the whole
      // chunk is handled, atReply before the packet-ins after the reply (FrameBuffers pairs a
      // port's counters with the copies that came before them so).
      const pin = (i: number): OfpMessage => ({ type: 'PACKET_IN', xid: 0, bufferId: 0xffffffff, totalLen: 1, reason: 0, tableId: 0, cookie: 0n, match: { in_port: 1 }, data: Uint8Array.of(i) });
      const { f, sw } = await upSwitch({
        ports: [port(1)],
        answer: (m) => {
          if (m.type !== 'MULTIPART_REQUEST' || m.body.kind !== 'PORT_STATS') return undefined;
          const reply: OfpMessage = {
            type: 'MULTIPART_REPLY', xid: m.xid, flags: 0, body: { kind: 'PORT_STATS', ports: [{
              portNo: 1, rxPackets: 0n, txPackets: 7n, rxBytes: 0n, txBytes: 0n, rxDropped: 0n, txDropped: 0n, rxErrors: 0n, txErrors: 0n,
              rxFrameErr: 0n, rxOverErr: 0n, rxCrcErr: 0n, collisions: 0n, durationSec: 0, durationNsec: 0,
            }] },
          };
          return [Buffer.concat([pin(1), reply, pin(2), pin(3)].map((x) => encodeMessage(x)))];
        },
      });
      let packetIns = 0;
      registry.packetIn$.subscribe(() => packetIns++);
      let atReply = -1;
      const counters = await sw.portStats(1, () => { atReply = packetIns; });
      expect(counters?.txPackets).to.equal(7n);
      expect(atReply, 'the packet-ins read before the reply').to.equal(1);
      expect(packetIns, 'by the time the promise settled: those after it too').to.equal(3);
    });

    it('rejects a request answered with ERROR with an OpenFlowError naming the request', async () => {
      const { sw } = await upSwitch({
        answer: (m) => m.type === 'MULTIPART_REQUEST' && m.body.kind === 'TABLE'
          ? [{ type: 'ERROR', xid: m.xid, errorType: OFPET_BAD_REQUEST, code: 2, data: encodeMessage(m).subarray(0, 64) }]
          : undefined,
      });
      const error = await sw.tableStats().then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(OpenFlowError);
      const e = error as OpenFlowError;
      expect(e.errorType).to.equal(OFPET_BAD_REQUEST);
      expect(e.errorName).to.equal(errorName(OFPET_BAD_REQUEST, 2));
      expect(e.request?.type).to.equal('MULTIPART_REQUEST');
      expect(e.dpid).to.equal(sw.dpidText);
    });

    it('routes the ERROR of a fire-and-forget message to errors$ with that message', async () => {
      const badGoto = flowMod({ instructions: [gotoTable(200)] });
      const { sw } = await upSwitch({
        answer: (m) => m.type === 'FLOW_MOD' ? [{ type: 'ERROR', xid: m.xid, errorType: OFPET_BAD_INSTRUCTION, code: OFPBIC_BAD_TABLE_ID, data: new Uint8Array() }] : undefined,
      });
      const events: { request?: OfpMessage; name: string }[] = [];
      registry.errors$.subscribe(({ error }) => events.push({ request: error.request, name: error.errorName }));
      const xid = sw.send(badGoto);
      await waitUntil(() => events.length === 1, { what: 'the flow-mod error on errors$' });
      expect(events[0]!.name).to.equal('OFPET_BAD_INSTRUCTION/OFPBIC_BAD_TABLE_ID');
      expect(events[0]!.request).to.deep.include({ type: 'FLOW_MOD', xid });
    });

    it('sendBatch resolves on the barrier reply, or rejects with the errors of its messages', async () => {
      const { f, sw } = await upSwitch({
        answer: (m) => m.type === 'FLOW_MOD' && m.cookie === 13n
          ? [{ type: 'ERROR', xid: m.xid, errorType: OFPET_BAD_INSTRUCTION, code: OFPBIC_BAD_TABLE_ID, data: new Uint8Array() }]
          : undefined,
      });
      const errorsSeen: unknown[] = [];
      registry.errors$.subscribe((e) => errorsSeen.push(e));
      await sw.sendBatch([1n, 2n, 3n].map((cookie) => flowMod({ cookie })));
      expect(f.of('FLOW_MOD').map((m) => m.cookie)).to.deep.equal([1n, 2n, 3n]);
      const error = await sw.sendBatch([11n, 12n, 13n, 14n].map((cookie) => flowMod({ cookie }))).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(BatchError);
      const batchError = error as BatchError;
      expect(batchError.errors.map((e) => (e.request as { cookie: bigint }).cookie)).to.deep.equal([13n]);
      expect(errorsSeen).to.have.length(0); // batch errors belong to the batch, not to errors$
    });

    it('times out a request the switch ignores, without closing the connection', async () => {
      await listener.close();
      await start({ requestTimeoutMs: 100 });
      const { sw } = await upSwitch({ answer: (m) => (m.type === 'MULTIPART_REQUEST' && m.body.kind === 'TABLE' ? [] : undefined) });
      const error = await sw.tableStats().then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(RequestTimeoutError);
      expect(sw.state).to.equal(ConnectionState.MAIN);
      await sw.barrier();
    });

    it('closes a switch that lets a barrier time out: what it applied is unknown, and each update of it would wait as long', async () => {
      await listener.close();
      await start({ requestTimeoutMs: 100 });
      const { sw } = await upSwitch({ answer: (m) => (m.type === 'BARRIER_REQUEST' ? [] : undefined) });
      const error = await sw.sendBatch([flowMod({ cookie: 1n })]).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(RequestTimeoutError);
      expect(sw.state).to.equal(ConnectionState.DEAD);
      expect(await sw.closed).to.match(/^barrier timeout: switch \S+ did not answer BARRIER_REQUEST/);
      expect(await sw.barrier().then(() => null, (e: unknown) => e), 'a later update fails at once').to.be.instanceOf(ConnectionClosedError);
    });

    it('rejects pending requests when the connection dies, and refuses new ones', async () => {
      const { f, sw } = await upSwitch({ answer: (m) => (m.type === 'BARRIER_REQUEST' ? [] : undefined) });
      const pending = sw.barrier().then(() => null, (e: unknown) => e);
      await f.waitFor('BARRIER_REQUEST');
      f.destroy();
      expect(await pending).to.be.instanceOf(ConnectionClosedError);
      expect(sw.send({ type: 'BARRIER_REQUEST' })).to.equal(false); // a no-op, never a throw
      expect(await sw.barrier().then(() => null, (e: unknown) => e)).to.be.instanceOf(ConnectionClosedError);
    });

    it('fails a batch holding an unencodable message before sending any of it', async () => {
      const { f, sw } = await upSwitch();
      const huge = { type: 'PACKET_OUT' as const, bufferId: 0xffffffff, inPort: 0xfffffffd, actions: [], data: new Uint8Array(70000) };
      const error = await sw.sendBatch([flowMod({ cookie: 1n }), huge]).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(RangeError);
      expect(() => sw.send(huge)).to.throw(RangeError);
      await sw.barrier();
      expect(f.of('FLOW_MOD')).to.have.length(0);
      expect(sw.state).to.equal(ConnectionState.MAIN);
    });

    it('refuses request() for messages without a reply', async () => {
      const { sw } = await upSwitch();
      const error = await sw.request(flowMod() as never).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(TypeError);
    });
  });

  describe('bad input', () => {
    it('answers an undecodable message with OFPT_ERROR and its first 64 bytes, and keeps the connection', async () => {
      const { f, sw } = await upSwitch();
      const bad = Buffer.alloc(100, 0xee);
      bad.writeUInt8(1, 0); // OpenFlow 1.0 header in a 1.3 session
      bad.writeUInt8(10, 1);
      bad.writeUInt16BE(100, 2);
      bad.writeUInt32BE(0x1234, 4);
      f.send(bad);
      const error = await f.waitFor('ERROR');
      expect(error).to.include({ xid: 0x1234, errorType: OFPET_BAD_REQUEST, code: OFPBRC_BAD_VERSION });
      expect(Buffer.from(error.data)).to.deep.equal(bad.subarray(0, 64));
      await sw.barrier();
      expect(sw.state).to.equal(ConnectionState.MAIN);
    });

    it('closes a connection whose framing is lost, leaving the other switches alone', async () => {
      const { sw: good } = await upSwitch({ dpid: 1n });
      const { f: bad, sw: badSw } = await upSwitch({ dpid: 2n });
      bad.send(Buffer.from([4, 0, 0, 3, 0, 0, 0, 0])); // length 3 < header
      await bad.waitClosed();
      expect(badSw.closeReason).to.match(/framing lost/);
      await good.barrier();
      expect(registry.list()).to.deep.equal([good]);
    });

    it('survives an ERROR that arrives before the datapath id is known', async () => {
      const unsolicited = { type: 'ERROR' as const, xid: 999, errorType: OFPET_BAD_REQUEST, code: 1, data: new Uint8Array() };
      const { sw } = await upSwitch({ answer: (m) => (m.type === 'FEATURES_REQUEST' ? [unsolicited, { type: 'FEATURES_REPLY', xid: m.xid, datapathId: 1n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0, reserved: 0 }] : undefined) });
      await sw.barrier();
      expect(sw.state).to.equal(ConnectionState.MAIN);
    });

    it('survives random garbage from one peer while another works', async () => {
      const { sw: good } = await upSwitch({ dpid: 1n });
      const garbage = await fake({ mute: true });
      garbage.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + 'z'.repeat(200)));
      garbage.send(Buffer.from([4, 0xff, 0, 8, 0, 0, 0, 1]));
      await good.barrier();
      expect(good.state).to.equal(ConnectionState.MAIN);
      garbage.destroy();
    });
  });

  describe('registry', () => {
    it('tracks ports from PORT_STATUS and publishes packet-ins, port status and flow-removed', async () => {
      const { f, sw } = await upSwitch({ ports: [port(1)] });
      const seen: string[] = [];
      registry.packetIn$.subscribe((e) => seen.push(`packet-in ${e.dpid} ${e.message.match.in_port}`));
      registry.portStatus$.subscribe((e) => seen.push(`port-status ${e.message.reason} ${e.message.port.portNo}`));
      registry.flowRemoved$.subscribe((e) => seen.push(`flow-removed ${e.message.cookie}`));
      f.send({ type: 'PORT_STATUS', xid: 0, reason: 0, port: port(5, 'new') });
      f.send({ type: 'PACKET_IN', xid: 0, bufferId: 0xffffffff, totalLen: 1, reason: 0, tableId: 0, cookie: 0n, match: { in_port: 5 }, data: Uint8Array.of(1) });
      f.send({ type: 'FLOW_REMOVED', xid: 0, cookie: 9n, priority: 1, reason: 0, tableId: 0, durationSec: 1, durationNsec: 0, idleTimeout: 1, hardTimeout: 0, packetCount: 0n, byteCount: 0n, match: {} });
      f.send({ type: 'PORT_STATUS', xid: 0, reason: 1, port: port(1) });
      await waitUntil(() => seen.length === 4, { what: 'four async messages' });
      expect(seen).to.deep.equal(['port-status 0 5', 'packet-in 1 5', 'flow-removed 9', 'port-status 1 1']);
      expect([...sw.ports.keys()]).to.deep.equal([5]);
      expect(sw.ports.get(5)?.name).to.equal('new');
    });

    it('with the replace policy, replaces the connection of a datapath that connects again, and reports each down', async () => {
      await listener.close();
      await start({}, { duplicateDpid: 'replace' });
      const events: string[] = [];
      registry.switchUp$.subscribe((sw) => events.push(`up ${sw.id}`));
      registry.switchDown$.subscribe((sw) => events.push(`down ${sw.id} ${sw.closeReason}`));
      const { f: first, sw: old } = await upSwitch({ dpid: 7n });
      const second = await fake({ dpid: 7n });
      const fresh = await waitFor(() => (registry.get(7n) !== old ? registry.get(7n) : undefined), { what: 'the new connection' });
      await first.waitClosed();
      expect(old.state).to.equal(ConnectionState.DEAD);
      expect(events).to.deep.equal([`up ${old.id}`, `down ${old.id} replaced by a new connection from the same datapath`, `up ${fresh.id}`]);
      second.destroy();
      await waitUntil(() => registry.list().length === 0, { what: 'the registry to empty' });
      expect(events.at(-1)).to.match(new RegExp(`^down ${fresh.id}`));
    });

    it('close() stops listening, closes every connection and rejects pending requests', async () => {
      const { sw } = await upSwitch({ answer: (m) => (m.type === 'BARRIER_REQUEST' ? [] : undefined) });
      const handshaking = await fake({ mute: true });
      const pending = sw.barrier().then(() => null, (e: unknown) => e);
      const port0 = listener.address().port;
      await listener.close();
      expect(await pending).to.be.instanceOf(ConnectionClosedError);
      await handshaking.waitClosed();
      expect(listener.list()).to.have.length(0);
      expect(registry.list()).to.have.length(0);
      const refused = await FakeSwitch.connect(port0).then(() => false, () => true);
      expect(refused).to.equal(true);
      await start(); // for afterEach
    });
  });

  describe('back-pressure', () => {
    it('closes a peer that stops reading once the write queue passes its bound', async () => {
      await listener.close();
      await start({ maxQueuedBytes: 1 << 20 });
      const { f, sw } = await upSwitch();
      f.socket.pause(); // the peer stops reading: kernel buffers fill, then our queue
      const data = Buffer.alloc(60000);
      await waitUntil(() => {
        if (sw.state === ConnectionState.DEAD) return true;
        for (let i = 0; i < 20; i++) sw.send({ type: 'PACKET_OUT', bufferId: 0xffffffff, inPort: 0xfffffffd, actions: [], data });
        return false;
      }, { what: 'the slow reader to be closed', timeoutMs: 10000, intervalMs: 5 });
      expect(sw.closeReason).to.match(/does not read/);
    });
  });
});
