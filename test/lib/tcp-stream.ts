// A paced, checkable TCP stream between two Mininet hosts (topologies/case-study/stream.py): every
// byte in order or not, resets, and the receiver's timeline ([epoch s, cumulative bytes] per ms
// with deliveries), from which progress in a window and the longest gap are read.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Timeline } from '../../topologies/case-study/measure.js';
import { HOST_PYTHON, TCP_STREAM, type HostProcess, type MininetDriver } from '../../topologies/mininet-driver.js';

export interface StreamResult {
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly inOrder: boolean;
  readonly senderError: string | null;
  readonly receiverError: string | null;
  /** Resets sent by either end's namespace during the stream. */
  readonly resets: number;
  readonly timeline: Timeline;
}

export class TcpStream {
  private constructor(
    private readonly dir: string,
    private readonly receiver: HostProcess,
    private readonly sender: HostProcess,
    readonly from: string,
    readonly to: string,
  ) {}

  /** Starts the receiver on `to` and the sender on `from` (to `toIp`); resolves once connected. */
  static async start(net: MininetDriver, options: { from: string; to: string; toIp: string; port: number; rate?: number; lingerS?: number }): Promise<TcpStream> {
    const dir = mkdtempSync(join(tmpdir(), 'seamless-stream-'));
    const receiver = net.spawn(options.to, `${HOST_PYTHON} ${TCP_STREAM} serve --port ${options.port} --out ${join(dir, 'rx.json')}`);
    await receiver.waitForLine(/listening/);
    const sender = net.spawn(options.from, `${HOST_PYTHON} ${TCP_STREAM} send --host ${options.toIp} --port ${options.port} --rate ${options.rate ?? 100_000} --duration 3600 --linger ${options.lingerS ?? 30} --stop-file ${join(dir, 'stop')}`);
    await sender.waitForLine(/connected/, 15_000);
    return new TcpStream(dir, receiver, sender, options.from, options.to);
  }

  /** Bytes the receiver got between two instants (epoch ms), from its timeline (written when it ends). */
  static delivered(timeline: Timeline, fromMs: number, toMs: number): number {
    let before = 0;
    let after = 0;
    for (const [t, bytes] of timeline) {
      if (t * 1000 <= fromMs) before = bytes;
      if (t * 1000 <= toMs) after = bytes;
    }
    return after - before;
  }

  /** Stops sending, waits for both ends to finish (every byte read), and reads the results. */
  async finish(timeoutMs = 60_000): Promise<StreamResult> {
    writeFileSync(join(this.dir, 'stop'), '');
    try {
      await this.sender.wait(timeoutMs);
      await this.receiver.wait(timeoutMs);
      const tx = JSON.parse(this.sender.stdout.at(-1) ?? '{}') as { bytes?: number; error?: string | null; counters?: { outRsts?: number; estabResets?: number } };
      const rx = JSON.parse(readFileSync(join(this.dir, 'rx.json'), 'utf8')) as { bytes?: number; inOrder?: boolean; error?: string | null; counters?: { outRsts?: number }; timeline?: Array<[number, number]> };
      return {
        bytesSent: tx.bytes ?? -1, bytesReceived: rx.bytes ?? -1, inOrder: rx.inOrder === true,
        senderError: tx.error ?? null, receiverError: rx.error ?? null,
        resets: (tx.counters?.outRsts ?? 0) + (tx.counters?.estabResets ?? 0),
        timeline: rx.timeline ?? [],
      };
    } finally {
      await this.kill();
    }
  }

  async kill(): Promise<void> {
    await this.sender.kill().catch(() => undefined);
    await this.receiver.kill().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
