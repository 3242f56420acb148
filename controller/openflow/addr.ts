// Address text <-> wire bytes for MACs, IPv4 and IPv6, in the notation ovs-ofctl prints
// (lower-case MAC, dotted quad, RFC 5952 IPv6 as glibc's inet_ntop writes it). These sit on the
// PACKET_IN hot path, so formatting uses a byte->hex table instead of per-byte toString calls.

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(b: number): string {
  return HEX[b] as string;
}

export function readMac(buf: Uint8Array, off: number): string {
  return (
    hex(buf[off] as number) + ':' + hex(buf[off + 1] as number) + ':' + hex(buf[off + 2] as number) + ':' +
    hex(buf[off + 3] as number) + ':' + hex(buf[off + 4] as number) + ':' + hex(buf[off + 5] as number)
  );
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const l = c | 0x20; // ASCII lower case
  if (l >= 97 && l <= 102) return l - 87; // a-f
  return -1;
}

/** Writes 'aa:bb:cc:dd:ee:ff' (also accepts '-' separators) as 6 bytes. Throws on bad text. */
export function writeMac(buf: Uint8Array, off: number, mac: string): void {
  if (typeof mac !== 'string' || mac.length !== 17) throw new TypeError(`bad MAC address: ${String(mac)}`);
  for (let i = 0; i < 6; i++) {
    const p = i * 3;
    const hi = nibble(mac.charCodeAt(p));
    const lo = nibble(mac.charCodeAt(p + 1));
    const sep = i < 5 ? mac.charCodeAt(p + 2) : 58;
    if (hi < 0 || lo < 0 || (sep !== 58 && sep !== 45)) throw new TypeError(`bad MAC address: ${mac}`);
    buf[off + i] = (hi << 4) | lo;
  }
}

export function readIpv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** Parses a dotted quad into a 32-bit unsigned number, or -1 when the text is not one. */
export function parseIpv4(text: string): number {
  if (typeof text !== 'string') return -1;
  let value = 0;
  let part = -1;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (part < 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = -1;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part < 0 ? c - 48 : part * 10 + (c - 48);
      if (part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (part < 0 || dots !== 3) return -1;
  return value * 256 + part;
}

export function writeIpv4(buf: Uint8Array, off: number, ip: string): void {
  const v = parseIpv4(ip);
  if (v < 0) throw new TypeError(`bad IPv4 address: ${String(ip)}`);
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** RFC 5952 text, with the embedded-IPv4 forms glibc's inet_ntop uses (::ffff:a.b.c.d, ::a.b.c.d). */
export function readIpv6(buf: Uint8Array, off: number): string {
  const words: number[] = new Array(8);
  for (let i = 0; i < 8; i++) words[i] = ((buf[off + 2 * i] as number) << 8) | (buf[off + 2 * i + 1] as number);
  // Longest run of zero words (length >= 2), first one on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const embedsIpv4 =
    bestStart === 0 && (bestLen === 6 || (bestLen === 7 && words[7] !== 1) || (bestLen === 5 && words[5] === 0xffff));
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    if (embedsIpv4 && i === 6) {
      out += readIpv4(buf, off + 12);
      break;
    }
    out += (words[i] as number).toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

function parseGroups(part: string, allowIpv4Tail: boolean): number[] | undefined {
  if (part === '') return [];
  const pieces = part.split(':');
  const words: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i] as string;
    if (allowIpv4Tail && i === pieces.length - 1 && p.includes('.')) {
      const v = parseIpv4(p);
      if (v < 0) return undefined;
      words.push(v >>> 16, v & 0xffff);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      words.push(parseInt(p, 16));
    }
  }
  return words;
}

/** Parses IPv6 text into 8 16-bit words, or undefined when it is not an address. */
export function parseIpv6(text: string): number[] | undefined {
  if (typeof text !== 'string') return undefined;
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    if (text.indexOf('::', dbl + 1) >= 0) return undefined;
    const head = parseGroups(text.slice(0, dbl), false);
    const tail = parseGroups(text.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const words = parseGroups(text, true);
  return words && words.length === 8 ? words : undefined;
}

export function writeIpv6(buf: Uint8Array, off: number, ip: string): void {
  const words = parseIpv6(ip);
  if (!words) throw new TypeError(`bad IPv6 address: ${String(ip)}`);
  for (let i = 0; i < 8; i++) {
    const w = words[i] as number;
    buf[off + 2 * i] = w >>> 8;
    buf[off + 2 * i + 1] = w & 0xff;
  }
}
