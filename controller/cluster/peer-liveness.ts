// A fast detector of dead replicas, beside the leases (docs/cluster.md, failure behaviour).
// A lease alone makes a killed replica's switches wait for its TTL (1-3 s) plus etcd's expiry
// check (up to 500 ms). Yet the death of a process is visible at once to anyone holding a TCP
// connection to it: its kernel closes the connection, and its listening port refuses the next
// one. So every replica listens on a liveness port, advertised in its registration, and holds a
// connection to every other replica's. When a connection that the peer had verified (its
// greeting names the replica) ends and the next attempt is refused, or is answered by another
// instance of that replica, the process that held the lease is gone: its lease is revoked,
// which frees its switches within milliseconds.
// Anything less certain proves nothing and is left to the lease: a timeout, a hung or stopped
// peer (SIGSTOP keeps its sockets open), a partition, a host that vanished, an address that
// never answered with the right name. Safety does not rest on this detector either: a replica
// whose lease is revoked learns it at its next keep-alive and steps down, and the switches
// already refuse its writes (the new master's generation id).

import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../log.js';

/** A peer replica as its registration in etcd says: its name, its lease, its liveness address. */
export interface LivenessPeer {
  readonly replica: string;
  readonly lease: string;
  /** host:port */
  readonly address: string;
}

export interface PeerLivenessOptions {
  readonly replicaId: string;
  /** Where to listen (port 0: any free one); the address advertised is the one bound. */
  readonly listen: { readonly host: string; readonly port: number };
  /** The peer's process is gone: revoke its lease. Called once per (replica, lease). */
  readonly onDead: (peer: LivenessPeer, why: string) => void;
  readonly log?: Logger;
  /** Pause before another attempt after one that proved nothing (default 500 ms). */
  readonly retryMs?: number;
  /** How long a connection attempt or a greeting may take (default 1000 ms). */
  readonly connectTimeoutMs?: number;
  /** Connections the liveness port holds at once (default 256); more are refused. */
  readonly maxConnections?: number;
}

const GREETING = 'seamless-liveness 1';
const MAX_GREETING_BYTES = 512;

/** The greeting a replica sends on each liveness connection: who it is, which process instance. */
export function greeting(replica: string, instance: string): string {
  return `${GREETING} ${encodeURIComponent(replica)} ${instance}\n`;
}

export function parseGreeting(line: string): { replica: string; instance: string } | undefined {
  const m = /^seamless-liveness 1 (\S+) ([0-9a-f-]{36})$/.exec(line);
  if (m === null) return undefined;
  try {
    return { replica: decodeURIComponent(m[1]!), instance: m[2]! };
  } catch {
    return undefined;
  }
}

/** What one attempt to reach a peer showed: a greeting, a refusal, or nothing certain. */
export type Attempt =
  | { readonly kind: 'greeted'; readonly replica: string; readonly instance: string }
  | { readonly kind: 'refused' }
  | { readonly kind: 'unclear'; readonly why: string };

/**
 * The verdict on a peer after an attempt, given the instance that greeted us before on this
 * address (undefined: none yet). Only a peer once verified can be declared dead.
 */
export function verdict(peer: string, knownInstance: string | undefined, attempt: Attempt):
  | { readonly kind: 'alive'; readonly instance: string }
  | { readonly kind: 'dead'; readonly why: string }
  | { readonly kind: 'retry' } {
  if (attempt.kind === 'greeted') {
    if (attempt.replica !== peer) return { kind: 'retry' }; // someone else listens there: proves nothing about the peer
    if (knownInstance !== undefined && attempt.instance !== knownInstance) return { kind: 'dead', why: 'another instance of it answers on its liveness port' };
    return { kind: 'alive', instance: attempt.instance };
  }
  if (attempt.kind === 'refused' && knownInstance !== undefined) return { kind: 'dead', why: 'its liveness port refuses connections' };
  return { kind: 'retry' };
}

export class PeerLiveness {
  private readonly instance = randomUUID();
  private readonly watches = new Map<string, PeerWatch>();
  private readonly held = new Set<Socket>();
  private server: Server | undefined;
  private bound: string | undefined;
  private closed = false;

  constructor(private readonly options: PeerLivenessOptions) {}

  /** The address peers should connect to (after listen()). */
  get address(): string | undefined {
    return this.bound;
  }

  async listen(): Promise<string> {
    const { host, port } = this.options.listen;
    const server = createServer((socket) => this.greet(socket));
    server.maxConnections = this.options.maxConnections ?? 256;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
    server.on('error', (error) => this.log.warn('liveness port error', { error: error.message }));
    this.server = server;
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error('liveness port has no TCP address');
    this.bound = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    return this.bound;
  }

  /** The peers as etcd lists them now (this replica and peers without an address are skipped). */
  track(peers: readonly LivenessPeer[]): void {
    if (this.closed) return;
    const wanted = new Map(peers.filter((p) => p.replica !== this.options.replicaId).map((p) => [p.replica, p]));
    for (const [replica, watch] of this.watches) {
      const p = wanted.get(replica);
      if (p === undefined || p.address !== watch.peer.address || p.lease !== watch.peer.lease) {
        watch.stop();
        this.watches.delete(replica);
      }
    }
    for (const [replica, p] of wanted) {
      if (!this.watches.has(replica)) this.watches.set(replica, new PeerWatch(p, this.options, this.log));
    }
  }

  /** Replicas whose liveness connection is verified now: for the API. */
  verified(): string[] {
    return [...this.watches.values()].filter((w) => w.connected).map((w) => w.peer.replica).sort();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watches.values()) w.stop();
    this.watches.clear();
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of this.held) socket.destroy();
    });
  }

  private get log(): Logger {
    return this.options.log ?? silentLogger;
  }

  /** A peer connected: say who we are, then hold the connection and ignore what it sends. */
  private greet(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    this.held.add(socket);
    socket.on('close', () => this.held.delete(socket));
    socket.write(greeting(this.options.replicaId, this.instance));
  }
}

/** One peer: connected and verified, or trying again; at a certain death, onDead once and stop. */
class PeerWatch {
  connected = false;
  private instance: string | undefined;
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(readonly peer: LivenessPeer, private readonly options: PeerLivenessOptions, private readonly log: Logger) {
    this.attempt();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
  }

  private attempt(): void {
    if (this.stopped) return;
    const target = splitAddress(this.peer.address);
    if (target === undefined) {
      this.log.warn('replica advertises no usable liveness address: its death waits for its lease', { replica: this.peer.replica, address: this.peer.address });
      return;
    }
    const socket = createConnection(target);
    this.socket = socket;
    let buffered = '';
    let settled = false;
    const timeout = setTimeout(() => settle({ kind: 'unclear', why: 'no greeting in time' }), this.options.connectTimeoutMs ?? 1000);
    const settle = (a: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      this.decide(a, socket);
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      buffered += chunk.toString('latin1');
      const nl = buffered.indexOf('\n');
      if (nl < 0 && buffered.length <= MAX_GREETING_BYTES) return;
      const g = nl < 0 ? undefined : parseGreeting(buffered.slice(0, nl));
      settle(g === undefined ? { kind: 'unclear', why: 'not a liveness greeting' } : { kind: 'greeted', ...g });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      settle(error.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'unclear', why: error.code ?? error.message });
    });
    socket.on('close', () => {
      settle({ kind: 'unclear', why: 'closed before its greeting' });
      if (this.socket === socket && this.connected) this.lost();
    });
  }

  private decide(a: Attempt, socket: Socket): void {
    if (this.stopped) return;
    const v = verdict(this.peer.replica, this.instance, a);
    if (v.kind === 'alive') {
      this.instance = v.instance;
      this.connected = true;
      return; // held open; its close tells
    }
    socket.destroy();
    if (v.kind === 'dead') {
      this.stopped = true;
      this.log.warn('replica is dead: revoking its lease', { replica: this.peer.replica, lease: this.peer.lease, why: v.why });
      this.options.onDead(this.peer, v.why);
      return;
    }
    this.timer = setTimeout(() => this.attempt(), this.options.retryMs ?? 500);
  }

  /** The verified connection ended: try again at once; its answer is the verdict. */
  private lost(): void {
    this.connected = false;
    if (!this.stopped) this.attempt();
  }
}

/** host:port or [v6]:port; undefined for anything else (the address comes from etcd). Port 0 (any free one) only to listen. */
export function splitAddress(address: string, toListen = false): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(address);
  const port = Number(m?.[3]);
  if (m === null || port < (toListen ? 0 : 1) || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}
