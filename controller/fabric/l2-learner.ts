// The L2 learner: which MAC sits behind which port of which switch, and the two rules that
// make a learned host fast-path: "from (port, mac) -> into the pipeline" (table 0) and
// "to mac -> port" (table 3). Pure state plus FLOW_MOD builders; the Fabric sends them.
//
// A moved VM that is away from home is not the learner's: its gate in table 0 is a compiled
// per-binding rule (pipeline/binding-rules), so the learner never installs rules for it there.

import { flowMod, OFPFC_DELETE_STRICT, OFPG_ANY, OFPP_ANY, type FlowMod, type FlowStats, type Mac } from '../openflow/index.js';
import {
  COOKIE_LEARNER, COOKIE_TAG_MASK, forgetLearned, LEARNER_PRIORITY, learnedDestination, learnedSource, TABLE_INGRESS,
} from '../pipeline/index.js';

export interface LearnResult {
  /** What to send so the switch matches the new knowledge (empty when nothing changed). */
  readonly mods: FlowMod[];
  /** The port the MAC was behind before, when it moved within this switch. */
  readonly previousPort?: number;
}

export interface L2LearnerOptions {
  /** Idle timeout of learned rules (seconds): a silent host is forgotten by the switch. */
  readonly idleTimeoutSec: number;
  /**
   * A table-0 miss from a MAC we already learned on that port means its rules are not (yet) on the
   * switch: re-send them, but not more often than this. Misses that arrive while the first rules are
   * in flight would otherwise each cost two more FLOW_MODs.
   */
  readonly resendAfterMs: number;
}

export class L2Learner {
  private readonly tables = new Map<bigint, Map<Mac, number>>();
  /** When the rules of (dpid, mac) were last sent (performance.now()). */
  private readonly sent = new Map<bigint, Map<Mac, number>>();

  constructor(private readonly options: L2LearnerOptions = { idleTimeoutSec: 300, resendAfterMs: 1000 }) {}

  portOf(dpid: bigint, mac: Mac): number | undefined {
    return this.tables.get(dpid)?.get(mac);
  }

  /** Everything known about one switch: mac -> port. */
  entries(dpid: bigint): ReadonlyMap<Mac, number> {
    return this.tables.get(dpid) ?? new Map();
  }

  /**
   * `mac` was seen entering `dpid` on `port`. Returns the rules to send: always for a new or moved
   * MAC; for a known one (its rules idled out, or are still in flight) at most every resendAfterMs.
   */
  learn(dpid: bigint, port: number, mac: Mac, now: number = performance.now()): LearnResult {
    const table = this.tableOf(dpid);
    const previousPort = table.get(mac);
    const sent = this.sentOf(dpid);
    if (previousPort === port && now - (sent.get(mac) ?? -Infinity) < this.options.resendAfterMs) return { mods: [] };
    table.set(mac, port);
    sent.set(mac, now);
    const mods: FlowMod[] = [];
    if (previousPort !== undefined && previousPort !== port) mods.push(this.deleteSource(previousPort, mac));
    // Destination first: a source rule sends the host's frames into a pipeline that can deliver replies.
    mods.push(learnedDestination(mac, port, this.options.idleTimeoutSec), learnedSource(port, mac, this.options.idleTimeoutSec));
    return previousPort !== undefined && previousPort !== port ? { mods, previousPort } : { mods };
  }

  /** Forgets `mac` on `dpid` (it left the switch) and returns the deletes of its rules there (any port). */
  forget(dpid: bigint, mac: Mac): FlowMod[] {
    this.tables.get(dpid)?.delete(mac);
    this.sent.get(dpid)?.delete(mac);
    return forgetLearned(mac);
  }

  /** A port went away: forget every MAC behind it (the switch drops rules matching a deleted in_port itself). */
  forgetPort(dpid: bigint, port: number): FlowMod[] {
    const table = this.tables.get(dpid);
    if (table === undefined) return [];
    const mods: FlowMod[] = [];
    for (const [mac, p] of table) {
      if (p !== port) continue;
      table.delete(mac);
      this.sent.get(dpid)?.delete(mac);
      mods.push(...forgetLearned(mac));
    }
    return mods;
  }

  /** A switch disconnected: its state is rebuilt from its flows when it comes back. */
  dropSwitch(dpid: bigint): void {
    this.tables.delete(dpid);
    this.sent.delete(dpid);
  }

  /** Rebuilds one switch's table from its learned rules (after a controller restart or reconnect). */
  restore(dpid: bigint, flows: readonly FlowStats[]): number {
    const table = this.tableOf(dpid);
    table.clear();
    for (const f of flows) {
      if ((f.cookie & COOKIE_TAG_MASK) !== COOKIE_LEARNER || f.tableId !== TABLE_INGRESS) continue;
      const port = f.match.in_port;
      const mac = f.match.eth_src;
      if (typeof port === 'number' && typeof mac === 'string') table.set(mac, port);
    }
    return table.size;
  }

  private sentOf(dpid: bigint): Map<Mac, number> {
    let sent = this.sent.get(dpid);
    if (sent === undefined) this.sent.set(dpid, (sent = new Map()));
    return sent;
  }

  private tableOf(dpid: bigint): Map<Mac, number> {
    let table = this.tables.get(dpid);
    if (table === undefined) this.tables.set(dpid, (table = new Map()));
    return table;
  }

  private deleteSource(port: number, mac: Mac): FlowMod {
    return flowMod({
      command: OFPFC_DELETE_STRICT, cookie: COOKIE_LEARNER, cookieMask: COOKIE_TAG_MASK, tableId: TABLE_INGRESS,
      priority: LEARNER_PRIORITY, match: { in_port: port, eth_src: mac }, outPort: OFPP_ANY, outGroup: OFPG_ANY,
    });
  }
}
