// Child runs (sub-workflows), at run time: a `child` wait starts its child in the commit that parks
// the parent; a child's end resolves the parent's wait in the commit that ends the child; a parent
// that fails or is cancelled cancels its open children in its own commit. All three happen inside
// one batch, so no commit can leave a parent waiting on a child that was never created or that
// ended unnoticed — whichever process or engine ends the child.
import type { JournalEvent } from '../journal/events.js';
import { isTerminal, type ActivationState, type RunState, type SignalState } from '../journal/state.js';
import { TerminalError, type WorkflowPins } from '../sdk/index.js';
import type { Store } from '../store/index.js';
import {
  childResolution,
  childRunId,
  childrenStep,
  itemIndexOf,
  itemRunId,
  runningItems,
  startedItems,
  type ChildEnd,
  type ChildrenWaitRecord,
  type ChildrenWaitRequest,
  type ChildWaitRequest,
} from '../waits/index.js';
import type { Batch } from './batch.js';
import type { ExecutionServices } from './execute.js';
import type { RunBook } from './run-book.js';
import { begin } from './run-commands.js';
import { resolveWait } from './waits.js';

type ChildWaiting = ActivationState & { wait: ChildWaitRequest | ChildrenWaitRequest };

/** The activations of a run that wait on children (or did, until the run ended). */
export function childActivations(state: RunState): ChildWaiting[] {
  return [...state.activations.values()].filter(
    (activation): activation is ChildWaiting =>
      activation.wait?.kind === 'child' || activation.wait?.kind === 'children',
  );
}

/** The ends of a fan-out's items journaled so far while its wait stayed open. */
function pendingEnds(activation: ActivationState): ChildrenWaitRecord[] {
  return activation.votes.filter((vote): vote is SignalState & ChildrenWaitRecord => vote.wait === 'children');
}

/** The child runs an activation started that have not ended (as far as its journal knows). */
function runningChildren(activation: ChildWaiting): string[] {
  const { wait } = activation;
  if (wait.kind === 'child') return [wait.runId];
  return runningItems(wait, pendingEnds(activation)).map((index) => wait.items[index]?.runId ?? '');
}

/**
 * Runs a batch touching `state` may also change: its parent (a child's end resolves it) and the
 * children it waits on (cancelling it cancels them; a failed item cancels its siblings) — for a
 * fan-out only the running ones, at most its concurrency, never all its items.
 */
export function linkedRunIds(state: RunState): string[] {
  const linked = waitedOnRunIds(state);
  if (state.parentRunId !== null) linked.push(state.parentRunId);
  return linked;
}

/** The child runs the run waits on now (of a fan-out, only the running ones). */
export function waitedOnRunIds(state: RunState): string[] {
  // Called for every run of every commit: a run with nothing waiting (most, while they execute)
  // is not scanned, so a long run does not pay a pass over its activations per commit.
  return state.waitingActivations === 0
    ? []
    : childActivations(state)
        .filter((activation) => activation.status === 'waiting')
        .flatMap(runningChildren);
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
  let ended = false;
  for (const event of appended) {
    if (event.type === 'WaitCreated') {
      const { wait } = event.data;
      const activationId = event.activationId ?? '';
      const attempt = event.attempt ?? 1;
      if (wait.kind === 'child') {
        // A node may not name just any run (an existing one, another parent's child).
        expectRunId(wait.runId, childRunId(runId, activationId, attempt), runId, activationId);
        startChild(batch, book, runId, wait, wait.runId, wait.input);
      } else if (wait.kind === 'children') {
        wait.items.forEach((item, index) =>
          expectRunId(item.runId, itemRunId(runId, activationId, attempt, index), runId, activationId),
        );
        openFanOut(batch, book, services, runId, activationId, wait);
      }
    } else if (event.type === 'RunFailed' || event.type === 'RunCancelled' || event.type === 'CompensationStarted') {
      // The fold cut off the waiting activations: their children stop too.
      const state = batch.run(runId)?.state;
      if (state) cancelChildren(batch, state);
    }
    if (ENDINGS.has(event.type)) ended = true;
  }
  // A cancellation followed by compensations has not ended the run yet: its parent hears at the end.
  const state = batch.run(runId)?.state;
  if (ended && state && isTerminal(state.status) && state.parentRunId !== null) endChild(batch, book, services, state);
}

const ENDINGS: ReadonlySet<JournalEvent['type']> = new Set([
  'RunCompleted',
  'RunFailed',
  'RunCancelled',
  'RunCompensated',
  'RunCompensationFailed',
]);

/**
 * A fan-out's wait was just created: start its first items. Items an earlier attempt completed are
 * carried (the fold put their ends in `votes`) and do not start; when every item was, the wait is
 * resolved at once.
 */
function openFanOut(
  batch: Batch,
  book: RunBook,
  services: ExecutionServices,
  runId: string,
  activationId: string,
  wait: ChildrenWaitRequest,
): void {
  const activation = batch.run(runId)?.state.activations.get(activationId);
  const carried = activation ? pendingEnds(activation) : [];
  for (const index of startedItems(wait, carried)) startItem(batch, book, runId, wait, index);
  const last = carried.at(-1);
  if (activation && last && carried.length === wait.items.length) {
    // The journaled record is the item's end as recorded then, without the fold's time.
    const record: ChildrenWaitRecord & { at?: number } = { ...last };
    delete record.at;
    resolveWait(batch, services, runId, activation, {
      record,
      outcome: { kind: 'children', onItemError: wait.onItemError, ended: carried },
    });
  }
}

function expectRunId(named: string, expected: string, parentRunId: string, activationId: string): void {
  if (named !== expected)
    throw new Error(`child wait of ${parentRunId}/${activationId} names run ${named}, not ${expected}`);
}

function startItem(batch: Batch, book: RunBook, parentRunId: string, wait: ChildrenWaitRequest, index: number): void {
  const item = wait.items[index];
  if (!item) throw new Error(`a fan-out of ${wait.items.length} items has no item ${index}`);
  startChild(batch, book, parentRunId, wait, item.runId, item.input);
}

function startChild(
  batch: Batch,
  book: RunBook,
  parentRunId: string,
  wait: { workflowId: string; version: number },
  runId: string,
  input: unknown,
): void {
  // Compiled when the node pinned it, or when a child of it was loaded into this batch (the one
  // whose end starts the next item), so a fan-out goes on after a restart too.
  const workflow = book.cached(wait.workflowId, wait.version);
  const trigger = workflow?.manualTrigger ?? null;
  if (!workflow || trigger === null)
    throw new Error(`workflow "${wait.workflowId}" v${wait.version} was not pinned by this engine (ctx.workflows.pin)`);
  begin(
    batch,
    { runId, workflowId: wait.workflowId, input, parentRunId, forkOf: null },
    workflow,
    trigger,
    `run ${parentRunId}`,
    // A playback run's children play back too: a replayed parent should not pay for its children.
    { playback: batch.run(parentRunId)?.state.playback === true },
  );
}

/** How a child ended, as its parent's wait is told. */
function endOf(child: RunState): ChildEnd {
  // A compensated child failed (or was cancelled) and undid its steps: to its parent it failed.
  const status = child.status === 'completed' ? 'completed' : child.status === 'cancelled' ? 'cancelled' : 'failed';
  const error =
    status === 'completed'
      ? null
      : child.error
        ? { message: child.error.message, kind: child.error.kind }
        : { message: `the child run was ${status}`, kind: `subworkflow.${status}` };
  return { runId: child.runId, status, output: status === 'completed' ? child.output : null, error };
}

/**
 * The child ended: the parent's activation waiting on it resumes with the child's output or error;
 * for a fan-out, the end is journaled on the parent and the next item starts, until the last (or
 * a failure) resumes the node.
 */
function endChild(batch: Batch, book: RunBook, services: ExecutionServices, child: RunState): void {
  const parentRunId = child.parentRunId ?? '';
  const parent = batch.run(parentRunId);
  // A parent that ended first (cancelled, failed elsewhere) no longer waits for anything.
  if (!parent || isTerminal(parent.state.status)) return;
  const waiting = childActivations(parent.state).find(
    (activation) =>
      activation.status === 'waiting' &&
      (activation.wait.kind === 'child'
        ? activation.wait.runId === child.runId
        : itemIndexOf(activation.wait, child.runId) >= 0),
  );
  if (!waiting) return;
  const { wait } = waiting;
  if (wait.kind === 'child') {
    resolveWait(batch, services, parentRunId, waiting, childResolution(endOf(child)));
    return;
  }
  const limitBytes = parent.workflow.nodes.get(waiting.nodeId)?.maxOutputBytes ?? Number.POSITIVE_INFINITY;
  const index = itemIndexOf(wait, child.runId);
  const pending = pendingEnds(waiting);
  // An item ends once for its fan-out: a second end (its run redriven or imported) changes nothing.
  if (pending.some((ended) => ended.index === index)) return;
  const step = childrenStep(wait, pending, index, endOf(child), limitBytes);
  if (!step.done) {
    batch.record(parentRunId, {
      activationId: waiting.activationId,
      nodeId: waiting.nodeId,
      attempt: waiting.attempt,
      type: 'SignalReceived',
      // Nobody was shown anything: the node's input need not be copied into every item's end.
      data: { signal: step.record, shownInput: null, pending: true },
    });
    for (const index of step.start) startItem(batch, book, parentRunId, wait, index);
    return;
  }
  // Resolved first: a sibling cancelled afterwards finds the node no longer waiting and is ignored.
  resolveWait(batch, services, parentRunId, waiting, { record: step.record, outcome: step.outcome });
  for (const index of step.cancel)
    cancelRun(
      batch,
      wait.items[index]?.runId ?? '',
      parent.state,
      `item ${step.record.index} of its fan-out ${step.record.status}`,
    );
}

function cancelChildren(batch: Batch, parent: RunState): void {
  // The fold has just marked the waiting activations cancelled; their children are what is still open.
  for (const activation of childActivations(parent))
    for (const runId of runningChildren(activation))
      cancelRun(batch, runId, parent, `parent run ${parent.runId} ${parent.status}`);
}

function cancelRun(batch: Batch, runId: string, parent: RunState, reason: string): void {
  const child = batch.run(runId);
  // A compensating child finishes undoing its steps (a cancellation would cut that short).
  if (!child || isTerminal(child.state.status) || child.state.status === 'compensating') return;
  batch.record(runId, {
    type: 'RunCancelled',
    activationId: null,
    nodeId: null,
    attempt: null,
    data: { reason, by: `run ${parent.runId}` },
  });
}
