// A run's state told per node of its pinned version: what the run view's canvas, the time-travel
// inspector and `stepwise state` show. One derivation for the engine (RunQueries.state) and the
// renderer (stepping through a RunTimeline without a round trip per step).
import type { NodeFailure } from './events.js';
import { activationsOf, type ActivationState, type ActivationStatus, type RunState } from './state.js';

/** A node's state in the vocabulary of the run view and `stepwise state`: `pending` until it is scheduled. */
export type NodeRunStatus = 'pending' | 'scheduled' | 'running' | 'completed' | 'failed' | 'skipped' | 'waiting';

export const NODE_RUN_STATUSES: readonly NodeRunStatus[] = [
  'pending',
  'scheduled',
  'running',
  'completed',
  'failed',
  'skipped',
  'waiting',
];

export interface NodeStateAt {
  status: NodeRunStatus;
  output: unknown;
  error: NodeFailure | null;
  /** Attempts started so far. */
  attempts: number;
}

/**
 * An activation's status in the node vocabulary: a retry not yet due is scheduled again, and an
 * activation cut off by the run's end (cancelled) never ran to an end, as a skipped one.
 */
export function nodeRunStatus(status: ActivationStatus): NodeRunStatus {
  if (status === 'retrying') return 'scheduled';
  if (status === 'cancelled') return 'skipped';
  return status;
}

/**
 * Each node's latest activation as of `state` (a node activated more than once shows its latest),
 * for every id in `nodeIds`; nodes without one are absent.
 */
export function latestActivations(state: RunState): Map<string, ActivationState> {
  const latest = new Map<string, ActivationState>();
  // Activations in creation order: a later one replaces an earlier one of the same node.
  for (const activation of activationsOf(state)) latest.set(activation.nodeId, activation);
  return latest;
}

/** Every node of the pinned version, by id, as of `state`. */
export function nodeStatesAt(state: RunState, nodeIds: Iterable<string>): Record<string, NodeStateAt> {
  const latest = latestActivations(state);
  const nodes: Record<string, NodeStateAt> = {};
  for (const nodeId of nodeIds) {
    const activation = latest.get(nodeId);
    nodes[nodeId] = activation
      ? {
          status: nodeRunStatus(activation.status),
          output: activation.output,
          error: activation.error,
          attempts: activation.attempts.length,
        }
      : { status: 'pending', output: null, error: null, attempts: 0 };
  }
  return nodes;
}

/** The key a node's effects are deduplicated by (`ctx.idempotencyKey`): stable across attempts and crashes. */
export function idempotencyKeyOf(runId: string, activationId: string): string {
  return `${runId}:${activationId}`;
}
