// Text a switch supplies (error data, DESC strings, port names) is attacker-controlled: before it
// reaches a log line or an event it is cut to a bounded length and its control characters are
// escaped, so it can neither flood a log nor forge lines or terminal sequences in it.

import type { Desc, Port, PortStatus } from '../openflow/types.js';

/** Longest text we keep from a peer (DESC fields are at most 256 bytes on the wire anyway). */
export const PEER_TEXT_MAX = 256;

// C0 and C1 controls, DEL, the backslash (so that escapes stay unambiguous), line and paragraph
// separators, and the bidirectional overrides that reorder what a reader sees.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\\\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_TEST = /[\x00-\x1f\x7f-\x9f\\\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function escapeChar(ch: string): string {
  if (ch === '\\') return '\\\\';
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Safe text from switch-supplied bytes or a decoded string: at most `maxChars` characters of the
 * input (bytes read as latin1), control characters escaped, and a marker saying how much was cut.
 */
export function peerText(value: string | Uint8Array, maxChars = PEER_TEXT_MAX): string {
  const total = value.length;
  const head = typeof value === 'string'
    ? value.slice(0, maxChars)
    : Buffer.from(value.buffer, value.byteOffset, Math.min(value.byteLength, maxChars)).toString('latin1');
  const safe = UNSAFE_TEST.test(head) ? head.replace(UNSAFE, escapeChar) : head;
  return total > maxChars ? `${safe}...[${total - maxChars} more]` : safe;
}

export function safeDesc(desc: Desc): Desc {
  return {
    mfrDesc: peerText(desc.mfrDesc), hwDesc: peerText(desc.hwDesc), swDesc: peerText(desc.swDesc),
    serialNum: peerText(desc.serialNum), dpDesc: peerText(desc.dpDesc),
  };
}

/** The port unchanged when its name is already safe (the usual case: no allocation). */
export function safePort(port: Port): Port {
  const name = peerText(port.name);
  return name === port.name ? port : { ...port, name };
}

export function safePortStatus(status: PortStatus): PortStatus {
  const port = safePort(status.port);
  return port === status.port ? status : { ...status, port };
}
