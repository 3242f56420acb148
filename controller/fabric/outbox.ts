// The Outbox: the one chokepoint through which every FLOW_MOD and PACKET_OUT the runtime sends
// leaves (as Faucet's send_flows). It keeps each switch's messages in order, counts them per
// switch and kind, logs them in ovs-ofctl notation at debug, and turns a switch that went away
// under our feet into a counted, logged non-event instead of an exception in a handler.

import {
  formatFlowMod, OFPP_CONTROLLER, OFPP_TABLE, outputPort, packetOut, setField, type FlowMod,
} from '../openflow/index.js';
import type { Logger } from '../log.js';
import { REINJECTED_MARK } from '../pipeline/index.js';
import type { Outgoing } from '../switch/index.js';
import { SOLE_CONTROLLER, type SwitchRoles } from './roles.js';
import type { FabricSwitch } from './switches.js';

export interface OutboxCounters {
  flowMods: number;
  packetOuts: number;
  /** Frames sent back into a switch's pipeline (PACKET_OUT to OFPP_TABLE, marked). */
  reinjected: number;
  /** ARP probes sent (PACKET_OUTs): to verify an old attachment, or to look for a lost endpoint. */
  probes: number;
  /** Messages not sent because their switch had gone. */
  dropped: number;
  /** Messages not sent because another replica masters their switch. */
  notMaster: number;
}

export class Outbox {
  readonly counters: OutboxCounters = { flowMods: 0, packetOuts: 0, reinjected: 0, probes: 0, dropped: 0, notMaster: 0 };
  /** FLOW_MODs per switch (dpid text), for labelled metrics. */
  readonly flowModsByDpid = new Map<string, number>();

  constructor(private readonly log: Logger, private readonly roles: SwitchRoles = SOLE_CONTROLLER) {}

  /** May this replica write to the switch (it masters it)? */
  canWrite(dpid: bigint): boolean {
    return this.roles.canWrite(dpid);
  }

  /** Sends without waiting (learned rules, packet-outs). False when the switch is gone (its messages are counted as dropped). */
  send(sw: FabricSwitch, messages: readonly Outgoing[]): boolean {
    if (messages.length === 0) return true;
    if (!this.roles.canWrite(sw.dpid)) {
      this.counters.notMaster += messages.length;
      return false;
    }
    this.count(sw, messages);
    let sent = 0;
    try {
      for (const m of messages) {
        if (sw.send(m) === false) break;
        sent++;
      }
    } catch (error) {
      this.log.debug('switch refused a message', { dpid: sw.dpidText, error: (error as Error).message });
    }
    if (sent === messages.length) return true;
    this.counters.dropped += messages.length - sent;
    return false;
  }

  /** Sends the FLOW_MODs and a barrier; resolves when the switch confirmed them all. */
  confirm(sw: FabricSwitch, mods: readonly FlowMod[]): Promise<void> {
    if (!this.roles.canWrite(sw.dpid)) {
      this.counters.notMaster += mods.length;
      return Promise.reject(new Error(`${sw.dpidText}: another replica masters this switch`));
    }
    this.count(sw, mods);
    return sw.sendBatch(mods);
  }

  /**
   * Sends a frame back through the switch's pipeline as if it had just arrived on `inPort`,
   * marked so that it can never come back to the controller (tables.ts: reinjectedMiss).
   */
  reinject(sw: FabricSwitch, inPort: number, data: Uint8Array): boolean {
    this.counters.reinjected++;
    return this.send(sw, [packetOut({ inPort, actions: [setField('metadata', REINJECTED_MARK), outputPort(OFPP_TABLE)], data })]);
  }

  /** A switch left: its per-switch count goes (a dpid a peer invented must not stay). */
  forget(dpid: string): void {
    this.flowModsByDpid.delete(dpid);
  }

  /** Sends a frame the controller built (an ARP probe) out of these ports: one PACKET_OUT. */
  emit(sw: FabricSwitch, ports: readonly number[], data: Uint8Array): boolean {
    this.counters.probes++;
    return this.send(sw, [packetOut({ inPort: OFPP_CONTROLLER, actions: ports.map((port) => outputPort(port)), data })]);
  }

  private count(sw: FabricSwitch, messages: readonly Outgoing[]): void {
    const debug = this.log.isLevelEnabled('debug');
    let flowMods = 0;
    for (const m of messages) {
      if (m.type === 'FLOW_MOD') {
        flowMods++;
        if (debug) this.log.debug('flow-mod', { dpid: sw.dpidText, flow: formatFlowMod(m as FlowMod) });
      } else if (m.type === 'PACKET_OUT') {
        this.counters.packetOuts++;
        if (debug) this.log.debug('packet-out', { dpid: sw.dpidText, inPort: m.inPort, bytes: m.data.length });
      }
    }
    if (flowMods === 0) return; // a packet-out alone: no per-switch count to touch
    this.counters.flowMods += flowMods;
    this.flowModsByDpid.set(sw.dpidText, (this.flowModsByDpid.get(sw.dpidText) ?? 0) + flowMods);
  }
}
