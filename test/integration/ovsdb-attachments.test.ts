// The attachment watcher against this machine's real ovsdb-server: a port added with the
// external_ids libvirt writes (attached-mac, iface-id, vm-id) is reported with its MAC, the
// bridge's datapath id and its OpenFlow port number, and reported removed when deleted. Also
// measures how long after `ovs-vsctl` returns the event arrives. Only events for the bridge this
// test creates count (other users of the machine add bridges too); the bridge and its ports are
// removed afterwards, also on failure.

import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { DEFAULT_OVSDB_SOCKET, VmAttachmentWatcher, type VmAttachment } from '../../controller/ovsdb/index.js';
import { OvsLab, vsctl } from '../lib/ovs.js';
import { waitFor, waitUntil } from '../lib/wait.js';

interface Seen { readonly event: VmAttachment; readonly t: number }

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('integration: VM attachments from the real ovsdb-server', function () {
  this.timeout(120_000);
  const DPID = 0x5ea0000000000da1n;
  let lab: OvsLab;
  let bridge: string;
  let watcher: VmAttachmentWatcher;
  const seen: Seen[] = [];

  before(async () => {
    lab = new OvsLab('odb');
    bridge = await lab.bridge({ dpid: DPID });
    watcher = new VmAttachmentWatcher({ target: { kind: 'unix', path: DEFAULT_OVSDB_SOCKET } });
    watcher.attachments$.subscribe((event) => { if (event.bridge === bridge) seen.push({ event, t: performance.now() }); });
    let state = '';
    watcher.state$.subscribe((s) => { state = s; });
    watcher.start();
    await waitUntil(() => state === 'connected', { what: 'the OVSDB monitor to start' });
  });

  after(async () => {
    watcher?.stop();
    await lab?.cleanup();
  });

  const addVmPort = (name: string, ofport: number, mac: string, extra: string[] = []) => vsctl('add-port', bridge, name, '--',
    'set', 'interface', name, 'type=internal', `ofport_request=${ofport}`,
    `external_ids:attached-mac="${mac}"`, `external_ids:iface-id="iface-${name}"`, `external_ids:vm-id="vm-${name}"`, 'external_ids:iface-status=active', ...extra);

  const eventFor = (name: string, state: 'added' | 'removed', after = 0) =>
    waitFor(() => seen.slice(after).find((s) => s.event.interfaceName === name && s.event.state === state), { what: `${state} for ${name}` });

  it('reports a VM port added (MAC, dpid, ofport, ids) and removed', async () => {
    const name = `${lab.prefix}vm0`;
    const from = seen.length;
    await addVmPort(name, 7, '52:54:00:5E:A0:01');
    const added = (await eventFor(name, 'added', from)).event;
    expect(added).to.deep.include({
      mac: '52:54:00:5e:a0:01', bridge, dpid: DPID, ofport: 7, interfaceName: name,
      ifaceId: `iface-${name}`, vmUuid: `vm-${name}`, state: 'added', initial: false,
    });
    expect(watcher.byMac('52:54:00:5e:a0:01').map((a) => a.ofport)).to.deep.equal([7]);
    await lab.removePort(bridge, name);
    const removed = (await eventFor(name, 'removed', from)).event;
    expect(removed).to.deep.include({ mac: '52:54:00:5e:a0:01', dpid: DPID, ofport: 7 });
    expect(watcher.byMac('52:54:00:5e:a0:01')).to.deep.equal([]);
  });

  it('reports a port once external_ids name its VM, and ignores a malformed attached-mac', async () => {
    const plain = `${lab.prefix}vm1`;
    const bad = `${lab.prefix}vm2`;
    const good = `${lab.prefix}vm3`;
    const from = seen.length;
    try {
      await vsctl('add-port', bridge, plain, '--', 'set', 'interface', plain, 'type=internal', 'ofport_request=8');
      await vsctl('add-port', bridge, bad, '--', 'set', 'interface', bad, 'type=internal', 'ofport_request=9', 'external_ids:attached-mac=not-a-mac');
      await vsctl('set', 'interface', plain, 'external_ids:attached-mac=52:54:00:5e:a0:08');
      await addVmPort(good, 10, '52:54:00:5e:a0:0a');
      // OVSDB updates arrive in commit order: once `good` is here, `plain` and `bad` were processed.
      await eventFor(good, 'added', from);
      expect(seen.slice(from).map((s) => `${s.event.state} ${s.event.interfaceName} ${s.event.ofport}`)).to.deep.equal([
        `added ${plain} 8`, `added ${good} 10`,
      ]);
    } finally {
      for (const port of [plain, bad, good]) await lab.removePort(bridge, port);
    }
  });

  it('measures the delay from ovs-vsctl to the event (median over 20 adds)', async () => {
    const fromReturn: number[] = [];
    const fromStart: number[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `${lab.prefix}lt${i}`;
      const from = seen.length;
      const t0 = performance.now();
      await addVmPort(name, 20 + i, `52:54:00:5e:a1:${i.toString(16).padStart(2, '0')}`);
      const t1 = performance.now();
      const { t } = await eventFor(name, 'added', from);
      fromReturn.push(t - t1);
      fromStart.push(t - t0);
      await lab.removePort(bridge, name);
      await eventFor(name, 'removed', from);
    }
    expect(fromReturn).to.have.length(20);
    const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}`;
    console.log(`      ovs-vsctl add-port -> VmAttachment 'added': from its return ${fmt(fromReturn)}; from its start ${fmt(fromStart)}`);
  });
});
