// The case study's scenarios (BRIEF.md): Seamless across subnets, and the two baselines that run
// in the same harness.

import type { ScenarioSpec } from './experiment.js';

// Two streams: a correspondent in another managed subnet (it becomes the VM's own subnet on the first move)
// and the external host (its traffic takes the home anchor). Four concurrent streams overload the
// userspace datapath on a 2-core machine and lose packets with no migration at all (docs/case-study.md).
const STREAMS = ['cnB', 'ext'];
/** Numbered UDP datagrams a second from cnB, where a scenario counts what the network lost. */
const UDP_PPS = 1000;

export const SEAMLESS: ScenarioSpec = {
  name: 'seamless-cross-subnet',
  description: 'Seamless rewriting; the VM migrates A -> B -> C -> A while cnB (subnet B) and ext (outside) stream to it; probes from every peer after each move',
  rewrite: true,
  moves: [{ toSwitch: 's2' }, { toSwitch: 's3' }, { toSwitch: 's1' }],
  senders: STREAMS,
  rate: 200_000,
  dwellMs: 4000,
  pauseMs: 100,
  probes: true,
};

export const NO_REWRITE: ScenarioSpec = {
  name: 'baseline-no-rewrite',
  description: 'Baseline 1: the same cross-subnet move with plain L2 learning and no rewriting',
  rewrite: false,
  moves: [{ toSwitch: 's2' }],
  senders: STREAMS,
  rate: 200_000,
  dwellMs: 4000,
  pauseMs: 100,
  probes: false,
};

export const INTRA_SUBNET: ScenarioSpec = {
  name: 'baseline-intra-subnet-l2',
  description: 'Baseline 2: moves between two ports of subnet A with plain L2 learning (live migration today)',
  rewrite: false,
  moves: [{ toSwitch: 's1', toPort: 11 }, { toSwitch: 's1', toPort: 10 }, { toSwitch: 's1', toPort: 11 }],
  senders: STREAMS,
  rate: 200_000,
  dwellMs: 4000,
  pauseMs: 100,
  probes: false,
};

/**
 * Loss-free migration (issue 12): a host agent tells the controller when the VM stops, and its frames
 * wait at the controller during the stop-and-copy. A numbered UDP stream from cnB counts what the
 * network lost (the plain Seamless moves lose the pause's frames; these should lose none).
 */
export const SEAMLESS_LOSS_FREE: ScenarioSpec = {
  ...SEAMLESS,
  name: 'seamless-loss-free',
  description: 'Seamless with loss-free migration: a host agent signals the stop, frames for the VM wait at the controller during the stop-and-copy; A -> B -> C -> A, 1,000 numbered datagrams/s from cnB',
  lossFree: true,
  udpPps: UDP_PPS,
};

/**
 * What `npm run case-study` runs: the moves with a numbered UDP stream beside the TCP ones wherever
 * the VM stays reachable, so that what each way of moving loses is counted side by side.
 */
export const ALL_SCENARIOS: readonly ScenarioSpec[] = [
  { ...SEAMLESS, udpPps: UDP_PPS },
  SEAMLESS_LOSS_FREE,
  NO_REWRITE,
  { ...INTRA_SUBNET, udpPps: UDP_PPS },
];

/**
 * The scenarios named on a command line, in the order given, all of them when none is; an unknown
 * name is an error that lists the known ones.
 */
export function selectScenarios(names: readonly string[]): readonly ScenarioSpec[] {
  if (names.length === 0) return ALL_SCENARIOS;
  return names.map((name) => {
    const spec = ALL_SCENARIOS.find((s) => s.name === name);
    if (spec === undefined) throw new Error(`unknown scenario ${JSON.stringify(name)}: the scenarios are ${ALL_SCENARIOS.map((s) => s.name).join(', ')}`);
    return spec;
  });
}
