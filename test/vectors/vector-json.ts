// JSON for golden vectors: bigints become "$bigint:<decimal>" and byte arrays "$hex:<hex>", so
// decoded messages can be stored next to their bytes and read back exactly (reviver below).

const BIGINT = '$bigint:';
const HEX = '$hex:';

/** A JSON-safe copy: bigint and Uint8Array (Buffer included) replaced by tagged strings. */
export function toTagged(value: unknown): unknown {
  if (typeof value === 'bigint') return BIGINT + value.toString();
  if (value instanceof Uint8Array) return HEX + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (Array.isArray(value)) return value.map(toTagged);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toTagged(v);
    return out;
  }
  return value;
}

export function stringifyTagged(value: unknown, indent = 2): string {
  return JSON.stringify(toTagged(value), null, indent);
}

/** JSON.parse reviver turning tagged strings back into bigint / Uint8Array. */
export function reviveTagged(_key: string, value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.startsWith(BIGINT)) return BigInt(value.slice(BIGINT.length));
    if (value.startsWith(HEX)) return new Uint8Array(Buffer.from(value.slice(HEX.length), 'hex'));
  }
  return value;
}

export function parseTagged<T = unknown>(text: string): T {
  return JSON.parse(text, reviveTagged) as T;
}
