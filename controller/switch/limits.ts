// The bounds of the OpenFlow side and their defaults, in one place (config.ts takes its defaults
// from here). Sizes come from measurements against Open vSwitch 3.1: see docs/security.md.

export const OPENFLOW_LIMIT_DEFAULTS = {
  /** A peer not in MAIN this long after it connected is closed, whatever it trickles. */
  handshakeTimeoutMs: 10_000,
  /** Output held for a peer before MAIN (our handshake messages and echo replies need < 1 KiB). */
  handshakeMaxQueuedBytes: 64 << 10,
  /** Bytes of one multipart reply during the handshake (PORT_DESC: 64 bytes a port, 16,384 ports). */
  handshakeMultipartMaxBytes: 1 << 20,
  /** Asynchronous messages held during CONFIG until MAIN, by count and by bytes. */
  maxEarlyMessages: 256,
  maxEarlyBytes: 256 << 10,
  /**
   * Output a peer has not read past which we do not answer what it asks of us (echo requests,
   * undecodable messages): a peer could otherwise fill our queue with replies to its own requests.
   */
  peerReplyBacklogBytes: 64 << 10,
  /** Output held for a switch in MAIN that does not read (our queue plus the socket's). */
  maxQueuedBytes: 8 << 20,
  /** Bounds of one multipart reply in MAIN (flow stats of a resync, of an API read). */
  multipartMaxParts: 4096,
  multipartMaxBytes: 32 << 20,
  multipartTimeoutMs: 60_000,
  /**
   * Bytes of every multipart reply in reassembly on all connections together: twice the largest
   * one reply (decoded, a reply takes about 20 times its wire size: 64 MiB is about 1.3 GB).
   */
  multipartTotalMaxBytes: 64 << 20,
  /** Sockets open on the listener, in total and per source address. */
  maxConnections: 4096,
  maxConnectionsPerAddress: 1024,
  /** Log lines per kind of peer event per minute (every event is still counted). */
  logLinesPerMinute: 20,
} as const;

/** Timers and bounds of one connection; the optional ones default to OPENFLOW_LIMIT_DEFAULTS. */
export interface ConnectionOptions {
  readonly echoIntervalMs: number;
  readonly echoTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Bytes queued for a switch in MAIN that does not read before we close it. */
  readonly maxQueuedBytes?: number;
  /** Fire-and-forget messages remembered for error attribution. Default 4096. */
  readonly recentXidLimit?: number;
  /** Asynchronous messages held during CONFIG and delivered on MAIN: count and bytes. */
  readonly maxEarlyMessages?: number;
  readonly maxEarlyBytes?: number;
  /** A peer not in MAIN this long after start() is closed. */
  readonly handshakeTimeoutMs?: number;
  /** Output queue bound before MAIN. */
  readonly handshakeMaxQueuedBytes?: number;
  /** Bytes of one multipart reply during the handshake (PORT_DESC, DESC). */
  readonly handshakeMultipartMaxBytes?: number;
  /** Bounds of one multipart reply in MAIN. */
  readonly multipartMaxParts?: number;
  readonly multipartMaxBytes?: number;
  readonly multipartTimeoutMs?: number;
  /** Bytes of all multipart replies in reassembly on every connection of a listener together (its ReassemblyBudget). */
  readonly multipartTotalMaxBytes?: number;
}

export type ResolvedConnectionOptions = Required<ConnectionOptions>;

/** Every option with its default filled in. */
export function resolveConnectionOptions(options: ConnectionOptions): ResolvedConnectionOptions {
  const d = OPENFLOW_LIMIT_DEFAULTS;
  return {
    echoIntervalMs: options.echoIntervalMs,
    echoTimeoutMs: options.echoTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    maxQueuedBytes: options.maxQueuedBytes ?? d.maxQueuedBytes,
    recentXidLimit: options.recentXidLimit ?? 4096,
    maxEarlyMessages: options.maxEarlyMessages ?? d.maxEarlyMessages,
    maxEarlyBytes: options.maxEarlyBytes ?? d.maxEarlyBytes,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? d.handshakeTimeoutMs,
    handshakeMaxQueuedBytes: options.handshakeMaxQueuedBytes ?? d.handshakeMaxQueuedBytes,
    handshakeMultipartMaxBytes: options.handshakeMultipartMaxBytes ?? d.handshakeMultipartMaxBytes,
    multipartMaxParts: options.multipartMaxParts ?? d.multipartMaxParts,
    multipartMaxBytes: options.multipartMaxBytes ?? d.multipartMaxBytes,
    multipartTimeoutMs: options.multipartTimeoutMs ?? d.multipartTimeoutMs,
    multipartTotalMaxBytes: options.multipartTotalMaxBytes ?? d.multipartTotalMaxBytes,
  };
}
