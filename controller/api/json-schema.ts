// A small JSON Schema checker for the subset our OpenAPI document uses: type (or a list of
// types), enum, properties / required / additionalProperties, items, minimum / maximum,
// minLength, pattern, format ipv4, and local $ref. Errors name the path, e.g. "body.ttlMs".

import { isIpv4 } from '../packet/address.js';

export interface Schema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly description?: string;
  readonly example?: unknown;
}

export type SchemaResolver = (ref: string) => Schema | undefined;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeAllowed(actual: string, wanted: string | readonly string[]): boolean {
  const list = typeof wanted === 'string' ? [wanted] : wanted;
  return list.includes(actual) || (actual === 'integer' && list.includes('number'));
}

/** Returns the problems found (empty = valid). */
export function validate(value: unknown, schema: Schema, resolve: SchemaResolver, path = 'body'): string[] {
  if (schema.$ref !== undefined) {
    const target = resolve(schema.$ref);
    return target === undefined ? [`${path}: unknown schema ${schema.$ref}`] : validate(value, target, resolve, path);
  }
  const t = typeOf(value);
  if (schema.type !== undefined && !typeAllowed(t, schema.type)) return [`${path}: must be ${[schema.type].flat().join(' or ')}`];
  if (schema.enum !== undefined && !schema.enum.includes(value)) return [`${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`];
  if (typeof value === 'number') return checkNumber(value, schema, path);
  if (typeof value === 'string') return checkString(value, schema, path);
  if (Array.isArray(value)) return schema.items === undefined ? [] : value.flatMap((v, i) => validate(v, schema.items!, resolve, `${path}[${i}]`));
  if (t === 'object') return checkObject(value as Record<string, unknown>, schema, resolve, path);
  return [];
}

function checkNumber(v: number, s: Schema, path: string): string[] {
  if (s.minimum !== undefined && v < s.minimum) return [`${path}: must be >= ${s.minimum}`];
  if (s.maximum !== undefined && v > s.maximum) return [`${path}: must be <= ${s.maximum}`];
  return [];
}

function checkString(v: string, s: Schema, path: string): string[] {
  if (s.minLength !== undefined && v.length < s.minLength) return [`${path}: must not be empty`];
  if (s.format === 'ipv4' && !isIpv4(v)) return [`${path}: must be an IPv4 address, got ${JSON.stringify(v)}`];
  if (s.pattern !== undefined && !new RegExp(s.pattern).test(v)) return [`${path}: must match ${s.pattern}`];
  return [];
}

function checkObject(v: Record<string, unknown>, s: Schema, resolve: SchemaResolver, path: string): string[] {
  const problems: string[] = [];
  for (const key of s.required ?? []) if (!(key in v)) problems.push(`${path}.${key}: required`);
  for (const [key, child] of Object.entries(v)) {
    const prop = s.properties?.[key];
    if (prop !== undefined) problems.push(...validate(child, prop, resolve, `${path}.${key}`));
    else if (s.additionalProperties === false) problems.push(`${path}.${key}: unknown property`);
    else if (typeof s.additionalProperties === 'object') problems.push(...validate(child, s.additionalProperties, resolve, `${path}.${key}`));
  }
  return problems;
}
