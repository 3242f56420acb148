// A scripted ovsdb-server on a unix socket in a temporary directory: the test reads what the client
// sent and writes whatever bytes it likes back (well-formed or not), and can vanish like a
// restarted ovsdb-server.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonMessageSplitter } from '../../../controller/ovsdb/index.js';
import { waitFor } from '../../lib/wait.js';

export interface ClientMessage {
  readonly id?: unknown;
  readonly method?: string;
  readonly params?: unknown[];
  readonly result?: unknown;
  readonly error?: unknown;
}

export class FakeOvsdbSession {
  readonly received: ClientMessage[] = [];
  closed = false;
  private readonly splitter = new JsonMessageSplitter();

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const text of this.splitter.push(chunk).messages) this.received.push(JSON.parse(text) as ClientMessage);
    });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => undefined);
  }

  /** Sends a message (an object) or raw text. */
  send(message: object | string): void {
    this.socket.write(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first request of `method` the client sent (waits for it). */
  request(method: string, timeoutMs = 3000): Promise<ClientMessage> {
    return waitFor(() => this.received.find((m) => m.method === method), { timeoutMs, what: `a ${method} request` });
  }

  /** Answers the client's monitor request with `initial` (its <table-updates>), plus `extra` raw text in the same write. */
  async replyToMonitor(initial: object, extra = ''): Promise<ClientMessage> {
    const request = await this.request('monitor');
    this.send(JSON.stringify({ id: request.id, result: initial, error: null }) + extra);
    return request;
  }

  end(): void {
    this.socket.destroy();
  }
}

export class FakeOvsdbServer {
  readonly sessions: FakeOvsdbSession[] = [];
  private constructor(private readonly server: Server, readonly path: string) {}

  static async listen(path?: string): Promise<FakeOvsdbServer> {
    const where = path ?? join(mkdtempSync(join(tmpdir(), 'seamless-ovsdb-')), 'db.sock');
    const server = createServer();
    const fake = new FakeOvsdbServer(server, where);
    server.on('connection', (socket) => fake.sessions.push(new FakeOvsdbSession(socket)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(where, resolve);
    });
    return fake;
  }

  session(index: number, timeoutMs = 3000): Promise<FakeOvsdbSession> {
    return waitFor(() => this.sessions[index], { timeoutMs, what: `client session #${index + 1}` });
  }

  /** Stops listening and drops every client: what a dying ovsdb-server does. */
  async close(): Promise<void> {
    for (const s of this.sessions) s.end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Removes the temporary directory (after close). */
  remove(): void {
    rmSync(join(this.path, '..'), { recursive: true, force: true });
  }
}
