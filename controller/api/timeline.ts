// The migration timeline's marks: what happened around the moves that is no move itself (a
// conflicting claim refused, a move staged ahead from an intent, a move that failed, an endpoint
// suspended for flapping). The fabric reports them only as events; a page opened later still
// wants them on its plot, so the last ones are kept here, bounded. The moves themselves are the
// fabric's MigrationLog.

import type { Observable, Subscription } from 'rxjs';
import type { FabricEvent } from '../fabric/index.js';

export type TimelineMarkType = 'conflict' | 'move-staged' | 'migration-failed' | 'endpoint-suspended' | 'vm-resumed' | 'endpoint-lost';

export interface TimelineMark {
  readonly type: TimelineMarkType;
  readonly eid: string;
  /** Epoch ms. */
  readonly at: number;
  /** One line for a reader: the reason of a conflict, the staged locator, the error. */
  readonly detail: string;
  /** The switch it happened at, when the event names one. */
  readonly dpid: string | null;
}

/** Pure: the mark a fabric event leaves on the timeline, if any. */
export function timelineMark(e: FabricEvent): TimelineMark | undefined {
  switch (e.type) {
    case 'CONFLICT': return { type: 'conflict', eid: e.eid, at: e.at, detail: `${e.reason}: ${e.detail}`, dpid: e.dpid };
    case 'MOVE_STAGED': return { type: 'move-staged', eid: e.eid, at: e.at, detail: `receive side staged at port ${e.port} as ${e.locator}`, dpid: e.dpid };
    case 'MIGRATION_FAILED': return { type: 'migration-failed', eid: e.eid, at: e.at, detail: e.error, dpid: null };
    case 'VM_RESUMED': return { type: 'vm-resumed', eid: e.eid, at: e.at, detail: `runs again (${e.trigger}): ${e.frames} frames that waited ${Math.round(e.heldMs)} ms delivered`, dpid: null };
    case 'ENDPOINT_SUSPENDED': return { type: 'endpoint-suspended', eid: e.eid, at: e.at, detail: `claims refused until ${new Date(e.until).toISOString()}`, dpid: null };
    case 'ENDPOINT_LOST': return { type: 'endpoint-lost', eid: e.eid, at: e.at, detail: `lost: port ${e.port} went with no move to follow; looked for at every edge port`, dpid: e.dpid };
    default: return undefined;
  }
}

export const DEFAULT_TIMELINE_MARKS = 1_000;

/** The last `capacity` marks, oldest first. */
export class TimelineMarks {
  private readonly marks: TimelineMark[] = [];
  private subscription: Subscription | undefined;

  constructor(private readonly capacity = DEFAULT_TIMELINE_MARKS) {}

  follow(events$: Observable<FabricEvent>): void {
    this.subscription = events$.subscribe({
      next: (e) => {
        const mark = timelineMark(e);
        if (mark !== undefined) this.add(mark);
      },
      error: () => undefined,
    });
  }

  add(mark: TimelineMark): void {
    this.marks.push(mark);
    if (this.marks.length > this.capacity) this.marks.shift();
  }

  list(): readonly TimelineMark[] {
    return this.marks;
  }

  close(): void {
    this.subscription?.unsubscribe();
  }
}
