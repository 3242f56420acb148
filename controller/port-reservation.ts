// Holding a listening port while the controller starts: the OpenFlow and HTTP ports are bound
// before the state dir is opened, so a second instance fails on its ports before it touches
// the binding store. The servers proper take the ports over once the store is loaded (they
// need it); in between, connections are refused as if nothing listened yet (switches retry).
// Between release() and the server's listen() (the same tick of start-up) another process could
// take the port; the server's listen then fails and start-up stops, after the store was opened
// under its lock, so nothing is corrupted. Listeners that could bind first and start serving
// later would close that window, at the price of changes in switch/ and api/.

import { createServer, type Server } from 'node:net';

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

export interface PortReservation {
  /** Frees the port for the server that takes it over. */
  release(): Promise<void>;
}

/** Binds host:port (nothing to hold for port 0, which the server picks itself). */
export async function reservePort(what: string, host: string, port: number): Promise<PortReservation> {
  if (port === 0) return { release: async () => undefined };
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new PortInUseError(`${what} port ${host}:${port} is already in use (another controller running?); the state dir was not touched`)
        : error);
    });
    server.listen(port, host, () => resolve());
  });
  return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Reserves every port or none. */
export async function reservePorts(ports: ReadonlyArray<{ what: string; host: string; port: number }>): Promise<PortReservation> {
  const results = await Promise.allSettled(ports.map((p) => reservePort(p.what, p.host, p.port)));
  const held = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const release = async () => { await Promise.all(held.map((r) => r.release())); };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await release();
    throw failed.reason;
  }
  return { release };
}
