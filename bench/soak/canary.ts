// The canary: a well-behaved emulated switch (bench/switch-emulator.ts) that connects every few
// seconds during the attack and measures what a real switch would feel. Its handshake time runs
// from the TCP connect to the controller's first message past the handshake (the resync's
// flow-stats request: the switch is in MAIN then); its packet-in round trips are timed for one
// second at a time, one packet-in outstanding (latency mode), then it hangs up. Two datapath ids
// take turns, so a reconnect never waits for the controller to notice the previous close.

import { EmulatedSwitch, sleep } from '../switch-emulator.js';
import type { AttackContext } from './attacks.js';
import { within } from './scripted-switch.js';

const HANDSHAKE = new Set(['HELLO', 'FEATURES_REQUEST', 'SET_CONFIG', 'ECHO_REQUEST', 'GET_CONFIG_REQUEST']);

export interface CanaryFigures {
  readonly handshakeMs: number[];
  readonly rttMs: number[];
  handshakesFailed: number;
  /** Packet-ins re-sent after 2 s without an answer. */
  retries: number;
}

export async function runCanary(ctx: AttackContext, everyMs: number, figures: CanaryFigures): Promise<void> {
  let n = 0;
  while (!ctx.stopped()) {
    const sw = new EmulatedSwitch(0xca4a5a01n + BigInt(n++ % 2), {
      host: '127.0.0.1', port: ctx.openflowPort, switches: 1, firstDpid: 0n, macsPerSwitch: 64, portsPerSwitch: 4,
    });
    const started = performance.now();
    const inMain = new Promise<number>((resolve) => {
      sw.onMessage = (m) => {
        const handshake = HANDSHAKE.has(m.type) || (m.type === 'MULTIPART_REQUEST' && (m.body.kind === 'PORT_DESC' || m.body.kind === 'DESC'));
        if (!handshake) resolve(performance.now() - started);
      };
    });
    try {
      await sw.connect();
      const ms = await within(inMain, 10_000, Number.NaN);
      if (Number.isNaN(ms)) {
        figures.handshakesFailed++;
      } else {
        figures.handshakeMs.push(ms);
        sw.load(1);
        sw.recording = true;
        await sleep(1000);
        sw.stop();
        figures.rttMs.push(...sw.rtts);
        figures.retries += sw.counters.retries;
        ctx.tally.add('canary packet-ins', sw.counters.packetIns);
      }
    } catch {
      figures.handshakesFailed++;
    }
    ctx.tally.add('canary connections');
    sw.close();
    await sleep(everyMs);
  }
}
