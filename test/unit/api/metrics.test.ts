// /metrics of a whole controller, with a scripted switch connected over TCP: Prometheus's own
// checker (promtool check metrics, Debian's prometheus package) must find nothing wrong with the
// page, the process and runtime metrics are there, and the controller's counters carry the
// switch's datapath id.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../../controller/config.js';
import { silentLogger } from '../../../controller/log.js';
import { startController, type Controller } from '../../../controller/main.js';
import { parseSubnets } from '../../../controller/mobility/index.js';
import { buildArpRequest } from '../../../controller/packet/arp.js';
import { waitUntil } from '../../lib/wait.js';
import { FakeSwitch } from '../switch/fake-switch.js';

const DPID = '0000000000000001';

/** promtool's verdict on a scrape: exit status and everything it printed. */
function promtool(page: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: page, encoding: 'utf8' });
  if (run.error !== undefined) throw new Error(`promtool is needed for this test (Debian package prometheus): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

describe('metrics: a scrape of a whole controller', function () {
  this.timeout(60_000);
  let controller: Controller;
  let fake: FakeSwitch;
  let stateDir: string;
  let base: string;
  const scrape = async () => (await fetch(`${base}/metrics`)).text();

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'seamless-metrics-'));
    const config = loadConfig(
      ['--openflow-host', '127.0.0.1', '--openflow-port', '0', '--http-port', '0', '--http-token', 'metrics-test', '--state-dir', stateDir],
      {}, { stdoutIsTTY: false, validateSubnets: (raw) => void parseSubnets(raw) },
    );
    controller = await startController(config, silentLogger);
    base = `http://127.0.0.1:${controller.http.port}`;
    fake = await FakeSwitch.connect(controller.listener.address().port, { dpid: 1n });
    await waitUntil(() => controller.switches.get(1n) !== undefined, { what: 'the fake switch to reach MAIN' });
    // A host ARPs for its gateway (a binding is learned, rules are sent), a frame too short to parse, an error.
    const arp = buildArpRequest({ senderMac: '02:00:00:00:01:0a', senderIp: '10.0.1.10', targetIp: '10.0.1.1' });
    fake.send({ type: 'PACKET_IN', xid: 0, bufferId: 0xffffffff, totalLen: arp.length, reason: 0, tableId: 0, cookie: 0n, match: { in_port: 1 }, data: arp });
    fake.send({ type: 'PACKET_IN', xid: 0, bufferId: 0xffffffff, totalLen: 4, reason: 0, tableId: 0, cookie: 0n, match: { in_port: 1 }, data: Uint8Array.of(1, 2, 3, 4) });
    fake.send({ type: 'ERROR', xid: 0x7777, errorType: 1, code: 1, data: new Uint8Array(0) });
    await waitUntil(() => controller.fabric.counters.packetIns === 2 && controller.fabric.bindings.list().length === 1, { what: 'the controller to handle both packet-ins' });
    await waitUntil(async () => (await scrape()).includes('seamless_switch_errors_total{'), { what: 'the error to be counted' });
  });

  after(async () => {
    fake?.destroy();
    await controller?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('passes promtool check metrics (and promtool does fail a bad page)', async () => {
    const page = await scrape();
    expect(promtool(page)).to.deep.equal({ status: 0, output: '' });
    const bad = promtool('# HELP seamless_things_total Things.\n# TYPE seamless_things_total gauge\nseamless_things_total 1\n');
    expect(bad.status).to.not.equal(0);
    expect(bad.output).to.contain('non-counter metrics should not have "_total" suffix');
  });

  it('has the process and runtime metrics: CPU, memory, heap, GC, event loop', async () => {
    const page = await scrape();
    for (const [name, type] of [
      ['process_cpu_seconds_total', 'counter'], ['process_resident_memory_bytes', 'gauge'], ['process_open_fds', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'], ['nodejs_gc_duration_seconds', 'histogram'], ['nodejs_eventloop_lag_p99_seconds', 'gauge'],
      ['nodejs_active_handles', 'gauge'],
    ]) {
      expect(page, name).to.contain(`# TYPE ${name} ${type}\n`);
    }
  });

  it('exports the controller\'s counters with HELP, types, and the datapath id where there is one', async () => {
    const page = await scrape();
    const value = (sample: string) => Number(new RegExp(`^${sample.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(page)?.[1]);
    expect(value(`seamless_packet_ins_total{dpid="${DPID}"}`)).to.equal(2);
    expect(value(`seamless_switch_errors_total{dpid="${DPID}",type="OFPET_BAD_REQUEST"}`)).to.equal(1);
    expect(value(`seamless_switch_ports{dpid="${DPID}",state="up"}`)).to.equal(2);
    expect(value(`seamless_switch_bindings{dpid="${DPID}"}`)).to.equal(1);
    expect(value('seamless_malformed_frames_total')).to.equal(1);
    expect(value(`seamless_flow_mods_total{dpid="${DPID}"}`)).to.be.greaterThan(0);
    expect(value('seamless_packet_outs_total')).to.be.a('number').and.not.NaN;
    expect(value('seamless_switches_connected')).to.equal(1);
    expect(value('seamless_bindings')).to.equal(1);
    for (const [name, type] of [
      ['seamless_switches_connected', 'gauge'], ['seamless_switch_ports', 'gauge'], ['seamless_packet_ins_total', 'counter'],
      ['seamless_switch_errors_total', 'counter'], ['seamless_flow_mods_total', 'counter'], ['seamless_malformed_frames_total', 'counter'],
      ['seamless_packet_outs_total', 'counter'], ['seamless_reinjected_packets_total', 'counter'], ['seamless_arp_probes_total', 'counter'],
      ['seamless_messages_dropped_total', 'counter'], ['seamless_looped_frames_total', 'counter'], ['seamless_failed_moves_total', 'counter'],
      ['seamless_staged_moves_total', 'counter'], ['seamless_claims_limited_total', 'counter'],
      ['seamless_moves_total', 'counter'], ['seamless_conflicts_total', 'counter'], ['seamless_bindings', 'gauge'], ['seamless_bindings_away', 'gauge'],
      ['seamless_switch_bindings', 'gauge'], ['seamless_intents', 'gauge'], ['seamless_reconvergence_seconds', 'histogram'],
      ['seamless_http_request_duration_seconds', 'histogram'], ['seamless_sse_clients', 'gauge'], ['seamless_sse_clients_dropped_total', 'counter'],
      ['seamless_sse_clients_refused_total', 'counter'], ['seamless_sse_events_total', 'counter'],
    ]) {
      expect(page, name).to.match(new RegExp(`^# HELP ${name} \\S.+\\n# TYPE ${name} ${type}$`, 'm'));
    }
  });

  it('shows the metrics the switch layer registers itself on the same registry', async () => {
    const page = await scrape();
    expect(page).to.match(/^seamless_openflow_connections 1$/m);
    expect(page).to.contain('# TYPE seamless_openflow_connections_refused_total counter');
  });

  it('times HTTP requests by route pattern, not by raw path', async () => {
    await fetch(`${base}/api/bindings/10.0.1.10`, { headers: { authorization: 'Bearer metrics-test' } });
    const page = await scrape();
    expect(page).to.match(/^seamless_http_request_duration_seconds_count\{method="GET",route="\/api\/bindings\/:eid",status_code="200"\} 1$/m);
    expect(page).to.not.contain('10.0.1.10"');
  });

  it('forgets a switch\'s series when it leaves', async () => {
    fake.destroy();
    await waitUntil(() => controller.switches.get(1n) === undefined, { what: 'the switch to be gone' });
    const page = await scrape();
    expect(page).to.not.match(/^seamless_(packet_ins_total|switch_errors_total|switch_ports|flow_mods_total)\{dpid="0000000000000001"/m);
    expect(promtool(page).status).to.equal(0);
  });
});
