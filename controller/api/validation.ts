// Request validation with ajv in strict mode: an unknown keyword or format in a schema stops
// start-up, a key named like an Object.prototype member (`constructor`, `toString`) is an unknown
// property like any other, integers are bounded by 2^53-1 (checked when a schema is compiled),
// and nothing is silently removed or filled in. Bodies are not coerced ("5" is no integer); path
// and query parameters, which are text on the wire, are.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { COMPONENTS, DPID_FORMAT, DPID_PATTERN, MAX_SAFE } from './schemas.js';

// ajv-formats is CommonJS: under NodeNext its default import is module.exports, the plugin is `.default`.
const addFormats = addFormatsPlugin.default;

export function createAjv({ coerce }: { coerce: boolean }): Ajv {
  const ajv = new Ajv({
    strict: true,
    allErrors: false, // stop at the first problem: bounded work per request
    verbose: true, // errors carry the offending value (quoted, cut short, in messages)
    allowUnionTypes: true,
    coerceTypes: coerce,
    useDefaults: false,
    removeAdditional: false,
  });
  addFormats(ajv, ['ipv4']);
  ajv.addFormat(DPID_FORMAT, new RegExp(DPID_PATTERN));
  ajv.addKeyword({ keyword: 'example' }); // OpenAPI annotation
  return ajv;
}

/** Throws when an integer in `schema` is not bounded within ±(2^53-1): such a value would not round-trip. */
export function checkIntegersBounded(schema: unknown, where = 'schema'): void {
  if (schema === null || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  const types = [s.type].flat();
  if (types.includes('integer')) {
    const { minimum, maximum } = s;
    if (typeof maximum !== 'number' || maximum > MAX_SAFE || typeof minimum !== 'number' || minimum < -MAX_SAFE) {
      throw new Error(`${where}: an integer needs minimum and maximum within ±2^53-1 (Number.MAX_SAFE_INTEGER)`);
    }
  }
  for (const [key, child] of Object.entries(s)) {
    if (Array.isArray(child)) child.forEach((c, i) => checkIntegersBounded(c, `${where}.${key}[${i}]`));
    else if (child !== null && typeof child === 'object') checkIntegersBounded(child, `${where}.${key}`);
  }
}

/** Fastify's validator compiler: one ajv for bodies, a coercing one for parameters, query and headers. */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strictAjv = createAjv({ coerce: false });
  const coercingAjv = createAjv({ coerce: true });
  return ({ schema, httpPart, url, method }) => {
    checkIntegersBounded(schema, `${method} ${url} ${httpPart ?? 'schema'}`);
    const ajv = httpPart === 'body' ? strictAjv : coercingAjv;
    return ajv.compile(schema as object) as ValidateFunction;
  };
}

const checker = (() => {
  const ajv = createAjv({ coerce: false });
  for (const [name, schema] of Object.entries(COMPONENTS)) {
    checkIntegersBounded(schema, name);
    ajv.addSchema(schema);
  }
  // Compile each now: an unknown keyword or a dangling $ref fails here, at start-up.
  for (const name of Object.keys(COMPONENTS)) ajv.getSchema(name);
  return ajv;
})();

/** Checks a value against a schema (a component, or one referring to components); returns the problems. */
export function validate(value: unknown, schema: object, root = 'body'): string[] {
  const check = checker.compile(schema as object);
  return check(value) ? [] : describeErrors(check.errors ?? [], root);
}

// ---- error messages ----------------------------------------------------------------------------

const FORMAT_TEXT: Record<string, string> = {
  ipv4: 'must be an IPv4 address',
  [DPID_FORMAT]: 'must be a datapath id (16 hex digits, 0x..., or aa:bb:..)',
};

/** ajv's errors as `body.eid: must be an IPv4 address, got "10.0.1"`, most specific first. */
export function describeErrors(errors: readonly ErrorObject[], root: string): string[] {
  // Of a failed anyOf, the branch that failed for another reason than the type says most.
  const useful = errors.filter((e) => e.keyword !== 'anyOf');
  const specific = useful.filter((e) => e.keyword !== 'type');
  const chosen = specific.length > 0 && specific.length < useful.length ? specific : useful;
  return (chosen.length > 0 ? chosen : errors).map((e) => describe(e, root));
}

function describe(e: ErrorObject, root: string): string {
  const path = root + e.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`)).join('');
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': return `${path}.${String(params.missingProperty)}: required`;
    case 'additionalProperties': return `${path}.${String(params.additionalProperty)}: unknown property`;
    case 'format': {
      const text = FORMAT_TEXT[String(params.format)] ?? `must be ${String(params.format)}`;
      return `${path}: ${text}, got ${JSON.stringify(e.data ?? null) ?? 'nothing'}`.slice(0, 300);
    }
    default: return `${path}: ${e.message ?? e.keyword}`;
  }
}
