// The few DOM helpers the views share. Views update in place: a node that shows the same thing
// as before is kept (a reader's text selection in it survives a refresh), text changes only when
// the text does, and keyed lists move as few nodes as they must.

import { reorderPlan } from './flows.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.setAttribute('class', v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

/** An HTML element: el('td', { class: 'num' }, '42'). */
export function el(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Sets a node's text only when it differs, so an unchanged cell keeps its text node (and any selection in it). */
export function setText(node, text) {
  const value = String(text);
  if (node.childNodes.length === 1 && node.firstChild.nodeType === Node.TEXT_NODE) {
    if (node.firstChild.data !== value) node.firstChild.data = value;
  } else if (node.textContent !== value) {
    node.textContent = value;
  }
}

/** Sets an attribute only when it differs. */
export function setAttr(node, name, value) {
  if (value === null || value === undefined || value === false) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

/**
 * Brings `parent`'s keyed children to `items`: `create(item)` makes a node for a new key,
 * `update(node, item)` brings a node up to date (it must touch only what changed). Nodes carry
 * their key in `dataset.key`; children without one are removed, and so is a second item with a key
 * already seen.
 */
export function syncKeyed(parent, allItems, keyOf, create, update) {
  const seen = new Set();
  const items = allItems.filter((item) => !seen.has(keyOf(item)) && seen.add(keyOf(item)));
  const nodes = new Map();
  for (const child of [...parent.children]) {
    if (child.dataset.key === undefined) child.remove();
    else nodes.set(child.dataset.key, child);
  }
  const keys = items.map(keyOf);
  const plan = reorderPlan([...nodes.keys()], keys);
  for (const key of plan.remove) {
    nodes.get(key).remove();
    nodes.delete(key);
  }
  items.forEach((item, i) => {
    let node = nodes.get(keys[i]);
    if (node === undefined) {
      node = create(item);
      node.dataset.key = keys[i];
      nodes.set(keys[i], node);
    }
    update(node, item);
  });
  for (const { key, before } of plan.place) parent.insertBefore(nodes.get(key), before === null ? null : nodes.get(before));
}
