// The L2 learner: which MAC sits behind which port of which switch, and the two rules that
// make a learned host fast-path: "from (port, mac) -> into the pipeline" (table 0) and
// "to mac -> port" (table 3). Pure state plus FLOW_MOD builders; the runtime sends them.
//
// A moved VM that is away from home is not the learner's: its gate in table 0 is a compiled
// per-binding rule (pipeline/binding-rules), so the learner never installs rules for it there.
// A host that is not an endpoint yet is learned for IPv6 only (scope 'ipv6'), so that its ARP
// and IPv4 still reach the controller. Bounded per port and per switch (MAC flooding).

import {
  flowMod, OFPFC_DELETE_STRICT, OFPG_ANY, OFPP_ANY, type FlowMod, type FlowStats, type Mac, type Match,
} from '../openflow/index.js';
import {
  COOKIE_LEARNER, COOKIE_TAG_MASK, DEFAULT_LEARN_IDLE_TIMEOUT_SEC, forgetLearned, LEARNER_PRIORITY, learnedDestination, learnedSource, learnedSourceIpv6, TABLE_INGRESS,
} from '../pipeline/index.js';

export type LearnScope = 'full' | 'ipv6';

export interface LearnResult {
  /** What to send so the switch matches the new knowledge (empty when nothing changed). */
  readonly mods: FlowMod[];
  /** The port the MAC was behind before, when it moved within this switch. */
  readonly previousPort?: number;
  /** Not learned: the port or the switch holds as many MACs as it may. */
  readonly refused?: 'port-full' | 'switch-full';
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
  /** MACs learned behind one port at most (a VM has one; a nested bridge a few hundred). */
  readonly maxMacsPerPort: number;
  /** MACs learned on one switch at most. */
  readonly maxMacsPerSwitch: number;
}

export const DEFAULT_LEARNER_OPTIONS: L2LearnerOptions = { idleTimeoutSec: DEFAULT_LEARN_IDLE_TIMEOUT_SEC, resendAfterMs: 1000, maxMacsPerPort: 1024, maxMacsPerSwitch: 16_384 };

interface Entry {
  port: number;
  scope: LearnScope;
  sentAt: number;
}

class SwitchTable {
  readonly macs = new Map<Mac, Entry>();
  private readonly perPort = new Map<number, number>();

  set(mac: Mac, entry: Entry): void {
    const old = this.macs.get(mac);
    if (old !== undefined) this.dec(old.port);
    this.macs.set(mac, entry);
    this.perPort.set(entry.port, (this.perPort.get(entry.port) ?? 0) + 1);
  }

  delete(mac: Mac): Entry | undefined {
    const old = this.macs.get(mac);
    if (old === undefined) return undefined;
    this.macs.delete(mac);
    this.dec(old.port);
    return old;
  }

  onPort(port: number): number {
    return this.perPort.get(port) ?? 0;
  }

  private dec(port: number): void {
    const n = (this.perPort.get(port) ?? 1) - 1;
    if (n <= 0) this.perPort.delete(port);
    else this.perPort.set(port, n);
  }
}

export class L2Learner {
  private readonly tables = new Map<bigint, SwitchTable>();
  /** Learning refused by a bound, since start. */
  refused = 0;

  constructor(private readonly options: L2LearnerOptions = DEFAULT_LEARNER_OPTIONS) {}

  portOf(dpid: bigint, mac: Mac): number | undefined {
    return this.tables.get(dpid)?.macs.get(mac)?.port;
  }

  /** MACs learned on a switch. */
  count(dpid: bigint): number {
    return this.tables.get(dpid)?.macs.size ?? 0;
  }

  /**
   * `mac` was seen entering `dpid` on `port`. Returns the rules to send: always for a new or moved
   * MAC or a wider scope; for a known one (its rules idled out, or are still in flight) at most
   * every resendAfterMs.
   */
  learn(dpid: bigint, port: number, mac: Mac, now: number, scope: LearnScope = 'full'): LearnResult {
    const table = this.tableOf(dpid);
    const previous = table.macs.get(mac);
    const widen = previous !== undefined && previous.scope === 'ipv6' && scope === 'full';
    const effective: LearnScope = previous?.port === port && previous.scope === 'full' ? 'full' : scope;
    if (previous?.port === port && !widen && now - previous.sentAt < this.options.resendAfterMs) return { mods: [] };
    if (previous === undefined || previous.port !== port) {
      if (table.onPort(port) >= this.options.maxMacsPerPort) return this.refuse('port-full');
      if (previous === undefined && table.macs.size >= this.options.maxMacsPerSwitch) return this.refuse('switch-full');
    }
    table.set(mac, { port, scope: effective, sentAt: now });
    const mods: FlowMod[] = [];
    const moved = previous !== undefined && previous.port !== port;
    if (moved) mods.push(...this.deleteSource(previous.port, mac, previous.scope));
    else if (widen) mods.push(...this.deleteSource(port, mac, 'ipv6'));
    // Destination first: a source rule sends the host's frames into a pipeline that can deliver replies.
    const { idleTimeoutSec: idle } = this.options;
    mods.push(learnedDestination(mac, port, idle), effective === 'full' ? learnedSource(port, mac, idle) : learnedSourceIpv6(port, mac, idle));
    return moved ? { mods, previousPort: previous.port } : { mods };
  }

  /** Forgets `mac` on `dpid` (it left the switch) and returns the deletes of its rules there (any port). */
  forget(dpid: bigint, mac: Mac): FlowMod[] {
    this.tables.get(dpid)?.delete(mac);
    return forgetLearned(mac);
  }

  /** A port went away: forget every MAC behind it (the switch drops rules matching a deleted in_port itself). */
  forgetPort(dpid: bigint, port: number): FlowMod[] {
    const table = this.tables.get(dpid);
    if (table === undefined) return [];
    const mods: FlowMod[] = [];
    for (const [mac, entry] of table.macs) {
      if (entry.port !== port) continue;
      table.delete(mac);
      mods.push(...forgetLearned(mac));
    }
    return mods;
  }

  /** The switch removed a learned source rule (idle timeout): the host is forgotten there too. */
  sourceRemoved(dpid: bigint, match: Match): void {
    const { in_port: port, eth_src: mac } = match;
    const table = this.tables.get(dpid);
    if (table === undefined || typeof port !== 'number' || typeof mac !== 'string') return;
    if (table.macs.get(mac)?.port === port) table.delete(mac);
  }

  /** A switch disconnected: its state is rebuilt from its flows when it comes back. */
  dropSwitch(dpid: bigint): void {
    this.tables.delete(dpid);
  }

  /** Rebuilds one switch's table from its learned rules (after a controller restart or reconnect). */
  restore(dpid: bigint, flows: readonly FlowStats[]): number {
    const table = new SwitchTable();
    this.tables.set(dpid, table);
    for (const f of flows) {
      if ((f.cookie & COOKIE_TAG_MASK) !== COOKIE_LEARNER || f.tableId !== TABLE_INGRESS) continue;
      const { in_port: port, eth_src: mac, eth_type: ethType } = f.match;
      if (typeof port !== 'number' || typeof mac !== 'string') continue;
      const scope: LearnScope = ethType === undefined ? 'full' : 'ipv6';
      if (table.macs.get(mac)?.scope !== 'full') table.set(mac, { port, scope, sentAt: -Infinity });
    }
    return table.macs.size;
  }

  private refuse(why: 'port-full' | 'switch-full'): LearnResult {
    this.refused++;
    return { mods: [], refused: why };
  }

  private tableOf(dpid: bigint): SwitchTable {
    let table = this.tables.get(dpid);
    if (table === undefined) this.tables.set(dpid, (table = new SwitchTable()));
    return table;
  }

  private deleteSource(port: number, mac: Mac, scope: LearnScope): FlowMod[] {
    const match: Match = scope === 'full' ? { in_port: port, eth_src: mac } : { in_port: port, eth_src: mac, eth_type: 0x86dd };
    return [flowMod({
      command: OFPFC_DELETE_STRICT, cookie: COOKIE_LEARNER, cookieMask: COOKIE_TAG_MASK, tableId: TABLE_INGRESS,
      priority: LEARNER_PRIORITY, match, outPort: OFPP_ANY, outGroup: OFPG_ANY,
    })];
  }
}
