// The switches' side of the runtime: a switch that connects (or that this replica comes to
// master) has its flows read back and diffed into the desired state; one that goes is forgotten;
// a port that goes down takes its learned MACs with it, and one that comes up may be where a
// stopped VM moved ahead runs now; rules a switch removed by itself leave the mirror.

import type { Logger } from '../log.js';
import type { BindingRegistry, SubnetMap } from '../mobility/index.js';
import { OFPPR_MODIFY, type FlowRemoved, type PortStatus } from '../openflow/index.js';
import { compile } from '../pipeline/index.js';
import { formatDpid } from '../switch/dpid.js';
import { MultipartLimitError } from '../switch/errors.js';
import type { FrameBuffers } from './buffers.js';
import type { Clock } from './clock.js';
import type { L2Learner } from './l2-learner.js';
import type { MapCache } from './map-cache.js';
import type { FabricOptions } from './options.js';
import type { Outbox } from './outbox.js';
import type { MigrationPhases } from './phases.js';
import type { FabricMessage, FabricSwitch } from './switches.js';
import type { TableSync } from './table-sync.js';
import type { TopologyView } from './topology.js';
import { isPortDown } from './verify.js';

export interface SwitchSyncDeps {
  readonly registry: BindingRegistry;
  readonly subnets: SubnetMap;
  readonly sync: TableSync;
  readonly outbox: Outbox;
  readonly learner: L2Learner;
  readonly mapCache: MapCache;
  readonly buffers: FrameBuffers;
  readonly phases: MigrationPhases;
  /** Is this switch still the one connected with its dpid (a retry of its synchronisation is for it alone)? */
  readonly connected: (sw: FabricSwitch) => boolean;
  readonly clock: Clock;
  readonly topology: () => TopologyView;
  readonly options: Pick<FabricOptions, 'rewrite' | 'correspondentRules'>;
  readonly log: Logger;
  readonly noteUpdate: (flowMods: number, dpids: string[]) => void;
}

/**
 * Synchronising a switch whose flow table could not be read because the controller was
 * reassembling too many replies at once (the shared bound, `openflow.multipart.totalMaxBytes`: many
 * big switches connecting together, or peers that never end their replies) is tried again this
 * many times, after 1, 2, 4, ... s.
 */
export const SYNC_RETRIES = 6;

export class SwitchSync {
  constructor(private readonly deps: SwitchSyncDeps) {}

  /** Brings these switches (all: undefined) to the rules compiled for the bindings now. */
  async reconcile(dpids?: readonly string[]): Promise<void> {
    const topology = this.deps.topology().state();
    const switches = dpids === undefined ? topology.switches : topology.switches.filter((sw) => dpids.includes(formatDpid(sw.dpid)));
    const { problems, rules } = compile({ ...topology, switches, bindings: this.deps.options.rewrite ? this.deps.registry.bindings.list() : [] });
    for (const p of problems) this.deps.log.warn('rule compilation problem', { problem: p });
    const result = await this.deps.sync.update(rules);
    this.deps.noteUpdate(result.flowMods, [...rules.keys()]);
  }

  /** A switch connected, or this replica became its master: its flows are read back and brought to the desired state. */
  async up(sw: FabricSwitch, attempt = 0): Promise<void> {
    if (!this.deps.outbox.canWrite(sw.dpid) || !this.deps.connected(sw)) return; // a slave waits until it masters the switch (becameMaster)
    try {
      const flows = await this.deps.sync.adopt(sw);
      const learned = this.deps.learner.restore(sw.dpid, flows);
      if (this.deps.options.correspondentRules === 'on-demand') this.deps.mapCache.restore(sw.dpid, flows);
      const subnet = this.deps.subnets.ofDpid(sw.dpid);
      this.deps.log.info('switch up: resynchronising its tables', { dpid: sw.dpidText, subnet: subnet?.name ?? null, flows: flows.length, learnedHosts: learned });
      if (subnet === undefined) this.deps.log.warn('switch is in no configured subnet: plain L2 learning only, no mobility', { dpid: sw.dpidText });
      await this.reconcile([sw.dpidText]);
    } catch (error) {
      if (error instanceof MultipartLimitError && error.limit === 'total' && attempt < SYNC_RETRIES) {
        const inMs = 1000 * 2 ** attempt;
        this.deps.log.warn('switch not synchronised yet: too many flow tables in reassembly at once; trying again', { dpid: sw.dpidText, inMs, attempt: attempt + 1 });
        this.deps.clock.setTimeout(() => { this.up(sw, attempt + 1).catch(() => undefined); }, inMs);
        return;
      }
      this.deps.log.error('could not synchronise a switch', { dpid: sw.dpidText, error: (error as Error).message });
    }
  }

  /** A switch went away, or another replica masters it: what this one believed it holds is forgotten. */
  down(sw: FabricSwitch): void {
    this.deps.sync.forget(sw.dpidText);
    this.deps.outbox.forget(sw.dpidText);
    this.deps.learner.dropSwitch(sw.dpid);
  }

  portStatus({ sw, message }: FabricMessage<PortStatus>): void {
    const port = message.port.portNo;
    const down = isPortDown(sw, port);
    if (down) this.deps.outbox.send(sw, this.deps.learner.forgetPort(sw.dpid, port));
    // A VM moved ahead of its resume whose port comes up runs there (a hypervisor that keeps the port down while it is stopped).
    if (!down && message.reason === OFPPR_MODIFY) for (const b of this.deps.registry.bindings.atAttachment(sw.dpid, port)) if (this.deps.buffers.isAhead(b.id)) void this.deps.phases.endHold(b.id, 'port up').catch((e: Error) => this.deps.log.error('could not end a stop', { eid: b.eid, error: e.message }));
    this.deps.log.debug('port status', { dpid: sw.dpidText, port, reason: message.reason, down });
  }

  flowRemoved({ sw, message }: FabricMessage<FlowRemoved>): void {
    this.deps.sync.removedBySwitch(sw.dpidText, message);
    this.deps.learner.sourceRemoved(sw.dpid, message.match);
    if (this.deps.options.correspondentRules === 'on-demand') {
      this.deps.mapCache.onFlowRemoved(sw, message).catch((e: Error) => this.deps.log.warn('cache eviction failed', { error: e.message }));
    }
  }
}
