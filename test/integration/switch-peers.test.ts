import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { OFPBRC_BAD_VERSION, OFPET_BAD_REQUEST, OFPET_HELLO_FAILED, OFPHFC_INCOMPATIBLE } from '../../controller/openflow/index.js';
import { ConnectionState, type SwitchConnection } from '../../controller/switch/index.js';
import { OvsLab } from '../lib/ovs.js';
import { waitFor, waitUntil } from '../lib/wait.js';
import { startTestController, waitForSwitch, type TestController } from './harness.js';

/** A peer over raw TCP that writes bytes we choose and splits what it gets into OpenFlow frames by hand. */
class RawPeer {
  private buffer = Buffer.alloc(0);
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => { this.buffer = Buffer.concat([this.buffer, chunk]); });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => { this.closed = true; });
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    return new RawPeer(socket);
  }

  write(hex: string): void {
    this.socket.write(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
  }

  /** Whole frames received so far: version, type, xid and body. */
  frames(): { version: number; type: number; xid: number; body: Buffer }[] {
    const frames = [];
    let off = 0;
    while (off + 8 <= this.buffer.length) {
      const length = this.buffer.readUInt16BE(off + 2);
      if (length < 8 || off + length > this.buffer.length) break;
      frames.push({ version: this.buffer[off]!, type: this.buffer[off + 1]!, xid: this.buffer.readUInt32BE(off + 4), body: this.buffer.subarray(off + 8, off + length) });
      off += length;
    }
    return frames;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const OFPT_ERROR = 1;
const OFPT_ECHO_REQUEST = 2;
const HELLO_13 = '04 00 0010 00000001 0001 0008 00000010'; // with a version bitmap holding only 1.3

describe('integration: misbehaving peers next to a real Open vSwitch', function () {
  this.timeout(60000);
  const DPID = 0x5ea0000000000004n;
  let lab: OvsLab;
  let controller: TestController;
  let bridge: SwitchConnection;
  const peers: RawPeer[] = [];

  async function peer(): Promise<RawPeer> {
    const p = await RawPeer.connect(controller.port);
    peers.push(p);
    return p;
  }

  before(async () => {
    lab = new OvsLab();
    // Short keepalive: OVS answers our echoes, a silent peer is dropped within half a second.
    controller = await startTestController({ echoIntervalMs: 100, echoTimeoutMs: 500 });
    const name = await lab.bridge({ dpid: DPID, controllerPort: controller.port });
    await lab.netnsPort(name, 1, '02:00:00:00:04:01');
    bridge = await waitForSwitch(controller.registry, DPID);
  });

  afterEach(() => {
    for (const p of peers.splice(0)) p.destroy();
  });

  after(async () => {
    await controller?.stop();
    await lab?.cleanup();
  });

  async function bridgeStillWorks(): Promise<void> {
    expect(controller.registry.get(DPID)).to.equal(bridge);
    expect(bridge.state).to.equal(ConnectionState.MAIN);
    await bridge.barrier();
    expect((await bridge.tableStats()).length).to.be.greaterThan(0);
  }

  it('answers a peer that speaks only OpenFlow 1.0 with HELLO_FAILED/INCOMPATIBLE and closes it', async () => {
    const old = await peer();
    old.write('01 00 0008 00000001'); // OF1.0 HELLO, no bitmap
    await waitUntil(() => old.closed, { what: 'the controller to close the OF1.0 peer' });
    const error = old.frames().find((f) => f.type === OFPT_ERROR);
    expect(error, 'an OFPT_ERROR frame').to.not.equal(undefined);
    expect(error!.version).to.equal(1);
    expect(error!.body.readUInt16BE(0)).to.equal(OFPET_HELLO_FAILED);
    expect(error!.body.readUInt16BE(2)).to.equal(OFPHFC_INCOMPATIBLE);
    expect(error!.body.subarray(4).toString('ascii')).to.match(/OpenFlow 1\.3/);
    await bridgeStillWorks();
  });

  it('drops a peer that sends garbage bytes, while the bridge keeps working', async () => {
    const noisy = await peer();
    noisy.write('ffff 0002 deadbeef 0102030405060708'); // header length 2: framing is lost
    await waitUntil(() => noisy.closed, { what: 'the controller to drop the garbage peer' });
    await bridgeStillWorks();
  });

  it('answers an undecodable message with OFPT_ERROR and keeps the peer', async () => {
    const odd = await peer();
    odd.write(HELLO_13);
    const bad = '020a0010000000990000000000000000'; // OF1.1 header inside a 1.3 session
    odd.write(bad);
    await waitUntil(() => odd.frames().some((f) => f.type === OFPT_ERROR), { what: 'an OFPT_ERROR for the bad message' });
    const error = odd.frames().find((f) => f.type === OFPT_ERROR)!;
    expect(error.xid).to.equal(0x99);
    expect(error.body.readUInt16BE(0)).to.equal(OFPET_BAD_REQUEST);
    expect(error.body.readUInt16BE(2)).to.equal(OFPBRC_BAD_VERSION);
    expect(error.body.subarray(4).toString('hex')).to.equal(bad); // the offending message (up to 64 bytes)
    expect(odd.closed).to.equal(false);
    await bridgeStillWorks();
  });

  it('closes a peer that goes silent after HELLO (echo timeout), while OVS answers echoes and stays', async () => {
    const silent = await peer();
    silent.write(HELLO_13);
    const conn = await waitFor(() => controller.listener.list().find((c) => c.remote.endsWith(`:${silent.socket.localPort}`)), { what: 'the connection of the silent peer' });
    expect(await conn.closed).to.match(/^echo timeout/);
    await waitUntil(() => silent.closed, { what: 'the silent peer to see the close' });
    expect(silent.frames().filter((f) => f.type === OFPT_ECHO_REQUEST).length).to.be.greaterThan(0);
    await bridgeStillWorks();
  });
});
