// OpenFlow over TLS with Open vSwitch and certificates made by ovs-pki in a temporary directory.
//
// `ovs-vsctl set-ssl` is global to the machine's ovs-vswitchd (there is one per machine here):
// this test records what was set before, sets its own files, and restores the previous value
// (normally none: `del-ssl`) in `after`, also when a test fails. Bridges that use tcp: controllers
// (every other test) are not affected by it.

import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { silentLogger } from '../../controller/log.js';
import { ConnectionState, SwitchListener, SwitchRegistry, type SwitchConnection, type SwitchListenerOptions } from '../../controller/switch/index.js';
import { OvsLab, vsctl } from '../lib/ovs.js';
import { waitFor, waitUntil } from '../lib/wait.js';
import { FakeSwitch } from '../unit/switch/fake-switch.js';

const run = promisify(execFile);

/** A PKI as ovs-pki makes it: a controller CA and a switch CA, and certificates signed by them. */
class Pki {
  constructor(readonly dir: string) {}

  static async create(dir: string): Promise<Pki> {
    mkdirSync(dir, { recursive: true });
    await run('ovs-pki', [`--dir=${join(dir, 'pki')}`, 'init'], { cwd: dir, timeout: 60000 });
    return new Pki(dir);
  }

  /** `ovs-pki req+sign NAME TYPE`: NAME-privkey.pem and NAME-cert.pem in the PKI's directory. */
  async sign(name: string, type: 'controller' | 'switch'): Promise<{ key: string; cert: string }> {
    await run('ovs-pki', [`--dir=${join(this.dir, 'pki')}`, '-b', 'req+sign', name, type], { cwd: this.dir, timeout: 60000 });
    return { key: join(this.dir, `${name}-privkey.pem`), cert: join(this.dir, `${name}-cert.pem`) };
  }

  get controllerCa(): string { return join(this.dir, 'pki', 'controllerca', 'cacert.pem'); }
  get switchCa(): string { return join(this.dir, 'pki', 'switchca', 'cacert.pem'); }
}

/** What `ovs-vsctl get-ssl` says, to put it back afterwards. */
async function currentSsl(): Promise<{ key: string; cert: string; ca: string } | undefined> {
  const out = await vsctl('get-ssl');
  const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(out)?.[1]?.trim();
  const key = field('Private key');
  const cert = field('Certificate');
  const ca = field('CA Certificate');
  return key && cert && ca ? { key, cert, ca } : undefined;
}

const fingerprint = (certPath: string) => new X509Certificate(readFileSync(certPath)).fingerprint256;

describe('integration: OpenFlow over TLS with Open vSwitch (ovs-pki certificates)', function () {
  this.timeout(120000);
  const DPID = 0x5ea0000000000071n;
  let dir: string;
  let pki: Pki;
  let rogue: Pki;
  let ctl: { key: string; cert: string };
  let sw1: { key: string; cert: string };
  let sw2: { key: string; cert: string };
  let intruder: { key: string; cert: string };
  let previousSsl: { key: string; cert: string; ca: string } | undefined;
  let lab: OvsLab;
  const listeners: { listener: SwitchListener; registry: SwitchRegistry }[] = [];

  async function tlsListener(options: Partial<SwitchListenerOptions> = {}) {
    const registry = new SwitchRegistry(silentLogger);
    const listener = new SwitchListener({
      host: '127.0.0.1', port: 0,
      connection: { echoIntervalMs: 5000, echoTimeoutMs: 15000, requestTimeoutMs: 10000, handshakeTimeoutMs: 5000 },
      tls: { key: ctl.key, cert: ctl.cert, ca: pki.switchCa },
      ...options,
    }, registry, silentLogger);
    await listener.listen();
    listeners.push({ listener, registry });
    // Every connection, also those refused (and gone from listener.list()) before we look.
    const seen: SwitchConnection[] = [];
    const attach = registry.attach.bind(registry);
    registry.attach = (sw) => { seen.push(sw); attach(sw); };
    return { listener, registry, seen, port: listener.address().port };
  }

  /** A node TLS client speaking OpenFlow with one of our switch certificates. */
  const tlsFake = (port: number, dpid: bigint, creds: { key: string; cert: string }) => FakeSwitch.connect(port, {
    dpid,
    tls: { key: readFileSync(creds.key), cert: readFileSync(creds.cert), ca: readFileSync(pki.controllerCa), checkServerIdentity: () => undefined },
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seamless-tls-'));
    [pki, rogue] = await Promise.all([Pki.create(join(dir, 'ours')), Pki.create(join(dir, 'rogue'))]);
    ctl = await pki.sign('ctl', 'controller');
    sw1 = await pki.sign('sw1', 'switch');
    sw2 = await pki.sign('sw2', 'switch');
    intruder = await rogue.sign('intruder', 'switch');
    previousSsl = await currentSsl();
    lab = new OvsLab('tls');
  });

  after(async () => {
    for (const { listener, registry } of listeners) {
      await listener.close();
      registry.complete();
    }
    await lab?.cleanup();
    // Put the machine's SSL settings back as they were.
    if (previousSsl === undefined) await vsctl('del-ssl').catch(() => '');
    else await vsctl('set-ssl', previousSsl.key, previousSsl.cert, previousSsl.ca).catch(() => '');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a bridge whose certificate another CA signed out of MAIN, then takes it in with one of ours', async () => {
    const { listener, registry, port } = await tlsListener();
    await vsctl('set-ssl', intruder.key, intruder.cert, pki.controllerCa);
    const bridge = await lab.bridge({ dpid: DPID });
    await vsctl('set-controller', bridge, `ssl:127.0.0.1:${port}`);
    await vsctl('set', 'controller', bridge, 'max_backoff=1000');
    await waitUntil(async () => await listener.metrics.total(listener.metrics.connectionsRefused, { reason: 'tls' }) >= 2,
      { what: 'two refused TLS handshakes from the rogue bridge', timeoutMs: 20000 });
    expect(registry.get(DPID)).to.equal(undefined);
    expect(listener.list()).to.have.length(0); // no OpenFlow connection was ever made for it

    await vsctl('set-ssl', sw1.key, sw1.cert, pki.controllerCa);
    const sw = await waitFor(() => registry.get(DPID), { what: 'the bridge to reach MAIN over TLS', timeoutMs: 30000, intervalMs: 100 });
    expect(sw.state).to.equal(ConnectionState.MAIN);
    expect(sw.identity?.certificate?.subjectCN).to.match(/^sw1 id:/);
    expect(sw.identity?.certificate?.fingerprint256).to.equal(fingerprint(sw1.cert));
    await sw.barrier();
    expect((await sw.tableStats()).length).to.be.greaterThan(0);
  });

  it('refuses a plain TCP peer on the TLS listener before any OpenFlow', async () => {
    const { listener, port } = await tlsListener();
    const socket = connect({ host: '127.0.0.1', port });
    let closed = false;
    socket.on('close', () => { closed = true; });
    socket.on('error', () => { closed = true; });
    socket.write(Buffer.from('04000010000000010001000800000010', 'hex')); // an OpenFlow 1.3 HELLO in clear
    await waitUntil(() => closed, { what: 'the listener to drop the plain TCP peer' });
    expect(await listener.metrics.total(listener.metrics.connectionsRefused, { reason: 'tls' })).to.equal(1);
    expect(listener.list()).to.have.length(0);
  });

  it('refuses sockets past maxConnections before the TLS handshake, counting each once', async () => {
    const { listener, registry, port } = await tlsListener({ maxConnections: 1 });
    const first = await tlsFake(port, 0xc1n, sw1);
    await waitFor(() => registry.get(0xc1n), { what: 'the first switch in MAIN' });
    const second = connect({ host: '127.0.0.1', port });
    let closed = false;
    second.on('close', () => { closed = true; });
    second.on('error', () => { closed = true; });
    await waitUntil(() => closed, { what: 'the second socket to be refused' });
    const m = listener.metrics;
    expect(await m.total(m.connectionsRefused, { reason: 'max_connections' })).to.equal(1);
    expect(await m.total(m.connectionsRefused, { reason: 'tls' })).to.equal(0);
    first.destroy();
  });

  it('holds a dpid to the certificate the config pins it to (fingerprint or CN)', async () => {
    const cn = new X509Certificate(readFileSync(sw1.cert)).subject.split('\n').find((l) => l.startsWith('CN='))!.slice(3);
    for (const pin of [fingerprint(sw1.cert), cn, `sha256:${createHash('sha256').update(new X509Certificate(readFileSync(sw1.cert)).raw).digest('hex')}`]) {
      const { listener, registry, seen, port } = await tlsListener({ pins: [{ dpid: '00000000000000a1', certificate: pin }] });
      const other = await tlsFake(port, 0xa1n, sw2); // signed by our CA, but not the pinned one
      const refused = await waitFor(() => seen[0], { what: 'the sw2 connection' });
      expect(await refused.closed).to.match(/pinned to certificate/);
      other.destroy();
      const right = await tlsFake(port, 0xa1n, sw1);
      await waitFor(() => registry.get(0xa1n), { what: `sw1 in MAIN (pin ${pin.slice(0, 12)}...)` });
      right.destroy();
      expect(await listener.metrics.total(listener.metrics.pinMismatches)).to.equal(1);
    }
  });

  it('pins a dpid to the first certificate it reached MAIN with (certificate pinning)', async () => {
    const { registry, seen, port } = await tlsListener({ pinning: 'certificate' });
    const first = await tlsFake(port, 0xb1n, sw1);
    await waitFor(() => registry.get(0xb1n), { what: 'sw1 as dpid b1' });
    first.destroy();
    await waitUntil(() => registry.get(0xb1n) === undefined, { what: 'dpid b1 to go down' });
    const clone = await tlsFake(port, 0xb1n, sw2);
    const conn = await waitFor(() => seen.find((c) => c.identity?.certificate?.fingerprint256 === fingerprint(sw2.cert)), { what: 'the clone connection' });
    expect(await conn.closed).to.match(/first connected with certificate/);
    clone.destroy();
    const sw2Own = await tlsFake(port, 0xb2n, sw2); // sw2 may still be its own dpid
    await waitFor(() => registry.get(0xb2n), { what: 'sw2 as dpid b2' });
    sw2Own.destroy();
  });
});
