// The host agent's libvirt mode: every domain of one libvirt daemon followed from libvirt's own
// events, with no QMP monitor of the agent's in the domain's XML (libvirt marks a domain with
// `<qemu:commandline>` tainted). Each domain is a MigrationSource: its events in QMP's words
// (libvirt-events.ts), its migration's progress from its job (domjobinfo), its run state from how
// it appeared (an incoming migration's domain is the destination until it resumes). The signals go
// to the MACs of the domain's interfaces (domiflist).

import { followSource, type FollowOptions, type MigrationSource } from './follow.js';
import { isGone, isIncomingStart, macsFromIfList, memoryFromDomInfo, progressFromJobInfo, qmpEquivalent, virshWord, type LibvirtEvent } from './libvirt-events.js';
import type { MigrationSignal, QmpEventLike } from './migration-signals.js';

export interface LibvirtFollowDeps {
  /** Subscribes to the daemon's domain events (watchVirshEvents); returns the function that ends it. */
  readonly events: (onEvent: (event: LibvirtEvent) => void) => () => void;
  /** Runs a virsh command (VirshShell.run). */
  readonly virsh: (command: string) => Promise<string>;
  /**
   * A domain's signal, for each MAC of its interfaces; called in the order the signals came, per
   * domain, `heldMs` after it came (its MACs were read first, and the domain's earlier signals went).
   */
  readonly onSignal: (domain: string, macs: readonly string[], signal: MigrationSignal, heldMs: number) => void;
  /** A question to virsh failed (the domain's interfaces, its job): said, and asked again later. */
  readonly onError?: (domain: string, error: Error) => void;
  readonly follow?: Omit<FollowOptions, 'onPollError'>;
}

interface Followed {
  readonly listeners: Set<(event: QmpEventLike) => void>;
  readonly unfollow: () => void;
  macs: Promise<string[]> | undefined;
  /** The domain's signals, one after the other (its MACs are read first). */
  chain: Promise<void>;
}

/** Follows every domain of a libvirt daemon; returns the function that stops following. */
export function followLibvirt(deps: LibvirtFollowDeps): () => void {
  const domains = new Map<string, Followed>();
  const macsOf = (domain: string, followed: Followed): Promise<string[]> => {
    followed.macs ??= deps.virsh(`domiflist ${virshWord(domain)}`).then(macsFromIfList).then((macs) => {
      if (macs.length === 0) followed.macs = undefined; // not read (no such domain yet, no interface): asked again at the next signal
      return macs;
    }, (error: Error) => {
      followed.macs = undefined;
      deps.onError?.(domain, error);
      return [];
    });
    return followed.macs;
  };

  const start = (domain: string, status: string): Followed => {
    const listeners = new Set<(event: QmpEventLike) => void>();
    const source: MigrationSource = {
      onEvent: (listener) => { listeners.add(listener); return () => listeners.delete(listener); },
      status: () => Promise.resolve(status),
      progress: async () => {
        const text = await deps.virsh(`domjobinfo ${virshWord(domain)} --rawstats`);
        const progress = progressFromJobInfo(text);
        if (progress === undefined) throw new Error(`domjobinfo ${domain}: no job information in ${JSON.stringify(text.slice(0, 200))}`);
        return progress;
      },
      memoryBytes: async () => {
        const text = await deps.virsh(`dominfo ${virshWord(domain)}`);
        const bytes = memoryFromDomInfo(text);
        if (bytes === undefined) throw new Error(`dominfo ${domain}: no memory size in ${JSON.stringify(text.slice(0, 200))}`);
        return bytes;
      },
      progressUntilStop: true,
      resumeFromDestination: true,
    };
    const followed: Followed = {
      listeners,
      macs: undefined,
      chain: Promise.resolve(),
      unfollow: followSource(source, (signal) => {
        const came = performance.now();
        followed.chain = followed.chain
          .then(async () => deps.onSignal(domain, await macsOf(domain, followed), signal, performance.now() - came))
          .catch((error: Error) => deps.onError?.(domain, error));
      }, { ...deps.follow, onPollError: (error) => deps.onError?.(domain, error) }),
    };
    domains.set(domain, followed);
    macsOf(domain, followed).catch(() => undefined); // read ahead: the domain may be gone by its last signal
    return followed;
  };

  const unwatch = deps.events((event) => {
    let followed = domains.get(event.domain);
    if (followed === undefined && isGone(event)) return; // never followed: nothing to end
    if (isIncomingStart(event)) {
      // A migration's destination here: its events say nothing until the VM resumes here.
      followed?.unfollow();
      followed = start(event.domain, 'inmigrate');
    }
    followed ??= start(event.domain, 'running');
    const qmp = qmpEquivalent(event);
    if (qmp !== undefined) for (const listener of [...followed.listeners]) listener(qmp);
    if (isGone(event)) {
      followed.unfollow();
      domains.delete(event.domain);
    }
  });

  // The domains that run already (the agent started after them): followed now, so that their size
  // and MACs are read before a migration begins rather than at its start, when libvirt answers late.
  let stopped = false;
  deps.virsh('list --state-running --name').then((text) => {
    if (stopped) return;
    for (const name of text.split('\n').map((l) => l.trim())) if (name !== '' && !domains.has(name)) start(name, 'running');
  }, (error: Error) => deps.onError?.('*', error));

  return () => {
    stopped = true;
    unwatch();
    for (const followed of domains.values()) followed.unfollow();
    domains.clear();
  };
}
