// In-memory run states and compiled versions. States are immutable and adopted only after the
// commit that produced them, so the book holds committed states; another process may have moved
// a run on meanwhile — the commit's optimistic check catches that and the run is caught up here.
import type { RunState } from '../journal/state.js';
import { foldEvents, evolve, isTerminal } from '../journal/state.js';
import { compileWorkflow, type CompiledWorkflow } from '../orchestrator/compile.js';
import type { NodeRegistry } from '../registry/index.js';
import type { Store } from '../store/index.js';
import { EngineError } from './errors.js';

export interface LoadedRun {
  state: RunState;
  workflow: CompiledWorkflow;
}

const MAX_CACHED_RUNS = 10_000;

export interface RunBookOptions {
  /** Runs kept in memory beyond those `pinned` (default 10,000). */
  maxCachedRuns?: number;
}

export class RunBook {
  readonly #runs = new Map<string, LoadedRun>();
  readonly #compiled = new Map<string, CompiledWorkflow>();
  readonly #store: Store;
  readonly #registry: NodeRegistry;
  readonly #maxCachedRuns: number;
  /** Runs whose state here is ahead of the store (deferred pure work): never evicted. */
  #pinned: (runId: string) => boolean = () => false;

  constructor(store: Store, registry: NodeRegistry, options: RunBookOptions = {}) {
    this.#store = store;
    this.#registry = registry;
    this.#maxCachedRuns = options.maxCachedRuns ?? MAX_CACHED_RUNS;
  }

  /**
   * Says which runs the book must keep: their state exists only here (the group commit's
   * deferred writes), and reading them back from the store would build on a state that is behind.
   */
  pin(pinned: (runId: string) => boolean): void {
    this.#pinned = pinned;
  }

  /** The compiled version, or undefined when it is not stored. */
  async find(workflowId: string, version: number): Promise<CompiledWorkflow | undefined> {
    const key = `${workflowId}@${version}`;
    let compiled = this.#compiled.get(key);
    if (!compiled) {
      const stored = await this.#store.workflows.getVersion(workflowId, version);
      if (!stored) return undefined;
      compiled = compileWorkflow(stored, this.#registry);
      this.#compiled.set(key, compiled);
    }
    return compiled;
  }

  /** The compiled version if `find` has loaded it (inside a batch, which cannot wait for the store). */
  cached(workflowId: string, version: number): CompiledWorkflow | undefined {
    return this.#compiled.get(`${workflowId}@${version}`);
  }

  async compiled(workflowId: string, version: number): Promise<CompiledWorkflow> {
    const compiled = await this.find(workflowId, version);
    if (!compiled) throw new EngineError(`workflow "${workflowId}" has no version ${version}`, 'not-found');
    return compiled;
  }

  /** The cached run (a committed state), if any. */
  get(runId: string): LoadedRun | undefined {
    return this.#runs.get(runId);
  }

  /** Makes sure each run is cached (read and folded from the store when not); unknown runs are skipped. */
  async ensure(runIds: Iterable<string>): Promise<void> {
    for (const runId of new Set(runIds)) if (!this.#runs.has(runId)) await this.#load(runId);
  }

  /** Catches a run up with what other processes appended (after a commit found it had moved on). */
  async refresh(runId: string): Promise<void> {
    const cached = this.#runs.get(runId);
    if (!cached) return this.#load(runId);
    let state = cached.state;
    for (const event of await this.#store.readEvents(runId, state.lastSeq)) state = evolve(state, event);
    this.#remember(runId, { ...cached, state });
  }

  /**
   * States a commit made durable. Finished runs leave the cache (they are rarely touched again),
   * and the least recently used go beyond the cache's size — only here, between commits, so that
   * no run a cycle loaded is dropped before the cycle uses it.
   */
  adopt(runs: Iterable<[string, LoadedRun]>): void {
    for (const [runId, run] of runs) {
      if (isTerminal(run.state.status)) this.#runs.delete(runId);
      else this.#remember(runId, run);
    }
    let excess = this.#runs.size - this.#maxCachedRuns;
    for (const oldest of this.#runs.keys()) {
      if (excess <= 0) break;
      if (this.#pinned(oldest)) continue;
      this.#runs.delete(oldest);
      excess -= 1;
    }
  }

  forget(runId: string): void {
    this.#runs.delete(runId);
  }

  async #load(runId: string): Promise<void> {
    const events = await this.#store.readEvents(runId, 0);
    if (events.length === 0) return;
    const state = foldEvents(runId, events);
    this.#remember(runId, { state, workflow: await this.compiled(state.workflowId, state.version) });
  }

  /** Most recently used last. */
  #remember(runId: string, run: LoadedRun): void {
    this.#runs.delete(runId);
    this.#runs.set(runId, run);
  }
}
