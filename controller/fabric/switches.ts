// What the runtime needs from the switch layer, and nothing more: the switches that are up, their
// ports, a way to send, and the event streams. SwitchRegistry/SwitchConnection provide it over
// TCP; tests provide it over FakeFlowTables.

import type { Observable } from 'rxjs';
import type { FlowRemoved, FlowStats, PacketIn, Port, PortStats, PortStatus } from '../openflow/index.js';
import type { FlowStatsFilter, Outgoing } from '../switch/index.js';

export interface FabricSwitch {
  readonly dpid: bigint;
  readonly dpidText: string;
  readonly ports: ReadonlyMap<number, Port>;
  /** Queues a message; false when the connection is closed (then nothing was sent). */
  send(message: Outgoing): number | false;
  /** Sends the messages and a barrier; resolves when the barrier reply arrives. */
  sendBatch(messages: readonly Outgoing[]): Promise<void>;
  flowStats(filter?: FlowStatsFilter): Promise<FlowStats[]>;
  /**
   * One port's counters, or undefined when the switch has no such port. `atReply` runs where the
   * reply stands among the switch's messages: after every message it sent before the reply, before
   * any it sent after (the promise settles later, once the rest of that read is handled).
   */
  portStats(portNo: number, atReply?: () => void): Promise<PortStats | undefined>;
}

export interface FabricMessage<M> {
  readonly sw: FabricSwitch;
  readonly dpid: bigint;
  readonly message: M;
}

export interface FabricSwitches {
  get(dpid: bigint | string): FabricSwitch | undefined;
  list(): FabricSwitch[];
  readonly switchUp$: Observable<FabricSwitch>;
  readonly switchDown$: Observable<FabricSwitch>;
  readonly packetIn$: Observable<FabricMessage<PacketIn>>;
  readonly portStatus$: Observable<FabricMessage<PortStatus>>;
  readonly flowRemoved$: Observable<FabricMessage<FlowRemoved>>;
}
