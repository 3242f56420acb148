// Draws the topology layout (topology-layout.js) as SVG, keyed: an endpoint that moves keeps its
// node, which slides to its new switch (a CSS transition on its transform).

import { el, setAttr, setText, svg, syncKeyed } from './dom.js';
import { layoutTopology } from './topology-layout.js';

export class TopologyView {
  /** `onSwitch(dpid)`, `onHost(eid)`: clicks. */
  constructor(container, { onSwitch, onHost }) {
    this.container = container;
    this.onSwitch = onSwitch;
    this.onHost = onHost;
    this.layers = {};
    this.root = svg('svg', { class: 'topology-svg', role: 'img', 'aria-label': 'Topology: subnets, edge switches, router and endpoints' });
    for (const name of ['subnets', 'links', 'subnetLabels', 'router', 'switches', 'hosts', 'labels']) {
      this.layers[name] = svg('g', { class: `layer-${name}` });
      this.root.append(this.layers[name]);
    }
    this.routerNode = svg('g', { class: 'router-node' }, svg('rect', { rx: 6 }), svg('text', { class: 'title' }, 'router'));
    this.layers.router.append(this.routerNode);
    container.replaceChildren(this.root, el('div', { class: 'legend small' },
      el('span', { class: 'lg-home' }, '■ endpoint at home'), el('span', { class: 'lg-away' }, '■ endpoint away (locator shown; dashed: its home anchor)'), el('span', { class: 'lg-lost' }, '▢ endpoint lost (its port went; looked for)'),
      el('span', { class: 'lg-down' }, '■ edge not connected')));
  }

  render({ subnets, switches, bindings, selected, highlight }) {
    const width = Math.max(480, Math.floor(this.container.clientWidth || 720));
    const t = layoutTopology({ subnets, switches, bindings }, { width });
    setAttr(this.root, 'viewBox', `0 0 ${t.width} ${t.height}`);
    setAttr(this.root, 'width', t.width);
    setAttr(this.root, 'height', t.height);
    place(this.routerNode, t.router);
    size(this.routerNode.firstChild, t.router);
    setAttr(this.routerNode.lastChild, 'x', t.router.w / 2);
    setAttr(this.routerNode.lastChild, 'y', t.router.h / 2 + 4);

    // Boxes under the links, their names over them.
    syncKeyed(this.layers.subnets, t.subnets, (s) => s.key, () => svg('g', { class: 'subnet' }, svg('rect', { rx: 8 })), (g, s) => {
      if (s.name !== null) g.dataset.subnet = s.name;
      place(g, s);
      size(g.children[0], s);
    });
    syncKeyed(this.layers.subnetLabels, t.subnets, (s) => s.key, () => svg('g', { class: 'subnet-label' },
      svg('text', { class: 'title', x: 10, y: 18 }), svg('text', { class: 'detail', x: 10, y: 32 })), (g, s) => {
      place(g, s);
      setText(g.children[0], s.name === null ? 'other switches' : `Subnet ${s.name}`);
      setText(g.children[1], s.name === null ? s.prefix : `${s.prefix} · gateway ${s.gateway}`);
    });

    syncKeyed(this.layers.switches, t.switches, (s) => s.key, (s) => svg('g', { class: 'switch', onclick: () => this.onSwitch(s.dpid) },
      svg('rect', { rx: 5 }), svg('text', { class: 'title' }), svg('text', { class: 'detail' }), svg('title')), (g, s) => {
      Object.assign(g.dataset, { dpid: s.dpid, bridge: s.name });
      g.classList.toggle('down', !s.connected);
      g.classList.toggle('selected', s.dpid === selected);
      place(g, s);
      size(g.children[0], s);
      for (const [i, text, y] of [[1, s.name, 17], [2, s.connected ? s.detail : `${s.detail} · not connected`, 32]]) {
        setText(g.children[i], text);
        setAttr(g.children[i], 'x', s.w / 2);
        setAttr(g.children[i], 'y', y);
      }
      setText(g.children[3], `${s.name} (${s.detail})${s.connected ? ': click to show its flow table' : ', not connected'}`);
    });

    syncKeyed(this.layers.hosts, t.hosts, (h) => h.key, (h) => svg('g', { class: 'host', onclick: () => h.eid && this.onHost(h.eid) },
      svg('rect', { rx: 4 }), svg('text', { class: 'title', x: 6, y: 13 }), svg('text', { class: 'detail', x: 6, y: 26 }), svg('title')), (g, h) => {
      Object.assign(g.dataset, { eid: h.eid ?? '', dpid: h.dpid ?? '', subnet: h.subnet ?? '', away: String(h.away), lost: String(h.lost) });
      g.classList.toggle('away', h.away);
      g.classList.toggle('lost', h.lost);
      g.classList.toggle('more', h.more === true);
      g.classList.toggle('highlight', h.eid !== null && h.eid === highlight);
      place(g, h);
      size(g.children[0], h);
      setText(g.children[1], h.lines[0]);
      setText(g.children[2], h.lines[1] ?? '');
      setText(g.children[3], h.title ?? '');
    });

    syncKeyed(this.layers.links, t.links, (l) => l.key, (l) => svg('path', { class: `link ${l.kind}` }), (path, l) => setAttr(path, 'd', l.d));
    const labelled = t.links.filter((l) => l.label);
    syncKeyed(this.layers.labels, labelled, (l) => l.key, (l) => svg('text', { class: `link-label ${l.kind}` }), (text, l) => {
      setAttr(text, 'x', l.lx);
      setAttr(text, 'y', l.ly);
      setAttr(text, 'text-anchor', l.anchor ?? 'start');
      setText(text, l.label);
    });
  }
}

/** Position by CSS transform, so that a change of place is animated. */
function place(g, box) {
  const value = `translate(${box.x}px, ${box.y}px)`;
  if (g.style.transform !== value) g.style.transform = value;
}

function size(rect, box) {
  setAttr(rect, 'width', box.w);
  setAttr(rect, 'height', box.h);
}
