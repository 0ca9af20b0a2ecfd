// Run state as a fold over the journal: state(k) = events[0..k].reduce(evolve). Pure and
// immutable: `evolve` returns a new state sharing everything it did not change with the old one,
// so keeping the state at every step (time travel) and building on a state without committing
// to it (a batch that may roll back) both cost almost nothing.
import { carriedEnds, type SignalRecord, type WaitRequest } from '../waits/index.js';
import {
  handle,
  type EventHandlers,
  type EventOf,
  type JournalEvent,
  type NodeFailure,
  type NodeNote,
  type RunFailure,
} from './events.js';
import { PersistentMap } from './persistent-map.js';

export type ActivationStatus =
  'scheduled' | 'running' | 'retrying' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'cancelled';

/**
 * Every status a run can have, in the order lists show them. `compensating`: running the
 * compensations of completed nodes after a failure or a cancellation (saga).
 */
export const RUN_STATUSES = [
  'running',
  'waiting',
  'completed',
  'failed',
  'cancelled',
  'compensating',
  'compensated',
  'compensation_failed',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Why a run compensates: it failed (with this error) or was cancelled. */
export interface CompensationState {
  readonly cause: 'failed' | 'cancelled';
  readonly error: RunFailure | null;
}

const TERMINAL: ReadonlySet<RunStatus> = new Set([
  'completed',
  'failed',
  'cancelled',
  'compensated',
  'compensation_failed',
]);

const OPEN: ReadonlySet<ActivationStatus> = new Set(['scheduled', 'running', 'retrying', 'waiting']);

export interface AttemptRecord {
  readonly attempt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly error: NodeFailure | null;
  /** Started again after a crash interrupted this attempt. */
  readonly recoveries: number;
}

/** What ended a wait (its kind's record: for an approval, who decided what) and when. */
export type SignalState = Readonly<SignalRecord> & { readonly at: number };

export interface ActivationState {
  readonly activationId: string;
  readonly nodeId: string;
  /** Creation order within the run (0, 1, …): the order lists show activations in. */
  readonly ordinal: number;
  readonly status: ActivationStatus;
  readonly attempt: number;
  readonly input: unknown;
  readonly output: unknown;
  readonly port: string | null;
  readonly error: NodeFailure | null;
  readonly wait: WaitRequest | null;
  /** The config its `{{ }}` fields evaluated to when it started waiting (what `resume` sees). */
  readonly waitConfig?: unknown;
  readonly signal: SignalState | null;
  /** Signals recorded on the current wait that did not end it (votes towards a quorum). */
  readonly votes: readonly SignalState[];
  readonly retryDueAt: number | null;
  readonly scheduledAt: number;
  readonly finishedAt: number | null;
  /** Journal seq of the event that resolved it (completion order for "first input wins"). */
  readonly resolvedSeq: number | null;
  readonly attempts: readonly AttemptRecord[];
  /** What the node noted (NodeNoted), every attempt's, in order; each note with its attempt. */
  readonly notes: readonly ActivationNote[];
}

export type ActivationNote = NodeNote & { readonly attempt: number };

export interface RunState {
  readonly runId: string;
  readonly workflowId: string;
  readonly version: number;
  readonly status: RunStatus;
  readonly input: unknown;
  readonly output: unknown;
  readonly error: RunFailure | null;
  readonly triggerNodeId: string;
  readonly parentRunId: string | null;
  /** Who started it, when known (an approval may forbid them to decide). */
  readonly startedBy: string | null;
  /** Set once the run starts compensating (saga); null otherwise. */
  readonly compensation: CompensationState | null;
  /** Started in playback mode (recorded answers instead of paid calls). */
  readonly playback: boolean;
  readonly activations: PersistentMap<ActivationState>;
  readonly openActivations: number;
  readonly waitingActivations: number;
  readonly lastSeq: number;
  readonly startedAt: number;
  readonly finishedAt: number | null;
}

export function initialState(runId: string): RunState {
  return {
    runId,
    workflowId: '',
    version: 0,
    status: 'running',
    input: null,
    output: null,
    error: null,
    triggerNodeId: '',
    parentRunId: null,
    startedBy: null,
    compensation: null,
    playback: false,
    activations: PersistentMap.empty(),
    openActivations: 0,
    waitingActivations: 0,
    lastSeq: 0,
    startedAt: 0,
    finishedAt: null,
  };
}

export function isOpen(status: ActivationStatus): boolean {
  return OPEN.has(status);
}

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL.has(status);
}

/** The run's activations in the order they were created. */
export function activationsOf(state: RunState): ActivationState[] {
  return [...state.activations.values()].sort((a, b) => a.ordinal - b.ordinal);
}

export function foldEvents(runId: string, events: Iterable<JournalEvent>): RunState {
  let state = initialState(runId);
  for (const event of events) state = evolve(state, event);
  return state;
}

/** The state after the first `k` events (k = 0: before the run started). */
export function stateAt(runId: string, events: readonly JournalEvent[], k: number): RunState {
  return foldEvents(runId, events.slice(0, Math.max(0, k)));
}

export function evolve(state: RunState, event: JournalEvent): RunState {
  // Handlers return a new object that nothing else holds yet: finishing it in place saves a copy.
  const next = handle(evolvers, event, state) as Mutable<RunState>;
  next.lastSeq = event.seq;
  // A compensating run stays so (even while a compensation waits) until it ends.
  if (!isTerminal(next.status) && next.status !== 'compensating') next.status = liveStatus(next);
  return next;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Each handler returns a new state object (never `state` itself); `evolve` then sets `lastSeq` and the live status. */
const evolvers: EventHandlers<RunState, [RunState]> = {
  RunStarted: (event, state) => ({
    ...state,
    workflowId: event.data.workflowId,
    version: event.data.version,
    input: event.data.input,
    triggerNodeId: event.data.triggerNodeId,
    parentRunId: event.data.parentRunId,
    startedBy: event.data.startedBy ?? null,
    playback: event.data.playback === true,
    startedAt: event.at,
  }),
  NodeScheduled: (event, state) => created(state, event, event.data.input, 'scheduled'),
  NodeSkipped: (event, state) => created(state, event, null, 'skipped'),
  NodeStarted: (event, state) =>
    update(state, event, (activation) => {
      const attempt = event.attempt ?? activation.attempt;
      const last = activation.attempts.at(-1);
      const attempts =
        last && last.attempt === attempt && last.finishedAt === null
          ? [...activation.attempts.slice(0, -1), { ...last, recoveries: last.recoveries + 1 }]
          : [...activation.attempts, { attempt, startedAt: event.at, finishedAt: null, error: null, recoveries: 0 }];
      return { ...activation, attempt, status: 'running', attempts };
    }),
  NodeCompleted: (event, state) =>
    update(state, event, (activation) => ({
      ...completed(activation, event),
      wait: null,
      attempts: finishAttempt(activation.attempts, event.at, null),
    })),
  NodeFailed: (event, state) =>
    update(state, event, (activation) => ({
      ...activation,
      status: 'failed',
      error: event.data.error,
      finishedAt: event.at,
      resolvedSeq: event.seq,
      attempts: finishAttempt(activation.attempts, event.at, event.data.error),
    })),
  RetryScheduled: (event, state) =>
    update(state, event, (activation) => ({
      ...activation,
      status: 'retrying',
      retryDueAt: event.data.dueAt,
      finishedAt: null,
      resolvedSeq: null,
    })),
  WaitCreated: (event, state) =>
    update(state, event, (activation) => ({
      ...activation,
      status: 'waiting',
      wait: event.data.wait,
      // A fan-out opened again (a redrive, a retry) keeps the items an earlier attempt completed.
      votes: carriedEnds(
        activation.signal ? [...activation.votes, activation.signal] : activation.votes,
        event.data.wait,
      ),
      waitConfig: event.data.config,
    })),
  TimerFired: (event, state) =>
    event.data.purpose !== 'retry'
      ? { ...state }
      : update(state, event, (activation) => ({
          ...activation,
          status: 'scheduled',
          attempt: event.attempt ?? activation.attempt + 1,
          retryDueAt: null,
        })),
  SignalReceived: (event, state) =>
    update(state, event, (activation) =>
      event.data.pending === true
        ? { ...activation, votes: [...activation.votes, { ...event.data.signal, at: event.at }] }
        : { ...activation, signal: { ...event.data.signal, at: event.at } },
    ),
  RunCompleted: (event, state) => ({
    ...state,
    status: 'completed',
    output: event.data.output,
    finishedAt: event.at,
  }),
  RunFailed: (event, state) =>
    cancelOpen({ ...state, status: 'failed', error: event.data.error, finishedAt: event.at }),
  RunCancelled: (event, state) => cancelOpen({ ...state, status: 'cancelled', finishedAt: event.at }),
  // The open activations (other branches) are cut off as a failure cuts them off; the run lives
  // on for its compensations (a cancelled run is live again).
  CompensationStarted: (event, state) =>
    cancelOpen({
      ...state,
      status: 'compensating',
      error: event.data.error,
      compensation: { cause: event.data.cause, error: event.data.error },
      finishedAt: null,
    }),
  RunCompensated: (event, state) => ({ ...state, status: 'compensated', finishedAt: event.at }),
  RunCompensationFailed: (event, state) => ({
    ...state,
    status: 'compensation_failed',
    error: event.data.error,
    finishedAt: event.at,
  }),
  // Completed, but never executed in this run: no attempt is recorded.
  NodeInherited: (event, state) => update(state, event, (activation) => completed(activation, event)),
  // The run is live again; each named activation gets a new attempt (the same activation id, so
  // the same idempotency key).
  RunRedriven: (event, state) => {
    let next: RunState = { ...state, status: 'running', output: null, error: null, finishedAt: null };
    for (const activationId of event.data.activationIds) {
      const activation = next.activations.get(activationId);
      if (!activation || isOpen(activation.status)) continue;
      next = replace(next, activation, {
        ...activation,
        status: 'scheduled',
        attempt: activation.attempts.length > 0 ? activation.attempt + 1 : activation.attempt,
        error: null,
        finishedAt: null,
        resolvedSeq: null,
        retryDueAt: null,
        wait: null,
      });
    }
    return next;
  },

  // ── Node records ──
  NodeNoted: (event, state) =>
    update(state, event, (activation) => {
      const attempt = event.attempt ?? activation.attempt;
      return { ...activation, notes: [...activation.notes, ...event.data.notes.map((note) => ({ ...note, attempt }))] };
    }),
};

function created(state: RunState, event: JournalEvent, input: unknown, status: 'scheduled' | 'skipped'): RunState {
  const activation: ActivationState = {
    activationId: event.activationId ?? '',
    nodeId: event.nodeId ?? '',
    ordinal: state.activations.size,
    status,
    attempt: 1,
    input,
    output: null,
    port: null,
    error: null,
    wait: null,
    signal: null,
    votes: [],
    retryDueAt: null,
    scheduledAt: event.at,
    finishedAt: null,
    resolvedSeq: status === 'skipped' ? event.seq : null,
    attempts: [],
    notes: [],
  };
  return {
    ...state,
    activations: state.activations.set(activation.activationId, activation),
    openActivations: state.openActivations + (isOpen(status) ? 1 : 0),
  };
}

/** An activation completed by `event`: executed here (NodeCompleted) or inherited by a fork. */
function completed(activation: ActivationState, event: EventOf<'NodeCompleted' | 'NodeInherited'>): ActivationState {
  return {
    ...activation,
    status: 'completed',
    output: event.data.output,
    port: event.data.port,
    finishedAt: event.at,
    resolvedSeq: event.seq,
  };
}

/** Replaces one activation, keeping the open/waiting counters in step with its status. */
function update(
  state: RunState,
  event: JournalEvent,
  change: (activation: ActivationState) => ActivationState,
): RunState {
  const activation = event.activationId === null ? undefined : state.activations.get(event.activationId);
  if (!activation) return { ...state };
  return replace(state, activation, change(activation));
}

function replace(state: RunState, before: ActivationState, after: ActivationState): RunState {
  const open = Number(isOpen(after.status)) - Number(isOpen(before.status));
  const waiting = Number(after.status === 'waiting') - Number(before.status === 'waiting');
  return {
    ...state,
    activations: state.activations.set(after.activationId, after),
    openActivations: state.openActivations + open,
    waitingActivations: state.waitingActivations + waiting,
  };
}

function finishAttempt(
  attempts: readonly AttemptRecord[],
  at: number,
  error: NodeFailure | null,
): readonly AttemptRecord[] {
  const last = attempts.at(-1);
  if (!last || last.finishedAt !== null) return attempts;
  return [...attempts.slice(0, -1), { ...last, finishedAt: at, error }];
}

function cancelOpen(state: RunState): RunState {
  let next = state;
  for (const activation of state.activations.values())
    if (isOpen(activation.status)) next = replace(next, activation, { ...activation, status: 'cancelled' });
  return next;
}

/** 'waiting' when every open activation is parked on a wait; otherwise 'running'. */
function liveStatus(state: RunState): RunStatus {
  return state.openActivations > 0 && state.waitingActivations === state.openActivations ? 'waiting' : 'running';
}
