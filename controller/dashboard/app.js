// The Seamless dashboard: reads the REST API, follows /api/events and refreshes only the views
// an event touches; flow counters are re-read every few seconds. Plain DOM, no framework.

const FLOW_REFRESH_MS = 2000;
const MAX_EVENTS = 60;

const state = {
  switches: [], subnets: [], bindings: [], migrations: [], flows: [], tables: [],
  selectedDpid: new URLSearchParams(location.hash.slice(1)).get('switch'),
  highlight: null, // EID whose rules and host are highlighted
  flowsVersion: 0,
};

// ---- helpers ---------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${body.message ?? res.status}`);
  return body;
}

const shortDpid = (dpid) => dpid.replace(/^0+(?=.)/, '');
const switchLabel = (dpid) => `dpid ${shortDpid(dpid)}`;
const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const ago = (ms) => {
  const s = Math.max(0, (Date.now() - ms) / 1000);
  return s < 60 ? `${s.toFixed(0)} s ago` : s < 3600 ? `${(s / 60).toFixed(0)} min ago` : time(ms);
};
const where = (l) => `${l.subnet} ${switchLabel(l.dpid)}:${l.port}`;

// ---- loading ---------------------------------------------------------------------------------

async function loadTopology() {
  [state.switches, state.subnets] = await Promise.all([getJson('/api/switches'), getJson('/api/subnets')]);
  if (state.selectedDpid === null || !state.switches.some((s) => s.dpid === state.selectedDpid)) {
    state.selectedDpid = state.switches[0]?.dpid ?? null;
  }
  renderSwitchSelect();
  renderTopology();
  renderSummary();
}

async function loadBindings() {
  state.bindings = await getJson('/api/bindings');
  renderBindings();
  renderTopology();
  renderSummary();
}

async function loadMigrations() {
  state.migrations = await getJson('/api/migrations');
  renderMigrations();
}

/** Reads the selected switch's table; a newer call wins over a slower older one. */
async function loadFlows() {
  const dpid = state.selectedDpid;
  const version = ++state.flowsVersion;
  if (dpid === null) { state.flows = []; state.tables = []; renderFlows(); return; }
  const [flows, tables] = await Promise.all([getJson(`/api/switches/${dpid}/flows`), getJson(`/api/switches/${dpid}/tables`)]);
  if (version !== state.flowsVersion || dpid !== state.selectedDpid) return;
  const before = new Set(state.flows.map((f) => f.text.replace(/duration=[^,]*, /, '').replace(/n_packets=\d+, n_bytes=\d+, /, '')));
  state.flows = flows;
  state.tables = tables;
  renderFlows(before);
}

function quietly(promise) {
  promise.catch((error) => console.warn(error.message));
}

// ---- rendering -------------------------------------------------------------------------------

function renderSummary() {
  const away = state.bindings.filter((b) => b.away).length;
  document.getElementById('summary').textContent =
    `${state.switches.length} switches · ${state.bindings.length} bindings · ${away} away · ${state.migrations.length} migrations`;
}

function renderSwitchSelect() {
  const select = document.getElementById('switch-select');
  select.replaceChildren(...state.switches.map((s) =>
    el('option', { value: s.dpid, selected: s.dpid === state.selectedDpid }, `${switchLabel(s.dpid)}${s.subnet ? ` (subnet ${s.subnet})` : ''}`)));
}

function selectSwitch(dpid) {
  if (dpid === state.selectedDpid) return;
  state.selectedDpid = dpid;
  location.hash = `switch=${dpid}`;
  state.flows = [];
  renderSwitchSelect();
  renderTopology();
  quietly(loadFlows());
}

function hostItem(b) {
  const label = b.away ? `${b.eid} (home ${b.homeSubnet} → ${b.locator.subnet} as ${b.locator.address})` : b.eid;
  return el('li', {
    class: `host${b.away ? ' away' : ''}${state.highlight === b.eid ? ' highlight' : ''}`,
    dataset: { eid: b.eid }, title: `${b.mac} on port ${b.locator.port}`,
    onclick: (e) => { e.stopPropagation(); toggleHighlight(b.eid); },
  }, `port ${b.locator.port}: ${label}`);
}

/** Physical ports only: the bridge's LOCAL port (0xfffffffe) is down by design. */
function portsUp(sw) {
  const ports = sw.ports.filter((p) => p.portNo < 0xffffff00);
  return `${ports.filter((p) => p.up).length}/${ports.length} ports up`;
}

function switchBox(dpid, connected, extra = '') {
  const sw = state.switches.find((s) => s.dpid === dpid);
  const hosts = state.bindings.filter((b) => b.locator.dpid === dpid).sort((a, b) => a.locator.port - b.locator.port);
  return el('div', {
    class: `switch${connected ? '' : ' down'}${dpid === state.selectedDpid ? ' selected' : ''}`,
    dataset: { dpid }, onclick: () => connected && selectSwitch(dpid),
  },
  el('div', { class: 'switch-name' }, `${switchLabel(dpid)} ${connected ? '' : '(disconnected)'} ${extra}`,
    sw ? el('span', { class: 'muted' }, ` · ${portsUp(sw)}`) : null),
  hosts.length > 0 ? el('ul', { class: 'hosts' }, hosts.map(hostItem)) : el('div', { class: 'empty small' }, 'no hosts'));
}

function renderTopology() {
  const root = document.getElementById('topology');
  const edgeDpids = new Set(state.subnets.flatMap((s) => s.edges.map((e) => e.dpid)));
  const boxes = state.subnets.map((s) => el('div', { class: 'subnet', dataset: { subnet: s.name } },
    el('div', { class: 'subnet-head' }, `Subnet ${s.name} `, el('span', { class: 'muted' }, s.prefix)),
    el('div', { class: 'router' }, `router ${s.gateway.ip}${s.gateway.mac ? ` (${s.gateway.mac})` : ''} · pool ${s.pool.range}: ${s.pool.used}/${s.pool.size} used`),
    s.edges.map((e) => switchBox(e.dpid, e.connected, e.routerPort === null ? '' : `· router on port ${e.routerPort}`))));
  const others = state.switches.filter((s) => !edgeDpids.has(s.dpid));
  if (others.length > 0) boxes.push(el('div', { class: 'subnet' }, el('div', { class: 'subnet-head' }, 'Other switches'), others.map((s) => switchBox(s.dpid, true))));
  root.replaceChildren(...boxes);
}

function renderBindings() {
  const rows = state.bindings.map((b) => el('tr', {
    class: `clickable${b.away ? ' away' : ''}${state.highlight === b.eid ? ' highlight' : ''}`,
    dataset: { eid: b.eid, away: String(b.away) }, onclick: () => toggleHighlight(b.eid),
  },
  el('td', {}, b.eid), el('td', {}, b.mac), el('td', {}, b.homeSubnet),
  el('td', { class: 'where' }, b.away ? `${b.homeSubnet} → ${b.locator.subnet}` : b.locator.subnet, ` ${switchLabel(b.locator.dpid)}:${b.locator.port}`),
  el('td', {}, b.locator.address), el('td', { class: 'num' }, b.version), el('td', {}, ago(b.lastSeen))));
  document.querySelector('#bindings tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 7, class: 'empty' }, 'no bindings yet'))]));
}

function matchesFilter(flow, words) {
  const hay = `${flow.text} ${flow.binding ?? ''} ${flow.kind}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

function renderFlows(before = new Set()) {
  const words = document.getElementById('flow-filter').value.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = state.flows.filter((f) => matchesFilter(f, words));
  const rows = shown.map((f) => {
    const spec = f.text.replace(/duration=[^,]*, /, '').replace(/n_packets=\d+, n_bytes=\d+, /, '');
    const fresh = before.size > 0 && !before.has(spec);
    return el('tr', {
      class: `flow kind-${f.kind}${f.binding !== null && f.binding === state.highlight ? ' highlight' : ''}${fresh ? ' flash' : ''}`,
      dataset: { kind: f.kind, binding: f.binding ?? '', table: f.table },
    },
    el('td', {}, f.binding !== null
      ? el('span', { class: 'owner', title: 'binding that owns this rule', onclick: () => toggleHighlight(f.binding) }, f.binding)
      : el('span', { class: 'kind-label' }, f.kind)),
    el('td', { class: 'num' }, f.packets), el('td', { class: 'num' }, f.bytes),
    el('td', {}, el('code', { class: 'rule' }, f.text)));
  });
  document.querySelector('#flows tbody').replaceChildren(...rows);
  document.getElementById('flow-count').textContent = state.selectedDpid === null ? 'no switch connected'
    : `${shown.length} of ${state.flows.length} rules on ${switchLabel(state.selectedDpid)}`;
  document.getElementById('table-stats').textContent = state.tables
    .map((t) => `table ${t.table}: ${t.active} rules, ${t.lookups} lookups, ${t.matched} matched`).join(' · ');
}

function renderMigrations() {
  const list = [...state.migrations].reverse();
  const max = Math.max(1, ...list.map((m) => m.reconvergenceMs));
  const items = list.map((m) => el('li', { dataset: { eid: m.eid, id: m.id } },
    el('span', { class: 'muted' }, time(m.detectedAt)),
    el('div', {},
      el('div', { class: 'what' }, `${m.eid}: ${where(m.from)} → ${where(m.to)}`),
      el('div', { class: 'muted' }, `${m.from.address} → ${m.to.address} · v${m.version} · ${m.reason}, seen by ${m.trigger} · ${m.flowMods} flow-mods on ${m.switches} switches${m.failures.length ? ` · ${m.failures.length} failures` : ''}`),
      el('div', { class: 'bar', style: `width:${Math.max(1, (100 * m.reconvergenceMs) / max).toFixed(1)}%` })),
    el('span', { class: 'ms', title: `rules confirmed in ${m.confirmMs.toFixed(1)} ms` }, `${m.reconvergenceMs.toFixed(1)} ms`)));
  document.getElementById('migrations').replaceChildren(...(items.length ? items : [el('li', { class: 'empty' }, 'no migrations yet')]));
  renderSummary();
}

function toggleHighlight(eid) {
  state.highlight = state.highlight === eid ? null : eid;
  renderBindings();
  renderTopology();
  renderFlows();
}

function logEvent(e) {
  const detail = e.binding ? `${e.binding.eid} @ ${where(e.binding.locator)}`
    : e.migration ? `${e.migration.eid} ${e.migration.reconvergenceMs.toFixed(1)} ms`
    : e.dpid ? `${switchLabel(e.dpid)}${e.error ? ` ${e.error}` : ''}`
    : e.dpids ? `${e.flowMods} flow-mods on ${e.dpids.length} switches` : '';
  const list = document.getElementById('events');
  list.prepend(el('li', {}, `${time(e.at)} `, el('span', { class: 'type' }, e.type), ` ${detail}`));
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
}

// ---- live updates ----------------------------------------------------------------------------

const REFRESH = {
  'switch-up': () => [loadTopology(), loadFlows()],
  'switch-down': () => [loadTopology(), loadFlows()],
  'switch-error': () => [],
  'binding-added': () => [loadBindings(), loadTopology()],
  'binding-moved': () => [loadBindings(), loadTopology(), loadFlows()],
  'binding-removed': () => [loadBindings(), loadTopology(), loadFlows()],
  'migration-completed': () => [loadMigrations(), loadBindings()],
  'conflict': () => [],
  'rules-updated': (e) => (e.dpids.includes(state.selectedDpid) ? [loadFlows()] : []),
};

function connectEvents() {
  const live = document.getElementById('live');
  const source = new EventSource('/api/events');
  source.onopen = () => {
    live.textContent = 'live';
    live.className = 'live on';
    // After a reconnect we may have missed events: re-read everything.
    quietly(Promise.all([loadTopology(), loadBindings(), loadMigrations(), loadFlows()]));
  };
  source.onerror = () => { live.textContent = 'reconnecting…'; live.className = 'live off'; };
  for (const [type, refresh] of Object.entries(REFRESH)) {
    source.addEventListener(type, (message) => {
      const event = JSON.parse(message.data);
      logEvent(event);
      for (const p of refresh(event)) quietly(p);
    });
  }
}

document.getElementById('switch-select').addEventListener('change', (e) => selectSwitch(e.target.value));
document.getElementById('flow-filter').addEventListener('input', () => renderFlows());
setInterval(() => quietly(loadFlows()), FLOW_REFRESH_MS);
setInterval(renderBindings, 10_000); // "last seen" ages
quietly(loadTopology().then(() => Promise.all([loadBindings(), loadMigrations(), loadFlows()])));
connectEvents();
