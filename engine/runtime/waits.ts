// Waits at run time, for every kind alike (the kinds are declared in engine/waits): a timer of a
// wait coming due, a signal (an approval decision) arriving, and the node resuming. Resolution
// exists here once, whether a person, the CLI or a timeout decides.
import { isTerminal, type ActivationState } from '../journal/state.js';
import type { TimerRecord } from '../store/index.js';
import { waitKindOf, type SignalRecord, type WaitOutcome, type WaitResolution } from '../waits/index.js';
import type { Batch } from './batch.js';
import { EngineError } from './errors.js';
import { outcomeEvents, resumeActivation, type ExecutionServices } from './execute.js';

/** How a fired timer ended: its normal port, skipped (`missed`), asked a person, a retry, a timeout. */
export type FiredOutcome = 'fired' | 'skipped' | 'asked' | 'retried' | 'timed-out' | 'failed';

/** A timer this batch fired, for the report of late timers (runtime/timers.ts). */
export interface FiredTimer {
  runId: string;
  nodeId: string;
  activationId: string;
  purpose: TimerRecord['purpose'];
  dueAt: number;
  firedAt: number;
  lateMs: number;
  /** The wait's misfire policy ('fire' for retries and kinds without one); graceMs null: none. */
  policy: 'fire' | 'skip' | 'ask';
  graceMs: number | null;
  outcome: FiredOutcome;
}

/**
 * Journals a timer that came due (late ones say by how much) and what follows from it. A timer
 * its activation no longer waits for (decided meanwhile, a retry already running) is dropped.
 * Returns what fired (null when dropped) for the report of late timers.
 */
export function fireTimer(batch: Batch, services: ExecutionServices, timer: TimerRecord): FiredTimer | null {
  const run = batch.run(timer.runId);
  const activation = run?.state.activations.get(timer.activationId);
  const live =
    run !== undefined &&
    !isTerminal(run.state.status) &&
    activation !== undefined &&
    (timer.purpose === 'retry'
      ? activation.status === 'retrying' && activation.attempt + 1 === timer.attempt
      : activation.status === 'waiting' && activation.wait !== null);
  if (!live || !activation) {
    batch.work(timer.runId, { kind: 'timer', activationId: timer.activationId, purpose: timer.purpose, row: null });
    return null;
  }
  const firedAt = batch.at;
  const lateMs = Math.max(0, firedAt - timer.dueAt);
  batch.record(timer.runId, {
    type: 'TimerFired',
    activationId: timer.activationId,
    nodeId: timer.nodeId,
    attempt: timer.attempt,
    data: { purpose: timer.purpose, dueAt: timer.dueAt, firedAt, lateMs },
  });
  const fired = { runId: timer.runId, nodeId: timer.nodeId, activationId: timer.activationId, purpose: timer.purpose };
  const times = { dueAt: timer.dueAt, firedAt, lateMs };
  if (timer.purpose === 'retry' || activation.wait === null)
    return { ...fired, ...times, policy: 'fire', graceMs: null, outcome: 'retried' };
  const kind = waitKindOf(activation.wait);
  const misfire = kind.misfire?.(activation.wait) ?? { policy: 'fire', graceMs: null };
  resolveWait(
    batch,
    services,
    timer.runId,
    activation,
    kind.onTimer(activation.wait, timer.purpose, { dueAt: timer.dueAt, firedAt }),
  );
  const after = batch.run(timer.runId)?.state.activations.get(timer.activationId);
  const missed = misfire.graceMs !== null && lateMs > misfire.graceMs;
  const outcome: FiredOutcome =
    timer.purpose === 'wait-timeout'
      ? 'timed-out'
      : after?.status === 'failed'
        ? 'failed'
        : after?.status === 'waiting'
          ? 'asked'
          : missed && misfire.policy === 'skip'
            ? 'skipped'
            : 'fired';
  return { ...fired, ...times, ...misfire, outcome };
}

export interface SignalTarget {
  runId: string;
  /** The wait kind the signal is for (e.g. `approval`). */
  kind: string;
  /** Which waiting node; needed only when the run waits on several of that kind. */
  nodeId?: string;
  /** Which wait, for kinds that tell theirs apart (`matches`): a signal's name. */
  key?: string;
  /** The signal, validated against the kind's schema. */
  signal: unknown;
}

/**
 * Resolves the wait a signal is for. Refuses, naming why: no such run, a finished run, nothing of
 * that kind waiting, several candidates, an invalid signal — and a second decision on a wait
 * already decided, naming the first.
 */
export function signalWait(batch: Batch, services: ExecutionServices, target: SignalTarget): void {
  const { runId, nodeId, key } = target;
  const kind = waitKindOf(target.kind);
  const accepts = kind?.signal;
  if (!kind || !accepts) throw new EngineError(`no wait kind "${target.kind}" accepts signals`, 'invalid');
  const run = batch.run(runId);
  if (!run) throw new EngineError(`no run "${runId}"`, 'not-found');
  const candidates = [...run.state.activations.values()].filter(
    (activation) =>
      (nodeId === undefined || activation.nodeId === nodeId) &&
      (activation.wait?.kind === target.kind || activation.signal?.wait === target.kind) &&
      (key === undefined ||
        (activation.wait?.kind === target.kind && accepts.matches?.(activation.wait, key) !== false)),
  );
  const waiting = candidates.filter((activation) => activation.status === 'waiting');
  if (waiting.length === 0) {
    const decided = candidates.find((activation) => activation.signal !== null);
    if (decided?.signal)
      throw new EngineError(
        `${kind.label.toLowerCase()} "${decided.nodeId}" of run ${runId} was already decided: ${kind.record?.summary(decided.signal) ?? `by ${decided.signal.by}`} at ${new Date(decided.signal.at).toISOString()}; a decision is recorded once`,
        'already-decided',
      );
    if (isTerminal(run.state.status))
      throw new EngineError(`run ${runId} is ${run.state.status}; there is nothing to decide`, 'finished');
    throw new EngineError(
      nodeId === undefined
        ? `run ${runId} is not waiting for ${kind.phrase}`
        : `run ${runId} has no ${kind.label.toLowerCase()} waiting at node "${nodeId}"`,
      'not-waiting',
    );
  }
  if (waiting.length > 1)
    throw new EngineError(
      `run ${runId} waits on ${waiting.length} of kind ${kind.kind} (${waiting.map((activation) => `"${activation.nodeId}"`).join(', ')}); say which node`,
      'ambiguous',
    );
  const activation = waiting[0] as ActivationState & { wait: NonNullable<ActivationState['wait']> };
  const parsed = accepts.schema.safeParse(target.signal);
  if (!parsed.success)
    throw new EngineError(
      `invalid signal for "${activation.nodeId}": ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      'invalid',
    );
  const answer = accepts.resolve(activation.wait, parsed.data, {
    pending: activation.votes,
    startedBy: run.state.startedBy,
  });
  if ('refused' in answer)
    throw new EngineError(
      answer.code === 'invalid'
        ? `invalid signal for "${activation.nodeId}": ${answer.refused}`
        : `${kind.label.toLowerCase()} "${activation.nodeId}" of run ${runId}: ${answer.refused}`,
      answer.code,
    );
  if (answer.outcome === null) {
    // A vote: journaled with what the person was shown; the wait goes on.
    batch.record(runId, {
      activationId: activation.activationId,
      nodeId: activation.nodeId,
      attempt: activation.attempt,
      type: 'SignalReceived',
      data: { signal: answer.record, shownInput: activation.input, pending: true },
    });
    return;
  }
  resolveWait(batch, services, runId, activation, answer);
}

/** Journals what resolved the wait (with what the person was shown), then the node's result. */
export function resolveWait(
  batch: Batch,
  services: ExecutionServices,
  runId: string,
  activation: ActivationState,
  resolution: WaitResolution<SignalRecord, WaitOutcome>,
): void {
  const ref = { runId, activationId: activation.activationId, nodeId: activation.nodeId, attempt: activation.attempt };
  const node = batch.run(runId)?.workflow.nodes.get(activation.nodeId);
  if (!node) throw new Error(`node "${activation.nodeId}" is not in the pinned version of run ${runId}`);
  if (resolution.record)
    batch.record(runId, {
      ...ref,
      type: 'SignalReceived',
      data: { signal: resolution.record, shownInput: activation.input },
    });
  const config = activation.waitConfig === undefined ? node.config : activation.waitConfig;
  const outcome = resumeActivation(node, { ...ref, input: activation.input }, services, resolution.outcome, config);
  for (const event of outcomeEvents(ref, outcome)) batch.record(runId, event);
}
