// In-memory run states and compiled versions, kept in step with the database. Another process
// may append to a run (a signal, a claim): `load` catches up from the journal inside the caller's
// transaction, so decisions are always made on the committed state.
import { foldEvents, evolve, type RunState } from '../journal/state.js';
import { compileWorkflow, type CompiledWorkflow } from '../orchestrator/compile.js';
import type { NodeRegistry } from '../registry/index.js';
import type { JournalStore } from '../store/journal-store.js';
import type { WorkflowStore } from '../store/workflow-store.js';

export interface LoadedRun {
  state: RunState;
  workflow: CompiledWorkflow;
}

const MAX_CACHED_RUNS = 10_000;

export class RunBook {
  readonly #runs = new Map<string, LoadedRun>();
  readonly #compiled = new Map<string, CompiledWorkflow>();
  readonly #journal: JournalStore;
  readonly #workflows: WorkflowStore;
  readonly #registry: NodeRegistry;

  constructor(journal: JournalStore, workflows: WorkflowStore, registry: NodeRegistry) {
    this.#journal = journal;
    this.#workflows = workflows;
    this.#registry = registry;
  }

  compiled(workflowId: string, version: number): CompiledWorkflow {
    const compiled = this.find(workflowId, version);
    if (!compiled) throw new Error(`workflow "${workflowId}" has no version ${version}`);
    return compiled;
  }

  /** The compiled version, or undefined when it is not stored. */
  find(workflowId: string, version: number): CompiledWorkflow | undefined {
    const key = `${workflowId}@${version}`;
    let compiled = this.#compiled.get(key);
    if (!compiled) {
      const stored = this.#workflows.getVersion(workflowId, version);
      if (!stored) return undefined;
      compiled = compileWorkflow(stored, this.#registry);
      this.#compiled.set(key, compiled);
    }
    return compiled;
  }

  /** Runs appended to in the open transaction: their cached state is ahead of the `runs` row
   * (its projection is written at commit) and is the truth until then. */
  #inTransaction: (runId: string) => boolean = () => false;

  trustPendingWrites(inTransaction: (runId: string) => boolean): void {
    this.#inTransaction = inTransaction;
  }

  /** The run as committed; undefined when there is no such run. Call inside a transaction. */
  load(runId: string): LoadedRun | undefined {
    const cached = this.#runs.get(runId);
    if (cached && this.#inTransaction(runId)) return cached;
    const lastSeq = this.#journal.lastSeq(runId);
    if (lastSeq === undefined) return undefined;
    // No cache, or one a rolled-back transaction left ahead of the journal: fold it afresh.
    if (!cached || cached.state.lastSeq > lastSeq) return this.reload(runId);
    if (cached.state.lastSeq < lastSeq)
      for (const event of this.#journal.eventsAfter(runId, cached.state.lastSeq)) evolve(cached.state, event);
    return cached;
  }

  /** The cached run, if any, without touching the database. */
  peek(runId: string): LoadedRun | undefined {
    return this.#runs.get(runId);
  }

  /** Folds a run from its whole journal, ignoring the cache (also after a rolled-back savepoint). */
  reload(runId: string): LoadedRun | undefined {
    this.#runs.delete(runId);
    const events = this.#journal.eventsAfter(runId, 0);
    if (events.length === 0) return undefined;
    const state = foldEvents(runId, events);
    const run = { state, workflow: this.compiled(state.workflowId, state.version) };
    this.#remember(runId, run);
    return run;
  }

  /** Registers a run created in this process (its RunStarted not yet appended). */
  adopt(runId: string, run: LoadedRun): void {
    this.#remember(runId, run);
  }

  forget(runId: string): void {
    this.#runs.delete(runId);
  }

  /** Drops every cached state: after a failed transaction they may be ahead of the database. */
  invalidate(runIds: Iterable<string>): void {
    for (const runId of runIds) this.#runs.delete(runId);
  }

  #remember(runId: string, run: LoadedRun): void {
    if (this.#runs.size >= MAX_CACHED_RUNS) {
      const oldest = this.#runs.keys().next().value;
      if (oldest !== undefined) this.#runs.delete(oldest);
    }
    this.#runs.set(runId, run);
  }
}
