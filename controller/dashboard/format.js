// Pure text helpers shared by the dashboard's views: how a switch, a locator, a time and a
// duration are written.

/** "0000000000000001" -> "1". */
export function shortDpid(dpid) {
  return dpid.replace(/^0+(?=.)/, '');
}

/** A switch by its OVS bridge name when it has one, else by datapath id. */
export function switchName(sw, dpid) {
  return sw?.bridge ?? `dpid ${shortDpid(sw?.dpid ?? dpid)}`;
}

/** "x1s1 · dpid 1", or "dpid 1" when the bridge name is unknown. */
export function switchTitle(sw, dpid) {
  const id = `dpid ${shortDpid(sw?.dpid ?? dpid)}`;
  return sw?.bridge ? `${sw.bridge} · ${id}` : id;
}

/** "B x1s2:10": subnet, switch, port. `switches` maps dpid -> switch view. */
export function where(locator, switches) {
  return `${locator.subnet} ${switchName(switches?.get(locator.dpid), locator.dpid)}:${locator.port}`;
}

const pad = (n) => String(n).padStart(2, '0');

/** Local wall-clock time, 24 h: "14:03:07". */
export function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "3 s ago", "12 min ago", or the time of day beyond an hour. */
export function ago(ms, now) {
  const s = Math.max(0, (now - ms) / 1000);
  return s < 60 ? `${s.toFixed(0)} s ago` : s < 3600 ? `${(s / 60).toFixed(0)} min ago` : clock(ms);
}

/** Milliseconds with a precision that suits their size: "0.42 ms", "12.3 ms", "1250 ms". */
export function millis(value) {
  if (!Number.isFinite(value)) return '–';
  return `${value < 1 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ms`;
}

/** Counters as an engineer reads them: 1234567 -> "1.23M". */
export function count(n) {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(n < 100_000_000 ? 2 : 0)}M`;
}
