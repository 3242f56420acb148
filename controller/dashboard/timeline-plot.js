// Pure geometry of the migration timeline plot: moves over wall-clock time, each with its
// reconvergence (first packet at the new switch to every barrier confirmed) and its release time
// (held packets sent on), labelled with its barrier rounds; around them the marks that are no
// moves: conflicting claims refused, moves staged ahead, failed moves, suspensions. The page
// turns the result into SVG; nothing here touches the DOM.

import { clock, millis } from './format.js';

/** At most this many moves are drawn: the newest. */
export const MAX_MOVES = 200;

const TIME_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);

/** Round numbers (1, 2, 5 x 10^n) from 0 to at least `max`, about `count` of them. */
export function niceTicks(max, count = 4) {
  const top = max > 0 ? max : 1;
  const raw = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks = [];
  for (let v = 0; v < top + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < top) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/** Time ticks on round seconds/minutes/hours, at most `count` + 1 between `from` and `to`. */
export function timeTicks(from, to, count = 6) {
  const step = TIME_STEPS_MS.find((s) => (to - from) / s <= count) ?? TIME_STEPS_MS[TIME_STEPS_MS.length - 1];
  const ticks = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

/**
 * The plot of `timeline` ({migrations, marks} as GET /api/timeline serves them) in a box of
 * `width` x `height` pixels.
 */
export function planTimeline(timeline, { width = 640, height = 220, format = clock } = {}) {
  const moves = timeline.migrations.slice(-MAX_MOVES);
  const first = moves[0]?.detectedAt ?? -Infinity;
  const marks = timeline.marks.filter((m) => m.at >= first - 60_000);
  const box = { left: 52, right: width - 30, top: 12, bottom: height - 28 };
  const times = [...moves.map((m) => m.detectedAt), ...marks.map((m) => m.at)];
  if (times.length === 0) return { width, height, box, empty: true, moves: [], marks: [], xTicks: [], yTicks: [] };

  // Time domain: every point, at least 10 s wide, with a margin so that no point sits on an edge.
  let from = Math.min(...times);
  let to = Math.max(...times);
  if (to - from < 10_000) {
    const mid = (from + to) / 2;
    from = mid - 5_000;
    to = mid + 5_000;
  }
  const margin = (to - from) * 0.04;
  from -= margin;
  to += margin;
  const x = (t) => box.left + ((t - from) / (to - from)) * (box.right - box.left);

  // 10 % of headroom, so that the highest point and its label stay clear of the top edge.
  const yTickValues = niceTicks(1.1 * Math.max(1, ...moves.flatMap((m) => [m.reconvergenceMs, m.releaseMs])));
  const yMax = yTickValues[yTickValues.length - 1];
  const y = (ms) => box.bottom - (Math.max(0, ms) / yMax) * (box.bottom - box.top);

  return {
    width, height, box, empty: false,
    moves: moves.map((m) => {
      const staged = wasStaged(m, timeline.migrations, marks);
      return {
        id: m.id, eid: m.eid, x: x(m.detectedAt), y: y(m.reconvergenceMs), yRelease: y(m.releaseMs),
        rounds: m.rounds, staged, failed: m.failures.length > 0,
        title: `#${m.id} ${m.eid} at ${format(m.detectedAt)}: reconvergence ${millis(m.reconvergenceMs)}, released after ${millis(m.releaseMs)}, `
          + `${m.rounds} barrier round${m.rounds === 1 ? '' : 's'}${staged ? ', staged ahead' : ''} · ${m.flowMods} flow-mods on ${m.switches} switches`
          + `${m.failures.length > 0 ? ` · ${m.failures.length} failed` : ''} (${m.reason}, seen by ${m.trigger})`,
      };
    }),
    marks: marks.map((m, i) => ({ key: `${m.type}/${m.at}/${m.eid}/${i}`, type: m.type, x: x(m.at), title: `${format(m.at)} ${m.type} ${m.eid}: ${m.detail}` })),
    xTicks: timeTicks(from, to).map((t) => ({ x: x(t), label: format(t) })),
    yTicks: yTickValues.map((v) => ({ y: y(v), label: `${v} ms` })),
  };
}

/** A move whose receive side was staged from an intent: a move-staged mark of its EID since its previous move. */
function wasStaged(move, migrations, marks) {
  const previous = migrations.filter((m) => m.eid === move.eid && m.id < move.id).at(-1)?.detectedAt ?? -Infinity;
  return marks.some((k) => k.type === 'move-staged' && k.eid === move.eid && k.at > previous && k.at <= move.detectedAt);
}
