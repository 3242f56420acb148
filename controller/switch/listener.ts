// The OpenFlow listener (TCP, or TLS with client certificates): accepts switches within the
// connection bounds, gives each its own SwitchConnection (all sharing one bound on the multipart
// replies in reassembly), decides who may be which datapath
// (duplicate-dpid policy, pinning), and closes them all on shutdown. A failure in one
// connection stays in that connection.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import { DpidAdmission, normalizeAddress, type DpidPin, type DpidPinning, type DuplicateDpidPolicy, type PeerIdentity } from './admission.js';
import { ConnectionState, SwitchConnection, type ConnectionOptions } from './connection.js';
import { OPENFLOW_LIMIT_DEFAULTS as DEFAULTS } from './limits.js';
import type { OpenFlowMetrics, RefusalReason } from './metrics.js';
import type { SwitchRegistry } from './registry.js';
import { ReassemblyBudget } from './requests.js';
import { LogThrottle } from './throttle.js';
import { peerIdentity, tlsServerOptions, type TlsFiles } from './tls.js';

export interface SwitchListenerOptions {
  readonly host: string;
  /** 0 picks a free port (see address()). */
  readonly port: number;
  readonly connection: ConnectionOptions;
  /** Open sockets in total and per source address; more are closed at accept. */
  readonly maxConnections?: number;
  readonly maxConnectionsPerAddress?: number;
  /** PEM files; all three set = TLS with required client certificates, none = plain TCP. */
  readonly tls?: TlsFiles;
  /** Default keep-established. */
  readonly duplicateDpid?: DuplicateDpidPolicy;
  /** Default none. */
  readonly pinning?: DpidPinning;
  readonly pins?: readonly DpidPin[];
  /** Log lines per kind of peer event per minute (every event is counted). */
  readonly logLinesPerMinute?: number;
}

export class SwitchListener {
  /** The counters of the OpenFlow side (shared with the registry). */
  readonly metrics: OpenFlowMetrics;
  private readonly server: Server;
  private readonly secure: boolean;
  private readonly connections = new Set<SwitchConnection>();
  private readonly perAddress = new Map<string, number>();
  /** Raw sockets closed at accept: node's TLS server still reports them as failed handshakes. */
  private readonly refusedSockets = new WeakSet<Socket>();
  private open = 0;
  private readonly admission: DpidAdmission;
  private readonly throttle: LogThrottle;
  /** The multipart replies in reassembly on all connections together. */
  readonly reassembly: ReassemblyBudget;
  private listening = false;

  constructor(private readonly options: SwitchListenerOptions, private readonly registry: SwitchRegistry, private readonly log: Logger) {
    this.metrics = registry.metrics;
    this.reassembly = new ReassemblyBudget(options.connection.multipartTotalMaxBytes ?? DEFAULTS.multipartTotalMaxBytes);
    this.throttle = new LogThrottle({
      linesPerWindow: options.logLinesPerMinute ?? DEFAULTS.logLinesPerMinute,
      windowMs: 60_000,
      onSuppressed: (msg) => this.metrics.logLinesSuppressed.inc({ event: msg }),
    });
    this.admission = new DpidAdmission({
      duplicateDpid: options.duplicateDpid ?? 'keep-established',
      pinning: options.pinning ?? 'none',
      pins: options.pins ?? [],
    });
    const tls = tlsServerOptions(options.tls);
    this.secure = tls !== undefined;
    if (tls === undefined) {
      this.server = createServer();
    } else {
      // The TLS handshake counts against the same deadline as the OpenFlow one.
      const handshakeTimeout = options.connection.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
      this.server = createTlsServer({ ...tls, handshakeTimeout }, (socket) => this.accept(socket));
      this.server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
        // `_parent` (node internal) is the raw socket: one refused at accept is counted once.
        const raw = (socket as unknown as { _parent?: unknown })._parent;
        if (raw instanceof Object && this.refusedSockets.has(raw as Socket)) return;
        this.metrics.connectionsRefused.inc({ reason: 'tls' });
        this.throttle.warn(this.log, 'TLS handshake with a peer failed', { remote: `${socket.remoteAddress}:${socket.remotePort}`, error: error.message });
      });
    }
    // Bounds apply to the raw TCP socket, before any TLS or OpenFlow work is spent on it (first
    // listener: node's TLS server wraps the socket in a 'connection' listener of its own).
    this.server.prependListener('connection', (socket: Socket) => {
      if (this.admitSocket(socket) && !this.secure) this.accept(socket);
    });
    this.server.on('error', (error) => this.log.error('OpenFlow listener error', { error }));
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        this.listening = true;
        const address = this.address();
        this.log.info('OpenFlow listener started', { host: address.address, port: address.port, tls: this.secure });
        resolve(address);
      });
    });
  }

  /** The bound address (the real port when listening on port 0). */
  address(): AddressInfo {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the OpenFlow listener is not listening');
    return address;
  }

  /** Every open connection, in any state (the registry has only those in MAIN). */
  list(): SwitchConnection[] {
    return [...this.connections];
  }

  /** Open TCP sockets (including those still in the TLS handshake). */
  get openSockets(): number {
    return this.open;
  }

  /** Stops accepting, closes every connection (rejecting their pending requests), and waits for them. */
  async close(): Promise<void> {
    const stopped = this.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve();
    this.listening = false;
    const closing = [...this.connections].map((sw) => {
      sw.close('controller shutting down');
      return sw.closed;
    });
    await Promise.all([stopped, ...closing]);
    this.log.info('OpenFlow listener stopped');
  }

  /** Counts the socket in, or closes it at once when a connection bound is reached. */
  private admitSocket(socket: Socket): boolean {
    const address = normalizeAddress(socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    const maxTotal = this.options.maxConnections ?? DEFAULTS.maxConnections;
    const maxPerAddress = this.options.maxConnectionsPerAddress ?? DEFAULTS.maxConnectionsPerAddress;
    let refusal: RefusalReason | undefined;
    if (this.open >= maxTotal) refusal = 'max_connections';
    else if (fromAddress >= maxPerAddress) refusal = 'max_connections_per_address';
    if (refusal !== undefined) {
      this.metrics.connectionsRefused.inc({ reason: refusal });
      this.throttle.warn(this.log, 'connection refused: too many connections', { remote: address, reason: refusal, open: this.open, fromAddress, maxTotal, maxPerAddress });
      this.refusedSockets.add(socket);
      socket.destroy();
      return false;
    }
    this.open++;
    this.perAddress.set(address, fromAddress + 1);
    this.metrics.connections.set(this.open);
    socket.once('close', () => {
      this.open--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
      this.metrics.connections.set(this.open);
    });
    return true;
  }

  private accept(socket: Socket | TLSSocket): void {
    if (socket.destroyed) return; // refused in onTcpConnection
    socket.setNoDelay(true); // we batch writes per tick ourselves; Nagle would only add latency
    const identity = peerIdentity(socket);
    const sw = new SwitchConnection(socket, this.options.connection, this.log, {
      identity,
      metrics: this.metrics,
      throttle: this.throttle,
      admit: (conn, stage) => this.admit(conn, identity, stage),
      reassembly: this.reassembly,
    });
    this.connections.add(sw);
    sw.closed.then(() => this.connections.delete(sw), () => this.connections.delete(sw));
    try {
      this.registry.attach(sw);
      sw.start();
    } catch (error) {
      this.log.error('could not start a switch connection', { error });
      sw.close('start-up failed', { abort: true });
    }
  }

  /** Applies the dpid policy and the pins; a refusal is counted and logged (rate-limited). */
  private admit(sw: SwitchConnection, identity: PeerIdentity, stage: 'features' | 'main'): string | undefined {
    const current = this.registry.get(sw.dpid);
    const established = current !== undefined && current !== sw && current.state !== ConnectionState.DEAD;
    const decision = this.admission.check(sw.dpid, identity, established);
    if (decision.ok) {
      if (stage === 'main') {
        this.admission.learn(sw.dpid, identity);
        if (decision.replaces) {
          this.metrics.duplicateDpids.inc({ dpid: this.metrics.dpidLabel(sw.dpidText), action: 'replaced' });
          this.log.warn('duplicate datapath id: the new connection replaces the established one (policy replace)', { dpid: sw.dpidText, remote: sw.remote, previous: current?.remote });
        }
      }
      return undefined;
    }
    this.metrics.connectionsRefused.inc({ reason: decision.kind });
    // The dpid of an established switch is a known one: label it; a pin mismatch may name any dpid.
    if (decision.kind === 'duplicate_dpid') {
      this.metrics.duplicateDpids.inc({ dpid: this.metrics.dpidLabel(sw.dpidText), action: 'refused' });
    } else {
      this.metrics.pinMismatches.inc({ dpid: this.registry.get(sw.dpid) !== undefined ? this.metrics.dpidLabel(sw.dpidText) : '' });
    }
    this.throttle.warn(this.log, 'switch refused', { dpid: sw.dpidText, remote: sw.remote, reason: decision.reason, established: current?.remote });
    return decision.reason;
  }
}
