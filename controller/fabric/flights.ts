// Endpoints whose move is being decided or applied ("in flight"), with the packets they sent
// meanwhile. Those packets wait here, off the data plane, and are re-injected once the
// endpoint's rules are confirmed: nothing leaks into the new subnet with the wrong address,
// and the packet that revealed the move is not lost.

import { TABLE_INGRESS } from '../pipeline/index.js';
import type { Mac, PacketIn } from '../openflow/index.js';
import type { SwitchConnection } from '../switch/index.js';

export interface Held {
  readonly sw: SwitchConnection;
  readonly message: PacketIn;
}

export interface Flight {
  readonly held: Held[];
  /** performance.now() of the first packet: the start of the reconvergence time. */
  readonly startedAt: number;
}

export class Flights {
  private readonly byMac = new Map<Mac, Flight>();
  held = 0;
  dropped = 0;

  constructor(private readonly maxHeld: number) {}

  begin(mac: Mac, first: Held): Flight {
    const flight: Flight = { held: [first], startedAt: performance.now() };
    this.byMac.set(mac, flight);
    return flight;
  }

  get(mac: Mac): Flight | undefined {
    return this.byMac.get(mac);
  }

  /** Holds a packet of an endpoint in flight; beyond the bound it is dropped (and counted). */
  hold(flight: Flight, packet: Held): void {
    if (flight.held.length >= this.maxHeld) {
      this.dropped++;
      return;
    }
    this.held++;
    flight.held.push(packet);
  }

  end(mac: Mac): void {
    this.byMac.delete(mac);
  }
}

/**
 * Was the attachment (port, mac) of a switch active during `windowMs`? Its fast-path rule in
 * table 0 counts its packets. Open vSwitch refreshes OpenFlow counters about every 500 ms, so
 * the window must be longer than that. A switch that is gone counts as silent.
 */
export async function attachmentActive(sw: SwitchConnection | undefined, port: number, mac: Mac, windowMs: number): Promise<boolean> {
  if (sw === undefined) return false;
  const count = async (): Promise<bigint> => {
    const flows = await sw.flowStats({ tableId: TABLE_INGRESS, match: { in_port: port, eth_src: mac } });
    return flows.reduce((sum, f) => sum + f.packetCount, 0n);
  };
  const before = await count();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return (await count()) !== before;
}
