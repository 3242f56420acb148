// JSON-RPC 1.0 as RFC 7047 uses it: requests {method, params, id}, notifications (id null) and
// responses {result, error, id}. Parsing never throws: a malformed message is a typed error for
// the caller to turn into a disconnect.

/** Any JSON value may be an id; ovsdb-server uses strings ("echo") for its own requests. */
export type RpcId = string | number | boolean | readonly unknown[] | { readonly [key: string]: unknown };

export type RpcMessage =
  | { readonly kind: 'request'; readonly method: string; readonly params: readonly unknown[]; readonly id: RpcId }
  | { readonly kind: 'notification'; readonly method: string; readonly params: readonly unknown[] }
  | { readonly kind: 'response'; readonly id: RpcId | null; readonly result: unknown; readonly error: unknown };

export type ParsedRpc = { readonly ok: true; readonly message: RpcMessage } | { readonly ok: false; readonly error: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Shortened text of a bad message for an error line (never the whole of a huge one). */
export function excerpt(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} chars)`;
}

export function parseRpcMessage(text: string): ParsedRpc {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON (${(error as Error).message}): ${excerpt(text)}` };
  }
  if (!isObject(value)) return { ok: false, error: `not a JSON-RPC object: ${excerpt(text)}` };
  const id = value.id === undefined ? null : (value.id as RpcId | null);
  if (typeof value.method === 'string') {
    const params = value.params ?? [];
    if (!Array.isArray(params)) return { ok: false, error: `${value.method}: params is not an array` };
    return {
      ok: true,
      message: id === null
        ? { kind: 'notification', method: value.method, params }
        : { kind: 'request', method: value.method, params, id },
    };
  }
  if ('result' in value || 'error' in value) {
    return { ok: true, message: { kind: 'response', id, result: value.result ?? null, error: value.error ?? null } };
  }
  return { ok: false, error: `neither a request nor a response: ${excerpt(text)}` };
}

export function encodeRequest(id: RpcId, method: string, params: readonly unknown[]): string {
  return JSON.stringify({ method, params, id });
}

export function encodeResponse(id: RpcId, result: unknown, error: unknown = null): string {
  return JSON.stringify({ result, error, id });
}

/** An error reply: `{"error": "...", "details": "..."}` in OVSDB, shown as text. */
export function describeRpcError(error: unknown): string {
  if (isObject(error) && typeof error.error === 'string') {
    return typeof error.details === 'string' ? `${error.error}: ${error.details}` : error.error;
  }
  return excerpt(JSON.stringify(error) ?? String(error));
}
