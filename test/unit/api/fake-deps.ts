// What the API reads, without switches or a fabric: real subnets, intents and a binding store;
// Subjects the test pushes switch and fabric events into. Only the members the API uses are
// there; the same fakes drive the old node:http server, so a security test can be run against it.

import { Subject } from 'rxjs';
import type { Fabric, FabricEvent } from '../../../controller/fabric/index.js';
import { MigrationLog } from '../../../controller/fabric/index.js';
import type { ApiDeps } from '../../../controller/api/index.js';
import { BindingStore, MigrationIntents, parseSubnets, SubnetMap, type Binding } from '../../../controller/mobility/index.js';
import type { SwitchConnection, SwitchErrorEvent, SwitchMessage, SwitchRegistry } from '../../../controller/switch/index.js';
import type { PacketIn, PortStatus } from '../../../controller/openflow/types.js';
import { REFERENCE_LAB_SUBNETS } from '../../../controller/config.js';

export const VM = { eid: '10.0.1.10', mac: '02:00:00:00:01:0a' } as const;

export interface FakeDeps extends ApiDeps {
  readonly switchUp: Subject<SwitchConnection>;
  readonly switchDown: Subject<SwitchConnection>;
  readonly switchErrors: Subject<SwitchErrorEvent>;
  readonly packetIns: Subject<SwitchMessage<PacketIn>>;
  readonly portStatuses: Subject<SwitchMessage<PortStatus>>;
  readonly fabricEvents: Subject<FabricEvent>;
  readonly store: BindingStore;
  readonly connected: Map<bigint, SwitchConnection>;
  readonly counters: { packetIns: number; malformedFrames: number; flowMods: number; moves: number; conflicts: number };
  /** Endpoints the runtime reports lost (fabric.lostSince), by EID: since when. */
  readonly lost: Map<string, number>;
  /** Makes every binding read throw (an unexpected internal error). */
  failReads(message: string): void;
}

export function fakeDeps(): FakeDeps {
  const subnets = new SubnetMap(parseSubnets(REFERENCE_LAB_SUBNETS));
  const intents = new MigrationIntents(subnets);
  const store = new BindingStore();
  store.add({ eid: VM.eid, mac: VM.mac, homeSubnet: 'A', dpid: 1n, port: 10 }, 1000);
  const switchUp = new Subject<SwitchConnection>();
  const switchDown = new Subject<SwitchConnection>();
  const switchErrors = new Subject<SwitchErrorEvent>();
  const packetIns = new Subject<SwitchMessage<PacketIn>>();
  const portStatuses = new Subject<SwitchMessage<PortStatus>>();
  const fabricEvents = new Subject<FabricEvent>();
  const connected = new Map<bigint, SwitchConnection>();
  const counters = { packetIns: 0, malformedFrames: 0, flowMods: 0, moves: 0, conflicts: 0 };
  let failure: string | undefined;
  const bindings = {
    byEid: (eid: string) => { if (failure !== undefined) throw new Error(failure); return store.byEid(eid); },
    byId: (id: number) => store.byId(id),
    list: (): Binding[] => { if (failure !== undefined) throw new Error(failure); return store.list(); },
  };
  /** Endpoints the fake runtime reports lost, by EID: since when. */
  const lost = new Map<string, number>();
  const fabric = {
    events$: fabricEvents.asObservable(),
    lostSince: (b: Binding) => lost.get(b.eid),
    counters,
    bindings,
    migrations: new MigrationLog(10),
    routerPort: () => 2,
    gatewayMac: () => undefined,
    removeBinding: async (eid: string) => store.remove(eid, Date.now())?.binding,
  } as unknown as Fabric;
  const switches = {
    switchUp$: switchUp.asObservable(),
    switchDown$: switchDown.asObservable(),
    errors$: switchErrors.asObservable(),
    packetIn$: packetIns.asObservable(),
    portStatus$: portStatuses.asObservable(),
    get: (dpid: bigint | string) => connected.get(typeof dpid === 'bigint' ? dpid : BigInt(`0x${dpid}`)),
    list: () => [...connected.values()],
  } as unknown as SwitchRegistry;
  // The old server took `registry` only for pool usage.
  const registry = { pool: () => undefined } as unknown as ApiDeps['registry'];
  return {
    switches, subnets, registry, intents, fabric,
    switchUp, switchDown, switchErrors, packetIns, portStatuses, fabricEvents, store, connected, counters, lost,
    failReads: (message) => { failure = message; },
  };
}
