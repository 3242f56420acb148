/**
 * The lab guest's own tools (seamless-guest in its initramfs) as the case study uses them from a
 * Mininet host's Python: the stream receiver of stream.py and the probes of probe.py, same
 * arguments, same JSON lines. The receiver's times are the guest's CLOCK_MONOTONIC (a guest's wall
 * clock is not the host's, and stands still while QEMU is paused); onHostClock turns a result into
 * exactly what stream.py prints: epoch seconds comparable with the host's.
 */
import type { Timeline } from '../case-study/measure.js';
import type { GuestClock } from './guest-clock.js';

export const GUEST_PROGRAM = '/sbin/seamless-guest';

function port(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`port must be 1..65535, got ${value}`);
  return value;
}

function ipv4(value: string): string {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(value)) throw new Error(`expected an IPv4 address, got ${JSON.stringify(value)}`);
  return value;
}

/** `stream.py serve --port P`: accept one connection, check every byte, print the result line (with its timeline). */
export function streamServeCommand(listenPort: number): string {
  return `exec ${GUEST_PROGRAM} stream serve --port ${port(listenPort)}`;
}

/**
 * `udp_stream.py serve --port P`: count numbered datagrams until SIGTERM. The guest cannot write the
 * host's files, so its whole result is its "done" line (no --out).
 */
export function udpServeCommand(listenPort: number): string {
  return `exec ${GUEST_PROGRAM} udp serve --port ${port(listenPort)}`;
}

/** `probe.py tcp-server|udp-server --port P`. */
export function probeServerCommand(kind: 'tcp' | 'udp', listenPort: number): string {
  return `exec ${GUEST_PROGRAM} probe ${kind}-server --port ${port(listenPort)}`;
}

/** `probe.py tcp|udp --host H --port P`: exits 0 when the echo came back. */
export function probeClientCommand(kind: 'tcp' | 'udp', host: string, peerPort: number): string {
  return `exec ${GUEST_PROGRAM} probe ${kind} --host ${ipv4(host)} --port ${port(peerPort)}`;
}

/** The receiver's "done" line, as stream.py prints it (times in epoch seconds). */
export interface StreamReceiverResult {
  readonly event: 'done';
  readonly role: 'receiver';
  readonly bytes: number;
  readonly inOrder: boolean;
  readonly firstBadOffset: number | null;
  readonly error: string | null;
  readonly start: number;
  readonly end: number;
  readonly counters: { readonly retransSegs: number; readonly outRsts: number; readonly estabResets: number };
  readonly timeline: Timeline;
}

/** The guest receiver's result with its monotonic times moved onto the host's clock; results already on it pass unchanged. */
export function onHostClock(result: Record<string, unknown>, clock: GuestClock): StreamReceiverResult {
  if (result.event !== 'done' || result.role !== 'receiver') throw new Error(`not a stream receiver result: ${JSON.stringify(result).slice(0, 200)}`);
  const { clock: kind, ...rest } = result;
  const toEpochS = kind === 'monotonic' ? (t: number) => clock.toHostMs(t * 1000) / 1000 : (t: number) => t;
  const timeline = (Array.isArray(result.timeline) ? result.timeline : []) as Array<[number, number]>;
  return {
    ...(rest as unknown as StreamReceiverResult),
    start: toEpochS(Number(result.start)),
    end: toEpochS(Number(result.end)),
    timeline: timeline.map(([t, bytes]) => [toEpochS(t), bytes] as const),
  };
}
