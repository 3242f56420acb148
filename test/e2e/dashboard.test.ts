// The dashboard in headless Chromium against a controller started in-process and the Mininet
// lab: the flow rows it shows are exactly what `ovs-ofctl dump-flows` prints, and a migration
// changes the bindings view and the flow table without a page reload. Screenshots go to
// artifacts/ (git-ignored).

import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../controller/config.js';
import { silentLogger } from '../../controller/log.js';
import { startController, type Controller } from '../../controller/main.js';
import { parseSubnets } from '../../controller/mobility/index.js';
import { MininetDriver } from '../../topologies/mininet-driver.js';
import { waitUntil } from '../lib/wait.js';

const ARTIFACTS = 'artifacts';
const VM_EID = '10.0.1.10';
const S1 = '0000000000000001';

/** A dump-flows line without what changes by itself: duration and counters. */
function spec(line: string): string {
  return line.trim().replace(/duration=[^,]+, /, '').replace(/n_packets=\d+, n_bytes=\d+, /, '');
}

function ofctlSpecs(dump: string): string[] {
  return dump.split('\n').filter((l) => l.includes('actions=')).map(spec).sort();
}

async function shownSpecs(page: Page): Promise<string[]> {
  const texts = await page.$$eval('#flows tbody tr.flow code.rule', (codes) => codes.map((c) => c.textContent ?? ''));
  return texts.map(spec).sort();
}

/** Waits until the page shows exactly the switch's rules (the page re-reads them every 2 s). */
async function expectSameRules(page: Page, net: MininetDriver, sw: string): Promise<string[]> {
  let shown: string[] = [];
  let dumped: string[] = [];
  try {
    await waitUntil(async () => {
      dumped = ofctlSpecs(await net.ofctl(sw, 'dump-flows'));
      shown = await shownSpecs(page);
      return shown.length > 0 && JSON.stringify(shown) === JSON.stringify(dumped);
    }, { timeoutMs: 20_000, intervalMs: 500, what: `the dashboard to show the rules of ${sw}` });
  } catch (error) {
    expect(shown, 'rows shown vs ovs-ofctl dump-flows').to.deep.equal(dumped);
    throw error;
  }
  return shown;
}

describe('e2e: dashboard in headless Chromium (Mininet lab)', function () {
  this.timeout(240_000);
  let stateDir: string;
  let controller: Controller;
  let net: MininetDriver | undefined;
  let browser: Browser | undefined;
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
    // Traffic so that the controller learns the VM and the correspondents.
    await waitUntil(async () => (await net!.cmd('vm', 'ping -c1 -W1 10.0.1.20', { timeoutMs: 3000 })).code === 0,
      { timeoutMs: 30_000, intervalMs: 200, what: 'vm to reach cnA' });
    await waitUntil(() => controller.fabric.bindings.byEid(VM_EID) !== undefined, { what: 'the VM binding' });

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${base}/#switch=${S1}`);
    await page.waitForSelector('#live.on', { timeout: 15_000 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await net?.stop().catch(() => undefined);
    await controller?.stop().catch(() => undefined);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('shows every connected switch and the subnets of the lab', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#topology .switch').length === 3);
    const subnets = await page.$$eval('#topology .subnet', (els) => els.map((e) => (e as HTMLElement).dataset.subnet));
    expect(subnets).to.deep.equal(['A', 'B', 'C']);
    const options = await page.$$eval('#switch-select option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).to.deep.equal(['0000000000000001', '0000000000000002', '0000000000000003']);
  });

  it('shows exactly the flow rows that ovs-ofctl dump-flows prints for a switch', async () => {
    const rows = await expectSameRules(page, net!, 's1');
    expect(rows.length).to.be.greaterThan(3);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  });

  it('filters the flow table', async () => {
    await page.fill('#flow-filter', 'table=1');
    await page.waitForFunction(() => [...document.querySelectorAll('#flows tbody tr.flow code')].every((c) => c.textContent!.includes('table=1')));
    const shown = await page.$$eval('#flows tbody tr.flow', (rs) => rs.length);
    const all = ofctlSpecs(await net!.ofctl('s1', 'dump-flows')).filter((l) => l.includes('table=1'));
    expect(shown).to.equal(all.length);
    await page.fill('#flow-filter', '');
  });

  it('after a migration, the bindings view and the flow table change without a reload', async () => {
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
    const before = await expectSameRules(page, net!, 's1');
    const vmRow = `#bindings tbody tr[data-eid="${VM_EID}"]`;
    expect(await page.getAttribute(vmRow, 'data-away')).to.equal('false');

    await net!.migrate('vm', { toSwitch: 's2' });

    await page.waitForSelector(`${vmRow}[data-away="true"]`, { timeout: 20_000 });
    expect(await page.textContent(`${vmRow} td.where`)).to.contain('A → B');
    await page.waitForSelector(`#topology .switch[data-dpid="0000000000000002"] .host.away[data-eid="${VM_EID}"]`, { timeout: 10_000 });
    await page.waitForSelector(`#migrations li[data-eid="${VM_EID}"]`, { timeout: 10_000 });

    // The home switch now holds rewrite rules owned by the VM's binding.
    await page.waitForSelector(`#flows tbody tr.flow[data-binding="${VM_EID}"]`, { timeout: 20_000 });
    const after = await expectSameRules(page, net!, 's1');
    expect(after).to.not.deep.equal(before);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).to.equal(42);

    // Clicking the binding highlights the rules it owns.
    await page.click(vmRow);
    const highlighted = await page.$$eval('#flows tbody tr.flow.highlight', (rs) => rs.map((r) => (r as HTMLElement).dataset.binding));
    expect(highlighted.length).to.be.greaterThan(0);
    expect(new Set(highlighted)).to.deep.equal(new Set([VM_EID]));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-migration.png'), fullPage: true });

    // And the target switch's table is what OVS holds there too.
    await page.selectOption('#switch-select', '0000000000000002');
    await expectSameRules(page, net!, 's2');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-s2.png'), fullPage: true });
  });
});
