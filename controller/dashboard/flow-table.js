// The flow table of one switch, updated in place on every read: a row per rule, keyed by table,
// priority and match, so a rule that stays keeps its row (its text can be selected and copied
// while the page is live); only counters change between reads. Rule text is what
// `ovs-ofctl --no-stats dump-flows` prints, cut for wrapping only after commas and before actions.

import { count } from './format.js';
import { el, setAttr, setText, syncKeyed } from './dom.js';
import { flowKey, matchesFilter, rulePieces } from './flows.js';

export class FlowTableView {
  /** `onOwner(eid)`: a binding's name in the owner column was clicked. */
  constructor({ body, summary, stats, onOwner }) {
    this.body = body;
    this.summary = summary;
    this.stats = stats;
    this.onOwner = onOwner;
    this.flows = [];
    this.tables = new Map();
    this.dpid = null;
    /** Reads applied since the page loaded (tests wait on it). */
    this.reads = 0;
  }

  /**
   * A new read of `dpid`'s table: `flows` and `tables` as the API serves them; `view` as render()
   * takes it. Rules that appear in a table already shown flash briefly.
   */
  update(dpid, flows, tables, view = {}) {
    const fresh = dpid !== this.dpid || this.flows.length === 0;
    this.dpid = dpid;
    this.flows = flows;
    this.tables = new Map(tables.map((t) => [t.table, t]));
    this.reads++;
    this.body.dataset.reads = String(this.reads);
    this.render({ ...view, flash: !fresh });
  }

  clear(dpid) {
    this.dpid = dpid;
    this.flows = [];
    this.tables = new Map();
    this.render({ flash: false });
  }

  /** Re-applies filter words, highlighted EID and the switch's label, without a read. */
  render({ words = this.words ?? [], highlight = this.highlight ?? null, flash = false, label = this.label ?? '' } = {}) {
    Object.assign(this, { words, highlight, label });
    let shown = 0;
    let previousTable = null;
    syncKeyed(this.body, this.flows, flowKey, (f) => this.createRow(f, flash), (row, f) => {
      const visible = matchesFilter(f, words, this.tables.get(f.table)?.name);
      row.hidden = !visible;
      if (visible) shown++;
      row.classList.toggle('table-start', f.table !== previousTable);
      previousTable = f.table;
      row.classList.toggle('highlight', f.binding !== null && f.binding === highlight);
      this.updateRow(row, f);
    });
    setText(this.summary, this.dpid === null ? 'no switch connected' : `${shown} of ${this.flows.length} rules on ${label}`);
    this.renderStats();
  }

  createRow(f, flash) {
    const row = el('tr', { class: `flow kind-${f.kind}${flash ? ' flash' : ''}` },
      el('td', { class: 'table-name' }),
      el('td', { class: 'owner-cell' }),
      el('td', { class: 'num packets' }), el('td', { class: 'num bytes' }), el('td', { class: 'num age' }),
      el('td', { class: 'rule-cell' }, el('code', { class: 'rule' })));
    if (flash) setTimeout(() => row.classList.remove('flash'), 1600);
    return row;
  }

  updateRow(row, f) {
    const [tableCell, ownerCell, packets, bytes, age, ruleCell] = row.cells;
    const decl = this.tables.get(f.table);
    Object.assign(row.dataset, { kind: f.kind, binding: f.binding ?? '', table: String(f.table) });
    setText(tableCell, decl?.name ? `${f.table} ${decl.name}` : String(f.table));
    setAttr(tableCell, 'title', decl?.purpose ? `table ${f.table} ${decl.name}: ${decl.purpose}` : null);
    if (ownerCell.dataset.owner !== `${f.kind}/${f.binding ?? ''}`) {
      ownerCell.dataset.owner = `${f.kind}/${f.binding ?? ''}`;
      ownerCell.replaceChildren(f.binding !== null
        ? el('span', { class: 'owner', title: 'the binding that owns this rule (click: highlight its rules)', onclick: () => this.onOwner(f.binding) }, f.binding)
        : el('span', { class: 'kind-label' }, f.kind));
    }
    setText(packets, count(f.packets));
    setAttr(packets, 'title', `${f.packets} packets`);
    setText(bytes, count(f.bytes));
    setAttr(bytes, 'title', `${f.bytes} bytes`);
    setText(age, `${Math.floor(f.durationSec)} s`);
    const code = ruleCell.firstChild;
    if (code.dataset.rule !== f.rule) {
      code.dataset.rule = f.rule;
      code.replaceChildren(...rulePieces(f.rule).flatMap((piece, i) => (i === 0 ? [el('span', {}, piece)] : [el('wbr'), el('span', {}, piece)])));
    }
  }

  renderStats() {
    const tables = [...this.tables.values()];
    syncKeyed(this.stats, tables, (t) => String(t.table), () => el('span', { class: 'table-stat' }), (chip, t) => {
      setText(chip, `${t.table} ${t.name ?? ''}: ${t.active} rules · ${count(t.lookups)} lookups · ${count(t.matched)} matched`);
      setAttr(chip, 'title', t.purpose ?? null);
    });
  }
}
