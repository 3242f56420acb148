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
  /** Output held for a switch in MAIN that does not read (our queue plus the socket's). */
  maxQueuedBytes: 8 << 20,
  /** Bounds of one multipart reply in MAIN (flow stats of a resync, of an API read). */
  multipartMaxParts: 4096,
  multipartMaxBytes: 32 << 20,
  multipartTimeoutMs: 60_000,
  /** Sockets open on the listener, in total and per source address. */
  maxConnections: 4096,
  maxConnectionsPerAddress: 1024,
  /** Log lines per kind of peer event per minute (every event is still counted). */
  logLinesPerMinute: 20,
} as const;
