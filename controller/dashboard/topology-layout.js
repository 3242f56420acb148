// Pure layout of the topology drawing: the router on top, one column per subnet with its edge
// switches (by bridge name), and under each switch the endpoints bound there now, by port. An
// endpoint away from home is drawn where it is (with its locator) and tied to its home subnet by a
// dashed line: its traffic still enters through the home anchor. Every element has a stable key,
// so the page can move an endpoint's node instead of redrawing the picture.

import { shortDpid, switchName } from './format.js';

export const HOSTS_PER_SWITCH = 8;
const MARGIN = 10;
const GAP = 14;
const ROUTER = { w: 150, h: 34, y: 8 };
const SUBNET_Y = 78;
const SWITCH_H = 40;
const HOST_H = 32;
const HOST_GAP = 6;

/**
 * `subnets`, `switches`, `bindings` as the API serves them (GET /api/subnets, /api/switches,
 * /api/bindings).
 */
export function layoutTopology({ subnets, switches, bindings }, { width = 720 } = {}) {
  const byDpid = new Map(switches.map((s) => [s.dpid, s]));
  const edgeDpids = new Set(subnets.flatMap((s) => s.edges.map((e) => e.dpid)));
  const columns = subnets.map((s) => ({ key: `subnet:${s.name}`, name: s.name, prefix: s.prefix, gateway: s.gateway.ip, edges: s.edges }));
  const others = switches.filter((s) => !edgeDpids.has(s.dpid));
  if (others.length > 0) columns.push({ key: 'subnet:', name: null, prefix: 'switches in no subnet', gateway: null, edges: others.map((s) => ({ dpid: s.dpid, routerPort: s.routerPort, connected: true })) });

  const n = Math.max(1, columns.length);
  const colW = (width - 2 * MARGIN - GAP * (n - 1)) / n;
  const router = { x: width / 2 - ROUTER.w / 2, y: ROUTER.y, w: ROUTER.w, h: ROUTER.h };
  const hostsAt = groupBy(bindings, (b) => b.locator.dpid);
  const subnetBoxes = [];
  const switchNodes = [];
  const hostNodes = [];
  const links = [];
  let bottom = SUBNET_Y + 60;

  columns.forEach((col, i) => {
    const box = { key: col.key, name: col.name, prefix: col.prefix, gateway: col.gateway, x: MARGIN + i * (colW + GAP), y: SUBNET_Y, w: colW, h: 0 };
    subnetBoxes.push(box);
    const per = col.edges.length;
    const swW = Math.min(180, (colW - 16 - 8 * (per - 1)) / Math.max(1, per));
    col.edges.forEach((edge, j) => {
      const sw = byDpid.get(edge.dpid);
      const node = {
        key: `switch:${edge.dpid}`, dpid: edge.dpid, name: switchName(sw, edge.dpid), detail: `dpid ${shortDpid(edge.dpid)}`,
        x: box.x + 8 + j * (swW + 8) + (per === 1 ? (colW - 16 - swW) / 2 : 0), y: SUBNET_Y + 50, w: swW, h: SWITCH_H,
        connected: edge.connected !== false && sw !== undefined, subnet: col.name,
      };
      switchNodes.push(node);
      if (col.name !== null) {
        links.push({
          key: `router:${edge.dpid}`, kind: 'router', label: edge.routerPort === null || edge.routerPort === undefined ? '' : `port ${edge.routerPort}`,
          d: `M${r(router.x + router.w / 2)},${r(router.y + router.h)} C${r(router.x + router.w / 2)},${r(SUBNET_Y)} ${r(node.x + node.w / 2)},${r(SUBNET_Y)} ${r(node.x + node.w / 2)},${r(node.y)}`,
          lx: r(node.x + node.w / 2 + 4), ly: r(node.y - 4),
        });
      }
      const hosts = (hostsAt.get(edge.dpid) ?? []).sort((a, b) => a.locator.port - b.locator.port || (a.eid < b.eid ? -1 : 1));
      const shown = hosts.length > HOSTS_PER_SWITCH ? hosts.slice(0, HOSTS_PER_SWITCH - 1) : hosts;
      const busX = node.x + 10;
      let y = node.y + node.h + 12;
      for (const b of shown) {
        const host = hostNode(b, { x: node.x + 18, y, w: node.w - 18 });
        hostNodes.push(host);
        links.push({ key: `port:${b.eid}`, kind: 'port', d: `M${r(busX)},${r(node.y + node.h)} V${r(y + HOST_H / 2)} H${r(host.x)}`, label: '' });
        y += HOST_H + HOST_GAP;
      }
      if (shown.length < hosts.length) {
        hostNodes.push({ key: `more:${edge.dpid}`, more: true, eid: null, lines: [`+${hosts.length - shown.length} more`], x: node.x + 18, y, w: node.w - 18, h: 20, away: false, lost: false });
        y += 20 + HOST_GAP;
      }
      bottom = Math.max(bottom, y + 4);
    });
  });
  for (const box of subnetBoxes) box.h = bottom - box.y;

  // An endpoint away from home: a dashed line from its node to its home edge switch, where the
  // home anchor rules keep taking its traffic in.
  const homeSwitch = new Map();
  for (const node of switchNodes) if (node.subnet !== null && !homeSwitch.has(node.subnet)) homeSwitch.set(node.subnet, node);
  for (const host of hostNodes) {
    const home = host.away ? homeSwitch.get(host.home) : undefined;
    if (home === undefined) continue;
    const toRight = home.x > host.x;
    const sx = toRight ? host.x + host.w : host.x;
    const sy = host.y + host.h / 2;
    const tx = toRight ? home.x : home.x + home.w;
    const ty = home.y + home.h / 2;
    links.push({ key: `home:${host.eid}`, kind: 'home', d: `M${r(sx)},${r(sy)} C${r((sx + tx) / 2)},${r(sy)} ${r((sx + tx) / 2)},${r(ty)} ${r(tx)},${r(ty)}`, label: '' });
  }
  return { width, height: bottom + MARGIN, router, subnets: subnetBoxes, switches: switchNodes, hosts: hostNodes, links };
}

function hostNode(b, at) {
  const away = b.away;
  // Lost: its port went with no move to follow; drawn where it was, marked, while it is looked for.
  const lost = b.lostSince !== null && b.lostSince !== undefined;
  return {
    key: `host:${b.eid}`, eid: b.eid, mac: b.mac, away, lost, home: b.homeSubnet, subnet: b.locator.subnet, dpid: b.locator.dpid, port: b.locator.port,
    lines: [away ? `${b.eid} (home ${b.homeSubnet})` : b.eid, lost ? `port ${b.locator.port} · lost` : away ? `port ${b.locator.port} · as ${b.locator.address}` : `port ${b.locator.port} · ${b.mac}`],
    title: `${b.eid} (${b.mac}) at port ${b.locator.port}${away ? `, away from ${b.homeSubnet}, locator ${b.locator.address}` : ', at home'}${lost ? '; lost: its port went with no move to follow, the controller looks for it' : ''}`,
    ...at, h: HOST_H,
  };
}

function groupBy(items, key) {
  const out = new Map();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k) ?? [];
    list.push(item);
    out.set(k, list);
  }
  return out;
}

const r = (v) => Math.round(v * 10) / 10;
