// The Seamless dashboard: reads the REST API, follows /api/events and re-reads only what an event
// touches. The flow table of the selected switch is re-read every 2 s while the tab is visible
// (the server shares one read per switch between every tab, docs/api.md), and so is the cluster
// panel when the controller is a replica (mastership and etcd's health change without an event;
// the server reads etcd's health once a second for every client); a hidden tab reads nothing and
// catches up when it is shown again. Plain DOM and SVG, no framework, no build step.

import { ago, clock, switchName, switchTitle, where } from './format.js';
import { clusterSummary } from './cluster.js';
import { ClusterPanelView } from './cluster-view.js';
import { el, setText, syncKeyed } from './dom.js';
import { filterWords } from './flows.js';
import { FlowTableView } from './flow-table.js';
import { PortTablesView } from './port-tables.js';
import { TimelineView } from './timeline-view.js';
import { TopologyView } from './topology-view.js';

const FLOW_REFRESH_MS = 2000;
const MAX_EVENTS = 60;
const $ = (id) => document.getElementById(id);

const state = {
  switches: [], subnets: [], bindings: [], timeline: { migrations: [], marks: [] }, ports: new Map(), cluster: null,
  selected: new URLSearchParams(location.hash.slice(1)).get('switch'),
  highlight: null, // EID whose rules, ports and node are highlighted
  flowsVersion: 0,
};
const switchMap = () => new Map(state.switches.map((s) => [s.dpid, s]));

const topology = new TopologyView($('topology'), { onSwitch: (dpid) => selectSwitch(dpid), onHost: (eid) => toggleHighlight(eid) });
const ports = new PortTablesView($('ports'), { onEndpoint: (eid) => toggleHighlight(eid) });
const flows = new FlowTableView({ body: document.querySelector('#flows tbody'), summary: $('flow-count'), stats: $('table-stats'), onOwner: (eid) => toggleHighlight(eid) });
const timeline = new TimelineView({ plot: $('timeline-plot'), list: $('migrations') });
const cluster = new ClusterPanelView($('cluster-panel'));

// ---- reading --------------------------------------------------------------------------------

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (res.status === 401) {
    location.assign('/login');
    throw new Error('not logged in');
  }
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${body.message ?? res.status}`);
  return body;
}

async function loadSwitches() {
  [state.switches, state.subnets] = await Promise.all([getJson('/api/switches'), getJson('/api/subnets')]);
  if (state.selected === null || !state.switches.some((s) => s.dpid === state.selected)) state.selected = state.switches[0]?.dpid ?? null;
  for (const dpid of state.ports.keys()) if (!state.switches.some((s) => s.dpid === dpid)) state.ports.delete(dpid);
  renderSwitchSelect();
  renderTopology();
  renderSummary();
  await loadPorts();
}

async function loadPorts(dpids = state.switches.map((s) => s.dpid)) {
  const tables = await Promise.all(dpids.map((dpid) => getJson(`/api/switches/${dpid}/ports`).catch(() => null)));
  dpids.forEach((dpid, i) => { if (tables[i] !== null) state.ports.set(dpid, tables[i]); });
  renderPorts();
}

async function loadBindings() {
  state.bindings = await getJson('/api/bindings');
  renderBindings();
  renderTopology();
  renderSummary();
}

async function loadTimeline() {
  state.timeline = await getJson('/api/timeline');
  timeline.render(state.timeline, switchMap());
  renderSummary();
}

/** The selected switch's rules and table stats; a newer call wins over a slower older one; nothing while hidden. */
async function loadFlows() {
  if (document.hidden) return;
  const dpid = state.selected;
  const version = ++state.flowsVersion;
  if (dpid === null) { flows.clear(null); return; }
  const [rules, tables] = await Promise.all([getJson(`/api/switches/${dpid}/flows`), getJson(`/api/switches/${dpid}/tables`)]);
  if (version !== state.flowsVersion || dpid !== state.selected) return;
  flows.update(dpid, rules, tables, flowView());
}

/** GET /api/cluster: the panel shows only when this controller is a replica of a cluster; nothing while hidden. */
async function loadCluster() {
  if (document.hidden) return;
  state.cluster = await getJson('/api/cluster');
  cluster.render(state.cluster, switchMap());
  renderSummary();
}

/** Loads of one kind requested within a few milliseconds (an event burst) become one. */
const pending = new Map();
function soon(name, load) {
  if (pending.has(name)) return;
  pending.set(name, setTimeout(() => {
    pending.delete(name);
    load().catch((error) => console.warn(error.message));
  }, 25));
}

// ---- rendering ------------------------------------------------------------------------------

function renderSummary() {
  const away = state.bindings.filter((b) => b.away).length;
  const lost = state.bindings.filter((b) => b.lostSince !== null).length;
  const replica = state.cluster === null ? '' : clusterSummary(state.cluster);
  setText($('summary'), `${replica ? `${replica} · ` : ''}${state.switches.length} switches · ${state.bindings.length} bindings · ${away} away${lost > 0 ? ` · ${lost} lost` : ''} · ${state.timeline.migrations.length} migrations`);
}

function renderSwitchSelect() {
  syncKeyed($('switch-select'), state.switches, (s) => s.dpid, (s) => el('option', { value: s.dpid }), (option, s) => {
    setText(option, `${switchTitle(s)}${s.subnet ? ` (subnet ${s.subnet})` : ''}`);
  });
  $('switch-select').value = state.selected ?? '';
}

function renderTopology() {
  topology.render({ subnets: state.subnets, switches: state.switches, bindings: state.bindings, selected: state.selected, highlight: state.highlight });
}

function renderPorts() {
  ports.render(state.switches, state.ports, { highlight: state.highlight });
}

const flowView = () => ({ words: filterWords($('flow-filter').value), highlight: state.highlight, label: switchTitle(switchMap().get(state.selected), state.selected ?? '') });

function renderFlows() {
  flows.render(flowView());
}

function renderBindings() {
  const switches = switchMap();
  const body = document.querySelector('#bindings tbody');
  if (state.bindings.length === 0) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'no bindings yet')));
    return;
  }
  syncKeyed(body, state.bindings, (b) => b.eid, (b) => el('tr', { class: 'clickable', onclick: () => toggleHighlight(b.eid) },
    ...Array.from({ length: 7 }, (_, i) => el('td', { class: i === 5 ? 'num' : i === 3 ? 'where' : '' }))), (tr, b) => {
    const lost = b.lostSince !== null;
    Object.assign(tr.dataset, { eid: b.eid, away: String(b.away), lost: String(lost) });
    tr.classList.toggle('away', b.away);
    tr.classList.toggle('lost', lost);
    tr.title = lost ? `its port went ${ago(b.lostSince, Date.now())} with no move to follow: the controller looks for it at every edge port` : '';
    tr.classList.toggle('highlight', state.highlight === b.eid);
    const cells = [b.eid, b.mac, b.homeSubnet, `${b.away ? `${b.homeSubnet} → ` : ''}${where(b.locator, switches)}${lost ? ' · lost, looked for' : ''}`, b.locator.address, b.version, ago(b.lastSeen, Date.now())];
    cells.forEach((text, i) => setText(tr.cells[i], text));
  });
}

function selectSwitch(dpid) {
  if (dpid === state.selected) return;
  state.selected = dpid;
  history.replaceState(null, '', `#switch=${dpid}`);
  flows.clear(dpid);
  renderSwitchSelect();
  renderTopology();
  soon('flows', loadFlows);
}

function toggleHighlight(eid) {
  state.highlight = state.highlight === eid ? null : eid;
  renderBindings();
  renderTopology();
  renderPorts();
  renderFlows();
}

function logEvent(e) {
  const switches = switchMap();
  const detail = e.binding ? `${e.binding.eid} @ ${where(e.binding.locator, switches)}`
    : e.migration ? `${e.migration.eid} ${e.migration.reconvergenceMs.toFixed(1)} ms`
    : e.type === 'port-status' ? `${switchName(switches.get(e.dpid), e.dpid)} port ${e.port.portNo} (${e.port.name}) ${e.reason === 'delete' ? 'deleted'
      : `${e.reason}: ${e.port.up ? 'up' : `down${e.port.adminDown ? ' (admin)' : ''}${e.port.linkDown ? ' (link)' : ''}`}`}`
    : e.dpids ? `${e.flowMods} flow-mods on ${e.dpids.length} switches`
    : e.eid ? `${e.eid}${e.reason ? ` ${e.reason}` : ''}${e.error ? ` ${e.error}` : ''}`
    : e.dpid ? `${switchName(switches.get(e.dpid), e.dpid)}${e.error ? ` ${e.error}` : ''}` : '';
  const list = $('events');
  list.prepend(el('li', {}, `${clock(e.at)} `, el('span', { class: 'type' }, e.type), ` ${detail}`));
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
}

// ---- live updates ---------------------------------------------------------------------------

const everything = () => { for (const [name, load] of Object.entries(LOADS)) soon(name, load); };
/** Every view (switches first: the port tables follow from them). */
const LOADS = { switches: loadSwitches, bindings: loadBindings, timeline: loadTimeline, flows: loadFlows, cluster: loadCluster };
const loadAllPorts = () => loadPorts();

const REFRESH = {
  'switch-up': () => everything(),
  'switch-down': () => everything(),
  'switch-error': () => undefined,
  'port-status': (e) => { soon(`ports:${e.dpid}`, () => loadPorts([e.dpid])); soon('bindings', loadBindings); }, // a port back up: its endpoint is no longer lost
  'binding-added': () => { soon('bindings', loadBindings); soon('ports', loadAllPorts); },
  'binding-moved': () => { soon('bindings', loadBindings); soon('ports', loadAllPorts); },
  'binding-removed': () => { soon('bindings', loadBindings); soon('ports', loadAllPorts); },
  'migration-completed': () => { soon('timeline', loadTimeline); soon('bindings', loadBindings); soon('ports', loadAllPorts); },
  'migration-failed': () => soon('timeline', loadTimeline),
  'move-staged': () => soon('timeline', loadTimeline),
  'vm-resumed': () => soon('timeline', loadTimeline),
  'endpoint-suspended': () => soon('timeline', loadTimeline),
  'endpoint-lost': () => { soon('timeline', loadTimeline); soon('bindings', loadBindings); },
  'conflict': () => soon('timeline', loadTimeline),
  'rules-updated': (e) => { if (e.dpids.includes(state.selected)) soon('flows', loadFlows); },
};

function connectEvents() {
  const live = $('live');
  const source = new EventSource('/api/events');
  source.onopen = () => {
    setText(live, 'live');
    live.className = 'live on';
    everything(); // after a reconnect, events may have been missed: re-read everything
  };
  source.onerror = () => { setText(live, 'reconnecting…'); live.className = 'live off'; };
  for (const [type, refresh] of Object.entries(REFRESH)) {
    source.addEventListener(type, (message) => {
      const event = JSON.parse(message.data);
      logEvent(event);
      refresh(event);
    });
  }
}

let poll = null;
function followVisibility() {
  if (document.hidden) {
    clearInterval(poll);
    poll = null;
  } else if (poll === null) {
    soon('flows', loadFlows); // catch up at once
    soon('cluster', loadCluster);
    poll = setInterval(() => {
      soon('flows', loadFlows);
      if (state.cluster?.mode === 'cluster') soon('cluster', loadCluster);
    }, FLOW_REFRESH_MS);
  }
}

$('switch-select').addEventListener('change', (e) => selectSwitch(e.target.value));
$('flow-filter').addEventListener('input', renderFlows);
document.addEventListener('visibilitychange', followVisibility);
setInterval(() => { if (!document.hidden) { renderBindings(); renderPorts(); } }, 5_000); // "… ago" texts
window.addEventListener('resize', () => { renderTopology(); timeline.render(state.timeline, switchMap()); });
followVisibility();
connectEvents();
