// The soak benchmark's hostile load on the HTTP API: malformed and invalid requests (never a
// valid one that would change state: the migrating VM's binding must stay), raw bytes that are
// not HTTP, oversized headers and bodies, a slow request, and event-stream clients that never read.

import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { sleep } from '../switch-emulator.js';
import type { Attack, AttackContext } from './attacks.js';

interface BadRequest {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

const json = { 'content-type': 'application/json' };

/** Requests the API must refuse with a 4xx; none names the lab's VM (10.0.1.10) or a real intent. */
export const BAD_REQUESTS: readonly BadRequest[] = [
  { name: 'intent: not JSON', method: 'POST', path: '/api/intents', body: '{"mac": 02:00', headers: json },
  { name: 'intent: wrong types', method: 'POST', path: '/api/intents', body: '{"mac":"zz","toDpid":-1,"toPort":"x"}', headers: json },
  { name: 'intent: all-zero MAC', method: 'POST', path: '/api/intents', body: '{"mac":"00:00:00:00:00:00","toDpid":"0000000000000002","toPort":10}', headers: json },
  { name: 'intent: proto pollution', method: 'POST', path: '/api/intents', body: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', headers: json },
  { name: 'intent: 2 MB body', method: 'POST', path: '/api/intents', body: `{"mac":"${'a'.repeat(2 * 2 ** 20)}"}`, headers: json },
  { name: 'intent: wrong content type', method: 'POST', path: '/api/intents', body: 'mac=1', headers: { 'content-type': 'text/xml' } },
  { name: 'binding: not an address', method: 'GET', path: '/api/bindings/999.1.1.1' },
  { name: 'binding: control bytes', method: 'GET', path: '/api/bindings/%00%ff%1b%5b31m' },
  { name: 'binding: delete an unbound EID', method: 'DELETE', path: '/api/bindings/10.0.99.99' },
  { name: 'intent: delete garbage', method: 'DELETE', path: '/api/intents/..%2f..%2fetc' },
  { name: 'switch: not a dpid', method: 'GET', path: '/api/switches/zzzz/flows' },
  { name: 'switch: unknown dpid', method: 'GET', path: '/api/switches/00000000deadbeef/flows' },
  { name: 'events: Last-Event-ID not a number', method: 'GET', path: '/api/events?lastEventId=abc' },
  { name: 'path traversal', method: 'GET', path: '/../../../etc/passwd' },
  { name: 'unknown route', method: 'GET', path: `/api/${'x'.repeat(4000)}` },
  { name: 'wrong method', method: 'PUT', path: '/api/health' },
  { name: 'events: bad Last-Event-ID', method: 'GET', path: '/api/events?lastEventId=-1e309' },
];

/** Raw bytes on a fresh connection: not HTTP, or HTTP with a 100 KB header. */
const RAW: readonly { name: string; bytes: string }[] = [
  // fetch() drops a Host header it is given: a foreign Host (DNS rebinding) goes raw.
  { name: 'raw: foreign Host', bytes: 'GET /api/bindings HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n' },
  { name: 'raw: not HTTP', bytes: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GARBAGE\r\n\r\n' },
  { name: 'raw: 100 KB header', bytes: `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(100_000)}\r\n\r\n` },
  { name: 'raw: bad chunked body', bytes: 'POST /api/intents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n' },
  { name: 'raw: smuggling headers', bytes: 'POST /api/intents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
];

function rawExchange(port: number, bytes: string, holdMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = () => { socket.destroy(); resolve(answer); };
    socket.on('error', done);
    socket.on('data', (d: Buffer) => { answer += d.toString('latin1').slice(0, 200); });
    socket.on('close', done);
    socket.once('connect', () => socket.write(Buffer.from(bytes, 'latin1')));
    setTimeout(done, holdMs);
  });
}

const statusOf = (answer: string) => /^HTTP\/1\.1 (\d)\d\d/.exec(answer)?.[1] ?? 'no answer, ';

/** ~10 bad requests a second, round robin; answers counted by status class (5xx: worth a look). */
export const badHttp: Attack = async (ctx) => {
  const base = `http://127.0.0.1:${ctx.httpPort}`;
  let n = 0;
  while (!ctx.stopped()) {
    const i = n++;
    if (i % 10 === 9) {
      const raw = RAW[Math.floor(i / 10) % RAW.length]!;
      const status = statusOf(await rawExchange(ctx.httpPort, raw.bytes, 2000));
      ctx.tally.add(`HTTP ${status}xx (raw bytes)`.replace(', xx', ''));
      if (status === '2') ctx.tally.add(`HTTP 2xx: ${raw.name}`);
    } else if (i % 50 === 25) {
      // A slow request: the headers, a byte at a time, never finished (held 5 s).
      ctx.tally.add(`HTTP ${statusOf(await slowRequest(ctx))}xx (slow headers, held 5 s)`.replace(', xx', ''));
    } else {
      const r = BAD_REQUESTS[i % BAD_REQUESTS.length]!;
      const status = await send(base, r);
      ctx.tally.add(status === 0 ? 'HTTP no answer within 5 s' : `HTTP ${Math.floor(status / 100)}xx`);
      // Anything but a refusal is worth a look (a 503 from /api/events: its client cap is full).
      if (status >= 500 || status < 400) ctx.tally.add(`HTTP ${status || 'no answer'}: ${r.name}`);
    }
    await sleep(100);
  }
};

async function send(base: string, r: BadRequest): Promise<number> {
  try {
    const response = await fetch(base + r.path, { method: r.method, headers: r.headers ?? {}, ...(r.body === undefined ? {} : { body: r.body }), signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

async function slowRequest(ctx: AttackContext): Promise<string> {
  const text = 'GET /api/bindings HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: ctx.httpPort });
    let answer = '';
    let i = 0;
    const timer = setInterval(() => { if (i < text.length) socket.write(text[i++]!); }, 100);
    const done = () => { clearInterval(timer); socket.destroy(); resolve(answer); };
    socket.on('data', (d: Buffer) => { answer += d.toString('latin1').slice(0, 200); });
    socket.on('error', done);
    socket.on('close', done);
    setTimeout(done, 5000);
  });
}

/**
 * Event-stream clients that never read (half of them asking for a replay of everything kept),
 * `count` at a time, each replaced when the controller drops it; more than its client cap.
 */
export function sseNonReaders(count: number): Attack {
  return async (ctx) => {
    const live = new Set<Socket>();
    let n = 0;
    while (!ctx.stopped()) {
      while (live.size < count && !ctx.stopped()) {
        const socket = connect({ host: '127.0.0.1', port: ctx.httpPort });
        socket.on('error', () => undefined);
        const replay = n++ % 2 === 0 ? '?lastEventId=0' : '';
        socket.once('connect', () => {
          socket.write(`GET /api/events${replay} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
          socket.pause(); // never reads
        });
        ctx.tally.add('event-stream clients that never read');
        live.add(socket);
        socket.once('close', () => { live.delete(socket); ctx.tally.add('event-stream clients closed by the controller'); });
      }
      await sleep(1000);
    }
    for (const s of live) { s.removeAllListeners('close'); s.destroy(); }
  };
}
