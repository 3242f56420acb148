// The hypervisor's own signals, turned into migration intents. libvirt and OpenStack add the
// destination QEMU's tap to an OVS bridge with external_ids:attached-mac seconds before the
// stop-and-copy: the VM's next place is known before it resumes. An attachment of a known
// endpoint's MAC at another edge port becomes an intent naming that switch and port (its receive
// side is staged at once); the tap going away before the VM showed up there withdraws it.
// Taps found at start-up are not announcements (the VMs were already there; a paused source
// that lingers has a tap too).

import type { Logger } from '../log.js';
import type { BindingService, MigrationIntent, MigrationIntents, SubnetMap } from '../mobility/index.js';
import type { Mac } from '../openflow/index.js';

export interface AttachmentSignal {
  readonly state: 'added' | 'removed';
  readonly mac: Mac;
  readonly dpid: bigint;
  readonly ofport: number;
  /** Part of the first snapshot after the watcher connected. */
  readonly initial: boolean;
}

/** How long an intent learned from a tap stays valid: a live migration's copy phase takes seconds. */
export const ATTACHMENT_INTENT_TTL_MS = 120_000;

/** Pure: the intent an attachment announces, if any. */
export function intentForAttachment(a: AttachmentSignal, bindings: BindingService, subnets: SubnetMap, now: number): MigrationIntent | undefined {
  if (a.state !== 'added' || a.initial) return undefined;
  const binding = bindings.byMac(a.mac);
  if (binding === undefined || subnets.ofDpid(a.dpid) === undefined) return undefined;
  if (binding.locator.dpid === a.dpid && binding.locator.port === a.ofport) return undefined;
  return { eid: binding.eid, toDpid: a.dpid, toPort: a.ofport, expiresAt: now + ATTACHMENT_INTENT_TTL_MS, source: 'ovsdb' };
}

export interface HypervisorDeps {
  readonly bindings: BindingService;
  readonly subnets: SubnetMap;
  readonly intents: MigrationIntents;
  readonly announce: (intent: MigrationIntent) => Promise<boolean>;
  readonly withdraw: (eid: string) => Promise<void>;
  readonly now: () => number;
  readonly log: Logger;
}

export class HypervisorSignals {
  announced = 0;

  constructor(private readonly deps: HypervisorDeps) {}

  /** One attachment event; never rejects (its failures are logged). */
  async onAttachment(a: AttachmentSignal): Promise<void> {
    const { deps } = this;
    const now = deps.now();
    try {
      if (a.state === 'removed') return await this.onRemoved(a, now);
      const intent = intentForAttachment(a, deps.bindings, deps.subnets, now);
      if (intent === undefined) return;
      // Every replica watches the hypervisors' OVSDB itself: registered here, staged here, not shared.
      const registered = deps.intents.register(intent, now, false);
      if (!registered.ok) return deps.log.warn('attachment not usable as an intent', { mac: a.mac, error: registered.error });
      this.announced++;
      deps.log.info('VM about to appear (hypervisor tap)', { eid: intent.eid, mac: a.mac, dpid: a.dpid.toString(16), port: a.ofport });
      await deps.announce(registered.intent);
    } catch (error) {
      deps.log.error('hypervisor signal not handled', { mac: a.mac, error: (error as Error).message });
    }
  }

  private async onRemoved(a: AttachmentSignal, now: number): Promise<void> {
    const binding = this.deps.bindings.byMac(a.mac);
    if (binding === undefined) return;
    const intent = this.deps.intents.get(binding.eid, now);
    if (intent?.source !== 'ovsdb' || intent.toDpid !== a.dpid || intent.toPort !== a.ofport) return;
    this.deps.intents.consume(binding.eid);
    await this.deps.withdraw(binding.eid);
  }
}
