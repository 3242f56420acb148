// A port table per switch, kept current from PORT_STATUS (the page re-reads a switch's ports on
// each port-status event): number, name, MAC, admin and link state, what the port is for, who is
// bound there, and the paused source a migration leaves behind (up, its VM gone elsewhere).

import { ago, switchTitle, where } from './format.js';
import { el, setAttr, setText, syncKeyed } from './dom.js';

const OFPP_LOCAL = 0xfffffffe;

function speed(kbps) {
  if (kbps === 0) return '';
  return kbps >= 1_000_000 ? `${kbps / 1_000_000}G` : kbps >= 1000 ? `${kbps / 1000}M` : `${kbps}k`;
}

/** The note column: what an engineer should know about the port beyond its state. */
export function portNote(row, switches, now) {
  if (row.pausedSource) return `paused source: ${row.departed.eid} moved to ${where(row.departed.now, switches)} ${ago(row.departed.at, now)}`;
  if (row.departed && row.endpoints.length === 0) return `${row.departed.eid} left for ${where(row.departed.now, switches)}${row.up ? '' : '; source gone'}`;
  if (row.role === 'router') return 'to the router';
  if (row.role === 'local') return 'the bridge itself';
  if (row.role === 'uplink') return 'uplink';
  return '';
}

export class PortTablesView {
  /** `onEndpoint(eid)`: an endpoint was clicked. */
  constructor(root, { onEndpoint }) {
    this.root = root;
    this.onEndpoint = onEndpoint;
  }

  /** `switches`: switch views in order; `ports`: dpid -> port rows; `highlight`: an EID or null. */
  render(switches, ports, { highlight = null, now = Date.now() } = {}) {
    const byDpid = new Map(switches.map((s) => [s.dpid, s]));
    syncKeyed(this.root, switches, (s) => s.dpid, (s) => this.createCard(s), (card, s) => {
      const rows = ports.get(s.dpid) ?? [];
      const physical = rows.filter((r) => r.role !== 'local');
      setText(card.querySelector('.card-title'), switchTitle(s));
      setText(card.querySelector('.card-detail'), [
        s.subnet ? `subnet ${s.subnet}` : 'in no subnet',
        s.desc ? `${s.desc.hardware} ${s.desc.software}` : null,
        `${physical.filter((r) => r.up).length}/${physical.length} ports up`,
      ].filter(Boolean).join(' · '));
      syncKeyed(card.querySelector('tbody'), rows, (r) => String(r.portNo), () => this.createRow(), (tr, r) => this.updateRow(tr, r, byDpid, highlight, now));
    });
  }

  createCard(s) {
    return el('div', { class: 'port-card', dataset: { dpid: s.dpid } },
      el('div', { class: 'card-head' }, el('span', { class: 'card-title' }), ' ', el('span', { class: 'card-detail muted' })),
      el('table', { class: 'ports grid' },
        el('thead', {}, el('tr', {},
          el('th', { class: 'num' }, 'port'), el('th', {}, 'name'), el('th', {}, 'MAC'),
          el('th', { title: 'administrative state: OFPPC_PORT_DOWN (ovs-ofctl mod-port ... down)' }, 'admin'),
          el('th', { title: 'link state: OFPPS_LINK_DOWN (no carrier)' }, 'link'),
          el('th', { class: 'num' }, 'speed'), el('th', {}, 'bound here'), el('th', {}, 'note'))),
        el('tbody')));
  }

  createRow() {
    return el('tr', { class: 'port' }, ...Array.from({ length: 8 }, (_, i) => el('td', { class: i === 0 || i === 5 ? 'num' : '' })));
  }

  updateRow(tr, r, switches, highlight, now) {
    const [no, name, mac, admin, link, spd, bound, note] = tr.cells;
    Object.assign(tr.dataset, { port: String(r.portNo), up: String(r.up), admin: r.adminDown ? 'down' : 'up', link: r.linkDown ? 'down' : 'up', paused: String(r.pausedSource), role: r.role });
    tr.classList.toggle('down', !r.up && r.role !== 'local');
    tr.classList.toggle('paused', r.pausedSource);
    tr.classList.toggle('highlight', highlight !== null && (r.endpoints.some((e) => e.eid === highlight) || r.departed?.eid === highlight));
    setText(no, r.portNo === OFPP_LOCAL ? 'LOCAL' : String(r.portNo));
    setText(name, r.name);
    setText(mac, r.hwAddr);
    setText(admin, r.adminDown ? 'down' : 'up');
    const tone = (down) => (r.role === 'local' ? 'muted' : down ? 'state-down' : 'state-up'); // LOCAL is down by design
    admin.className = tone(r.adminDown);
    setText(link, r.linkDown ? 'down' : 'up');
    link.className = tone(r.linkDown);
    setText(spd, speed(r.currSpeedKbps));
    const endpoints = r.endpoints.map((e) => `${e.eid}${e.away ? '*' : ''}`).join(' ');
    if (bound.dataset.endpoints !== endpoints) {
      bound.dataset.endpoints = endpoints;
      bound.replaceChildren(...r.endpoints.flatMap((e, i) => [...(i > 0 ? [' '] : []),
        el('span', { class: `endpoint${e.away ? ' away' : ''}`, title: `${e.mac}${e.away ? ', away from home' : ''}`, onclick: () => this.onEndpoint(e.eid) }, e.eid)]));
    }
    setText(note, portNote(r, switches, now));
    setAttr(note, 'title', r.departed ? `migration #${r.departed.migration}` : null);
  }
}
