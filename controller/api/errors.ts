// Every failure leaves as {"error": "<code>", "message": "..."}: the handlers throw ApiErrors;
// Fastify's own errors (validation, body parsing, size, media type) are mapped onto the same
// codes; anything unexpected is logged with the request id and answered with a generic 500 that
// names that id, never with the error's own message.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log.js';
import { describeErrors } from './validation.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly error: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export const badRequest = (message: string) => new ApiError(400, 'bad_request', message);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);

/** The error codes by status (docs/api.md lists them). */
export const ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request', 401: 'unauthorized', 404: 'not_found', 405: 'method_not_allowed', 408: 'request_timeout',
  409: 'conflict', 413: 'payload_too_large', 431: 'headers_too_large', 415: 'unsupported_media_type', 421: 'misdirected_request',
  500: 'internal', 502: 'switch_unavailable', 503: 'service_unavailable',
};

export const ERROR_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad input (malformed JSON, schema violation, bad IPv4 address or datapath id)',
  401: 'Missing or wrong token',
  404: 'Unknown switch, binding or path',
  405: 'Method not allowed on this path (see Allow)',
  409: 'Conflict with the current state',
  413: 'Request body over 64 KiB',
  415: 'Request body is not application/json',
  421: 'Host header not served here (DNS rebinding guard)',
  500: 'Internal error (logged under requestId)',
  502: 'The switch did not answer',
  503: 'Too many event-stream clients',
};

export function sendError(reply: FastifyReply, status: number, message: string, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers({ 'cache-control': 'no-store', ...headers }).type('application/json; charset=utf-8')
    .send({ error: ERROR_CODES[status] ?? 'error', message });
}

/** Maps an error thrown anywhere in a request onto the JSON error shape; unknown paths are 404s. */
export function installErrorHandler(app: FastifyInstance, log: Logger): void {
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, `nothing at ${request.url.split('?')[0]!.slice(0, 200)}`));
  app.setErrorHandler((error: FastifyError | ApiError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ApiError) return sendError(reply, error.status, error.message, error.headers);
    const known = frameworkError(error as FastifyError);
    if (known !== undefined) return sendError(reply, known.status, known.message);
    log.error('request failed', { requestId: request.id, method: request.method, url: request.url.slice(0, 200), error });
    return reply.code(500).header('cache-control', 'no-store').type('application/json; charset=utf-8')
      .send({ error: 'internal', message: `internal error; it is logged under request id ${request.id}`, requestId: request.id });
  });
}

function frameworkError(error: FastifyError): { status: number; message: string } | undefined {
  if (error.validation !== undefined) {
    return { status: 400, message: describeErrors(error.validation as Parameters<typeof describeErrors>[0], error.validationContext ?? 'body').join('; ') };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return { status: 400, message: 'a JSON body is required' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return { status: 400, message: 'malformed JSON' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return { status: 413, message: 'request body over 64 KiB' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return { status: 415, message: 'request bodies must be application/json' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return { status: 400, message: 'request body size did not match Content-Length' };
    case 'FST_ERR_BAD_URL': return { status: 400, message: 'malformed URL' };
    case 'FST_ERR_CTP_INVALID_CONTENT_TYPE': return { status: 415, message: 'malformed Content-Type' };
    default: break;
  }
  // Errors with a 4xx status raised by the framework or a plugin (e.g. @fastify/static) keep it.
  const status = error.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && ERROR_CODES[status] !== undefined) return { status, message: ERROR_TEXT[status] ?? 'bad request' };
  return undefined;
}

/**
 * What Node's parser rejects before a request exists (a malformed request line, headers too large,
 * the header or request timeout): answered in the same JSON shape, then the connection is closed.
 */
export function clientErrorResponse(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'the request did not arrive in time']
    : error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'request headers too large']
      : [400, 'malformed HTTP request'];
  const body = JSON.stringify({ error: ERROR_CODES[status], message });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
