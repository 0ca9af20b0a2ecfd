// The orchestrator: a pure, deterministic function of (compiled version, run state, last event)
// → decision events to append. No I/O, no clock, no randomness (jitter is hashed from ids), so a
// recorded journal can be replayed through it to verify a run.
import {
  handle,
  type EventHandlers,
  type EventOf,
  type JournalEvent,
  type NewEvent,
  type NodeFailure,
  type RunFailure,
} from '../journal/events.js';
import { hashOf } from '../journal/persistent-map.js';
import { isTerminal, type ActivationState, type RunState } from '../journal/state.js';
import type { RetryPolicy } from '../sdk/index.js';
import type { CompiledNode, CompiledWorkflow } from './compile.js';

/** Activation id for a node in a scope (loop/map iteration path). Deterministic by design. */
export function activationIdOf(nodeId: string, scope: readonly number[] = []): string {
  return scope.length === 0 ? nodeId : `${nodeId}[${scope.join('.')}]`;
}

/** The decisions that follow `event`, which has already been applied to `state`. */
export function decide(workflow: CompiledWorkflow, state: RunState, event: JournalEvent): NewEvent[] {
  // A cancellation ends the run at once, unless completed nodes must be undone first.
  if (event.type === 'RunCancelled') return startCompensation(workflow, state, 'cancelled', null) ?? [];
  if (isTerminal(state.status)) return [];
  if (state.status === 'compensating') return compensationStep(workflow, state, event);
  const plan = handle(planners, event, workflow, state);
  if (plan === null) return [];
  const { decisions, resolved } = plan;
  if (decisions.some((decision) => decision.type === 'RunFailed' || decision.type === 'CompensationStarted'))
    return decisions;
  decisions.push(...propagate(workflow, state, resolved, decisions));
  const completion = completionDecision(workflow, state, decisions);
  if (completion) decisions.push(completion);
  return decisions;
}

/** What an event decides directly, and the nodes it resolved (whose successors may now run). */
type Plan = { decisions: NewEvent[]; resolved: string[] } | null;

const nothing = (): Plan => null;

const planners: EventHandlers<Plan, [CompiledWorkflow, RunState]> = {
  RunStarted: (event, workflow) => {
    const decisions: NewEvent[] = [];
    const resolved: string[] = [];
    for (const [nodeId, compiled] of workflow.nodes) {
      if (nodeId === event.data.triggerNodeId) decisions.push(scheduled(nodeId, event.data.input));
      else if (compiled.incoming.length === 0 && compiled.compensates === null) {
        // Other entry points (other triggers, unreachable islands) do not run in this run.
        decisions.push(skipped(nodeId));
        resolved.push(nodeId);
      }
    }
    return { decisions, resolved };
  },
  NodeCompleted: (event) => ({ decisions: [], resolved: event.nodeId === null ? [] : [event.nodeId] }),
  NodeInherited: (event) => ({ decisions: [], resolved: event.nodeId === null ? [] : [event.nodeId] }),
  NodeFailed: (event, workflow, state) => {
    const compiled = event.nodeId === null ? undefined : workflow.nodes.get(event.nodeId);
    const activation = event.activationId === null ? undefined : state.activations.get(event.activationId);
    if (!compiled || !activation) return null;
    const retry = retryDecision(state.runId, activation, compiled.retry, event);
    if (retry) return { decisions: [retry], resolved: [] };
    if (compiled.hasErrorEdge) return { decisions: [], resolved: [compiled.node.id] };
    const error = { ...event.data.error, nodeId: compiled.node.id };
    const compensation = startCompensation(workflow, state, 'failed', error);
    if (compensation) return { decisions: compensation, resolved: [] };
    return {
      decisions: [{ type: 'RunFailed', activationId: null, nodeId: null, attempt: null, data: { error } }],
      resolved: [],
    };
  },
  // Decisions decide nothing further, and these runtime events change no node's outcome.
  NodeScheduled: nothing,
  NodeSkipped: nothing,
  NodeStarted: nothing,
  RetryScheduled: nothing,
  WaitCreated: nothing,
  TimerFired: nothing,
  SignalReceived: nothing,
  RunCompleted: nothing,
  RunFailed: nothing,
  RunCancelled: nothing,
  // The redriven activations are scheduled again by the fold itself.
  RunRedriven: nothing,
  // Decisions of the compensation path (compensationStep below decides while compensating).
  CompensationStarted: nothing,
  RunCompensated: nothing,
  RunCompensationFailed: nothing,
  // A node's notes change nothing about its outcome.
  NodeNoted: nothing,
};

// ── Saga compensation ───────────────────────────────────────────────────────────────────────
// A node with an `undo` edge that completed in this run is undone when the run fails or is
// cancelled: its compensation node runs with the node's output as input, one at a time, the
// latest completion first. Everything is derived from the state, so a replay decides the same.

/** The completed nodes not yet undone, latest completion first. */
function toUndo(workflow: CompiledWorkflow, state: RunState): { original: ActivationState; undo: string }[] {
  const pending: { original: ActivationState; undo: string }[] = [];
  for (const activation of state.activations.values()) {
    const undo = workflow.nodes.get(activation.nodeId)?.undo ?? null;
    // Executed here (a fork's inherited outputs were produced, and are undone, by the origin run).
    if (undo === null || activation.status !== 'completed' || activation.attempts.length === 0) continue;
    if (state.activations.has(activationIdOf(undo))) continue;
    pending.push({ original: activation, undo });
  }
  return pending.sort((a, b) => (b.original.resolvedSeq ?? 0) - (a.original.resolvedSeq ?? 0));
}

/** `CompensationStarted` and the first compensation; null when nothing completed needs undoing. */
function startCompensation(
  workflow: CompiledWorkflow,
  state: RunState,
  cause: 'failed' | 'cancelled',
  error: RunFailure | null,
): NewEvent[] | null {
  const first = toUndo(workflow, state)[0];
  if (!first) return null;
  return [
    { type: 'CompensationStarted', activationId: null, nodeId: null, attempt: null, data: { cause, error } },
    scheduled(first.undo, first.original.output),
  ];
}

/** While compensating: a compensation's outcome schedules the next one, a retry, or ends the run. */
function compensationStep(workflow: CompiledWorkflow, state: RunState, event: JournalEvent): NewEvent[] {
  if (event.type !== 'NodeCompleted' && event.type !== 'NodeFailed') return [];
  const compiled = event.nodeId === null ? undefined : workflow.nodes.get(event.nodeId);
  const activation = event.activationId === null ? undefined : state.activations.get(event.activationId);
  // Only compensations move a compensating run on (a cut-off branch's late outcome is not journaled).
  if (!compiled || !activation || compiled.compensates === null) return [];
  if (event.type === 'NodeFailed') {
    const retry = retryDecision(state.runId, activation, compiled.retry, event);
    if (retry) return [retry];
    const error = { ...event.data.error, nodeId: compiled.node.id };
    return [
      {
        type: 'RunCompensationFailed',
        activationId: null,
        nodeId: null,
        attempt: null,
        data: { error, compensates: compiled.compensates },
      },
    ];
  }
  const next = toUndo(workflow, state)[0];
  if (next) return [scheduled(next.undo, next.original.output)];
  return [{ type: 'RunCompensated', activationId: null, nodeId: null, attempt: null, data: {} }];
}

/** Schedules or skips the successors of resolved nodes, until nothing more can be decided. */
function propagate(
  workflow: CompiledWorkflow,
  state: RunState,
  resolvedNodeIds: readonly string[],
  earlier: readonly NewEvent[],
): NewEvent[] {
  const decisions: NewEvent[] = [];
  const skippedHere = new Set(earlier.filter((item) => item.type === 'NodeSkipped').map((item) => item.nodeId));
  const decidedHere = new Set(earlier.map((item) => item.nodeId));
  const queue = resolvedNodeIds.flatMap((id) => workflow.nodes.get(id)?.outgoing.map((edge) => edge.target) ?? []);
  for (let targetId = queue.shift(); targetId !== undefined; targetId = queue.shift()) {
    const target = workflow.nodes.get(targetId);
    if (!target || decidedHere.has(targetId) || state.activations.has(activationIdOf(targetId))) continue;
    const verdict = joinInputs(workflow, state, target, skippedHere);
    if (verdict.kind === 'pending') continue;
    decidedHere.add(targetId);
    if (verdict.kind === 'run') {
      decisions.push(scheduled(targetId, verdict.input));
    } else {
      decisions.push(skipped(targetId));
      skippedHere.add(targetId);
      queue.push(...target.outgoing.map((edge) => edge.target));
    }
  }
  return decisions;
}

type JoinVerdict = { kind: 'pending' } | { kind: 'skip' } | { kind: 'run'; input: unknown };

/**
 * A node runs once every incoming edge is settled: delivered (its source finished on that port)
 * or dead (source skipped, or finished on another port). No live edge → the node is skipped.
 * 'any' nodes take the first delivered value in journal order; 'all' (merge) nodes take an
 * object keyed by source node id.
 */
function joinInputs(
  workflow: CompiledWorkflow,
  state: RunState,
  target: CompiledNode,
  skippedHere: ReadonlySet<string | null>,
): JoinVerdict {
  const delivered: { sourceId: string; seq: number; value: unknown }[] = [];
  for (const edge of target.incoming) {
    if (skippedHere.has(edge.source)) continue;
    const source = state.activations.get(activationIdOf(edge.source));
    if (!source) {
      if (!workflow.nodes.has(edge.source)) continue;
      return { kind: 'pending' };
    }
    const value = deliveredValue(source, edge.sourceHandle);
    if (value === PENDING) return { kind: 'pending' };
    if (value !== DEAD) delivered.push({ sourceId: edge.source, seq: source.resolvedSeq ?? 0, value: value.value });
  }
  if (delivered.length === 0) return { kind: 'skip' };
  delivered.sort((a, b) => a.seq - b.seq);
  if (target.definition.join === 'all') {
    const input: Record<string, unknown> = {};
    for (const item of delivered) if (!(item.sourceId in input)) input[item.sourceId] = item.value;
    return { kind: 'run', input };
  }
  return { kind: 'run', input: delivered[0]?.value };
}

const PENDING = Symbol('pending');
const DEAD = Symbol('dead');

function deliveredValue(source: ActivationState, handle: string): typeof PENDING | typeof DEAD | { value: unknown } {
  switch (source.status) {
    case 'completed':
      return source.port === handle ? { value: source.output } : DEAD;
    case 'failed':
      return handle === 'error' ? { value: errorOutput(source.error, source.input) } : DEAD;
    case 'skipped':
    case 'cancelled':
      return DEAD;
    default:
      return PENDING;
  }
}

/** What a failed node sends down its `error` port. */
export function errorOutput(error: NodeFailure | null, input: unknown): unknown {
  return { error: { message: error?.message ?? 'unknown error', kind: error?.kind ?? 'node.error' }, input };
}

function completionDecision(
  workflow: CompiledWorkflow,
  state: RunState,
  decisions: readonly NewEvent[],
): NewEvent | null {
  const opened = decisions.filter((item) => item.type === 'NodeScheduled' || item.type === 'RetryScheduled').length;
  if (state.openActivations > 0 || opened > 0) return null;
  let output: unknown = null;
  let lastSeq = -1;
  for (const activation of state.activations.values()) {
    const role = workflow.nodes.get(activation.nodeId)?.definition.role;
    if (role === 'output' && activation.status === 'completed' && (activation.resolvedSeq ?? 0) > lastSeq) {
      lastSeq = activation.resolvedSeq ?? 0;
      output = activation.output;
    }
  }
  return { type: 'RunCompleted', activationId: null, nodeId: null, attempt: null, data: { output } };
}

function retryDecision(
  runId: string,
  activation: ActivationState,
  policy: RetryPolicy,
  event: EventOf<'NodeFailed'>,
): NewEvent | null {
  const { error } = event.data;
  const attempt = event.attempt ?? activation.attempt;
  if (!error.retryable || policy.nonRetryableErrorKinds.includes(error.kind) || attempt >= policy.maxAttempts)
    return null;
  const delayMs = retryDelay(policy, attempt, `${runId}:${activation.activationId}:${attempt}`);
  return {
    type: 'RetryScheduled',
    activationId: activation.activationId,
    nodeId: activation.nodeId,
    attempt: attempt + 1,
    data: { dueAt: event.at + delayMs, delayMs },
  };
}

/** Exponential backoff with deterministic jitter (hashed from the attempt's identity). */
export function retryDelay(policy: RetryPolicy, failedAttempt: number, jitterSeed: string): number {
  const base = Math.min(
    policy.maxIntervalMs,
    policy.initialIntervalMs * policy.backoffCoefficient ** Math.max(0, failedAttempt - 1),
  );
  const unit = (hashOf(jitterSeed) / 0xffffffff) * 2 - 1;
  return Math.max(0, Math.round(base * (1 + policy.jitter * unit)));
}

function scheduled(nodeId: string, input: unknown): NewEvent {
  return { type: 'NodeScheduled', activationId: activationIdOf(nodeId), nodeId, attempt: 1, data: { input } };
}

function skipped(nodeId: string): NewEvent {
  return { type: 'NodeSkipped', activationId: activationIdOf(nodeId), nodeId, attempt: null, data: {} };
}
