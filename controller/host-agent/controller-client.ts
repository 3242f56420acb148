// The host agent's calls to the Seamless API: a VM (by MAC) is stopping for its stop-and-copy,
// or its migration was called off. Short timeouts: a hypervisor must never wait on the controller.

export interface ControllerClientOptions {
  /** http://host:port of the Seamless API. */
  readonly api: string;
  readonly token?: string;
  readonly timeoutMs?: number;
}

export class ControllerClient {
  constructor(private readonly options: ControllerClientOptions) {}

  /** POST /api/intents { mac, phase: 'stopping' }. */
  async stopping(mac: string): Promise<void> {
    await this.call('POST', '/api/intents', { mac, phase: 'stopping', ttlMs: 60_000 });
  }

  /** The migration was called off: the intent goes (DELETE /api/intents/{eid}; the EID from GET /api/bindings). */
  async calledOff(mac: string): Promise<void> {
    const bindings = (await this.call('GET', '/api/bindings')) as { eid: string; mac: string }[];
    const eid = bindings.find((b) => b.mac === mac.toLowerCase())?.eid;
    if (eid !== undefined) await this.call('DELETE', `/api/intents/${eid}`).catch(() => undefined);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(new URL(path, this.options.api), {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 1000),
    });
    if (!res.ok && res.status !== 404) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json().catch(() => undefined);
  }
}
