// Pure helpers of the Timeline: its windowing (fixed row height, so a row's place is
// index × height and 100,000 rows cost what the visible 30 cost), finding a step's row, the
// time column and each event type's tone.
import type { EventType } from '../../../engine/api/index.js';

export interface RowRange {
  /** First rendered row (inclusive). */
  start: number;
  /** Past the last rendered row (exclusive). */
  end: number;
}

/** The rows to render for a scroll position: the visible ones plus `overscan` on each side. */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  count: number,
  overscan = 8,
): RowRange {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(0, viewport)) / rowHeight);
  return { start: Math.max(0, first - overscan), end: Math.min(count, last + overscan) };
}

/** The scrollTop that brings row `index` fully into view with the least movement (unchanged if it is). */
export function scrollToKeep(index: number, scrollTop: number, viewport: number, rowHeight: number): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewport) return Math.max(0, top + rowHeight - viewport);
  return scrollTop;
}

/** Index of the last event whose seq ≤ `seq` (events sorted by seq); -1 when none. */
export function indexAtSeq(events: readonly { seq: number }[], seq: number): number {
  let low = 0;
  let high = events.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if ((events[middle]?.seq ?? Infinity) <= seq) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/** Time since the run started, short and sortable by eye: +0.350s, +12.0s, +3m05s, +2h04m, +3d02h. */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '−' : '+';
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 3 : 1)}s`;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (abs < 3_600_000) return `${sign}${Math.floor(abs / 60_000)}m${pad((abs % 60_000) / 1000)}s`;
  if (abs < 86_400_000) return `${sign}${Math.floor(abs / 3_600_000)}h${pad((abs % 3_600_000) / 60_000)}m`;
  return `${sign}${Math.floor(abs / 86_400_000)}d${pad((abs % 86_400_000) / 3_600_000)}h`;
}

export type EventTone = 'failure' | 'wait' | 'retry' | 'decision' | 'done' | 'plain';

const TONES: Record<EventType, EventTone> = {
  RunStarted: 'plain',
  NodeScheduled: 'plain',
  NodeSkipped: 'plain',
  NodeStarted: 'plain',
  NodeCompleted: 'done',
  NodeFailed: 'failure',
  RetryScheduled: 'retry',
  WaitCreated: 'wait',
  TimerFired: 'wait',
  SignalReceived: 'decision',
  RunCompleted: 'done',
  RunFailed: 'failure',
  RunCancelled: 'failure',
  NodeInherited: 'done',
  RunRedriven: 'retry',
};

/** How a row of this type is coloured and which icon it gets. */
export function eventTone(type: EventType): EventTone {
  return TONES[type];
}
