// What each journal event does to the durable work lists (ready queue, timers, inbox rows): one
// handler per event type, so a new event must say what it does here. Waits say it through their
// kind (engine/waits): which timers they set and whether they are an inbox row.
import { handle, type EventHandlers, type JournalEvent } from '../journal/events.js';
import type { RunState } from '../journal/state.js';
import type { ReadyRecord, TimerRecord, WaitDecision, WaitRecord, WaitVote } from '../store/index.js';
import { waitKindOf } from '../waits/index.js';

/** One change to a work row; a batch keeps them in order and commits each row's final state. */
export type WorkOp =
  | { kind: 'ready'; activationId: string; row: ReadyRecord | null }
  | { kind: 'timer'; activationId: string; purpose: TimerRecord['purpose']; row: TimerRecord | null }
  | { kind: 'wait-open'; row: WaitRecord }
  | { kind: 'wait-vote'; vote: WaitVote & { activationId: string } }
  | { kind: 'wait-decide'; decision: WaitDecision }
  | { kind: 'clear' };

/** The work-list changes that follow `event` (already folded into `state`), added to `ops`. */
export function addEffects(ops: WorkOp[], runId: string, event: JournalEvent, state: RunState): void {
  const added = handle(effects, event, runId, state);
  for (const op of added) ops.push(op);
}

const NONE: readonly WorkOp[] = [];
const none = (): readonly WorkOp[] => NONE;

const effects: EventHandlers<readonly WorkOp[], [string, RunState]> = {
  RunStarted: none,
  NodeScheduled: (event, runId) => [ready(runId, event, 1)],
  NodeSkipped: none,
  // The lease that goes with a start is set by whoever claims the activation.
  NodeStarted: none,
  NodeCompleted: (event) => [dequeue(event)],
  NodeFailed: (event) => [dequeue(event)],
  RetryScheduled: (event, runId) => [
    dequeue(event),
    timer(runId, event, 'retry', event.attempt ?? 1, event.data.dueAt),
  ],
  WaitCreated: (event, runId, state) => {
    const { wait } = event.data;
    const kind = waitKindOf(wait);
    const ops: WorkOp[] = [dequeue(event)];
    for (const { purpose, dueAt } of kind.timers(wait))
      ops.push(timer(runId, event, purpose, event.attempt ?? 1, dueAt));
    const inbox = kind.inbox(wait);
    if (inbox)
      ops.push({
        kind: 'wait-open',
        row: {
          runId,
          activationId: event.activationId ?? '',
          nodeId: event.nodeId ?? '',
          kind: wait.kind,
          status: 'open',
          ...inbox,
          input: state.activations.get(event.activationId ?? '')?.input ?? null,
          createdAt: event.at,
          decision: null,
          decidedBy: null,
          decidedAt: null,
          comment: null,
          votes: [],
        },
      });
    return ops;
  },
  TimerFired: (event, runId) => [
    deleteTimer(event, event.data.purpose),
    ...(event.data.purpose === 'retry' ? [ready(runId, event, event.attempt ?? 1)] : []),
  ],
  // A vote: the inbox row lists it. Otherwise the wait is over: its other timers go, and its inbox
  // row records the decision.
  SignalReceived: (event) => {
    const { signal } = event.data;
    const closed = waitKindOf(signal.wait)?.record?.inbox(signal) ?? { decision: signal.wait, comment: null };
    if (event.data.pending === true)
      return [
        {
          kind: 'wait-vote',
          vote: { activationId: event.activationId ?? '', ...closed, by: signal.by, at: event.at },
        },
      ];
    return [
      deleteTimer(event, 'wait'),
      deleteTimer(event, 'wait-timeout'),
      {
        kind: 'wait-decide',
        decision: { activationId: event.activationId ?? '', ...closed, by: signal.by, at: event.at },
      },
    ];
  },
  RunCompleted: () => [{ kind: 'clear' }],
  RunFailed: () => [{ kind: 'clear' }],
  RunCancelled: () => [{ kind: 'clear' }],
  // The cut-off branches' ready rows, timers and open inbox rows go; the store writes the first
  // compensation's ready row (recorded after this) after the clear.
  CompensationStarted: () => [{ kind: 'clear' }],
  RunCompensated: () => [{ kind: 'clear' }],
  RunCompensationFailed: () => [{ kind: 'clear' }],
  NodeInherited: (event) => [dequeue(event)],
  RunRedriven: (event, runId, state) =>
    event.data.activationIds.flatMap((activationId) => {
      const activation = state.activations.get(activationId);
      if (activation?.status !== 'scheduled') return [];
      return [ready(runId, { ...event, activationId, nodeId: activation.nodeId }, activation.attempt)];
    }),
  NodeNoted: none,
};

function ready(runId: string, event: JournalEvent, attempt: number): WorkOp {
  const activationId = event.activationId ?? '';
  return {
    kind: 'ready',
    activationId,
    row: {
      runId,
      activationId,
      nodeId: event.nodeId ?? '',
      attempt,
      availableAt: event.at,
      leaseOwner: null,
      leaseUntil: null,
      deadline: null,
    },
  };
}

function dequeue(event: JournalEvent): WorkOp {
  return { kind: 'ready', activationId: event.activationId ?? '', row: null };
}

function timer(
  runId: string,
  event: JournalEvent,
  purpose: TimerRecord['purpose'],
  attempt: number,
  dueAt: number,
): WorkOp {
  const activationId = event.activationId ?? '';
  return {
    kind: 'timer',
    activationId,
    purpose,
    row: { runId, activationId, purpose, nodeId: event.nodeId ?? '', attempt, dueAt },
  };
}

function deleteTimer(event: JournalEvent, purpose: TimerRecord['purpose']): WorkOp {
  return { kind: 'timer', activationId: event.activationId ?? '', purpose, row: null };
}
