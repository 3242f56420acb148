// The runtime's options and their defaults, in one place (config.ts maps its keys onto them).

import { DEFAULT_LEARN_IDLE_TIMEOUT_SEC, PROBE_MAC } from '../pipeline/index.js';
import type { Mac } from '../openflow/index.js';
import { DEFAULT_LOST_SEARCH, type LostSearchOptions } from '../mobility/index.js';
import { DEFAULT_BUFFER_LIMITS, type BufferLimits } from './buffers.js';
import { DEFAULT_CLAIM_LIMITS, type ClaimLimiterOptions } from './claim-limiter.js';
import { DEFAULT_DAMPING, type DampingOptions } from './damping.js';
import type { VerificationMode } from './verify.js';

export interface FabricOptions {
  /** false = baseline: plain L2 learning, bindings are learned but nothing is rewritten. */
  readonly rewrite: boolean;
  /** How long receive-side rules outlive a move (in-flight packets, cached datapath flows). */
  readonly graceMs: number;
  /** How a claim without other evidence is verified: ARP probes of the old attachment, or flow counters. */
  readonly verification: VerificationMode;
  /** How long an answer to the ARP probes may take. */
  readonly probeWindowMs: number;
  /** ARP probes sent per check. */
  readonly probeCount: number;
  /** Source MAC of the probes. */
  readonly probeMac: Mac;
  /**
   * Counter sampling window of the flow-counters check. Open vSwitch pushes datapath counters to
   * OpenFlow rules about every 500 ms (revalidators), so a shorter window would see a busy VM as silent.
   */
  readonly activityWindowMs: number;
  /** Idle timeout of learned L2 rules, seconds. */
  readonly learnIdleTimeoutSec: number;
  /** Learner bounds (MAC flooding). */
  readonly maxMacsPerPort: number;
  readonly maxMacsPerSwitch: number;
  /** Frames held per endpoint while its move is decided and applied. */
  readonly maxHeldPackets: number;
  /** After this long, configured edges that never connected are reported. */
  readonly edgeCheckMs: number;
  /** Correspondent rules at every edge (eager) or only where conversations are seen (on-demand). */
  readonly correspondentRules: 'eager' | 'on-demand';
  /** Idle timeout of on-demand correspondent rules, seconds. */
  readonly cacheIdleTimeoutSec: number;
  /** Flap damping. */
  readonly damping: DampingOptions;
  /** Endpoints one switch port may hold before a new claim there needs the old one verified gone. */
  readonly maxEndpointsPerPort: number;
  /** Claims (new endpoints, moves, refused claims) per switch port. */
  readonly claims: ClaimLimiterOptions;
  /** Loss-free migration: bounds of the buffer a stopping VM's frames wait in. */
  readonly buffer: BufferLimits;
  /** Several replicas: how long a move waits for the others to confirm its receive side. */
  readonly coordinationTimeoutMs: number;
  /** Endpoints whose port went with no move to follow are looked for with ARP probes at every edge port. */
  readonly lostSearch: LostSearchOptions;
}

/** Idle timeout of on-demand correspondent rules unless configured. */
export const DEFAULT_CACHE_IDLE_TIMEOUT_SEC = 300;

export const DEFAULT_FABRIC_OPTIONS: FabricOptions = {
  rewrite: true, graceMs: 500, verification: 'arp-probe', probeWindowMs: 40, probeCount: 2, probeMac: PROBE_MAC, activityWindowMs: 1100,
  learnIdleTimeoutSec: DEFAULT_LEARN_IDLE_TIMEOUT_SEC, maxMacsPerPort: 1024, maxMacsPerSwitch: 16_384, maxHeldPackets: 256, edgeCheckMs: 30_000,
  correspondentRules: 'eager', cacheIdleTimeoutSec: DEFAULT_CACHE_IDLE_TIMEOUT_SEC, damping: DEFAULT_DAMPING, maxEndpointsPerPort: 1, claims: DEFAULT_CLAIM_LIMITS, buffer: DEFAULT_BUFFER_LIMITS, coordinationTimeoutMs: 1000,
  lostSearch: DEFAULT_LOST_SEARCH,
};
