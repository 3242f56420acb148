// The dashboard in headless Chromium (Debian's, never a downloaded one) against a controller
// started in-process and the Mininet lab, checked the way a network engineer reads it:
// - the topology names bridges and subnets and follows a VM to its new subnet;
// - the flow table shows exactly what `ovs-ofctl --no-stats dump-flows` prints, tables by name,
//   rule text wrapped only between fields, rows kept in place while live (a selection survives);
// - the port table shows a port going down within a second (link and admin), and the paused
//   source a migration leaves behind;
// - two visible tabs share the server's flow-stats reads and a hidden tab reads nothing;
// - the timeline plot gets a point per move, staged moves and conflicts marked.
// Run under `flock /tmp/seamless-lab.lock`. Screenshots go to artifacts/ (git-ignored).

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../controller/config.js';
import { silentLogger } from '../../controller/log.js';
import { startController, type Controller } from '../../controller/main.js';
import { parseSubnets } from '../../controller/mobility/index.js';
import { TABLES } from '../../controller/pipeline/tables.js';
import { topologyFile } from '../../topologies/agent-channel.js';
import { MininetDriver } from '../../topologies/mininet-driver.js';
import { waitUntil } from '../lib/wait.js';

const ARTIFACTS = 'artifacts';
const VM_EID = '10.0.1.10';
const CN_A = '10.0.1.20';
const S1 = '0000000000000001';
const S2 = '0000000000000002';
const S3 = '0000000000000003';
const PY = '/usr/bin/python3';
const ANNOUNCE = topologyFile('announce.py');

/** Lets a test hide and show a tab: headless Chromium reports every page visible. */
const VISIBILITY_SWITCH = `(() => {
  let state = 'visible';
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => state });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => state === 'hidden' });
  window.__setVisibility = (next) => { state = next; document.dispatchEvent(new Event('visibilitychange')); };
})();`;

const setVisibility = (page: Page, state: 'visible' | 'hidden') =>
  page.evaluate((s) => (window as unknown as { __setVisibility(s: string): void }).__setVisibility(s), state);

const run = promisify(execFile);

/** What `ovs-ofctl -O OpenFlow13 --no-stats dump-flows` prints for a switch, one rule a line, sorted. */
async function ofctlRules(net: MininetDriver, sw: string): Promise<string[]> {
  const { stdout } = await run('ovs-ofctl', ['-O', 'OpenFlow13', '--no-stats', 'dump-flows', net.bridge(sw)]);
  return stdout.split('\n').map((l) => l.trim()).filter((l) => l.includes('actions=')).sort();
}

async function shownRules(page: Page): Promise<string[]> {
  return (await page.$$eval('#flows tbody tr.flow code.rule', (codes) => codes.map((c) => c.textContent ?? ''))).sort();
}

/** Waits until the page shows exactly the switch's rules, as `ovs-ofctl --no-stats dump-flows` prints them. */
async function expectSameRules(page: Page, net: MininetDriver, sw: string): Promise<string[]> {
  let shown: string[] = [];
  let dumped: string[] = [];
  try {
    await waitUntil(async () => {
      dumped = await ofctlRules(net, sw);
      shown = await shownRules(page);
      return shown.length > 0 && JSON.stringify(shown) === JSON.stringify(dumped);
    }, { timeoutMs: 20_000, intervalMs: 500, what: `the dashboard to show the rules of ${sw}` });
  } catch (error) {
    expect(shown, 'rows shown vs ovs-ofctl --no-stats dump-flows').to.deep.equal(dumped);
    throw error;
  }
  return shown;
}

/** seamless_switch_stats_reads{,_shared}_total of one switch's flow-stats reads. */
async function flowReads(base: string, dpid: string): Promise<{ sent: number; shared: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{dpid="${dpid}",kind="flow_stats"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { sent: value('seamless_switch_stats_reads_total'), shared: value('seamless_switch_stats_reads_shared_total') };
}

const portRow = (dpid: string, port: number) => `#ports .port-card[data-dpid="${dpid}"] tr.port[data-port="${port}"]`;

describe('e2e: dashboard in headless Chromium (Mininet lab)', function () {
  this.timeout(240_000);
  let stateDir: string;
  let controller: Controller;
  let net: MininetDriver | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let base: string;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stateDir = mkdtempSync(join(tmpdir(), 'seamless-dash-'));
    const config = loadConfig(
      ['--openflow-host', '127.0.0.1', '--openflow-port', '0', '--http-port', '0', '--state-dir', stateDir],
      {}, { stdoutIsTTY: false, validateSubnets: (raw) => void parseSubnets(raw) },
    );
    controller = await startController(config, silentLogger);
    base = `http://127.0.0.1:${controller.http.port}`;
    net = await MininetDriver.start({ controller: { host: '127.0.0.1', port: controller.listener.address().port } });
    await waitUntil(() => controller.switches.list().length === 3, { timeoutMs: 30_000, what: 'the three lab switches to connect' });
    // Traffic so that the controller learns the VM and a correspondent.
    await waitUntil(async () => (await net!.cmd('vm', `ping -c1 -W1 ${CN_A}`, { timeoutMs: 3000 })).code === 0,
      { timeoutMs: 30_000, intervalMs: 200, what: 'vm to reach cnA' });
    await waitUntil(() => controller.fabric.bindings.byEid(VM_EID) !== undefined && controller.fabric.bindings.byEid(CN_A) !== undefined, { what: 'the VM and cnA bindings' });
    for (const cn of ['10.0.2.20', '10.0.3.20']) await net.check('vm', `ping -c1 -W2 ${cn}`); // the other correspondents, for the topology

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addInitScript(VISIBILITY_SWITCH);
    page = await context.newPage();
    await page.goto(`${base}/#switch=${S1}`);
    await page.waitForSelector('#live.on', { timeout: 15_000 });
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await net?.stop().catch(() => undefined);
    await controller?.stop().catch(() => undefined);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('draws the topology: subnets, edge switches by OVS bridge name with their dpid, the router, endpoints where they are', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#topology .switch').length === 3);
    expect(await page.$$eval('#topology .subnet', (els) => els.map((e) => (e as SVGElement).dataset.subnet))).to.deep.equal(['A', 'B', 'C']);
    const switches = await page.$$eval('#topology .switch', (els) => els.map((e) => [(e as SVGElement).dataset.dpid, e.querySelector('.title')!.textContent, e.querySelector('.detail')!.textContent]));
    expect(switches).to.deep.equal([[S1, net!.bridge('s1'), 'dpid 1'], [S2, net!.bridge('s2'), 'dpid 2'], [S3, net!.bridge('s3'), 'dpid 3']]);
    expect(await page.textContent('#topology .router-node')).to.equal('router');
    await page.waitForSelector(`#topology .host[data-eid="${VM_EID}"][data-dpid="${S1}"][data-away="false"]`);
    const options = await page.$$eval('#switch-select option', (os) => os.map((o) => o.textContent));
    expect(options[0]).to.equal(`${net!.bridge('s1')} · dpid 1 (subnet A)`);
    // Before any move: "no migrations yet", on one line.
    const lines = await page.$eval('#migrations li.none', (li) => { const r = document.createRange(); r.selectNodeContents(li); return new Set([...r.getClientRects()].map((c) => Math.round(c.top))).size; });
    expect(lines).to.equal(1);
  });

  it('shows exactly the rules ovs-ofctl --no-stats dump-flows prints, each table by name with its purpose on hover', async () => {
    const rows = await expectSameRules(page, net!, 's1');
    expect(rows.length).to.be.greaterThan(3);
    const cells = await page.$$eval('#flows tbody tr.flow', (trs) => trs.map((tr) => [(tr as HTMLElement).dataset.table, tr.querySelector('td.table-name')!.textContent, tr.querySelector('td.table-name')!.getAttribute('title')]));
    for (const [table, text, title] of cells) {
      const decl = TABLES.find((t) => String(t.id) === table)!;
      expect(text).to.equal(`${decl.id} ${decl.name}`);
      expect(title).to.include(decl.purpose);
    }
    expect(new Set(cells.map((c) => c[1]))).to.include.members(['0 ingress', '1 src_rewrite', '2 dst_rewrite', '3 l2_forward']);
    const chips = await page.$$eval('#table-stats .table-stat', (cs) => cs.map((c) => c.textContent));
    expect(chips.join(' ')).to.include('0 ingress:').and.include('3 l2_forward:');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  });

  it('wraps rule text only between fields, never inside one, and copies it as the line it is', async () => {
    await page.setViewportSize({ width: 900, height: 900 });
    try {
      await page.waitForFunction(() => [...document.querySelectorAll('#flows code.rule')].some((c) => new Set([...c.getClientRects()].map((r) => Math.round(r.top))).size > 1),
        undefined, { timeout: 5000 });
      const pieces = await page.$$eval('#flows code.rule > span', (spans) => spans.map((s) => [s.textContent, s.getClientRects().length]));
      expect(pieces.length).to.be.greaterThan(20);
      for (const [text, rects] of pieces) expect(rects, `"${text}" is cut`).to.equal(1);
      const copied = await page.evaluate(() => {
        const code = [...document.querySelectorAll<HTMLElement>('#flows code.rule')].sort((a, b) => b.offsetHeight - a.offsetHeight)[0]!;
        const range = document.createRange();
        range.selectNodeContents(code);
        getSelection()!.removeAllRanges();
        getSelection()!.addRange(range);
        return { text: getSelection()!.toString(), rule: code.dataset.rule };
      });
      expect(copied.text).to.equal(copied.rule);
      expect(await ofctlRules(net!, 's1')).to.include(copied.text);
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  it('updates rows in place: a selected rule stays selected over two live polls', async () => {
    const before = await page.evaluate(() => {
      const rows = [...document.querySelectorAll<HTMLTableRowElement>('#flows tbody tr.flow')];
      (window as unknown as { rows: HTMLElement[] }).rows = rows;
      const code = rows[2]!.querySelector('code.rule')!;
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection()!.removeAllRanges();
      getSelection()!.addRange(range);
      return { selected: getSelection()!.toString(), reads: Number(document.querySelector<HTMLElement>('#flows tbody')!.dataset.reads) };
    });
    expect(before.selected).to.match(/actions=/);
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#flows tbody')!.dataset.reads) >= n + 2, before.reads, { timeout: 10_000 });
    const after = await page.evaluate(() => {
      const kept = (window as unknown as { rows: HTMLElement[] }).rows;
      const now = [...document.querySelectorAll<HTMLElement>('#flows tbody tr.flow')];
      // The lab is live (its hosts' IPv6 neighbour discovery can teach the learner a rule at any
      // time): a rule may come or go between the reads. Every rule shown before and still there
      // must still be the same row element.
      // (No named function here: tsx would wrap it in a helper the page does not have.)
      const keptRules = kept.map((r) => r.querySelector<HTMLElement>('code.rule')!.dataset.rule);
      const byRule = new Map(now.map((r) => [r.querySelector<HTMLElement>('code.rule')!.dataset.rule, r]));
      const stayed = kept.filter((_, i) => byRule.has(keptRules[i]));
      return {
        selected: getSelection()!.toString(), stayed: stayed.length, kept: kept.length,
        replaced: kept.filter((r, i) => byRule.has(keptRules[i]) && (byRule.get(keptRules[i]) !== r || !r.isConnected)).length,
        selectedRowKept: kept[2]!.isConnected && byRule.get(keptRules[2]) === kept[2],
      };
    });
    expect(after.stayed, 'most rules are still shown').to.be.at.least(after.kept - 2);
    expect(after.replaced, 'a rule that stays keeps its row element').to.equal(0);
    expect(after.selectedRowKept, 'the selected rule\'s row is the same node').to.equal(true);
    expect(after.selected).to.equal(before.selected);
  });

  it('shows each switch\'s ports, who is bound where, and a port going down within a second (link, then admin)', async () => {
    await page.waitForSelector(`${portRow(S1, 1)} .endpoint`);
    expect(await page.textContent(`${portRow(S1, 1)} td:nth-child(7)`)).to.equal(CN_A);
    expect(await page.textContent(`${portRow(S1, 10)} td:nth-child(7)`)).to.equal(VM_EID);
    expect(await page.getAttribute(portRow(S1, 2), 'data-role')).to.equal('router');
    expect(await page.textContent(`#ports .port-card[data-dpid="${S1}"] .card-title`)).to.equal(`${net!.bridge('s1')} · dpid 1`);

    const latency: Record<string, number> = {};
    try {
      let t0 = performance.now();
      await net!.portDown('s1', 1); // ip link set <veth> down: the link goes
      await page.waitForSelector(`${portRow(S1, 1)}[data-link="down"][data-up="false"]`, { timeout: 1000 });
      latency.link = performance.now() - t0;
      t0 = performance.now();
      await net!.ofctl('s1', 'mod-port', '1', 'down'); // an operator disables the port
      await page.waitForSelector(`${portRow(S1, 1)}[data-admin="down"]`, { timeout: 1000 });
      latency.admin = performance.now() - t0;
    } finally {
      await net!.ofctl('s1', 'mod-port', '1', 'up');
      await net!.portUp('s1', 1);
    }
    await page.waitForSelector(`${portRow(S1, 1)}[data-up="true"]`, { timeout: 5000 });
    console.log(`      port down shown after: link ${latency.link!.toFixed(0)} ms, admin ${latency.admin!.toFixed(0)} ms (from the command)`);
  });

  it('a bound host whose port goes with no move is shown lost (looked for) in the bindings, the topology and on the timeline, and no longer once its port is back', async () => {
    const row = `#bindings tbody tr[data-eid="${CN_A}"]`;
    await page.waitForSelector(`${row}[data-lost="false"]`);
    const t0 = performance.now();
    await net!.portDown('s1', 1);
    try {
      await page.waitForSelector(`${row}[data-lost="true"]`, { timeout: 8000 });
      const shownMs = performance.now() - t0;
      expect(await page.textContent(`${row} td.where`)).to.include('lost, looked for');
      expect(await page.textContent('#summary')).to.include('· 1 lost ·');
      await page.waitForSelector(`#topology .host[data-eid="${CN_A}"][data-lost="true"]`, { timeout: 1000 });
      expect(await page.textContent(`#topology .host[data-eid="${CN_A}"] .detail`)).to.equal('port 1 · lost');
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-lost.png'), fullPage: true });
      const api = await (await page.request.get(`${base}/api/bindings/${CN_A}`)).json() as { lostSince: number | null };
      expect(api.lostSince, 'the API says since when').to.be.a('number');
      expect((await (await page.request.get(`${base}/api/timeline`)).json() as { marks: Array<{ type: string; eid: string }> }).marks
        .some((m) => m.type === 'endpoint-lost' && m.eid === CN_A), 'a mark on the timeline').to.equal(true);
      console.log(`      lost shown ${shownMs.toFixed(0)} ms after its port went (first round after lostSearchAfterMs, 2 s)`);
    } finally {
      await net!.portUp('s1', 1);
    }
    await page.waitForSelector(`${row}[data-lost="false"]`, { timeout: 5000 });
    await page.waitForSelector(`#topology .host[data-eid="${CN_A}"][data-lost="false"]`, { timeout: 1000 });
    expect(await page.textContent('#summary')).to.not.include('lost');
  });

  it('two visible tabs share one flow-stats read per switch per window; a hidden tab reads nothing until shown', async () => {
    const second = await context.newPage();
    const hidden = await context.newPage();
    const requests = new Map<Page, number>([[page, 0], [second, 0], [hidden, 0]]);
    for (const p of requests.keys()) p.on('request', (r) => { if (r.url().includes(`/api/switches/${S1}/flows`)) requests.set(p, requests.get(p)! + 1); });
    try {
      for (const p of [second, hidden]) {
        await p.goto(`${base}/#switch=${S1}`);
        await p.waitForSelector('#live.on');
      }
      // All hidden, then the two visible ones shown at the same moment: their polls line up.
      await Promise.all([...requests.keys()].map((p) => setVisibility(p, 'hidden')));
      await new Promise((r) => setTimeout(r, 300));
      const start = await flowReads(base, S1);
      for (const p of requests.keys()) requests.set(p, 0);
      await Promise.all([setVisibility(page, 'visible'), setVisibility(second, 'visible')]);
      const windowMs = 6_500;
      await new Promise((r) => setTimeout(r, windowMs));
      const end = await flowReads(base, S1);
      const asked = requests.get(page)! + requests.get(second)!;
      const sent = end.sent - start.sent;
      console.log(`      ${windowMs} ms: ${asked} flow requests from two visible tabs, ${sent} flow-stats reads sent to the switch, ${end.shared - start.shared} shared`);
      expect(requests.get(hidden), 'the hidden tab reads nothing').to.equal(0);
      expect(asked).to.be.at.least(6);
      expect(sent, 'at most one read per 1 s window').to.be.at.most(Math.ceil(windowMs / 1000) + 1);
      expect(sent, 'the tabs share reads').to.be.at.most(Math.ceil(asked / 2) + 1);
      expect(end.shared - start.shared).to.be.at.least(asked - sent - 1);

      // Shown again, the hidden tab catches up at once.
      await setVisibility(hidden, 'visible');
      await waitUntil(() => requests.get(hidden)! > 0, { timeoutMs: 1000, intervalMs: 50, what: 'the shown tab to read its table' });
    } finally {
      await second.close();
      await hidden.close();
    }
  });

  it('after a migration: the VM in its new subnet, the paused source in the port table, a point on the timeline, no reload', async () => {
    const before = await expectSameRules(page, net!, 's1');
    await net!.migrate('vm', { toSwitch: 's2', lingerMs: 6000 });

    await page.waitForSelector(`#topology .host.away[data-eid="${VM_EID}"][data-dpid="${S2}"][data-subnet="B"]`, { timeout: 10_000 });
    expect(await page.textContent(`#topology .host[data-eid="${VM_EID}"] .detail`)).to.match(/^port 10 · as 10\.0\.2\.\d+$/);
    await page.waitForSelector('#topology path.link.home');
    await page.waitForSelector(`#bindings tbody tr[data-eid="${VM_EID}"][data-away="true"]`, { timeout: 10_000 });

    // The source's port is still up (the hypervisor keeps the paused source) with nobody on it.
    await page.waitForSelector(`${portRow(S1, 10)}[data-paused="true"][data-up="true"]`, { timeout: 5000 });
    expect(await page.textContent(`${portRow(S1, 10)} td:last-child`)).to.match(new RegExp(`^paused source: ${VM_EID.replace(/\./g, '\\.')} moved to B ${net!.bridge('s2')}:10`));
    await page.waitForSelector(`${portRow(S2, 10)} .endpoint.away`, { timeout: 5000 });

    await page.waitForSelector('#timeline-plot g.move[data-id="1"]', { timeout: 10_000 });
    expect(await page.$$eval('#timeline-plot g.move', (gs) => gs.length)).to.equal(controller.fabric.migrations.list().length);
    await page.waitForSelector(`#migrations li[data-eid="${VM_EID}"]`);

    await page.waitForSelector(`#flows tbody tr.flow[data-binding="${VM_EID}"]`, { timeout: 20_000 });
    expect(await expectSameRules(page, net!, 's1')).to.not.deep.equal(before);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-migration.png'), fullPage: true });

    // The source quits after its linger: its port leaves the table.
    await page.waitForSelector(portRow(S1, 10), { state: 'detached', timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).to.equal(42);
  });

  it('marks a move staged ahead and a conflict refused on the timeline', async () => {
    // What the hypervisor's OVSDB signal does: an intent naming the target port, staged at once.
    const now = Date.now();
    const intent = controller.intents.register({ eid: VM_EID, toDpid: 3n, toPort: 10, expiresAt: now + 30_000, source: 'ovsdb' }, now);
    expect(intent.ok).to.equal(true);
    if (intent.ok) expect(await controller.fabric.phases.announce(intent.intent)).to.equal(true);
    await page.waitForSelector('#timeline-plot .mark.move-staged', { timeout: 5000 });
    await net!.migrate('vm', { toSwitch: 's3', lingerMs: 500 });
    await page.waitForSelector('#timeline-plot g.move.staged[data-id="2"]', { timeout: 10_000 });
    expect(await page.getAttribute('#timeline-plot g.move[data-id="2"]', 'data-rounds')).to.equal('1');
    await page.waitForSelector(`#topology .host.away[data-eid="${VM_EID}"][data-subnet="C"]`, { timeout: 10_000 });

    // An imposter on cnB's port claims the VM's address: refused, marked.
    await net!.check('cnB', `${PY} ${ANNOUNCE} --iface cnB-eth0 --mac 02:00:00:00:02:99 --ip ${VM_EID} --mode garp --rounds 2`);
    await page.waitForSelector('#timeline-plot .mark.conflict', { timeout: 10_000 });
    expect(await page.$$eval('#timeline-plot g.move', (gs) => gs.length)).to.equal(2);
    await page.click(`#bindings tbody tr[data-eid="${VM_EID}"]`);
    await page.evaluate(() => getSelection()!.removeAllRanges());
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-timeline.png'), fullPage: true });
  });
});
