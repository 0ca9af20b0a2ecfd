// Executes started activations: one cancellation each (a run's cancellation aborts them all), the
// engine-enforced start-to-close limit (past it the attempt is abandoned and fails as
// `engine.timeout`, retried by policy), and the leases the heartbeat must keep renewing.
import { formatDuration } from '../model/duration.js';
import type { Started } from './batch.js';
import {
  activationScope,
  Cancellation,
  executeActivation,
  withNotes,
  type ActivationScope,
  type ExecutionOutcome,
  type ExecutionServices,
} from './execute.js';

export interface Execution {
  started: Started;
  cancellation: Cancellation;
  /** Kept here so an attempt abandoned at its deadline still journals what it noted until then. */
  scope: ActivationScope;
}

export class Dispatcher {
  readonly #inFlight = new Map<string, Execution>();
  readonly #services: ExecutionServices;
  readonly #onOutcome: (started: Started, outcome: ExecutionOutcome) => void;

  constructor(services: ExecutionServices, onOutcome: (started: Started, outcome: ExecutionOutcome) => void) {
    this.#services = services;
    this.#onOutcome = onOutcome;
  }

  get size(): number {
    return this.#inFlight.size;
  }

  run(started: Started): void {
    const node = started.workflow.nodes.get(started.nodeId);
    const key = keyOf(started.runId, started.activationId);
    const cancellation = new Cancellation();
    const execution: Execution = { started, cancellation, scope: activationScope(this.#services) };
    this.#inFlight.set(key, execution);
    const outcome: Promise<ExecutionOutcome> = node
      ? executeActivation(node, started, this.#services, cancellation, execution.scope)
      : Promise.resolve({ kind: 'failed', error: missingNode(started.nodeId) });
    void outcome.then((result) => this.#settle(key, execution, result));
  }

  /** Abandons executions past their start-to-close limit: they fail as `engine.timeout`. */
  sweep(now: number): void {
    for (const [key, execution] of this.#inFlight) {
      const { started } = execution;
      if (now < started.deadline) continue;
      execution.cancellation.abort(new Error('start-to-close timeout'));
      this.#settle(
        key,
        execution,
        withNotes(
          {
            kind: 'failed',
            error: {
              message: `node "${started.nodeId}" did not finish within its start-to-close limit of ${formatDuration(started.deadline - started.startedAt)}; the attempt was abandoned`,
              kind: 'engine.timeout',
              retryable: true,
            },
          },
          execution.scope.notes,
        ),
      );
    }
  }

  /** Aborts this process's executions of a run (it was cancelled or failed). */
  abort(runId: string): void {
    for (const execution of this.#inFlight.values())
      if (execution.started.runId === runId) execution.cancellation.abort(new Error('the run ended'));
  }

  /** Aborts this process's execution of one activation (the commit that started it was dropped). */
  abortActivation(runId: string, activationId: string): void {
    this.#inFlight.get(keyOf(runId, activationId))?.cancellation.abort(new Error('its start was dropped'));
  }

  /** Aborts one attempt (its lease was lost); a newer attempt of the activation runs on. */
  abortAttempt(lease: { runId: string; activationId: string; attempt: number }): void {
    const execution = this.#inFlight.get(keyOf(lease.runId, lease.activationId));
    if (execution?.started.attempt === lease.attempt) execution.cancellation.abort(new Error('the lease was lost'));
  }

  /** The worker stops: executions still running are aborted and their outcomes never journaled. */
  abandonAll(): void {
    for (const execution of this.#inFlight.values()) execution.cancellation.abort(new Error('the worker stopped'));
    this.#inFlight.clear();
  }

  /** The deadline of this attempt's execution here, if it executes here. */
  deadlineOf(lease: { runId: string; activationId: string; attempt: number }): number | undefined {
    const execution = this.#inFlight.get(keyOf(lease.runId, lease.activationId));
    return execution?.started.attempt === lease.attempt ? execution.started.deadline : undefined;
  }

  /** What executes now, as leases name it. */
  executing(): { runId: string; activationId: string; attempt: number }[] {
    return [...this.#inFlight.values()].map(({ started }) => ({
      runId: started.runId,
      activationId: started.activationId,
      attempt: started.attempt,
    }));
  }

  #settle(key: string, execution: Execution, outcome: ExecutionOutcome): void {
    // Already settled (abandoned at its deadline): a late outcome is not journaled.
    if (this.#inFlight.get(key) !== execution) return;
    this.#inFlight.delete(key);
    this.#onOutcome(execution.started, outcome);
  }
}

function keyOf(runId: string, activationId: string): string {
  return `${runId}\0${activationId}`;
}

function missingNode(nodeId: string): { message: string; kind: string; retryable: boolean } {
  return { message: `node "${nodeId}" is not in the pinned version`, kind: 'engine.missing-node', retryable: false };
}
