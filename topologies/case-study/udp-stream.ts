// The numbered UDP stream (udp_stream.py) from a correspondent to the VM: what the network lost,
// and when. UDP is never retransmitted, so a missing number is a datagram the network dropped;
// the receiver names each with the send time of the last datagram before it, which puts the loss
// on the event (a move, a failover) it belongs to.

import { existsSync, writeFileSync } from 'node:fs';
import { topologyFile } from '../agent-channel.js';
import { doneLine, type HostProcess, type MininetDriver } from '../mininet-driver.js';
import { readJson } from './lab-vm.js';

const UDP_STREAM = topologyFile('case-study/udp_stream.py');
const PY = '/usr/bin/python3';

/** The numbered UDP stream: what was sent, what arrived. */
export interface UdpResult {
  readonly from: string;
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly reordered: number;
}

/** What a stream counted, and the send time (epoch s) of the datagram before each one lost (null: before the first). */
export interface UdpCount {
  readonly result: UdpResult;
  readonly missingAt: ReadonlyArray<number | null>;
}

export class UdpStream {
  private constructor(readonly from: string, private readonly receiver: HostProcess, private readonly sender: HostProcess,
    private readonly out: string, private readonly stopFile: string) {}

  /**
   * Waits for `receiver` (udp_stream.py serve writing to `out`, or the QEMU guest's) to listen, then starts the sender
   * on `from`: `pps` datagrams a second to `toIp:port` until `stopFile` exists.
   */
  static async start(net: MininetDriver, options: { from: string; receiver: HostProcess; out: string; toIp: string; port: number; pps: number; stopFile: string }): Promise<UdpStream> {
    const { from, receiver } = options;
    await receiver.waitForLine(/listening/);
    const sender = net.spawn(from, `${PY} ${UDP_STREAM} send --host ${options.toIp} --port ${options.port} --pps ${options.pps} --stop-file ${options.stopFile}`);
    await sender.waitForLine(/connected/);
    return new UdpStream(from, receiver, sender, options.out, options.stopFile);
  }

  /** Datagrams lost that were sent from `fromMs` up to `toMs` (epoch ms; by the send time of the datagram before each). */
  static lostBetween(count: UdpCount, fromMs: number, toMs: number): number {
    return UdpStream.lostAt(count, fromMs, toMs).length;
  }

  /** Those datagrams' times (the send time of the datagram before each, epoch ms). */
  static lostAt(count: UdpCount, fromMs: number, toMs: number): number[] {
    return count.missingAt.filter((t): t is number => t !== null && t * 1000 >= fromMs && t * 1000 < toMs).map((t) => t * 1000);
  }

  /** Stops the sender (the stop file, if not there yet), lets the last datagrams land, ends the receiver and reads its count. */
  async finish(): Promise<UdpCount> {
    if (!existsSync(this.stopFile)) writeFileSync(this.stopFile, '');
    const tx = await doneLine(this.sender, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the last datagrams in flight
    await this.receiver.kill().catch(() => undefined);
    const done = await doneLine(this.receiver, 10_000);
    // udp_stream.py writes its count to `out`; the QEMU guest's receiver prints it as its "done" line.
    const rx = (existsSync(this.out) ? readJson(this.out) : done) as { received?: number; duplicates?: number; reordered?: number; missing?: Array<[number, number | null]> };
    const sent = typeof tx.sent === 'number' ? tx.sent : 0;
    const received = rx.received ?? 0;
    return {
      result: { from: this.from, sent, received, lost: sent - received, duplicates: rx.duplicates ?? 0, reordered: rx.reordered ?? 0 },
      missingAt: (rx.missing ?? []).map(([, t]) => t),
    };
  }

  /** Ends both ends at once (a failed run). */
  async kill(): Promise<void> {
    await this.sender.kill().catch(() => undefined);
    await this.receiver.kill().catch(() => undefined);
  }
}

