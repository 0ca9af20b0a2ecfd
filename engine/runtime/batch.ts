// A batch: what one group commit will write, built in memory on top of the run book's committed
// states. Recording an event steps the run (the orchestrator's decisions included) and queues the
// event's work-list effects; nothing reaches the store until `toCommit`. Because states are
// immutable, undoing one item that threw (`isolate`) is putting back a few references.
import type { JournalEvent, NewEvent } from '../journal/events.js';
import { isTerminal, type RunState } from '../journal/state.js';
import type { CompiledWorkflow } from '../orchestrator/compile.js';
import { record } from '../orchestrator/step.js';
import {
  noWork,
  type CommitBatch,
  type NewRun,
  type ReadyRecord,
  type RunWrite,
  type ScheduleAdvance,
  type TimerRecord,
} from '../store/index.js';
import { addEffects, type WorkOp } from './effects.js';
import type { LoadedRun, RunBook } from './run-book.js';
import type { RunInfo } from './expressions.js';

/** An activation this batch starts on this worker: executed once the batch is durable. */
export interface Started {
  runId: string;
  activationId: string;
  nodeId: string;
  attempt: number;
  input: unknown;
  /** The run, for `{{ }}` expressions in the node's config. */
  run: RunInfo;
  /** The run was started in playback mode. */
  playback: boolean;
  /** When the activation was scheduled: the time its sandbox helpers answer. */
  scheduledAt: number;
  workflow: CompiledWorkflow;
  startedAt: number;
  /** When its start-to-close limit passes: the attempt is abandoned, its lease no longer renewed. */
  deadline: number;
}

interface Draft {
  runId: string;
  workflow: CompiledWorkflow;
  /** The committed state this draft builds on; null for a run this batch creates. */
  base: RunState | null;
  state: RunState;
  create: NewRun | null;
  events: JournalEvent[];
  ops: WorkOp[];
  leases: { activationId: string; attempt: number }[];
}

/**
 * What events recorded on one run do to other runs in the same batch (a child run started, a
 * parent resumed, children cancelled: runtime/children.ts).
 */
export type FollowUp = (batch: Batch, runId: string, appended: readonly JournalEvent[]) => void;

/** A run as it was when an isolated item first touched it. */
type Saved =
  | { runId: string; draft: Draft; state: RunState; events: number; ops: number; leases: number }
  | { runId: string; draft: undefined; state: undefined; events: number; ops: number; leases: number };

export class Batch {
  readonly at: number;
  readonly workerId: string | null;
  readonly started: Started[] = [];
  readonly #book: RunBook;
  readonly #drafts = new Map<string, Draft>();
  readonly #schedules: ScheduleAdvance[] = [];

  readonly #follow: FollowUp | undefined;

  constructor(book: RunBook, at: number, workerId: string | null, follow?: FollowUp) {
    this.#book = book;
    this.at = at;
    this.workerId = workerId;
    this.#follow = follow;
  }

  /** The run as this batch sees it (committed state plus what the batch recorded); undefined when unknown. */
  run(runId: string): LoadedRun | undefined {
    const draft = this.#drafts.get(runId);
    if (draft) return { state: draft.state, workflow: draft.workflow };
    return this.#book.get(runId);
  }

  /** A run this batch creates: its row is inserted with the batch (refused if the id exists). */
  create(run: NewRun, workflow: CompiledWorkflow, state: RunState): void {
    this.#touched(run.runId);
    this.#drafts.set(run.runId, {
      runId: run.runId,
      workflow,
      base: null,
      state,
      create: run,
      events: [],
      ops: [],
      leases: [],
    });
  }

  /** Records a runtime event and the decisions that follow it; returns everything appended. */
  record(runId: string, event: NewEvent): JournalEvent[] {
    const draft = this.#draft(runId);
    const { state, appended } = record(draft.workflow, draft.state, event, this.at);
    for (const next of appended) {
      draft.events.push(next);
      addEffects(draft.ops, runId, next, state);
    }
    draft.state = state;
    this.#follow?.(this, runId, appended);
    return appended;
  }

  /** A work-row change that is not the effect of an event (a lease, a stale timer). */
  work(runId: string, op: WorkOp): void {
    this.#draft(runId).ops.push(op);
  }

  /** A schedule fired: its row moves on with this batch, or the batch is refused (another worker fired it). */
  advanceSchedule(advance: ScheduleAdvance): void {
    this.#schedules.push(advance);
  }

  /** The commit goes through only if this worker still holds the activation's lease at `attempt`. */
  requireLease(runId: string, activationId: string, attempt: number): void {
    this.#draft(runId).leases.push({ activationId, attempt });
  }

  /** Activations this batch made ready that nobody holds yet (candidates to start here). */
  *unclaimed(): Generator<{ runId: string; row: ReadyRecord }> {
    for (const draft of this.#drafts.values()) {
      if (isTerminal(draft.state.status)) continue;
      const rows = new Map<string, ReadyRecord | null>();
      for (const op of draft.ops) {
        if (op.kind === 'ready') rows.set(op.activationId, op.row);
        else if (op.kind === 'clear') rows.clear();
      }
      for (const row of rows.values()) if (row && row.leaseOwner === null) yield { runId: draft.runId, row };
    }
  }

  /**
   * Runs `apply`; if it throws, every run it touched is put back as it was before and the error
   * is returned — one bad item cannot spoil the others in the batch.
   */
  isolate(apply: () => void): unknown {
    const outer = this.#saved;
    const saved: Saved[] = [];
    this.#saved = saved;
    const startedBefore = this.started.length;
    const schedulesBefore = this.#schedules.length;
    try {
      apply();
      return null;
    } catch (error) {
      for (const { runId, draft, state, events, ops, leases } of saved) {
        if (!draft) {
          this.#drafts.delete(runId);
          continue;
        }
        draft.state = state;
        draft.events.length = events;
        draft.ops.length = ops;
        draft.leases.length = leases;
        this.#drafts.set(runId, draft);
      }
      this.started.length = startedBefore;
      this.#schedules.length = schedulesBefore;
      return error ?? new Error('unknown error');
    } finally {
      this.#saved = outer;
    }
  }

  get empty(): boolean {
    return this.#drafts.size === 0 && this.#schedules.length === 0;
  }

  /** Runs this batch touches. */
  runIds(): string[] {
    return [...this.#drafts.keys()];
  }

  /** The states this batch leads to: adopted by the run book once it is durable. */
  states(): [string, LoadedRun][] {
    return [...this.#drafts.values()]
      .filter((draft) => draft.events.length > 0)
      .map((draft) => [draft.runId, { state: draft.state, workflow: draft.workflow }]);
  }

  toCommit(): CommitBatch {
    return {
      workerId: this.workerId,
      at: this.at,
      runs: [...this.#drafts.values()].map(toWrite),
      ...(this.#schedules.length > 0 && { schedules: [...this.#schedules] }),
    };
  }

  /** Inside `isolate`: how each run it touched was before (for putting it back). */
  #saved: Saved[] | null = null;

  /** Called before a run is changed, so `isolate` can put it back. */
  #touched(runId: string): void {
    const saved = this.#saved;
    if (saved === null || saved.some((entry) => entry.runId === runId)) return;
    const draft = this.#drafts.get(runId);
    saved.push(
      draft
        ? {
            runId,
            draft,
            state: draft.state,
            events: draft.events.length,
            ops: draft.ops.length,
            leases: draft.leases.length,
          }
        : { runId, draft: undefined, state: undefined, events: 0, ops: 0, leases: 0 },
    );
  }

  #draft(runId: string): Draft {
    this.#touched(runId);
    let draft = this.#drafts.get(runId);
    if (!draft) {
      const run = this.#book.get(runId);
      if (!run) throw new Error(`run ${runId} is not loaded`);
      draft = {
        runId,
        workflow: run.workflow,
        base: run.state,
        state: run.state,
        create: null,
        events: [],
        ops: [],
        leases: [],
      };
      this.#drafts.set(runId, draft);
    }
    return draft;
  }
}

function toWrite(draft: Draft): RunWrite {
  const work = noWork();
  const ready = new Map<string, ReadyRecord | null>();
  const timers = new Map<string, { activationId: string; purpose: TimerRecord['purpose']; row: TimerRecord | null }>();
  let clear = false;
  for (const op of draft.ops) {
    switch (op.kind) {
      case 'ready':
        ready.set(op.activationId, op.row);
        break;
      case 'timer':
        timers.set(`${op.activationId}\0${op.purpose}`, op);
        break;
      case 'wait-open':
        work.waitOpen.push(op.row);
        break;
      case 'wait-vote':
        work.waitVote.push(op.vote);
        break;
      case 'wait-decide':
        work.waitDecide.push(op.decision);
        break;
      case 'clear':
        // The run ended: its ready rows and timers go, those of this batch too (inbox rows stay
        // as history: decided ones as they are, open ones become cancelled).
        clear = true;
        ready.clear();
        timers.clear();
        break;
    }
  }
  for (const [activationId, row] of ready)
    if (row) work.readyPut.push(row);
    else work.readyDelete.push(activationId);
  for (const { activationId, purpose, row } of timers.values())
    if (row) work.timerPut.push(row);
    else work.timerDelete.push({ activationId, purpose });
  const { state } = draft;
  return {
    runId: draft.runId,
    create: draft.create,
    expectedLastSeq: draft.base?.lastSeq ?? 0,
    events: draft.events,
    projection:
      draft.events.length === 0
        ? null
        : {
            status: state.status,
            output: isTerminal(state.status) ? state.output : null,
            error: state.error,
            lastSeq: state.lastSeq,
            finishedAt: state.finishedAt,
          },
    clear,
    work,
    leases: draft.leases,
  };
}
