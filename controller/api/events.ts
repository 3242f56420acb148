// Live events for the API's server-sent-events stream. Domain events (fabric, switches) become
// small JSON payloads with a sequence id; a bounded history lets a client that reconnects with
// Last-Event-ID receive what it missed. The stream itself (clients, back-pressure) is sse.ts.

import { merge, type Observable, type Subscription } from 'rxjs';
import type { FabricEvent } from '../fabric/index.js';
import type { PortStatus } from '../openflow/types.js';
import { formatDpid } from '../switch/dpid.js';
import {
  bindingView, locatorView, migrationView, portChange, portView, type BindingView, type LocatorView, type MigrationView, type PortChange, type PortView,
} from './views.js';

export type ApiEvent =
  | { readonly type: 'switch-up'; readonly dpid: string; readonly remote: string; readonly at: number }
  | { readonly type: 'switch-down'; readonly dpid: string; readonly reason: string | null; readonly at: number }
  | { readonly type: 'switch-error'; readonly dpid: string; readonly error: string; readonly request: string | null; readonly at: number }
  | { readonly type: 'binding-added'; readonly binding: BindingView; readonly at: number }
  | { readonly type: 'binding-moved'; readonly binding: BindingView; readonly from: LocatorView; readonly at: number }
  | { readonly type: 'binding-removed'; readonly binding: BindingView; readonly at: number }
  | { readonly type: 'migration-completed'; readonly migration: MigrationView; readonly at: number }
  | { readonly type: 'conflict'; readonly eid: string; readonly mac: string; readonly reason: string; readonly detail: string; readonly dpid: string; readonly port: number; readonly at: number }
  | { readonly type: 'rules-updated'; readonly dpids: readonly string[]; readonly flowMods: number; readonly at: number }
  | { readonly type: 'migration-failed'; readonly eid: string; readonly mac: string; readonly error: string; readonly at: number }
  | { readonly type: 'endpoint-suspended'; readonly eid: string; readonly mac: string; readonly until: number; readonly at: number }
  | { readonly type: 'move-staged'; readonly eid: string; readonly dpid: string; readonly port: number; readonly locator: string; readonly at: number }
  | { readonly type: 'endpoint-lost'; readonly eid: string; readonly mac: string; readonly dpid: string; readonly port: number; readonly since: number; readonly at: number }
  | { readonly type: 'vm-resumed'; readonly eid: string; readonly mac: string; readonly trigger: string; readonly frames: number; readonly heldMs: number; readonly at: number }
  | { readonly type: 'port-status'; readonly dpid: string; readonly reason: PortChange; readonly port: PortView; readonly at: number };

/** Pure: a switch's PORT_STATUS as the API shows it (the port as it is after the change). */
export function portStatusEventView(dpid: bigint, status: Pick<PortStatus, 'reason' | 'port'>, at: number): ApiEvent {
  return { type: 'port-status', dpid: formatDpid(dpid), reason: portChange(status), port: portView(status.port), at };
}

/** Pure: one fabric event as the API shows it. */
export function fabricEventView(e: FabricEvent): ApiEvent {
  switch (e.type) {
    case 'BINDING_ADDED': return { type: 'binding-added', binding: bindingView(e.binding), at: e.at };
    case 'BINDING_MOVED': return { type: 'binding-moved', binding: bindingView(e.binding), from: locatorView(e.previous.locator), at: e.at };
    case 'BINDING_REMOVED': return { type: 'binding-removed', binding: bindingView(e.binding), at: e.at };
    case 'MIGRATION_COMPLETED': return { type: 'migration-completed', migration: migrationView(e.migration), at: e.at };
    case 'CONFLICT': return { type: 'conflict', eid: e.eid, mac: e.mac, reason: e.reason, detail: e.detail, dpid: e.dpid, port: e.port, at: e.at };
    case 'RULES_UPDATED': return { type: 'rules-updated', dpids: e.dpids, flowMods: e.flowMods, at: e.at };
    case 'MIGRATION_FAILED': return { type: 'migration-failed', eid: e.eid, mac: e.mac, error: e.error, at: e.at };
    case 'ENDPOINT_SUSPENDED': return { type: 'endpoint-suspended', eid: e.eid, mac: e.mac, until: e.until, at: e.at };
    case 'MOVE_STAGED': return { type: 'move-staged', eid: e.eid, dpid: e.dpid, port: e.port, locator: e.locator, at: e.at };
    case 'ENDPOINT_LOST': return { type: 'endpoint-lost', eid: e.eid, mac: e.mac, dpid: e.dpid, port: e.port, since: e.since, at: e.at };
    case 'VM_RESUMED': return { type: 'vm-resumed', eid: e.eid, mac: e.mac, trigger: e.trigger, frames: e.frames, heldMs: e.heldMs, at: e.at };
  }
}

export interface SequencedEvent {
  readonly id: number;
  readonly event: ApiEvent;
  /**
   * The event as one SSE frame, built once and shared by every client that is sent it: on first
   * use, so that without a client nothing is serialised (a migration publishes a dozen events
   * while its rules are on their way to the switches).
   */
  readonly frame: string;
}

class Sequenced implements SequencedEvent {
  private built: string | undefined;

  constructor(readonly id: number, readonly event: ApiEvent) {}

  get frame(): string {
    return (this.built ??= sseFrame(this));
  }
}

/** One SSE frame: `id`, `event` and one `data` line of JSON. */
export function sseFrame({ id, event }: { readonly id: number; readonly event: ApiEvent }): string {
  return `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

type Listener = (e: SequencedEvent) => void;

/** Numbers the events, keeps the last `capacity` and hands each to the connected clients. */
export class EventHub {
  private readonly history: SequencedEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private nextId = 1;
  private subscription: Subscription | undefined;

  constructor(private readonly capacity = 500) {}

  /** Follows the given streams until close(). */
  follow(...sources: Observable<ApiEvent>[]): void {
    this.subscription = merge(...sources).subscribe({ next: (e) => this.publish(e), error: () => undefined });
  }

  publish(event: ApiEvent): SequencedEvent {
    const id = this.nextId++;
    const sequenced = new Sequenced(id, event);
    this.history.push(sequenced);
    if (this.history.length > this.capacity) this.history.shift();
    for (const l of this.listeners) l(sequenced);
    return sequenced;
  }

  /** Events after `lastId` still in the history (for a reconnecting client). */
  since(lastId: number): SequencedEvent[] {
    return this.history.filter((e) => e.id > lastId);
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.listeners.clear();
  }
}
