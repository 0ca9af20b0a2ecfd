// Pure helpers of the Timeline: finding a step's row, the time column and each event type's tone
// (its windowing is ui/windowing.ts).
import type { EventType } from '../../../engine/api/index.js';

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
  CompensationStarted: 'failure',
  RunCompensated: 'done',
  RunCompensationFailed: 'failure',
  RunCancelled: 'failure',
  NodeInherited: 'done',
  RunRedriven: 'retry',
  NodeNoted: 'plain',
};

/** How a row of this type is coloured and which icon it gets. */
export function eventTone(type: EventType): EventTone {
  return TONES[type];
}
