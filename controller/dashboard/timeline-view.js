// The migration timeline: a hand-drawn SVG plot (timeline-plot.js has the geometry) and the list
// of moves, newest first.

import { clock, millis, where } from './format.js';
import { el, setText, svg, syncKeyed } from './dom.js';
import { planTimeline } from './timeline-plot.js';

const MARK_SYMBOL = { 'conflict': '✕', 'move-staged': '▲', 'migration-failed': '■', 'endpoint-suspended': '◆', 'vm-resumed': '●', 'endpoint-lost': '?' };

export class TimelineView {
  constructor({ plot, list }) {
    this.plot = plot;
    this.list = list;
  }

  render(timeline, switches) {
    this.renderPlot(timeline);
    this.renderList(timeline.migrations, switches);
  }

  renderPlot(timeline) {
    const width = Math.max(360, Math.floor(this.plot.clientWidth || 640));
    const p = planTimeline(timeline, { width, height: 210 });
    const root = svg('svg', { class: 'timeline-svg', width: p.width, height: p.height, viewBox: `0 0 ${p.width} ${p.height}`, role: 'img', 'aria-label': 'Reconvergence per migration over time' });
    const { left, right, top, bottom } = p.box;
    if (p.empty) {
      root.append(svg('text', { class: 'empty', x: p.width / 2, y: p.height / 2, 'text-anchor': 'middle' }, 'no migrations yet'));
      this.plot.replaceChildren(root);
      this.plot.dataset.moves = '0';
      return;
    }
    for (const t of p.yTicks) root.append(svg('line', { class: 'grid', x1: left, x2: right, y1: t.y, y2: t.y }), svg('text', { class: 'tick', x: left - 6, y: t.y + 4, 'text-anchor': 'end' }, t.label));
    for (const t of p.xTicks) root.append(svg('line', { class: 'tickmark', x1: t.x, x2: t.x, y1: bottom, y2: bottom + 4 }), svg('text', { class: 'tick', x: t.x, y: bottom + 16, 'text-anchor': 'middle' }, t.label));
    root.append(svg('line', { class: 'axis', x1: left, x2: right, y1: bottom, y2: bottom }), svg('line', { class: 'axis', x1: left, x2: left, y1: top, y2: bottom }));
    for (const m of p.marks) {
      root.append(svg('text', { class: `mark ${m.type}`, x: m.x, y: bottom - 3, 'text-anchor': 'middle', dataset: { type: m.type } }, MARK_SYMBOL[m.type] ?? '•', svg('title', {}, m.title)));
    }
    for (const m of p.moves) {
      root.append(svg('g', { class: `move${m.staged ? ' staged' : ''}${m.failed ? ' failed' : ''}`, dataset: { id: String(m.id), eid: m.eid, rounds: String(m.rounds) } },
        svg('line', { class: 'stem', x1: m.x, x2: m.x, y1: bottom, y2: m.y }),
        svg('line', { class: 'release', x1: m.x - 6, x2: m.x + 6, y1: m.yRelease, y2: m.yRelease }),
        svg('circle', { class: 'reconvergence', cx: m.x, cy: m.y, r: 5 }),
        svg('text', { class: 'rounds', x: m.x + 7, y: m.y - 6 }, `${m.rounds}r`),
        svg('title', {}, m.title)));
    }
    this.plot.replaceChildren(root);
    this.plot.dataset.moves = String(p.moves.length);
  }

  renderList(migrations, switches) {
    const newest = [...migrations].reverse();
    if (newest.length === 0) {
      this.list.replaceChildren(el('li', { class: 'empty none' }, 'no migrations yet'));
      return;
    }
    syncKeyed(this.list, newest, (m) => String(m.id), (m) => el('li', { class: 'migration', dataset: { eid: m.eid, id: String(m.id) } },
      el('span', { class: 'muted when' }, clock(m.detectedAt)),
      el('div', {},
        el('div', { class: 'what' }, `${m.eid}: ${where(m.from, switches)} → ${where(m.to, switches)}`),
        el('div', { class: 'muted detail' })),
      el('span', { class: 'ms', title: 'reconvergence: first packet at the new switch to every barrier of the send side confirmed' })), (li, m) => {
      setText(li.querySelector('.detail'), `${m.from.address} → ${m.to.address} · v${m.version} · ${m.reason}, seen by ${m.trigger} · released after ${millis(m.releaseMs)}`
        + ` · ${m.rounds} barrier round${m.rounds === 1 ? '' : 's'} · ${m.flowMods} flow-mods on ${m.switches} switches${m.failures.length ? ` · ${m.failures.length} failed` : ''}`);
      setText(li.querySelector('.ms'), millis(m.reconvergenceMs));
    });
  }
}
