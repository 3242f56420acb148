/** Connecting to the unix sockets QEMU listens on (QMP, the guest agent's port), which appear a moment after QEMU starts. */
import { connect, type Socket } from 'node:net';

export function openUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Connect, retrying every 50 ms while the socket is missing or refuses, until `timeoutMs`. */
export async function openUnixWhenReady(path: string, timeoutMs: number, what: string): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await openUnix(path);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`cannot open ${what} at ${path}: ${(error as Error).message}`);
      await sleep(50);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
