// VmAttachmentWatcher against a scripted ovsdb-server: what it monitors, the events it emits from
// the initial dump and from updates, echo answered, an update that shares a chunk with the monitor
// reply, an ovsdb-server restart (re-monitor and diff: changes during the outage reported exactly
// once), malformed, oversize and silent input (close, reconnect, no crash), rate-limited warnings.

import { expect } from 'chai';
import { createLogger } from '../../../controller/log.js';
import { ATTACHMENT_COLUMNS, VmAttachmentWatcher, type VmAttachment, type VmAttachmentWatcherOptions } from '../../../controller/ovsdb/index.js';
import { waitUntil } from '../../lib/wait.js';
import { FakeOvsdbServer } from './fake-ovsdb-server.js';

const BR = 'b0000000-0000-4000-8000-000000000001';
const uuid = (kind: 'c' | 'd', n: number) => `${kind}0000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** One bridge (dpid a1) with VM ports n (ofport 10+n, MAC 52:54:00:00:00:0n). */
function dump(ns: number[], mac = (n: number) => `52:54:00:00:00:${n.toString(16).padStart(2, '0')}`) {
  const ports = ns.map((n) => ['uuid', uuid('c', n)]);
  return {
    Bridge: { [BR]: { new: { name: 'br-vm', datapath_id: '00000000000000a1', ports: ['set', ports] } } },
    Port: Object.fromEntries(ns.map((n) => [uuid('c', n), { new: { name: `vnet${n}`, interfaces: ['uuid', uuid('d', n)] } }])),
    Interface: Object.fromEntries(ns.map((n) => [uuid('d', n), {
      new: { name: `vnet${n}`, ofport: 10 + n, external_ids: ['map', [['attached-mac', mac(n)], ['vm-id', `vm-${n}`]]] },
    }])),
  };
}

const update = (tableUpdates: object) => JSON.stringify({ id: null, method: 'update', params: ['seamless-attachments', tableUpdates] });
const brief = (e: VmAttachment) => `${e.state} vnet${e.ofport - 10}${e.initial ? ' initial' : ''}`;

describe('VmAttachmentWatcher', function () {
  this.timeout(10_000);
  let server: FakeOvsdbServer;
  let watcher: VmAttachmentWatcher;
  let events: VmAttachment[];
  let logLines: Array<Record<string, unknown>>;

  function startWatcher(options: Partial<VmAttachmentWatcherOptions> = {}): void {
    const log = createLogger({ level: 'debug', format: 'json', sink: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
    watcher = new VmAttachmentWatcher({ target: { kind: 'unix', path: server.path }, log, reconnect: { initialMs: 10, maxMs: 50 }, ...options });
    watcher.attachments$.subscribe((e) => events.push(e));
    watcher.start();
  }

  beforeEach(async () => {
    server = await FakeOvsdbServer.listen();
    events = [];
    logLines = [];
  });

  afterEach(async () => {
    watcher?.stop();
    await server.close();
    server.remove();
  });

  it('monitors Bridge, Port and Interface and reports the initial attachments as initial additions', async () => {
    startWatcher();
    const session = await server.session(0);
    const request = await session.replyToMonitor(dump([1, 2]));
    expect(request.params).to.deep.equal(['Open_vSwitch', 'seamless-attachments', {
      Bridge: { columns: [...ATTACHMENT_COLUMNS.Bridge] }, Port: { columns: [...ATTACHMENT_COLUMNS.Port] }, Interface: { columns: [...ATTACHMENT_COLUMNS.Interface] },
    }]);
    await waitUntil(() => events.length === 2, { what: 'two initial attachments' });
    expect(events.map(brief)).to.deep.equal(['added vnet1 initial', 'added vnet2 initial']);
    expect(events[0]).to.deep.include({ mac: '52:54:00:00:00:01', bridge: 'br-vm', dpid: 0xa1n, ofport: 11, vmUuid: 'vm-1', interfaceName: 'vnet1' });
    expect(watcher.byMac('52:54:00:00:00:02').map((a) => a.ofport)).to.deep.equal([12]);

    session.send(update({ Interface: { [uuid('d', 2)]: { old: { name: 'vnet2' } } } }));
    await waitUntil(() => events.length === 3, { what: 'the removal' });
    expect(brief(events[2]!)).to.equal('removed vnet2');
    expect(watcher.attachments().map((a) => a.interfaceName)).to.deep.equal(['vnet1']);
  });

  it("answers ovsdb-server's echo requests", async () => {
    startWatcher();
    const session = await server.session(0);
    await session.replyToMonitor({});
    session.send({ id: 'echo', method: 'echo', params: ['x'] });
    await waitUntil(() => session.received.some((m) => m.id === 'echo'), { what: 'the echo reply' });
    expect(session.received.find((m) => m.id === 'echo')).to.deep.equal({ id: 'echo', result: ['x'], error: null });
  });

  it('does not lose an update that arrives in the same chunk as the monitor reply', async () => {
    startWatcher();
    const session = await server.session(0);
    // The update re-sends vnet1's rows and adds vnet3: folded before the reply, vnet3 would be lost.
    await session.replyToMonitor(dump([1]), update(dump([1, 3])));
    await waitUntil(() => events.length === 2, { what: 'both attachments' });
    expect(events.map(brief)).to.deep.equal(['added vnet1 initial', 'added vnet3 initial']);
  });

  it('after an ovsdb-server restart re-monitors and reports only what changed meanwhile, once', async () => {
    startWatcher();
    await (await server.session(0)).replyToMonitor(dump([1, 2]));
    await waitUntil(() => events.length === 2, { what: 'the initial attachments' });
    const path = server.path;
    await server.close();
    await waitUntil(() => logLines.some((l) => l.msg === 'ovsdb unavailable, retrying'), { what: 'the disconnect warning' });
    expect(events).to.have.length(2); // a lost session says nothing about the VMs

    const restarted = await FakeOvsdbServer.listen(path);
    try {
      // While it was down: vnet2 left, vnet4 arrived, vnet1 stayed.
      await (await restarted.session(0)).replyToMonitor({ ...dump([1, 4]) });
      await waitUntil(() => events.length === 4, { what: 'the changes made during the outage' });
      await new Promise((r) => setTimeout(r, 50));
      expect(events.slice(2).map(brief)).to.deep.equal(['removed vnet2', 'added vnet4']);
      expect(events).to.have.length(4);
      expect(watcher.counters).to.deep.include({ connects: 2, disconnects: 1 });
    } finally {
      await restarted.close();
    }
  });

  for (const [what, bytes] of [
    ['a malformed update', update({ Interface: 5 })],
    ['a message that is not JSON', '{"id":null,"method":"update","params":[1,}]}'],
    ['bytes that are not a JSON object', 'HTTP/1.1 400 Bad Request\r\n\r\n'],
    ['a message over the size limit', update({ Interface: { [uuid('d', 9)]: { new: { name: 'x'.repeat(20_000) } } } })],
  ] as const) {
    it(`on ${what}: closes with a clear error, reconnects and re-monitors from scratch`, async () => {
      startWatcher({ connection: { maxMessageBytes: 16_384 } });
      const first = await server.session(0);
      await first.replyToMonitor(dump([1]));
      await waitUntil(() => events.length === 1, { what: 'the initial attachment' });
      first.send(bytes);
      const second = await server.session(1);
      await second.replyToMonitor(dump([1, 2]));
      await waitUntil(() => events.length === 2, { what: 'the attachment added meanwhile' });
      expect(events.map(brief)).to.deep.equal(['added vnet1 initial', 'added vnet2']);
      expect(first.closed).to.equal(true);
      const warning = logLines.find((l) => l.msg === 'ovsdb unavailable, retrying');
      expect(String(warning?.error)).to.match(/malformed update|not JSON|expected '\{'|longer than 16384/);
    });
  }

  it('probes a silent ovsdb-server with echo and drops it when it stays silent', async () => {
    startWatcher({ connection: { probeIntervalMs: 60 } });
    const first = await server.session(0);
    await first.replyToMonitor({});
    await first.request('echo'); // our probe; the fake never answers
    await server.session(1); // ... so we gave up on it and reconnected
    expect(first.closed).to.equal(true);
    expect(String(logLines.find((l) => l.msg === 'ovsdb unavailable, retrying')?.error)).to.match(/silent/);
  });

  it('logs malformed external_ids once per row, at most 5 lines a minute, and ignores those rows', async () => {
    startWatcher();
    const session = await server.session(0);
    const ns = Array.from({ length: 20 }, (_, i) => i + 1);
    await session.replyToMonitor(dump(ns, (n) => (n === 1 ? '52:54:00:00:00:01' : `bad-mac-${n}`)));
    await waitUntil(() => events.length === 1, { what: 'the one good attachment' });
    session.send(update({ Interface: { [uuid('d', 1)]: { new: { name: 'vnet1', ofport: 11, link_state: 'down', external_ids: ['map', [['attached-mac', '52:54:00:00:00:01'], ['vm-id', 'vm-1']]] } } } }));
    await new Promise((r) => setTimeout(r, 50));
    const warnings = logLines.filter((l) => l.msg === 'ignoring an Interface row with malformed hypervisor data');
    expect(warnings).to.have.length(5);
    expect(String(warnings[0]!.reason)).to.match(/attached-mac is not a MAC/);
    expect(events.map(brief)).to.deep.equal(['added vnet1 initial']);
  });

  it('keeps retrying while ovsdb-server is absent and connects when it appears', async () => {
    const path = server.path;
    await server.close();
    startWatcher();
    await waitUntil(() => logLines.filter((l) => l.msg === 'ovsdb unavailable, retrying').length >= 3, { what: 'three failed attempts' });
    expect(logLines.filter((l) => l.msg === 'ovsdb unavailable, retrying' && l.level === 'warn')).to.have.length(1);
    server = await FakeOvsdbServer.listen(path);
    await (await server.session(0)).replyToMonitor(dump([1]));
    await waitUntil(() => events.length === 1, { what: 'the attachment' });
  });

  it('stop() closes the session and completes the stream', async () => {
    startWatcher();
    const session = await server.session(0);
    await session.replyToMonitor({});
    let completed = false;
    watcher.attachments$.subscribe({ complete: () => { completed = true; } });
    watcher.stop();
    await waitUntil(() => session.closed, { what: 'the session to close' });
    expect(completed).to.equal(true);
  });
});
