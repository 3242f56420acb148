// Structured logging: one JSON object per line for machines, or a plain readable line for a
// terminal. A disabled level costs one integer comparison: nothing is formatted or allocated.

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
  /** A logger that adds `fields` to every line (the child's own fields win over the parent's). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Where finished lines go (without the trailing newline added by the default sink). */
  readonly sink?: (line: string) => void;
  readonly clock?: () => Date;
}

const SEVERITY: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 };

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const sink = options.sink ?? ((line: string) => void process.stdout.write(line + '\n'));
  const format = options.format === 'pretty' ? formatPretty : formatJson;
  return new LineLogger(options.level ?? 'info', {}, format, sink, options.clock ?? (() => new Date()));
}

type Formatter = (time: Date, level: LogLevel, msg: string, fields: LogFields) => string;

class LineLogger implements Logger {
  private readonly threshold: number;

  constructor(
    readonly level: LogLevel,
    private readonly bound: LogFields,
    private readonly format: Formatter,
    private readonly sink: (line: string) => void,
    private readonly clock: () => Date,
  ) {
    this.threshold = SEVERITY[level];
  }

  trace(msg: string, fields?: LogFields): void { if (this.threshold <= 10) this.write('trace', msg, fields); }
  debug(msg: string, fields?: LogFields): void { if (this.threshold <= 20) this.write('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { if (this.threshold <= 30) this.write('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { if (this.threshold <= 40) this.write('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { if (this.threshold <= 50) this.write('error', msg, fields); }
  fatal(msg: string, fields?: LogFields): void { if (this.threshold <= 60) this.write('fatal', msg, fields); }

  isLevelEnabled(level: LogLevel): boolean {
    return level !== 'silent' && SEVERITY[level] >= this.threshold;
  }

  child(fields: LogFields): Logger {
    return new LineLogger(this.level, { ...this.bound, ...fields }, this.format, this.sink, this.clock);
  }

  private write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const all = fields === undefined ? this.bound : { ...this.bound, ...fields };
    this.sink(this.format(this.clock(), level, msg, all));
  }
}

/** A logger that drops everything (handy default for libraries and tests). */
export const silentLogger: Logger = createLogger({ level: 'silent', sink: () => {} });

// ---- formats ----------------------------------------------------------------------------

const RESERVED = new Set(['time', 'level', 'msg']);

function formatJson(time: Date, level: LogLevel, msg: string, fields: LogFields): string {
  const record: Record<string, unknown> = { time: time.toISOString(), level, msg };
  for (const [key, value] of Object.entries(fields)) {
    record[RESERVED.has(key) ? `field_${key}` : key] = value;
  }
  return JSON.stringify(record, jsonValue);
}

function formatPretty(time: Date, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${time.toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [key, value] of Object.entries(fields)) {
    line += ` ${key}=${prettyValue(value)}`;
  }
  return line;
}

/** JSON.stringify replacer: bigints as decimal strings, errors as their useful parts. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return errorFields(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}

function errorFields(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.stack !== undefined) out.stack = error.stack;
  return out;
}

function prettyValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Error) return JSON.stringify(`${value.name}: ${value.message}`);
  if (value === undefined) return 'undefined';
  return JSON.stringify(value, jsonValue) ?? String(value);
}
