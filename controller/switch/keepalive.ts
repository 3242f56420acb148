// Liveness of one peer: after `intervalMs` of silence we probe with ECHO_REQUEST; after
// `timeoutMs` of silence the peer is declared dead. Any byte from the peer counts as life.

import { performance } from 'node:perf_hooks';

export interface KeepaliveOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface KeepaliveActions {
  /** False while probing is not allowed (before the HELLO exchange). */
  readonly canProbe: () => boolean;
  readonly probe: () => void;
  readonly dead: (silentMs: number) => void;
}

export class Keepalive {
  private lastHeard = performance.now();
  private lastProbe = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KeepaliveOptions, private readonly actions: KeepaliveActions) {}

  start(): void {
    const { intervalMs, timeoutMs } = this.options;
    // Check often enough that neither deadline is overshot by more than half a period.
    const period = Math.max(5, Math.min(intervalMs, timeoutMs) / 2);
    this.lastHeard = performance.now();
    this.timer = setInterval(() => this.check(), period);
  }

  heard(): void {
    this.lastHeard = performance.now();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const now = performance.now();
    const silent = now - this.lastHeard;
    if (silent >= this.options.timeoutMs) {
      this.stop();
      this.actions.dead(Math.round(silent));
      return;
    }
    const due = silent >= this.options.intervalMs && now - this.lastProbe >= this.options.intervalMs;
    if (due && this.actions.canProbe()) {
      this.lastProbe = now;
      this.actions.probe();
    }
  }
}
