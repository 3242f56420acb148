// The OpenAPI 3.1 description of the API. Its component schemas are also what request bodies
// are validated against (json-schema.ts) and what the tests check responses with.

import type { Schema } from './json-schema.js';

const DPID = '^(0x)?[0-9a-fA-F]{1,16}$|^([0-9a-fA-F]{2}:){7}[0-9a-fA-F]{2}$';
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const num: Schema = { type: 'number' };
const bool: Schema = { type: 'boolean' };
const ipv4: Schema = { type: 'string', format: 'ipv4' };
const dpidText: Schema = { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'Datapath id, 16 hex digits' };
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const arrayOf = (items: Schema): Schema => ({ type: 'array', items });
const nullable = (s: Schema): Schema => ({ ...s, type: [s.type as string, 'null'] });

/** A closed object: every listed property is required unless named in `optional`. */
function object(properties: Record<string, Schema>, optional: string[] = []): Schema {
  return { type: 'object', properties, required: Object.keys(properties).filter((k) => !optional.includes(k)), additionalProperties: false };
}

export const SCHEMAS: Readonly<Record<string, Schema>> = {
  Error: object({ error: str, message: str }),
  Health: object({ status: { type: 'string', enum: ['ok'] }, uptimeSec: num, switches: int, bindings: int }),
  Version: object({ name: str, version: str, openflow: str, node: str }),
  Port: object({ portNo: int, name: str, hwAddr: str, up: bool, linkDown: bool, adminDown: bool, currSpeedKbps: int }),
  Switch: object({
    dpid: dpidText, remote: str, state: str, tables: nullable(int),
    desc: { type: ['object', 'null'], properties: { manufacturer: str, hardware: str, software: str, datapath: str } },
    subnet: nullable(str), routerPort: nullable(int), uplinkPorts: arrayOf(int), ports: arrayOf(ref('Port')),
  }),
  Flow: object({
    table: int, priority: int, cookie: str, kind: { type: 'string', enum: ['binding', 'base', 'learner', 'foreign'] },
    binding: nullable(str), match: str, instructions: str, idleTimeout: int, hardTimeout: int,
    packets: int, bytes: int, durationSec: num, text: str,
  }),
  Table: object({ table: int, active: int, lookups: int, matched: int }),
  Locator: object({ subnet: str, dpid: dpidText, port: int, address: ipv4 }),
  Binding: object({
    id: int, eid: ipv4, mac: str, homeSubnet: str, locator: ref('Locator'), version: int, lastSeen: num, createdAt: num, away: bool,
  }),
  Subnet: object({
    name: str, prefix: str, gateway: object({ ip: ipv4, mac: nullable(str) }),
    edges: arrayOf(object({ dpid: dpidText, routerPort: nullable(int), uplinkPorts: arrayOf(int), connected: bool })),
    pool: object({ range: str, size: int, used: int, available: int }),
  }),
  Migration: object({
    id: int, eid: ipv4, mac: str, from: ref('Locator'), to: ref('Locator'), version: int, reason: str, trigger: str,
    detectedAt: num, reconvergenceMs: num, confirmMs: num, rounds: int, releaseMs: num, flowMods: int, switches: int, failures: arrayOf(str),
  }),
  Intent: object({ eid: ipv4, toDpid: nullable(dpidText), toSubnet: nullable(str), expiresAt: num }),
  IntentRequest: {
    ...object({
      eid: { ...ipv4, description: 'The VM about to move' },
      toDpid: { type: ['string', 'integer'], pattern: DPID, minimum: 0, description: 'Target edge switch: hex datapath id or a number' },
      toSubnet: { type: 'string', minLength: 1, description: 'Target subnet name' },
      ttlMs: { type: 'integer', minimum: 1, maximum: 3_600_000, description: 'How long the intent lives (default 30000)' },
    }, ['toDpid', 'toSubnet', 'ttlMs']),
    example: { eid: '10.0.1.10', toDpid: '0000000000000002', ttlMs: 30000 },
  },
};

export function resolveSchema(ref: string): Schema | undefined {
  const prefix = '#/components/schemas/';
  return ref.startsWith(prefix) ? SCHEMAS[ref.slice(prefix.length)] : undefined;
}

const json = (schema: Schema, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), json(ref('Error'), ERROR_TEXT[c])]));
const ERROR_TEXT: Record<number, string> = {
  400: 'Bad input (malformed JSON, bad IP, bad datapath id, schema violation)',
  401: 'Missing or wrong bearer token', 404: 'Unknown switch or binding', 409: 'Conflict with the current state',
  413: 'Request body too large', 502: 'The switch did not answer',
};
const dpidParam = { name: 'dpid', in: 'path', required: true, schema: { type: 'string', pattern: DPID }, description: 'Datapath id (hex, 0x..., or colon form)' };
const eidParam = { name: 'eid', in: 'path', required: true, schema: ipv4, description: 'Endpoint IPv4 address' };
const secured = [{ bearer: [] }];

export function openApiDocument(version: string): object {
  return {
    openapi: '3.1.0',
    info: { title: 'Seamless controller API', version, description: 'Switches, flow tables, bindings, subnets, migrations and intents of the Seamless OpenFlow controller.' },
    servers: [{ url: '/' }],
    components: {
      schemas: SCHEMAS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Required on mutating calls when http.token is configured' } },
    },
    paths: {
      '/api/health': { get: { summary: 'Liveness and a short summary', responses: { 200: json(ref('Health')) } } },
      '/api/version': { get: { summary: 'Controller version', responses: { 200: json(ref('Version')) } } },
      '/api/switches': { get: { summary: 'Connected switches with ports, subnet and router port', responses: { 200: json(arrayOf(ref('Switch'))) } } },
      '/api/switches/{dpid}': { get: { summary: 'One switch', parameters: [dpidParam], responses: { 200: json(ref('Switch')), ...errors(400, 404) } } },
      '/api/switches/{dpid}/flows': {
        get: {
          summary: 'Flow table read live from the switch (multipart flow stats), in ovs-ofctl notation',
          parameters: [dpidParam, { name: 'table', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 254 } }],
          responses: { 200: json(arrayOf(ref('Flow'))), ...errors(400, 404, 502) },
        },
      },
      '/api/switches/{dpid}/tables': {
        get: {
          summary: 'Table stats read live from the switch (tables in use; ?all=1 for every table)',
          parameters: [dpidParam, { name: 'all', in: 'query', required: false, schema: { type: 'string', enum: ['0', '1'] } }],
          responses: { 200: json(arrayOf(ref('Table'))), ...errors(400, 404, 502) },
        },
      },
      '/api/bindings': { get: { summary: 'Every binding (EID -> locator)', responses: { 200: json(arrayOf(ref('Binding'))) } } },
      '/api/bindings/{eid}': {
        get: { summary: 'One binding', parameters: [eidParam], responses: { 200: json(ref('Binding')), ...errors(400, 404) } },
        delete: {
          summary: 'Remove a stale binding and its rules', security: secured, parameters: [eidParam],
          responses: { 200: json(ref('Binding'), 'The removed binding'), ...errors(400, 401, 404, 409) },
        },
      },
      '/api/subnets': { get: { summary: 'Managed subnets with edges, gateway and locator pool usage', responses: { 200: json(arrayOf(ref('Subnet'))) } } },
      '/api/migrations': { get: { summary: 'Completed migrations, oldest first', responses: { 200: json(arrayOf(ref('Migration'))) } } },
      '/api/intents': {
        get: { summary: 'Live migration intents', responses: { 200: json(arrayOf(ref('Intent'))) } },
        post: {
          summary: 'Announce that a VM is about to move', security: secured,
          requestBody: { required: true, content: { 'application/json': { schema: ref('IntentRequest') } } },
          responses: { 201: json(ref('Intent'), 'Registered'), ...errors(400, 401, 404, 409, 413) },
        },
      },
      '/api/events': {
        get: {
          summary: 'Server-sent events: switch-up, switch-down, switch-error, binding-added, binding-moved, binding-removed, migration-completed, conflict, rules-updated (send Last-Event-ID to resume)',
          responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: str } } } },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1 document' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics (text format 0.0.4)', responses: { 200: { description: 'text/plain', content: { 'text/plain': { schema: str } } } } } },
    },
  };
}
