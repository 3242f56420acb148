// Pure pieces of the flow table view: where a rule's text may wrap, what identifies a row from one
// read to the next, the filter, and the moves that bring a list of rows to a new order with as
// few DOM changes as possible (a row that stays keeps its node, so a selection in it survives).

/**
 * A dump-flows line cut where a reader expects a line break: after each "," (with its space, if
 * any) and before " actions=". Joined, the pieces are the line again, character for character;
 * no piece is ever cut inside a field ("set_field:10.0.2.200->ip_dst" stays whole).
 */
export function rulePieces(text) {
  const pieces = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ',') {
      const end = text[i + 1] === ' ' ? i + 2 : i + 1;
      pieces.push(text.slice(start, end));
      start = end;
      i = end - 1;
    } else if (text[i] === ' ' && text.startsWith('actions=', i + 1)) {
      pieces.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

/** A rule's identity in OpenFlow: table, priority and match (the match text starts with the priority). */
export function flowKey(flow) {
  return `${flow.table}|${flow.match}`;
}

/** Every word must appear in the rule, its owner, its kind or its table's name. */
export function matchesFilter(flow, words, tableName) {
  if (words.length === 0) return true;
  const hay = `${flow.text} ${flow.binding ?? ''} ${flow.kind} ${tableName ?? ''}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

/** The filter box's text as lower-case words. */
export function filterWords(text) {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}

/**
 * How to turn the rows `current` (keys, in DOM order) into `desired`: keys to remove, then, in
 * order, each key to place before another key (null = at the end). Rows already in order are not
 * touched: a steady table yields no operation, a new rule yields one insertion.
 */
export function reorderPlan(current, desired) {
  const wanted = new Set(desired);
  const remove = current.filter((k) => !wanted.has(k));
  const gone = new Set(remove);
  const order = current.filter((k) => !gone.has(k));
  const place = [];
  let i = 0;
  for (const key of desired) {
    if (order[i] === key) { i++; continue; }
    const at = order.indexOf(key, i);
    if (at !== -1) order.splice(at, 1);
    place.push({ key, before: order[i] ?? null });
  }
  return { remove, place };
}
