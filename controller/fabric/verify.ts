// Is an endpoint still at its old attachment? Asked when a known endpoint shows up somewhere new
// without other evidence (no port down, no intent). A real hypervisor keeps the source's tap,
// and so its switch port, up until it quits the paused source: a port-down never comes in time.
//
// arp-probe (default): the controller sends a unicast ARP probe for the EID to the VM's MAC out of
// the old port, as ONOS's host probing verifies a move. An answer there within the window means
// the endpoint is still there (the claim is a conflict: hijack protection); silence means it left.
// Any other frame of it arriving at the old attachment during the window counts as an answer.
// flow-counters (fallback): its fast-path rule's packet counter is sampled across a window longer
// than Open vSwitch's counter refresh (~500 ms): slower, and fooled by a paused source whose
// last packets OVS credits late.

import type { Logger } from '../log.js';
import { OFPPC_PORT_DOWN, OFPPS_LINK_DOWN, type Mac } from '../openflow/index.js';
import { buildArpProbe, type Ipv4 } from '../packet/index.js';
import type { ActivityCheck } from '../mobility/index.js';
import { TABLE_INGRESS } from '../pipeline/index.js';
import type { Clock, Timer } from './clock.js';
import { sleep } from './clock.js';
import type { Outbox } from './outbox.js';
import type { FabricSwitch, FabricSwitches } from './switches.js';

export type VerificationMode = 'arp-probe' | 'flow-counters';
export type Verdict = 'active' | 'silent';

export interface VerifierOptions {
  readonly mode: VerificationMode;
  /** How long an answer to the probes may take. */
  readonly probeWindowMs: number;
  /** Probes sent, spread over the first half of the window (one lost frame must not fake a move). */
  readonly probeCount: number;
  readonly probeMac: Mac;
  /** Counter sampling window of the flow-counters mode. */
  readonly activityWindowMs: number;
  /** Several replicas: asks the master of another switch to probe it (undefined: no verdict in time). */
  readonly remoteProbe?: (check: ActivityCheck, timeoutMs: number) => Promise<Verdict | undefined>;
}

interface Pending {
  readonly check: ActivityCheck;
  readonly done: (verdict: Verdict) => void;
}

export class MoveVerifier {
  /** Checks under way, by MAC. */
  private readonly pending = new Map<Mac, Pending>();
  lateAnswers = 0;

  constructor(
    private readonly switches: FabricSwitches,
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly options: VerifierOptions,
    private readonly log: Logger,
  ) {}

  /** Never rejects: a switch that fails mid-check counts as the endpoint being gone from it. */
  async verify(check: ActivityCheck): Promise<Verdict> {
    const sw = this.switches.get(check.dpid);
    if (sw === undefined || portDown(sw, check.port)) return 'silent';
    // A probe is written to the old switch, and answered to its master: another replica's switch is
    // checked by its counters (a read, which any replica may do).
    const local = this.outbox.canWrite(sw.dpid);
    try {
      if (this.options.mode === 'arp-probe' && local) return await this.probe(sw, check);
      if (this.options.mode === 'arp-probe' && this.options.remoteProbe !== undefined) {
        const verdict = await this.options.remoteProbe(check, this.options.probeWindowMs + 250);
        if (verdict !== undefined) return verdict;
      }
      return await this.countersMoved(sw, check);
    } catch (error) {
      this.log.warn('old attachment check failed; treating it as silent', { dpid: sw.dpidText, port: check.port, error: (error as Error).message });
      return 'silent';
    }
  }

  /**
   * A frame of `mac` arrived at (dpid, port): if a check of that attachment is under way, the
   * endpoint is there. `ip`, when the frame names one, must be the checked EID.
   */
  onActivity(dpid: bigint, port: number, mac: Mac, ip?: Ipv4): boolean {
    const p = this.pending.get(mac);
    if (p === undefined || p.check.dpid !== dpid || p.check.port !== port || (ip !== undefined && ip !== p.check.eid)) return false;
    p.done('active');
    return true;
  }

  /** An answer to a probe: the endpoint's activity, or a late one (its check has ended). */
  onProbeReply(dpid: bigint, port: number, mac: Mac, ip: Ipv4): void {
    if (!this.onActivity(dpid, port, mac, ip)) this.lateAnswers++;
  }

  isChecking(mac: Mac): boolean {
    return this.pending.has(mac);
  }

  private probe(sw: FabricSwitch, check: ActivityCheck): Promise<Verdict> {
    const { probeWindowMs, probeCount, probeMac } = this.options;
    const frame = buildArpProbe({ senderMac: probeMac, targetMac: check.mac, targetIp: check.eid });
    return new Promise<Verdict>((resolve) => {
      const timers: Timer[] = [];
      const done = (verdict: Verdict): void => {
        if (this.pending.get(check.mac)?.done !== done) return;
        this.pending.delete(check.mac);
        for (const t of timers) this.clock.clearTimeout(t);
        resolve(verdict);
      };
      this.pending.get(check.mac)?.done('silent'); // a newer check replaces an older one
      this.pending.set(check.mac, { check, done });
      const spacing = probeCount > 1 ? probeWindowMs / 2 / (probeCount - 1) : 0;
      for (let i = 0; i < probeCount; i++) {
        if (i === 0) this.outbox.emit(sw, [check.port], frame);
        else timers.push(this.clock.setTimeout(() => this.outbox.emit(sw, [check.port], frame), i * spacing));
      }
      timers.push(this.clock.setTimeout(() => done('silent'), probeWindowMs));
    });
  }

  private async countersMoved(sw: FabricSwitch, check: ActivityCheck): Promise<Verdict> {
    const count = async (): Promise<bigint> => {
      const flows = await sw.flowStats({ tableId: TABLE_INGRESS, match: { in_port: check.port, eth_src: check.mac } });
      return flows.reduce((sum, f) => sum + f.packetCount, 0n);
    };
    const before = await count();
    await sleep(this.clock, this.options.activityWindowMs);
    return (await count()) !== before ? 'active' : 'silent';
  }
}

function portDown(sw: FabricSwitch, port: number): boolean {
  const info = sw.ports.get(port);
  return info === undefined || (info.state & OFPPS_LINK_DOWN) !== 0 || (info.config & OFPPC_PORT_DOWN) !== 0;
}

/** Is a switch port down or gone? (What the move detector calls "old port down".) */
export const isPortDown = portDown;
