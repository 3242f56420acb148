// The command line: node:util.parseArgs in strict mode over the flags a convict schema declares
// (`arg`), and the --help text generated from the same schema (doc, env, default). Booleans take
// `--x`, `--x=true|false`, `--x true|false` and `--no-x`; the value is left as text for the
// schema's format to check ("banana" is refused there).

import { parseArgs } from 'node:util';

/** The convict format name of boolean settings (config.ts defines it). */
export const BOOLEAN_FORMAT = 'seamless-boolean';

/** One setting of the schema, as --help shows it and the flag parser maps it. */
export interface Setting {
  readonly path: string;
  readonly doc: string;
  readonly arg: string | undefined;
  readonly env: string | undefined;
  readonly default: unknown;
  readonly boolean: boolean;
  readonly sensitive: boolean;
}

function settings(def: object, prefix = ''): Setting[] {
  return Object.entries(def).flatMap(([key, node]): Setting[] => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return [];
    if (!('default' in node)) return settings(node, path);
    const field = (name: string): unknown => (node as Record<string, unknown>)[name];
    const text = (name: string) => (typeof field(name) === 'string' ? (field(name) as string) : undefined);
    return [{
      path, doc: text('doc') ?? '', arg: text('arg'), env: text('env'), default: field('default'),
      boolean: field('format') === BOOLEAN_FORMAT, sensitive: field('sensitive') === true,
    }];
  });
}

/** `--x` alone, `--x true|false` and `--no-x` of a boolean setting, all as `--x=value`. */
function normaliseBooleans(argv: readonly string[], booleans: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') { out.push(...argv.slice(i)); break; }
    const name = word.startsWith('--') ? word.slice(2) : '';
    if (name.startsWith('no-') && booleans.has(name.slice(3))) out.push(`--${name.slice(3)}=false`);
    else if (booleans.has(name)) {
      const next = argv[i + 1];
      if (next === 'true' || next === 'false') { out.push(`--${name}=${next}`); i++; } else out.push(`--${name}=true`);
    } else out.push(word);
  }
  return out;
}

export interface Flags {
  readonly help: boolean;
  readonly version: boolean;
  readonly config: string | undefined;
  /** Each flag given, by the setting it sets: the text as typed (the schema's formats coerce it). */
  readonly values: ReadonlyMap<Setting, string>;
}

/** Reads the flags strictly; throws an Error whose message names the option (and its key). */
export function parseFlags(argv: readonly string[], def: object): Flags {
  const all = settings(def);
  const byArg = new Map(all.filter((s) => s.arg !== undefined).map((s) => [s.arg!, s]));
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, config: { type: 'string' },
  };
  for (const arg of byArg.keys()) options[arg] = { type: 'string' };
  const booleans = new Set(all.filter((s) => s.boolean && s.arg !== undefined).map((s) => s.arg!));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: normaliseBooleans(argv, booleans), options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new Error(argumentProblem(error as Error & { code?: string }, byArg));
  }
  const values = new Map<Setting, string>();
  for (const [arg, setting] of byArg) {
    const value = parsed.values[arg];
    if (typeof value === 'string') values.set(setting, value);
  }
  const config = parsed.values.config;
  if (config === '') throw new Error('--config needs a file path');
  return { help: parsed.values.help === true, version: parsed.values.version === true, config: typeof config === 'string' ? config : undefined, values };
}

function argumentProblem(error: Error & { code?: string }, byArg: ReadonlyMap<string, Setting>): string {
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? '';
  const option = quoted.split(' ')[0] ?? '';
  const setting = byArg.get(option.replace(/^-+/, ''));
  const named = setting === undefined ? option : `${option} (${setting.path})`;
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option ${option} (see --help)`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': return `unexpected argument ${JSON.stringify(quoted)}: options start with -- (see --help)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (error.message.includes('ambiguous')) return `${named} needs a value; for a value starting with "-" write ${option}=VALUE`;
      if (option === '--config') return '--config needs a file path';
      return error.message.includes('missing') ? `${named} needs a value` : `${named}: ${error.message}`;
    default: return error.message;
  }
}

/** The --help text: every setting of the schema with its flag, environment variable and default. */
export function usage(title: string, def: object): string {
  const shown = (s: Setting) => (s.sensitive ? (s.default === null ? 'unset' : '(hidden)') : s.default === null ? 'unset' : JSON.stringify(s.default));
  const lines = [
    title,
    '',
    'Usage: seamless [options]',
    '',
    'Settings come from, later winning: defaults < a JSON file (--config PATH or SEAMLESS_CONFIG) < environment < flags.',
    'Boolean flags: --name, --name=true|false, --no-name.',
    '',
    `  ${'-h, --help'.padEnd(42)} print this help and exit`,
    `  ${'--version'.padEnd(42)} print the version and exit`,
    `  ${'--config PATH'.padEnd(42)} a JSON configuration file (env SEAMLESS_CONFIG)`,
  ];
  let group = '';
  for (const s of settings(def)) {
    const top = s.path.split('.')[0]!;
    if (top !== group) lines.push('', `${top}:`);
    group = top;
    const flag = s.arg === undefined ? '(config file only)' : s.boolean ? `--${s.arg}, --no-${s.arg}` : `--${s.arg} VALUE`;
    lines.push(`  ${flag.padEnd(42)} ${s.path}`);
    lines.push(`      ${s.doc}`);
    lines.push(`      ${s.env === undefined ? '' : `env ${s.env}; `}default ${s.path === 'subnets' ? 'the reference lab (A, B, C on dpids 1, 2, 3)' : shown(s)}`);
  }
  return lines.join('\n') + '\n';
}
