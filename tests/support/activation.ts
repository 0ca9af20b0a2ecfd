// An activation state for tests of what the run view draws from one (Gantt, timeline): the
// fields a test does not name take the values of a completed activation that never ran.
import type { ActivationState } from '../../engine/api/index.js';

export function activation(
  partial: Partial<ActivationState> & Pick<ActivationState, 'activationId' | 'nodeId'>,
): ActivationState {
  return {
    ordinal: 0,
    status: 'completed',
    attempt: 1,
    input: null,
    output: null,
    port: null,
    error: null,
    wait: null,
    signal: null,
    votes: [],
    retryDueAt: null,
    scheduledAt: 0,
    finishedAt: null,
    resolvedSeq: null,
    attempts: [],
    notes: [],
    ...partial,
  };
}
