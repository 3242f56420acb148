// Endpoints whose move is being decided or applied ("in flight"), with the frames they sent
// meanwhile. Those frames wait here, off the data plane, and are re-injected once the
// endpoint's rules are confirmed: nothing leaks into the new subnet with the wrong address,
// and the frame that revealed the move is not lost. Bounded per endpoint; beyond the bound
// frames are dropped and counted.

import type { Mac, PacketIn } from '../openflow/index.js';
import type { FabricSwitch } from './switches.js';

export interface Held {
  readonly sw: FabricSwitch;
  readonly inPort: number;
  readonly message: PacketIn;
}

export interface Flight {
  readonly mac: Mac;
  readonly held: Held[];
  /** Monotonic ms of the first frame (or the signal): the start of the reconvergence time. */
  readonly startedAt: number;
}

export class Flights {
  private readonly byMac = new Map<Mac, Flight>();
  held = 0;
  dropped = 0;

  constructor(private readonly maxHeld: number) {}

  /** `first`: the frame that revealed the move (none for a move made on the hypervisor's word). */
  begin(mac: Mac, first: Held | undefined, now: number): Flight {
    const flight: Flight = { mac, held: first === undefined ? [] : [first], startedAt: now };
    this.byMac.set(mac, flight);
    return flight;
  }

  get(mac: Mac): Flight | undefined {
    return this.byMac.get(mac);
  }

  /** Holds a frame of an endpoint in flight; beyond the bound it is dropped (and counted). */
  hold(flight: Flight, frame: Held): void {
    if (flight.held.length >= this.maxHeld) {
      this.dropped++;
      return;
    }
    this.held++;
    flight.held.push(frame);
  }

  /** The flight is over (moved, refused or failed); its held frames are the caller's. */
  end(flight: Flight): void {
    if (this.byMac.get(flight.mac) === flight) this.byMac.delete(flight.mac);
  }

  get size(): number {
    return this.byMac.size;
  }
}
