// Structured logging on pino: one JSON object per line for machines, or pino-pretty's single-line
// format for a terminal. Writes are asynchronous (a SonicBoom buffer, bounded so that a flood of
// log lines cannot take the memory with it) and flushed on exit. The call sites keep the shape
// `log.info(msg, fields)` and `log.child({component})`: an adapter maps it onto pino's
// `info(fields, msg)`. Fields are made safe first: bigints as text, Buffers as (truncated) hex,
// Errors as their useful parts, cycles as "[Circular]".

import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pinoPretty from 'pino-pretty';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

/** Extra key/value pairs on a log line (dpid, xid, error, ...). */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly level: LogLevel;
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  fatal(msg: string, fields?: LogFields): void;
  isLevelEnabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line (a key given again later, by a child or a call, wins). */
  child(fields: LogFields): Logger;
  /** Writes out what is buffered, synchronously (on exit). */
  flush(): void;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Colours in the pretty format (default: when stdout is a terminal). */
  readonly colorize?: boolean;
  /** Where finished lines go, synchronously (tests); default: stdout, asynchronously. */
  readonly sink?: (line: string) => void;
  readonly clock?: () => Date;
  /** Bytes of log output buffered at most before lines are dropped (default 16 MiB). */
  readonly maxBufferedBytes?: number;
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const clock = options.clock ?? (() => new Date());
  const output = destination(options);
  const logger = pino({
    level: options.level ?? 'info',
    base: null,
    messageKey: 'msg',
    timestamp: () => `,"time":"${clock().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
  }, output.stream);
  return new PinoAdapter(logger, output.flush);
}

// ---- where lines go ------------------------------------------------------------------------

interface Output {
  readonly stream: DestinationStream;
  readonly flush: () => void;
}

function destination(options: LoggerOptions): Output {
  const pretty = options.format === 'pretty'
    ? pinoPretty.prettyFactory({ colorize: options.colorize ?? Boolean(process.stdout.isTTY), singleLine: true, translateTime: 'SYS:isoDateTime' })
    : undefined;
  const format = (line: string): string => (pretty === undefined ? line : pretty(line));
  if (options.sink !== undefined) {
    const sink = options.sink;
    return { stream: { write: (line: string) => sink(format(line).replace(/\n$/, '')) }, flush: () => undefined };
  }
  const boom = pino.destination({ dest: 1, sync: false, minLength: 0, maxLength: options.maxBufferedBytes ?? 16 * 1024 * 1024 });
  const flush = () => { try { boom.flushSync(); } catch { /* not ready yet, or stdout closed: nothing to save */ } };
  return { stream: pretty === undefined ? boom : { write: (line: string) => void boom.write(format(line)) }, flush };
}

// ---- the adapter -----------------------------------------------------------------------------

const RESERVED = new Set(['time', 'level', 'msg']);

class PinoAdapter implements Logger {
  constructor(private readonly pino: PinoLogger, private readonly flushOutput: () => void) {}

  get level(): LogLevel {
    return isLogLevel(this.pino.level) ? this.pino.level : 'info';
  }

  trace(msg: string, fields?: LogFields): void { if (this.pino.isLevelEnabled('trace')) this.pino.trace(safeFields(fields), msg); }
  debug(msg: string, fields?: LogFields): void { if (this.pino.isLevelEnabled('debug')) this.pino.debug(safeFields(fields), msg); }
  info(msg: string, fields?: LogFields): void { if (this.pino.isLevelEnabled('info')) this.pino.info(safeFields(fields), msg); }
  warn(msg: string, fields?: LogFields): void { if (this.pino.isLevelEnabled('warn')) this.pino.warn(safeFields(fields), msg); }
  error(msg: string, fields?: LogFields): void { if (this.pino.isLevelEnabled('error')) this.pino.error(safeFields(fields), msg); }
  fatal(msg: string, fields?: LogFields): void { if (this.pino.isLevelEnabled('fatal')) this.pino.fatal(safeFields(fields), msg); }

  isLevelEnabled(level: LogLevel): boolean {
    return level !== 'silent' && this.pino.isLevelEnabled(level);
  }

  child(fields: LogFields): Logger {
    return new PinoAdapter(this.pino.child(safeFields(fields)), this.flushOutput);
  }

  flush(): void {
    this.flushOutput();
  }
}

/** A logger that drops everything (handy default for libraries and tests). */
export const silentLogger: Logger = createLogger({ level: 'silent', sink: () => {} });

// ---- safe fields -----------------------------------------------------------------------------

const MAX_DEPTH = 6;
const MAX_BYTES_SHOWN = 256;

/** The fields as plain JSON-friendly data; reserved keys become `field_<key>`. */
export function safeFields(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (fields === undefined) return out;
  const seen = new WeakSet<object>();
  for (const [key, value] of Object.entries(fields)) out[RESERVED.has(key) ? `field_${key}` : key] = safeValue(value, seen, 0);
  return out;
}

function safeValue(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return bytesText(value);
  if (value instanceof Error) return errorFields(value, seen, depth);
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => safeValue(v, seen, depth + 1));
    if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), safeValue(v, seen, depth + 1)]));
    if (value instanceof Set) return [...value].map((v) => safeValue(v, seen, depth + 1));
    if (value instanceof Date) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = safeValue(v, seen, depth + 1);
    return out;
  } finally {
    seen.delete(value); // the same object twice side by side is not a cycle
  }
}

function bytesText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, MAX_BYTES_SHOWN)).toString('hex');
  return bytes.length > MAX_BYTES_SHOWN ? `${hex}... (${bytes.length} bytes)` : hex;
}

function errorFields(error: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = safeValue(code, seen, depth + 1);
  if (error.stack !== undefined) out.stack = error.stack;
  if (error.cause !== undefined && depth < MAX_DEPTH) out.cause = safeValue(error.cause, seen, depth + 1);
  return out;
}

// ---- text from peers -------------------------------------------------------------------------

/** Longest switch- or client-supplied string copied into a log line or an event, by default. */
export const PEER_TEXT_MAX = 256;

/**
 * Text a peer chose (a switch's description or error data, an HTTP header) made fit for a log
 * line or an event: control characters, and the bidirectional overrides that make a terminal show
 * something else than what is there, escaped as \xNN / \uNNNN; cut after `max` characters with the
 * length that was left out.
 */
export function peerText(text: string, max = PEER_TEXT_MAX): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\\]/g, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return text.length > max ? `${escaped}...(+${text.length - max} chars)` : escaped;
}

// ---- rate limiting -------------------------------------------------------------------------

export interface RateLimitOptions {
  /** Lines per key and window that are written; the rest are counted. Default 5. */
  readonly burst?: number;
  /** Window length. Default 10 s. */
  readonly windowMs?: number;
  /** Keys remembered at most (the oldest is forgotten first). Default 1024. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

type Level = Exclude<LogLevel, 'silent'>;

interface Window {
  start: number;
  written: number;
  suppressed: number;
}

/**
 * Repeated lines about the same thing (one peer's undecodable messages, say) logged at most
 * `burst` times per window and key; the next line after a window in which some were held back
 * says how many (`suppressed`). Memory is bounded by `maxKeys`, so a peer cannot grow it by
 * inventing keys.
 */
export class RateLimitedLog {
  private readonly windows = new Map<string, Window>();
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** Lines held back so far, over all keys (for a metric). */
  suppressedTotal = 0;

  constructor(private readonly log: Logger, options: RateLimitOptions = {}) {
    this.burst = options.burst ?? 5;
    this.windowMs = options.windowMs ?? 10_000;
    this.maxKeys = options.maxKeys ?? 1024;
    this.now = options.now ?? Date.now;
  }

  trace(key: string, msg: string, fields?: LogFields): boolean { return this.write('trace', key, msg, fields); }
  debug(key: string, msg: string, fields?: LogFields): boolean { return this.write('debug', key, msg, fields); }
  info(key: string, msg: string, fields?: LogFields): boolean { return this.write('info', key, msg, fields); }
  warn(key: string, msg: string, fields?: LogFields): boolean { return this.write('warn', key, msg, fields); }
  error(key: string, msg: string, fields?: LogFields): boolean { return this.write('error', key, msg, fields); }

  /** Writes the line unless this key is over its budget; returns whether it was written. */
  write(level: Level, key: string, msg: string, fields?: LogFields): boolean {
    if (!this.log.isLevelEnabled(level)) return false;
    const now = this.now();
    let w = this.windows.get(key);
    if (w !== undefined && now - w.start >= this.windowMs) {
      const suppressed = w.suppressed;
      this.windows.delete(key);
      w = undefined;
      if (suppressed > 0) fields = { ...fields, suppressed };
    }
    if (w === undefined) {
      w = { start: now, written: 0, suppressed: 0 };
      this.windows.set(key, w);
      if (this.windows.size > this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    }
    if (w.written >= this.burst) {
      w.suppressed++;
      this.suppressedTotal++;
      return false;
    }
    w.written++;
    this.log[level](msg, fields);
    return true;
  }
}
