// The host agent's calls to the Seamless API, one per migration signal (migration-signals.ts):
// POST /api/intents with the VM's MAC and the phase, DELETE when the migration is called off.
// Short timeouts: a hypervisor never waits on the controller. The signals of one VM are sent one
// after the other, in the order they happened: a 'stopping' overtaking its 'migrating' would be
// merged into the wrong phase.

import type { MigrationSignal } from './migration-signals.js';

export interface ControllerClientOptions {
  /** http://host:port of the Seamless API. */
  readonly api: string;
  readonly token?: string;
  readonly timeoutMs?: number;
}

/** How long an intent of the agent's lives if nothing ends it (a migration longer than this loses its tee, not its move). */
const INTENT_TTL_MS = 60_000;

export class ControllerClient {
  /** The last call under way per MAC: the next one waits for it. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly options: ControllerClientOptions) {}

  /**
   * Asks the controller its version (GET /api/version, with the token): whether it can be reached
   * and takes the token. Also readies the HTTP client: Node loads its fetch on first use, and under
   * load that held the first migration's signals for 300 ms (the copies then began after the stop).
   */
  async check(): Promise<string> {
    const body = (await this.call('GET', '/api/version')) as { version?: unknown } | undefined;
    return String(body?.version ?? 'unknown');
  }

  /** Tells the controller what a migration signal says about the VM with this MAC, after the VM's earlier signals. */
  signal(mac: string, signal: MigrationSignal): Promise<void> {
    const key = mac.toLowerCase();
    const sent = (this.inFlight.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => this.send(mac, signal));
    this.inFlight.set(key, sent);
    void sent.catch(() => undefined).finally(() => { if (this.inFlight.get(key) === sent) this.inFlight.delete(key); });
    return sent;
  }

  private async send(mac: string, signal: MigrationSignal): Promise<void> {
    if (signal.kind === 'called-off') return this.calledOff(mac);
    // 'converging' is the migrating phase again, now asking for the copies (lossFree).
    const phase = signal.kind === 'converging' ? 'migrating' : signal.kind;
    const body = { mac, phase, ttlMs: INTENT_TTL_MS, ...(signal.kind === 'converging' ? { lossFree: true } : {}), ...(signal.kind === 'stopping' ? { stoppedAt: signal.at } : {}) };
    await this.call('POST', '/api/intents', body);
  }

  /** The VM stopped for its stop-and-copy now (the emulated lab, a test). */
  stopping(mac: string, at: number = Date.now()): Promise<void> {
    return this.signal(mac, { kind: 'stopping', at });
  }

  /** The migration was called off: the intent goes (DELETE /api/intents/{eid}; the EID from GET /api/bindings). */
  private async calledOff(mac: string): Promise<void> {
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
