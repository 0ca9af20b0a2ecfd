// What a wait kind declares: the shape of its request, the durable rows and timers it sets, how it
// is resolved (a timer coming due, a signal from a person or a process), what a resolution records
// in the journal, whether it counts as parked and how it is shown. The runtime reads only these
// declarations: no code outside engine/waits switches over wait kinds.
import type { z } from 'zod';
import type { InboxCard } from './card.js';

/** Timers a wait sets: `wait` ends the wait (a timer node), `wait-timeout` gives up on it. */
export type WaitTimerPurpose = 'wait' | 'wait-timeout';

/** A wait listed in the inbox (the `waits` rows): something a person or a process must act on. */
export interface InboxEntry {
  title: string;
  instructions: string;
  timeoutAt: number | null;
  /** What the person is shown and asked: outcomes, fields, form, who may decide. */
  card: InboxCard;
}

export interface WaitTimer {
  purpose: WaitTimerPurpose;
  dueAt: number;
}

/** What a resolution journals in `SignalReceived` (besides what the person was shown). */
export interface SignalRecordBase {
  /** The wait kind: tells the records of different kinds apart. */
  wait: string;
  /** Who or what resolved it (a person, `system` for a timeout). */
  by: string;
}

/** How a wait ends: what the journal records (null: nothing, e.g. a timer), and what `resume` gets. */
export interface WaitResolution<Record, Outcome> {
  record: Record | null;
  outcome: Outcome;
}

/**
 * What a signal does: ends the wait; or is recorded while the wait goes on (`outcome: null`, a vote
 * towards a quorum); or is refused, saying why (`code` tells callers how to answer: HTTP 403 for
 * `not-allowed`, 409 for `already-decided`, 400 for `invalid`).
 */
export type SignalAnswer<Record, Outcome> =
  | WaitResolution<Record, Outcome>
  | { record: Record; outcome: null }
  | { refused: string; code: 'invalid' | 'not-allowed' | 'already-decided' };

/** What a signal is judged against besides the request: the run so far. */
export interface SignalContext<Record> {
  /** Signals journaled on this wait that did not end it (votes), oldest first. */
  pending: readonly (Record & { at: number })[];
  /** Who started the run, when it is known. */
  startedBy: string | null;
}

export interface WaitKind<Request extends { kind: string }, Signal, Record extends SignalRecordBase, Outcome> {
  kind: Request['kind'];
  /** One word for lists: "Timer", "Approval". */
  label: string;
  /** The kind with its article, for sentences: "an approval". */
  phrase: string;
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
  onTimer(
    request: Request,
    purpose: WaitTimerPurpose,
    fired: { dueAt: number; firedAt: number },
  ): WaitResolution<Record, Outcome>;
  /**
   * How its timer treats coming due late (a timer node's misfire policy); absent: it fires late.
   * `graceMs` null: no lateness counts as missed. Read by the start-up report of late timers.
   */
  misfire?(request: Request): { policy: 'fire' | 'skip' | 'ask'; graceMs: number | null };
  /** Signals this wait accepts (approval decisions), validated before `resolve`; null: none. */
  signal: {
    schema: z.ZodType<Signal>;
    /**
     * Whether this wait is the one a signal's `key` names (a signal's name); a kind without it is
     * picked by kind (and node) alone.
     */
    matches?(request: Request, key: string): boolean;
    resolve(request: Request, signal: Signal, context: SignalContext<Record>): SignalAnswer<Record, Outcome>;
  } | null;
  /** What its resolutions record; null for a kind that records none. */
  record: {
    /** Journaled in `SignalReceived`; its `wait` is this kind. */
    schema: z.ZodType<Record>;
    /** What was decided and by whom, briefly: "approved by alice". */
    summary(record: Record): string;
    /** For the journal's line: the summary and any comment. */
    detail(record: Record): string;
    /** What a record that did not end the wait is called in the journal's line (default "vote"). */
    pendingLabel?: string;
    /** What the inbox row keeps once it is decided. */
    inbox(record: Record): { decision: string; comment: string | null };
  } | null;
}

export function defineWaitKind<
  Request extends { kind: string },
  Signal = never,
  Record extends SignalRecordBase = never,
  Outcome = unknown,
>(kind: WaitKind<Request, Signal, Record, Outcome>): WaitKind<Request, Signal, Record, Outcome> {
  return kind;
}
