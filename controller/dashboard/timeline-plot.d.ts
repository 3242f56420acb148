// Types of timeline-plot.js for the TypeScript unit tests (the page loads the .js as it is).
import type { MigrationView } from '../api/views.js';
import type { TimelineMark } from '../api/timeline.js';

export const MAX_MOVES: number;
export function niceTicks(max: number, count?: number): number[];
export function timeTicks(from: number, to: number, count?: number): number[];

export interface PlottedMove {
  readonly id: number; readonly eid: string; readonly x: number; readonly y: number; readonly yRelease: number;
  readonly rounds: number; readonly staged: boolean; readonly failed: boolean; readonly title: string;
}
export interface PlottedMark { readonly key: string; readonly type: TimelineMark['type']; readonly x: number; readonly title: string }
export interface TimelinePlot {
  readonly width: number; readonly height: number;
  readonly box: { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number };
  readonly empty: boolean;
  readonly moves: PlottedMove[];
  readonly marks: PlottedMark[];
  readonly xTicks: { readonly x: number; readonly label: string }[];
  readonly yTicks: { readonly y: number; readonly label: string }[];
}
export function planTimeline(
  timeline: { readonly migrations: readonly MigrationView[]; readonly marks: readonly TimelineMark[] },
  options?: { width?: number; height?: number; format?: (ms: number) => string },
): TimelinePlot;
