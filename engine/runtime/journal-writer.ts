// Appends events to a run inside the caller's transaction: the event, the fold, the
// orchestrator's decisions, and their effects on the work tables (ready/timers/waits) — one
// state change, one transaction. Projections (`runs` rows) are written once per transaction.
import type { JournalEvent, NewEvent } from '../journal/events.js';
import { evolve, isTerminal } from '../journal/state.js';
import { decide } from '../orchestrator/decide.js';
import type { JournalStore } from '../store/journal-store.js';
import type { WorkStore } from '../store/work-store.js';
import type { LoadedRun } from './run-book.js';

export class JournalWriter {
  readonly #journal: JournalStore;
  readonly #work: WorkStore;
  readonly #dirty = new Map<string, LoadedRun>();

  constructor(journal: JournalStore, work: WorkStore) {
    this.#journal = journal;
    this.#work = work;
  }

  /** Records a runtime event and the decisions that follow it. Returns everything appended. */
  record(runId: string, run: LoadedRun, event: NewEvent, at: number): JournalEvent[] {
    const appended = [this.#append(runId, run, event, at)];
    const first = appended[0] as JournalEvent;
    for (const decision of decide(run.workflow, run.state, first))
      appended.push(this.#append(runId, run, decision, at));
    this.#dirty.set(runId, run);
    return appended;
  }

  /** After a savepoint of this run rolled back: project the re-read state instead, if any. */
  retarget(runId: string, run: LoadedRun | undefined): void {
    if (!this.#dirty.has(runId)) return;
    if (run) this.#dirty.set(runId, run);
    else this.#dirty.delete(runId);
  }

  /** Whether the open transaction has appended to this run. */
  touches(runId: string): boolean {
    return this.#dirty.has(runId);
  }

  /** Writes the `runs` projection of every run touched since the last call. */
  flush(at: number): string[] {
    const touched = [...this.#dirty.keys()];
    for (const [runId, { state }] of this.#dirty) {
      this.#journal.updateRun(runId, {
        status: state.status,
        output: isTerminal(state.status) ? state.output : null,
        error: state.error,
        lastSeq: state.lastSeq,
        at,
        finishedAt: state.finishedAt,
      });
    }
    this.#dirty.clear();
    return touched;
  }

  /** Forgets pending projections after a rollback. */
  discard(): string[] {
    const touched = [...this.#dirty.keys()];
    this.#dirty.clear();
    return touched;
  }

  #append(runId: string, run: LoadedRun, event: NewEvent, at: number): JournalEvent {
    const full: JournalEvent = { ...event, seq: run.state.lastSeq + 1, at };
    this.#journal.append(runId, full);
    evolve(run.state, full);
    this.#applyEffects(runId, run, full);
    return full;
  }

  #applyEffects(runId: string, run: LoadedRun, event: JournalEvent): void {
    const activationId = event.activationId ?? '';
    const nodeId = event.nodeId ?? '';
    switch (event.type) {
      case 'NodeScheduled':
        this.#work.enqueue(runId, activationId, nodeId, 1, event.at);
        break;
      case 'RetryScheduled':
        this.#work.dequeue(runId, activationId);
        this.#work.addTimer({
          run_id: runId,
          activation_id: activationId,
          purpose: 'retry',
          node_id: nodeId,
          attempt: event.attempt ?? 1,
          due_at: event.data.dueAt,
        });
        break;
      case 'TimerFired':
        if (event.data.purpose === 'retry')
          this.#work.enqueue(runId, activationId, nodeId, event.attempt ?? 1, event.at);
        break;
      case 'NodeCompleted':
      case 'NodeFailed':
        this.#work.dequeue(runId, activationId);
        break;
      case 'WaitCreated': {
        this.#work.dequeue(runId, activationId);
        const { wait } = event.data;
        const input = run.state.activations.get(activationId)?.input;
        const timer = (purpose: 'wait' | 'wait-timeout', dueAt: number): void =>
          this.#work.addTimer({
            run_id: runId,
            activation_id: activationId,
            purpose,
            node_id: nodeId,
            attempt: event.attempt ?? 1,
            due_at: dueAt,
          });
        if (wait.kind === 'timer') timer('wait', wait.dueAt);
        else {
          this.#work.addWait(runId, activationId, nodeId, wait, input, event.at);
          if (wait.timeoutAt !== null) timer('wait-timeout', wait.timeoutAt);
        }
        break;
      }
      case 'SignalReceived':
        this.#work.deleteTimer(runId, activationId, 'wait-timeout');
        break;
      case 'RunCompleted':
      case 'RunFailed':
      case 'RunCancelled':
        this.#work.clearRun(runId);
        break;
      default:
        break;
    }
  }
}
