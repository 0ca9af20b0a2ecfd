// Pure geometry of the Gantt: activations and their attempts as segments on a time axis, in
// fractions of the axis (0 = the run's start, 1 = the current step's time), so the component
// draws them with percentages at any width. Tested without React.
import type { ActivationState } from '../../../engine/api/index.js';

export type SegmentKind =
  /** Scheduled, not started yet (or between scheduling and the first attempt). */
  | 'queued'
  /** An attempt that finished without an error. */
  | 'attempt'
  /** An attempt that failed: red, its error on hover. */
  | 'failed'
  /** An attempt still running at this step. */
  | 'open'
  /** Between a failed attempt and the next one: the retry's delay, dashed. */
  | 'retry-gap'
  /** The activation parked on a wait (approval, timer, signal): hatched. */
  | 'wait';

export interface Segment {
  kind: SegmentKind;
  /** Start, as a fraction of the axis, clamped to [0, 1]. */
  left: number;
  /** Length, as a fraction of the axis (≥ 0). */
  width: number;
  from: number;
  to: number;
  attempt: number | null;
  error: { message: string; kind: string } | null;
}

export interface Lane {
  activationId: string;
  nodeId: string;
  /** The node's name, with its ordinal ("#2") when the node ran more than once. */
  label: string;
  status: ActivationState['status'];
  segments: Segment[];
}

export interface Tick {
  at: number;
  left: number;
  label: string;
}

export interface GanttGeometry {
  lanes: Lane[];
  ticks: Tick[];
}

export function ganttGeometry(
  activations: readonly ActivationState[],
  startedAt: number,
  endAt: number,
  nodeNames: ReadonlyMap<string, string>,
  maxTicks = 8,
): GanttGeometry {
  const span = Math.max(1, endAt - startedAt);
  const fraction = (at: number) => Math.min(1, Math.max(0, (at - startedAt) / span));
  const segment = (
    kind: SegmentKind,
    from: number,
    to: number,
    attempt: number | null = null,
    error: Segment['error'] = null,
  ): Segment => {
    const left = fraction(from);
    return { kind, left, width: Math.max(0, fraction(Math.max(from, to)) - left), from, to, attempt, error };
  };

  const runsOfNode = new Map<string, number>();
  for (const activation of activations) runsOfNode.set(activation.nodeId, (runsOfNode.get(activation.nodeId) ?? 0) + 1);
  const seen = new Map<string, number>();

  const lanes = activations.map((activation): Lane => {
    const occurrence = (seen.get(activation.nodeId) ?? 0) + 1;
    seen.set(activation.nodeId, occurrence);
    const name = nodeNames.get(activation.nodeId) ?? activation.nodeId;
    const label = (runsOfNode.get(activation.nodeId) ?? 0) > 1 ? `${name} #${occurrence}` : name;
    const segments: Segment[] = [];
    const started = activation.attempts.filter((attempt) => attempt.startedAt !== null);
    const firstStart = started[0]?.startedAt ?? null;
    const end = activation.finishedAt ?? endAt;

    if (firstStart === null) {
      if (activation.status === 'scheduled') segments.push(segment('queued', activation.scheduledAt, endAt));
    } else if (firstStart > activation.scheduledAt) {
      segments.push(segment('queued', activation.scheduledAt, firstStart));
    }
    // A waiting node's last attempt is the wait itself: drawn hatched instead of as a bar.
    const parked = activation.wait !== null ? started[started.length - 1] : undefined;
    started.forEach((attempt, index) => {
      const from = attempt.startedAt ?? activation.scheduledAt;
      const to = attempt.finishedAt ?? end;
      const kind: SegmentKind = attempt.error ? 'failed' : attempt.finishedAt === null ? 'open' : 'attempt';
      const error = attempt.error ? { message: attempt.error.message, kind: attempt.error.kind } : null;
      if (attempt !== parked || attempt.error) segments.push(segment(kind, from, to, attempt.attempt, error));
      if (attempt.error && attempt.finishedAt !== null) {
        // The gap to the next attempt, or, while the retry is pending, to the end of the axis.
        const next = started[index + 1]?.startedAt ?? (activation.status === 'retrying' ? endAt : null);
        if (next !== null && next > attempt.finishedAt) segments.push(segment('retry-gap', attempt.finishedAt, next));
      }
    });
    if (activation.wait !== null) {
      const from = parked?.startedAt ?? activation.scheduledAt;
      const resolved = activation.signal?.at ?? null;
      segments.push(segment('wait', from, resolved ?? end));
      // After the signal the node finishes its work: the rest of the attempt is a plain bar.
      if (resolved !== null && parked && !parked.error)
        segments.push(segment(parked.finishedAt === null ? 'open' : 'attempt', resolved, end, parked.attempt));
    }
    return {
      activationId: activation.activationId,
      nodeId: activation.nodeId,
      label,
      status: activation.status,
      segments,
    };
  });

  return { lanes, ticks: ticks(startedAt, span, maxTicks) };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
];

/** Round-numbered ticks from the start: the smallest step that gives at most `maxTicks` of them. */
export function ticks(startedAt: number, span: number, maxTicks: number): Tick[] {
  const step = STEPS.find((candidate) => span / candidate <= maxTicks) ?? Math.ceil(span / maxTicks);
  const result: Tick[] = [];
  for (let offset = 0; offset <= span; offset += step)
    result.push({ at: startedAt + offset, left: offset / span, label: tickLabel(offset) });
  return result;
}

export function tickLabel(offset: number): string {
  if (offset === 0) return '0';
  if (offset < SECOND) return `${offset}ms`;
  if (offset < MINUTE) return `${+(offset / SECOND).toFixed(1)}s`;
  if (offset < HOUR)
    return offset % MINUTE === 0
      ? `${offset / MINUTE}m`
      : `${Math.floor(offset / MINUTE)}m${(offset % MINUTE) / SECOND}s`;
  if (offset < DAY)
    return offset % HOUR === 0 ? `${offset / HOUR}h` : `${Math.floor(offset / HOUR)}h${(offset % HOUR) / MINUTE}m`;
  return offset % DAY === 0 ? `${offset / DAY}d` : `${Math.floor(offset / DAY)}d${Math.round((offset % DAY) / HOUR)}h`;
}

/** "1.2s", "350ms": an attempt's or wait's length in a tooltip. */
export function shortDuration(ms: number): string {
  if (ms < SECOND) return `${Math.round(ms)}ms`;
  if (ms < MINUTE) return `${+(ms / SECOND).toFixed(1)}s`;
  if (ms < HOUR) return `${+(ms / MINUTE).toFixed(1)}m`;
  if (ms < DAY) return `${+(ms / HOUR).toFixed(1)}h`;
  return `${+(ms / DAY).toFixed(1)}d`;
}
