// The engine: a store, the node registry, the sandbox, the group commit and (when started) a
// worker, wired together. Commands and queries live in their own modules (run-commands.ts,
// run-queries.ts, workflows.ts); this file is the wiring and the lifecycle (docs/api.md).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { builtinNodes, expressionSyntax } from '../../nodes/index.js';
import { CredentialStore, fileCredentials, MemoryVault } from '../credentials/index.js';
import { NodeRegistry } from '../registry/index.js';
import { directFirst, SandboxPool } from '../sandbox/index.js';
import { expressionsOf, parseTemplate } from '../model/template.js';
import { evaluateFields, type RunInfo } from './expressions.js';
import type { Logger, Sandbox } from '../sdk/index.js';
import { openStore, type Store, type Synchronous } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';
import { followChildren, linkedRunIds, workflowPins } from './children.js';
import { EngineError } from './errors.js';
import { atTime, type ExecutionServices } from './execute.js';
import { GroupCommit, type CommitListener, type RunChange } from './group-commit.js';
import { defaultHeartbeatMode, MIN_LEASE_MS, type HeartbeatMode } from './membership.js';
import { RunBook } from './run-book.js';
import { RunCommands } from './run-commands.js';
import { RunQueries, type RunDetail } from './run-queries.js';
import { watchRuns } from './run-watch.js';
import { Schedules } from './schedules.js';
import { ANSWER_NOW_MS, Worker } from './worker.js';
import { Workflows } from './workflows.js';

export interface EngineOptions {
  /** The SQLite file; created with its folder when missing. Ignored when `store` is given. */
  dbPath?: string;
  /** Another store (already open). The engine closes it on `close`. */
  store?: Store;
  /** FULL (default): every commit is fsynced. NORMAL: faster, may lose the last commits on power loss. */
  synchronous?: Synchronous;
  registry?: NodeRegistry;
  /** Activations executing at once in this process (default 64). */
  concurrency?: number;
  /** How long an activation's lease lasts without a heartbeat renewing it (default 10 s, at least 3 s). */
  leaseMs?: number;
  /** How often an idle worker looks for work from other processes (default 100 ms). */
  pollMs?: number;
  /** A run waiting on timers further away than this counts as parked (default 60 s). */
  parkHorizonMs?: number;
  logger?: Logger;
  /** Time for timers, leases and limits (default: the system clock). */
  clock?: Clock;
  /** Heartbeats on their own thread (default where built) or on the engine thread. */
  heartbeat?: HeartbeatMode;
  /** Only reads (queries, exports): the database is opened read-only and no worker can start. */
  readonly?: boolean;
  /** How long the database may stay full (disk full) before commits give up for good (default 60 s). */
  diskFullTimeoutMs?: number;
  /** Secrets nodes read by name (default: the credentials file beside `dbPath`, and the environment). */
  credentials?: CredentialStore;
  /** Threads running user code (`code`, `branch.if`) at once (default: one per core). */
  sandboxThreads?: number;
  /**
   * Answer code that is one plain expression over `input` (fields, literals, arithmetic,
   * comparisons) on the engine thread, without a hop to a sandbox thread (default true;
   * `sandbox/direct.ts`). False: every activation goes to the pool (what the bench compares).
   */
  directEvaluation?: boolean;
  /**
   * Real time one commit spends at most running nodes whose code is answered at once, inside that
   * commit (default 25 ms; 0: none, each is dispatched and committed as its own step).
   */
  answerNowMs?: number;
}

/** Where the desktop app keeps its data; the CLI uses the same file by default. */
export function defaultDatabasePath(): string {
  const home = homedir();
  const base =
    process.platform === 'win32'
      ? (process.env.APPDATA ?? join(home, 'AppData', 'Roaming'))
      : process.platform === 'darwin'
        ? join(home, 'Library', 'Application Support')
        : (process.env.XDG_CONFIG_HOME ?? join(home, '.config'));
  return join(base, 'Stepwise', 'stepwise.db');
}

export function defaultRegistry(): NodeRegistry {
  return new NodeRegistry(builtinNodes, { expressionSyntax });
}

const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export class Engine {
  readonly registry: NodeRegistry;
  readonly workflows: Workflows;
  readonly commands: RunCommands;
  readonly queries: RunQueries;
  readonly clock: Clock;
  readonly credentials: CredentialStore;
  readonly #store: Store;
  readonly #book: RunBook;
  readonly #commits: GroupCommit;
  /** Its threads start with the first activation that needs one. */
  readonly #pool: SandboxPool;
  /** The pool, behind direct evaluation unless the options turn it off. */
  readonly #sandbox: Sandbox;
  readonly #services: ExecutionServices;
  readonly #schedules: Schedules;
  readonly #options: {
    concurrency: number;
    leaseMs: number;
    pollMs: number;
    parkHorizonMs: number;
    heartbeat: HeartbeatMode;
    answerNowMs: number;
  };
  readonly #readonly: boolean;
  #worker: Worker | undefined;
  #closed = false;

  private constructor(options: EngineOptions) {
    if (!options.store && options.dbPath === undefined) throw new Error('Engine.open needs a dbPath or a store');
    if (options.leaseMs !== undefined && options.leaseMs < MIN_LEASE_MS)
      throw new RangeError(`leaseMs must be at least ${MIN_LEASE_MS} (a few heartbeats); it was ${options.leaseMs}`);
    if (options.answerNowMs !== undefined && !(options.answerNowMs >= 0 && Number.isFinite(options.answerNowMs)))
      throw new RangeError(
        `answerNowMs must be a finite number of milliseconds, 0 or more; it was ${options.answerNowMs}`,
      );
    this.registry = options.registry ?? defaultRegistry();
    this.clock = options.clock ?? systemClock;
    this.#store =
      options.store ??
      openStore(
        { kind: 'sqlite', path: options.dbPath ?? '', synchronous: options.synchronous ?? 'FULL' },
        { readonly: options.readonly ?? false },
      );
    this.#readonly = options.readonly ?? false;
    const logger = options.logger ?? silentLogger;
    this.credentials =
      options.credentials ??
      (options.dbPath !== undefined ? fileCredentials(options.dbPath) : new CredentialStore(new MemoryVault()));
    this.#pool = new SandboxPool({ threads: options.sandboxThreads });
    this.#sandbox = options.directEvaluation === false ? this.#pool : directFirst(this.#pool);
    this.#book = new RunBook(this.#store, this.registry);
    const book = this.#book;
    const services: ExecutionServices = {
      sandbox: this.#sandbox,
      logger,
      now: () => this.clock.now(),
      credentials: this.credentials,
      workflows: workflowPins(this.#store, book),
      cache: this.#store,
    };
    this.#services = services;
    this.#commits = new GroupCommit(this.#store, this.#book, this.clock, logger, {
      ...(options.diskFullTimeoutMs !== undefined && { diskFullTimeoutMs: options.diskFullTimeoutMs }),
      follow: (batch, runId, appended) => followChildren(batch, book, services, runId, appended),
      linked: linkedRunIds,
    });
    this.#options = {
      concurrency: options.concurrency ?? 64,
      leaseMs: options.leaseMs ?? 10_000,
      pollMs: options.pollMs ?? 100,
      parkHorizonMs: options.parkHorizonMs ?? 60_000,
      heartbeat: options.heartbeat ?? (options.clock ? 'inline' : defaultHeartbeatMode()),
      answerNowMs: options.answerNowMs ?? ANSWER_NOW_MS,
    };
    this.#schedules = new Schedules({ store: this.#store, book: this.#book, clock: this.clock, logger });
    this.workflows = new Workflows(this.#store, this.registry, this.clock, this.#schedules);
    const deps = {
      store: this.#store,
      book: this.#book,
      commits: this.#commits,
      services: this.#services,
      clock: this.clock,
    };
    this.commands = new RunCommands(deps);
    this.queries = new RunQueries({
      store: this.#store,
      clock: this.clock,
      registry: this.registry,
      parkHorizonMs: this.#options.parkHorizonMs,
    });
  }

  /** Opens (creating when missing) the store. Throws DatabaseError for a file it must not touch. */
  static open(options: EngineOptions): Engine {
    return new Engine(options);
  }

  /**
   * One config string's `{{ }}` evaluated as a run would (the inspector's preview): in the
   * sandbox, with the same limits; a syntax or runtime error is answered, not thrown.
   */
  async evaluateTemplate(
    template: string,
    scope: { input: unknown; run: RunInfo },
  ): Promise<{ ok: true; value?: unknown } | { ok: false; error: string; column?: number }> {
    const parsed = parseTemplate(template);
    if (parsed === null) return { ok: true, value: template };
    if ('error' in parsed) return { ok: false, error: parsed.error.message, column: parsed.error.column };
    for (const part of expressionsOf(parsed.parts)) {
      const error = this.registry.expressionSyntax?.(part.source);
      if (error) return { ok: false, error: `syntax error: ${error.message}`, column: part.column + error.offset };
    }
    try {
      // `$date.now()` in a preview: the run's start, as close to an activation of it as there is.
      const sandbox = atTime(this.#sandbox, scope.run.startedAt);
      const evaluated = await evaluateFields([{ path: [], parts: parsed.parts }], scope, sandbox);
      if ('error' in evaluated) return { ok: false, error: evaluated.error };
      const [value] = evaluated.values;
      return value === undefined ? { ok: true } : { ok: true, value };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Saves a workflow as a version (see `workflows.save`). */
  saveWorkflow(source: unknown, options: { note?: string } = {}): ReturnType<Workflows['save']> {
    return this.workflows.save(source, options);
  }

  /** Starts a run of a workflow's version (see `commands.start`). */
  startRun(workflowId: string, options: Parameters<RunCommands['start']>[1] = {}): ReturnType<RunCommands['start']> {
    return this.commands.start(workflowId, options);
  }

  /** Every commit of this engine that changed runs: which, and their status after it. */
  onCommit(listener: CommitListener): () => void {
    return this.#commits.onCommit(listener);
  }

  /**
   * Every change to runs from now on, by this process (at once) or any other (the CLI, another
   * worker: within `pollMs`). Returns a function that stops watching.
   */
  watchRuns(listener: (changes: RunChange[]) => void, options: { pollMs?: number } = {}): () => void {
    return watchRuns(this.#store, this.#commits, this.clock, listener, options.pollMs ?? 250);
  }

  /**
   * Settles with the error that stopped this engine's commits for good (the database stayed full
   * for longer than `diskFullTimeoutMs`); pending while commits work.
   */
  get failed(): Promise<Error> {
    return this.#commits.failed;
  }

  /** Counters for benchmarks and diagnostics. */
  stats(): { commits: number } {
    return { commits: this.#commits.commits };
  }

  // ── Execution ────────────────────────────────────────────────────────────────────────────

  /** Starts executing in this process: recovery, ready work, timers, other processes' runs. */
  startWorker(options: { runId?: string } = {}): Worker {
    if (this.#worker) return this.#worker;
    if (this.#readonly) throw new Error('this engine opened its database read-only: it cannot start a worker');
    const worker = new Worker(
      {
        store: this.#store,
        commits: this.#commits,
        services: this.#services,
        clock: this.clock,
        schedules: this.#schedules,
      },
      {
        concurrency: this.#options.concurrency,
        leaseMs: this.#options.leaseMs,
        pollMs: this.#options.pollMs,
        heartbeat: this.#options.heartbeat,
        answerNowMs: this.#options.answerNowMs,
        ...(options.runId !== undefined && { runId: options.runId }),
      },
    );
    this.#worker = worker;
    worker.started = worker.start().catch((error: unknown) => {
      this.#services.logger.error('the worker could not start', { error: String(error) });
      throw error;
    });
    return worker;
  }

  get worker(): Worker | undefined {
    return this.#worker;
  }

  async stopWorker(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    await worker.started.catch(() => {});
    try {
      await worker.stop();
    } catch (error) {
      // Leaving writes too: once the disk stayed full, that failure is the one to report.
      if (!this.#commits.failure) throw error;
    }
  }

  /** Works until nothing is runnable (only finished or parked runs; no timer due within the horizon). */
  async runUntilIdle(options: { runId?: string; signal?: AbortSignal } = {}): Promise<void> {
    const worker = this.startWorker(options);
    await worker.started;
    while (!options.signal?.aborted && !this.#commits.failure) {
      // Real time: this is the caller waiting, not engine semantics (a manual clock may stand still).
      await new Promise<void>((resolve) => setTimeout(resolve, Math.min(this.#options.pollMs, 50)));
      if (await worker.isIdle(this.#options.parkHorizonMs)) break;
    }
    await this.stopWorker();
    if (this.#commits.failure) throw this.#commits.failure;
  }

  /** Resolves when the run has finished, or (with `until: 'settled'`) is parked on a wait. */
  async waitForRun(
    runId: string,
    options: { until?: 'finished' | 'settled'; timeoutMs?: number } = {},
  ): Promise<RunDetail> {
    const until = options.until ?? 'settled';
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      if (this.#commits.failure) throw this.#commits.failure;
      const detail = await this.queries.get(runId);
      if (!detail) throw new EngineError(`no run "${runId}"`, 'not-found');
      if (detail.settled === 'finished' || (until === 'settled' && detail.settled === 'parked')) return detail;
      if (Date.now() > deadline)
        throw new Error(
          `run ${runId} did not ${until === 'settled' ? 'settle' : 'finish'} in ${options.timeoutMs} ms (it is ${detail.status})`,
        );
      // A commit of this process that touches the run wakes us; other processes' are polled.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#options.pollMs);
        const unsubscribe = this.#commits.onCommit((changes) => {
          if (changes.some((change) => change.runId === runId)) done();
        });
        function done(): void {
          clearTimeout(timer);
          unsubscribe();
          resolve();
        }
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.stopWorker();
    await this.#commits.idle();
    await this.#pool.dispose();
    await this.#store.close();
  }
}

export { EngineError } from './errors.js';
export { RunExportFormatError } from '../replay/index.js';
export { MIN_LEASE_MS } from './membership.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export { DatabaseError } from '../store/index.js';
export type { RunDetail, RunExport, ApprovalView } from './run-queries.js';
export type { RunRecord as RunSummary, RunFilter, RunCursor, RunPage } from '../store/index.js';
export type { Worker } from './worker.js';
export type { RunChange } from './group-commit.js';
