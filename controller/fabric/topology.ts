// What compiled rules depend on besides the bindings: the subnets, the switches that are up,
// where the router is (configured or learned), the gateway MACs, which edges hold on-demand
// correspondent rules, and the probe MAC. One place builds it for every planner call.

import type { SubnetMap } from '../mobility/index.js';
import type { Mac } from '../openflow/index.js';
import { resolveGatewayMacs, switchInfos, type BufferMode, type CompileState, type SwitchInfo } from '../pipeline/index.js';
import type { Gateways } from './gateways.js';
import type { FabricSwitches } from './switches.js';

export type TopologyState = Omit<CompileState, 'bindings'>;

export interface TopologyOptions {
  readonly correspondentRules: 'eager' | 'on-demand';
  readonly cacheIdleTimeoutSec: number;
  readonly probeMac: Mac;
}

const NO_EDGES: ReadonlySet<bigint> = new Set();

export class TopologyView {
  constructor(
    private readonly switches: FabricSwitches,
    private readonly subnets: SubnetMap,
    private readonly gateways: Gateways,
    private readonly options: TopologyOptions,
    /** On-demand mode: the edges that hold a binding's correspondent rules (the map-cache). */
    private readonly cachedEdges: (bindingId: number) => ReadonlySet<bigint> | undefined,
    /** Loss-free migration: the bindings whose frames go to the controller's buffer, and how. */
    private readonly bufferModes: () => ReadonlyMap<number, BufferMode> = () => new Map(),
  ) {}

  /** The state now (a snapshot); `edgesOf` overrides the map-cache (to plan a cache change). */
  state(edgesOf: (bindingId: number) => ReadonlySet<bigint> = (id) => this.cachedEdges(id) ?? NO_EDGES): TopologyState {
    const modes = new Map(this.bufferModes());
    const connected = this.switches.list().map((sw) => sw.dpid);
    const switches: SwitchInfo[] = switchInfos(this.subnets.subnets, connected).map((info) => {
      const learned = this.gateways.learnedRouterPort(info.dpid);
      return info.routerPort === undefined && learned !== undefined ? { ...info, routerPort: learned } : info;
    });
    return {
      subnets: this.subnets.subnets,
      switches,
      gatewayMacs: resolveGatewayMacs(this.subnets.subnets, this.gateways.learnedMacs()),
      correspondents: this.options.correspondentRules === 'eager'
        ? { mode: 'eager' }
        : { mode: 'on-demand', cached: edgesOf, idleTimeoutSec: this.options.cacheIdleTimeoutSec },
      probeMac: this.options.probeMac,
      buffering: (id) => modes.get(id),
    };
  }
}
