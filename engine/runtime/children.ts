// Child runs (sub-workflows), at run time: a `child` wait starts its child in the commit that parks
// the parent; a child's end resolves the parent's wait in the commit that ends the child; a parent
// that fails or is cancelled cancels its open children in its own commit. All three happen inside
// one batch, so no commit can leave a parent waiting on a child that was never created or that
// ended unnoticed — whichever process or engine ends the child.
import type { JournalEvent } from '../journal/events.js';
import { isTerminal, type ActivationState, type RunState } from '../journal/state.js';
import { TerminalError, type WorkflowPins } from '../sdk/index.js';
import type { Store } from '../store/index.js';
import { childResolution, childRunId, type ChildWaitRequest } from '../waits/index.js';
import type { Batch } from './batch.js';
import type { ExecutionServices } from './execute.js';
import type { RunBook } from './run-book.js';
import { begin } from './run-commands.js';
import { resolveWait } from './waits.js';

type ChildWaiting = ActivationState & { wait: ChildWaitRequest };

/** The activations of a run that wait on a child (or did, until the run ended). */
export function childActivations(state: RunState): ChildWaiting[] {
  return [...state.activations.values()].filter(
    (activation): activation is ChildWaiting => activation.wait?.kind === 'child',
  );
}

/**
 * Runs a batch touching `state` may also change: its parent (a child's end resolves it) and the
 * children it waits on (cancelling it cancels them). The group commit loads them with the run.
 */
export function linkedRunIds(state: RunState): string[] {
  // Called for every run of every commit: a run with nothing waiting (most, while they execute)
  // is not scanned, so a long run does not pay a pass over its activations per commit.
  const linked =
    state.waitingActivations === 0
      ? []
      : childActivations(state)
          .filter((activation) => activation.status === 'waiting')
          .map((activation) => activation.wait.runId);
  if (state.parentRunId !== null) linked.push(state.parentRunId);
  return linked;
}

/** Pins a child's version for the `subworkflow` node, and compiles it for the batch that starts it. */
export function workflowPins(store: Store, book: RunBook): WorkflowPins {
  return {
    async pin(workflowId, version) {
      const number = version === 'latest' ? await store.workflows.latestVersionNumber(workflowId) : version;
      const compiled = number === undefined ? undefined : await book.find(workflowId, number);
      if (!compiled)
        throw new TerminalError(
          version === 'latest' ? `no workflow "${workflowId}"` : `workflow "${workflowId}" has no version ${version}`,
          'subworkflow.not-found',
        );
      if (compiled.manualTrigger === null)
        throw new TerminalError(
          `workflow "${workflowId}" v${compiled.version} has no trigger.manual node, so it cannot run as a child`,
          'subworkflow.not-found',
        );
      return compiled.version;
    },
  };
}

/** What follows, for other runs, from events just recorded on `runId` (called by the batch). */
export function followChildren(
  batch: Batch,
  book: RunBook,
  services: ExecutionServices,
  runId: string,
  appended: readonly JournalEvent[],
): void {
  for (const event of appended) {
    if (event.type === 'WaitCreated' && event.data.wait.kind === 'child')
      startChild(batch, book, runId, event.activationId ?? '', event.attempt ?? 1, event.data.wait);
    else if (event.type === 'RunCompleted' || event.type === 'RunFailed' || event.type === 'RunCancelled') {
      const state = batch.run(runId)?.state;
      if (!state) continue;
      if (event.type !== 'RunCompleted') cancelChildren(batch, state);
      if (state.parentRunId !== null) endChild(batch, services, state);
    }
  }
}

function startChild(
  batch: Batch,
  book: RunBook,
  parentRunId: string,
  activationId: string,
  attempt: number,
  wait: ChildWaitRequest,
): void {
  // A node may not name just any run (an existing one, another parent's child).
  const expected = childRunId(parentRunId, activationId, attempt);
  if (wait.runId !== expected)
    throw new Error(`child wait of ${parentRunId}/${activationId} names run ${wait.runId}, not ${expected}`);
  const workflow = book.cached(wait.workflowId, wait.version);
  const trigger = workflow?.manualTrigger ?? null;
  if (!workflow || trigger === null)
    throw new Error(`workflow "${wait.workflowId}" v${wait.version} was not pinned by this engine (ctx.workflows.pin)`);
  begin(
    batch,
    { runId: wait.runId, workflowId: wait.workflowId, input: wait.input, parentRunId, forkOf: null },
    workflow,
    trigger,
    `run ${parentRunId}`,
    // A playback run's children play back too: a replayed parent should not pay for its children.
    { playback: batch.run(parentRunId)?.state.playback === true },
  );
}

/** The child ended: the parent's activation waiting on it resumes with the child's output or error. */
function endChild(batch: Batch, services: ExecutionServices, child: RunState): void {
  const parentRunId = child.parentRunId ?? '';
  const parent = batch.run(parentRunId);
  // A parent that ended first (cancelled, failed elsewhere) no longer waits for anything.
  if (!parent || isTerminal(parent.state.status)) return;
  const waiting = childActivations(parent.state).find(
    (activation) => activation.status === 'waiting' && activation.wait.runId === child.runId,
  );
  if (!waiting) return;
  const status = child.status === 'completed' ? 'completed' : child.status === 'failed' ? 'failed' : 'cancelled';
  const error =
    status === 'completed'
      ? null
      : child.error
        ? { message: child.error.message, kind: child.error.kind }
        : { message: `the child run was ${status}`, kind: `subworkflow.${status}` };
  resolveWait(
    batch,
    services,
    parentRunId,
    waiting,
    childResolution({ runId: child.runId, status, output: status === 'completed' ? child.output : null, error }),
  );
}

function cancelChildren(batch: Batch, parent: RunState): void {
  // The fold has just marked the waiting activations cancelled; their children are what is still open.
  for (const activation of childActivations(parent)) {
    const child = batch.run(activation.wait.runId);
    if (!child || isTerminal(child.state.status)) continue;
    batch.record(activation.wait.runId, {
      type: 'RunCancelled',
      activationId: null,
      nodeId: null,
      attempt: null,
      data: { reason: `parent run ${parent.runId} ${parent.status}`, by: `run ${parent.runId}` },
    });
  }
}
