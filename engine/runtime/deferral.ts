// Deferred commits: a batch that records only pure work — completions of pure nodes, the starts
// of the pure nodes they made ready — need not be durable before that work goes on, because a
// crash only makes the engine redo pure work, which nobody outside can observe. Such a batch is
// kept here and merged into the next commit that must reach the disk: when the chain reaches a
// node with an outside effect, a wait, a timer, the run's end, a command, or a bound below.
import { isTerminal } from '../journal/state.js';
import type { CommitBatch, ReadyRecord, RunWrite } from '../store/index.js';
import type { Batch } from './batch.js';
import type { CommitItem } from './group-commit.js';
import type { LoadedRun } from './run-book.js';

/** Events kept in memory at most: a long pure loop still checkpoints. */
export const MAX_DEFERRED_EVENTS = 64;
/** Real time a deferred batch waits at most for the commit that carries it (a slow pure node). */
export const MAX_DEFER_MS = 250;

/** Batches made since the last durable commit: their writes merged, their items not yet settled. */
export interface Deferred {
  commit: CommitBatch;
  items: CommitItem[];
  /** The latest in-memory state of each run the deferred writes touch (published once durable). */
  states: Map<string, LoadedRun>;
  events: number;
  /** `Date.now()` when the first of them was deferred. */
  since: number;
  /** The first batch's writes: tells these deferred writes from a later deferral's. */
  first: CommitBatch;
}

/**
 * Whether this batch may wait for a later commit: every item is a pure outcome, nothing else is
 * asked of the store (no claim, no schedule), the batch starts pure work on this worker — so its
 * outcome comes back and carries the deferred writes on — and no write leaves the engine's memory
 * (no run created or ended, no timer, no wait); within the bounds.
 */
export function mayDefer(
  items: readonly CommitItem[],
  refused: ReadonlyMap<CommitItem, unknown>,
  batch: Batch,
  commit: CommitBatch,
  deferred: Deferred | null,
  now: number,
): boolean {
  if (items.length === 0 || refused.size > 0 || commit.claim || commit.schedules) return false;
  if (!items.every((item) => item.pure === true)) return false;
  if (batch.started.length === 0) return false;
  for (const started of batch.started)
    if (started.workflow.nodes.get(started.nodeId)?.definition.sideEffects !== 'pure') return false;
  let events = deferred?.events ?? 0;
  for (const write of commit.runs) {
    const { work } = write;
    if (write.create || write.clear || (write.projection && isTerminal(write.projection.status))) return false;
    if (work.timerPut.length + work.timerDelete.length > 0) return false;
    if (work.waitOpen.length + work.waitVote.length + work.waitDecide.length > 0) return false;
    events += write.events.length;
  }
  if (events > MAX_DEFERRED_EVENTS) return false;
  return deferred === null || now - deferred.since < MAX_DEFER_MS;
}

/** Adds a batch to the deferred writes. */
export function defer(
  deferred: Deferred | null,
  commit: CommitBatch,
  items: readonly CommitItem[],
  states: readonly [string, LoadedRun][],
  now: number,
): Deferred {
  const merged: Deferred = deferred
    ? { ...deferred, commit: mergeCommits(deferred.commit, commit), items: [...deferred.items, ...items] }
    : { commit, items: [...items], states: new Map(), events: 0, since: now, first: commit };
  for (const [runId, run] of states) merged.states.set(runId, run);
  merged.events += commit.runs.reduce((sum, write) => sum + write.events.length, 0);
  return merged;
}

/** One commit doing what `first` then `next` would have done. */
export function mergeCommits(first: CommitBatch, next: CommitBatch): CommitBatch {
  const runs = new Map<string, RunWrite>(first.runs.map((write) => [write.runId, write]));
  for (const write of next.runs) {
    const earlier = runs.get(write.runId);
    runs.set(write.runId, earlier ? mergeWrites(earlier, write, first.workerId) : write);
  }
  const schedules = [...(first.schedules ?? []), ...(next.schedules ?? [])];
  return {
    workerId: next.workerId,
    at: next.at,
    runs: [...runs.values()],
    ...(schedules.length > 0 && { schedules }),
    ...(next.claim && { claim: next.claim }),
  };
}

function mergeWrites(first: RunWrite, next: RunWrite, workerId: string | null): RunWrite {
  // Rows the deferred writes lease to this worker are not in the store yet: the store cannot
  // check those leases, and needs not — nothing outside this process could have taken them.
  const leasedHere = new Set(
    first.work.readyPut
      .filter((row) => workerId !== null && row.leaseOwner === workerId)
      .map((row) => `${row.activationId}\0${row.attempt}`),
  );
  const ready = new Map<string, ReadyRecord | null>();
  // A run the next write clears loses its ready rows anyway (see `toWrite`).
  if (!next.clear) {
    for (const activationId of first.work.readyDelete) ready.set(activationId, null);
    for (const row of first.work.readyPut) ready.set(row.activationId, row);
  }
  for (const activationId of next.work.readyDelete) ready.set(activationId, null);
  for (const row of next.work.readyPut) ready.set(row.activationId, row);
  const readyPut: ReadyRecord[] = [];
  const readyDelete: string[] = [];
  for (const [activationId, row] of ready)
    if (row) readyPut.push(row);
    else readyDelete.push(activationId);
  return {
    runId: first.runId,
    create: first.create ?? next.create,
    expectedLastSeq: first.expectedLastSeq,
    events: [...first.events, ...next.events],
    projection: next.projection ?? first.projection,
    clear: first.clear || next.clear,
    work: {
      ...next.work,
      readyPut,
      readyDelete,
      timerPut: [...first.work.timerPut, ...next.work.timerPut],
      timerDelete: [...first.work.timerDelete, ...next.work.timerDelete],
      waitOpen: [...first.work.waitOpen, ...next.work.waitOpen],
      waitVote: [...first.work.waitVote, ...next.work.waitVote],
      waitDecide: [...first.work.waitDecide, ...next.work.waitDecide],
    },
    leases: [
      ...first.leases,
      ...next.leases.filter((lease) => !leasedHere.has(`${lease.activationId}\0${lease.attempt}`)),
    ],
  };
}
