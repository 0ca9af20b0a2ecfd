// What a wait kind declares: the shape of its request, the durable rows and timers it sets, how it
// is resolved (a timer coming due, a signal from a person or a process), whether it counts as
// parked and how it is shown. The runtime reads only these declarations: no switch over kinds.
import type { z } from 'zod';

/** Timers a wait sets: `wait` ends the wait (a timer node), `wait-timeout` gives up on it. */
export type WaitTimerPurpose = 'wait' | 'wait-timeout';

export type Decision = 'approved' | 'rejected';

/** A decision as the journal records it in `SignalReceived` (who, what, why). */
export interface SignalRecord {
  decision: Decision | 'timeout';
  by: string;
  comment: string | null;
}

/** What a finished wait hands to the node's `resume`. */
export type WaitOutcome =
  | { kind: 'timer-fired'; dueAt: number; firedAt: number }
  | { kind: 'decision'; decision: Decision | 'timeout'; by: string; comment: string | null };

export interface WaitResolution {
  /** Journaled as `SignalReceived` (with what the person was shown) before the node resumes. */
  signal: SignalRecord | null;
  outcome: WaitOutcome;
}

/** A wait listed in the inbox (the `waits` rows): something a person or a process must act on. */
export interface InboxEntry {
  title: string;
  instructions: string;
  timeoutAt: number | null;
}

export interface WaitTimer {
  purpose: WaitTimerPurpose;
  dueAt: number;
}

export interface WaitKind<Request extends { kind: string }, Signal> {
  kind: Request['kind'];
  /** One word for lists: "Timer", "Approval". */
  label: string;
  /** The request as a node returns it and as `WaitCreated` journals it. */
  request: z.ZodType<Request>;
  /** Durable timers set when the wait is created. */
  timers(request: Request): WaitTimer[];
  /** The inbox row, for waits that someone must act on; null for waits that only need time. */
  inbox(request: Request): InboxEntry | null;
  /** True when only a person, a signal or a timer beyond `horizon` can move the run on. */
  parked(request: Request, horizon: number): boolean;
  /** What it waits for, in a few words after the label ("Refund?", "until 2026-…"). */
  describe(request: Request): string;
  /** One of this wait's timers came due. */
  onTimer(request: Request, purpose: WaitTimerPurpose, fired: { dueAt: number; firedAt: number }): WaitResolution;
  /** Signals this wait accepts (approval decisions), validated before `resolve`; null: none. */
  signal: { schema: z.ZodType<Signal>; resolve(request: Request, signal: Signal): WaitResolution } | null;
}

export function defineWaitKind<Request extends { kind: string }, Signal = never>(
  kind: WaitKind<Request, Signal>,
): WaitKind<Request, Signal> {
  return kind;
}
