// The engine: one database file, the node registry, the sandbox and a worker, behind a small
// programmatic API (docs/api.md). The CLI and (later) the served/desktop hosts are built on it.
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { builtinNodes } from '../../nodes/index.js';
import type { JournalEvent } from '../journal/events.js';
import { initialState, isOpen, isTerminal, type ActivationState, type RunState } from '../journal/state.js';
import type { Workflow, WorkflowVersion } from '../model/workflow.js';
import { NodeRegistry } from '../registry/index.js';
import { QuickJsSandbox } from '../sandbox/index.js';
import type { Logger, WaitOutcome } from '../sdk/index.js';
import { openDatabase, type Db, type Synchronous } from '../store/database.js';
import { JournalStore, type RunFilter, type RunSummary } from '../store/journal-store.js';
import { WorkflowStore, type WorkflowSummary } from '../store/workflow-store.js';
import { WorkStore, type WaitRow } from '../store/work-store.js';
import {
  validateWorkflow,
  validateWorkflowText,
  WorkflowInvalidError,
  type Problem,
  type ValidationResult,
} from '../validate/index.js';
import { resumeActivation, type ExecutionServices } from './execute.js';
import { JournalWriter } from './journal-writer.js';
import { RunBook, type LoadedRun } from './run-book.js';
import { Worker } from './worker.js';

export interface EngineOptions {
  /** The SQLite file; created with its folder when missing. */
  dbPath: string;
  /** FULL (default): every commit is fsynced. NORMAL: faster, may lose the last commits on power loss. */
  synchronous?: Synchronous;
  registry?: NodeRegistry;
  /** Activations executing at once in this process (default 64). */
  concurrency?: number;
  /** How long a claimed activation stays leased without a heartbeat (default 30 s). */
  leaseMs?: number;
  /** How often an idle worker looks for work from other processes (default 100 ms). */
  pollMs?: number;
  /** A run waiting on timers further away than this counts as parked (default 60 s). */
  parkHorizonMs?: number;
  logger?: Logger;
}

export type Decision = 'approved' | 'rejected';

export interface ApprovalView {
  runId: string;
  activationId: string;
  nodeId: string;
  status: 'open' | 'decided' | 'cancelled';
  title: string;
  instructions: string;
  input: unknown;
  createdAt: number;
  timeoutAt: number | null;
  decision: string | null;
  decidedBy: string | null;
  decidedAt: number | null;
  comment: string | null;
}

export interface RunDetail extends RunSummary {
  /** 'parked' when the run can only go on after a decision, a signal or a distant timer. */
  settled: 'finished' | 'parked' | 'active';
  versionHash: string;
  activations: ActivationState[];
  approvals: ApprovalView[];
  events: JournalEvent[];
}

export interface RunExport {
  format: 'stepwise/run-export@1';
  exportedAt: string;
  run: RunSummary;
  version: WorkflowVersion;
  events: JournalEvent[];
  approvals: ApprovalView[];
}

export class EngineError extends Error {
  constructor(
    message: string,
    readonly code: 'not-found' | 'ambiguous' | 'already-decided' | 'not-waiting' | 'invalid' | 'finished',
  ) {
    super(message);
    this.name = 'EngineError';
  }
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
  return new NodeRegistry(builtinNodes);
}

const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export class Engine {
  readonly registry: NodeRegistry;
  readonly db: Db;
  readonly #workflows: WorkflowStore;
  readonly #journal: JournalStore;
  readonly #work: WorkStore;
  readonly #book: RunBook;
  readonly #writer: JournalWriter;
  readonly #sandbox = new QuickJsSandbox();
  readonly #services: ExecutionServices;
  readonly #options: Required<Omit<EngineOptions, 'registry' | 'logger' | 'synchronous'>>;
  #worker: Worker | undefined;
  #closed = false;
  /** Commits of this engine's own transactions and of workers that have stopped. */
  #commits = 0;

  private constructor(options: EngineOptions) {
    this.registry = options.registry ?? defaultRegistry();
    this.db = openDatabase(options.dbPath, { synchronous: options.synchronous ?? 'FULL' });
    this.#workflows = new WorkflowStore(this.db);
    this.#journal = new JournalStore(this.db);
    this.#work = new WorkStore(this.db);
    this.#book = new RunBook(this.#journal, this.#workflows, this.registry);
    this.#writer = new JournalWriter(this.#journal, this.#work);
    this.#book.trustPendingWrites((runId) => this.#writer.touches(runId));
    this.#services = { sandbox: this.#sandbox, logger: options.logger ?? silentLogger, now: Date.now };
    this.#options = {
      dbPath: options.dbPath,
      concurrency: options.concurrency ?? 64,
      leaseMs: options.leaseMs ?? 30_000,
      pollMs: options.pollMs ?? 100,
      parkHorizonMs: options.parkHorizonMs ?? 60_000,
    };
  }

  static open(options: EngineOptions): Engine {
    return new Engine(options);
  }

  // ── Workflows ────────────────────────────────────────────────────────────────────────────

  /** Workflows, their drafts and versions: what the editor works on. */
  get workflows(): WorkflowStore {
    return this.#workflows;
  }

  validate(source: unknown): ValidationResult {
    return typeof source === 'string'
      ? validateWorkflowText(source, this.registry)
      : validateWorkflow(source, this.registry);
  }

  /**
   * Saves a workflow (file text or object) as a version. Identical content reuses the existing
   * version. Throws WorkflowInvalidError, naming every problem, when it is not valid.
   */
  saveWorkflow(
    source: unknown,
    options: { note?: string } = {},
  ): { workflowId: string; version: number; created: boolean; warnings: Problem[] } {
    const result = this.validate(source);
    if (!result.ok) throw new WorkflowInvalidError(result.problems);
    const saved = this.#workflows.saveVersion(result.workflow, options.note ?? null, Date.now());
    return {
      workflowId: saved.version.workflowId,
      version: saved.version.version,
      created: saved.created,
      warnings: result.problems,
    };
  }

  listWorkflows(): WorkflowSummary[] {
    return this.#workflows.listWorkflows();
  }

  listVersions(workflowId: string): ReturnType<WorkflowStore['listVersions']> {
    return this.#workflows.listVersions(workflowId);
  }

  getVersion(workflowId: string, version?: number): WorkflowVersion | undefined {
    return version === undefined
      ? this.#workflows.latestVersion(workflowId)
      : this.#workflows.getVersion(workflowId, version);
  }

  // ── Runs ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Pins the run to a version (the latest unless given) and schedules its trigger; resolves once
   * that is durable. With a worker running in this process, the start joins the worker's next
   * group commit (and its first steps are claimed in it); otherwise it is its own transaction.
   */
  async startRun(
    workflowId: string,
    options: { input?: unknown; version?: number; parentRunId?: string } = {},
  ): Promise<RunSummary> {
    const versionNumber = options.version ?? this.#workflows.latestVersionNumber(workflowId);
    const workflow = versionNumber === undefined ? undefined : this.#book.find(workflowId, versionNumber);
    if (!workflow)
      throw new EngineError(
        options.version === undefined
          ? `no workflow "${workflowId}"`
          : `workflow "${workflowId}" has no version ${options.version}`,
        'not-found',
      );
    const trigger = workflow.manualTrigger;
    if (trigger === null)
      throw new EngineError(
        `workflow "${workflowId}" has no trigger.manual node, so it cannot be started by hand`,
        'invalid',
      );
    const runId = newRunId();
    const input = normaliseJson(options.input ?? null);
    const parentRunId = options.parentRunId ?? null;
    const create = (now: number): void => {
      this.#journal.insertRun({
        runId,
        workflowId,
        version: workflow.version,
        input,
        parentRunId,
        at: now,
      });
      const run: LoadedRun = { state: initialState(runId), workflow };
      this.#book.adopt(runId, run);
      this.#writer.record(
        runId,
        run,
        {
          type: 'RunStarted',
          activationId: null,
          nodeId: null,
          attempt: null,
          data: { workflowId, version: workflow.version, input, triggerNodeId: trigger, parentRunId },
        },
        now,
      );
    };
    if (this.#worker?.running) await this.#worker.inNextCommit(create);
    else {
      const now = Date.now();
      this.db
        .transaction(() => {
          create(now);
          this.#writer.flush(now);
        })
        .immediate();
      this.#commits += 1;
    }
    return this.#summary(runId);
  }

  /** The `runs` row alone: cheap, for polling and lists. */
  getRunSummary(runId: string): RunSummary | undefined {
    return this.#journal.getRun(runId);
  }

  /** Counters for benchmarks and diagnostics. */
  stats(): { commits: number } {
    return { commits: this.#commits + (this.#worker?.commits ?? 0) };
  }

  getRun(runId: string): RunDetail | undefined {
    const summary = this.#journal.getRun(runId);
    if (!summary) return undefined;
    const run = this.db.transaction(() => this.#book.load(runId))();
    if (!run) return undefined;
    const version = this.#workflows.getVersion(summary.workflowId, summary.version);
    return {
      ...summary,
      settled: this.#settled(run.state),
      versionHash: version?.hash ?? '',
      activations: [...run.state.activations.values()],
      approvals: this.#work.waitsOfRun(runId).map(toApprovalView),
      events: this.#journal.eventsAfter(runId, 0),
    };
  }

  /** Accepts a full run id or a unique prefix of one. */
  resolveRunId(idOrPrefix: string): string {
    if (this.#journal.getRun(idOrPrefix)) return idOrPrefix;
    const matches = this.#journal.resolveRunId(idOrPrefix);
    if (matches.length === 1) return matches[0] as string;
    if (matches.length === 0) throw new EngineError(`no run "${idOrPrefix}"`, 'not-found');
    throw new EngineError(`"${idOrPrefix}" matches more than one run; give more of the id`, 'ambiguous');
  }

  listRuns(filter: RunFilter = {}): RunSummary[] {
    return this.#journal.listRuns(filter);
  }

  events(runId: string): JournalEvent[] {
    return this.#journal.eventsAfter(runId, 0);
  }

  openApprovals(limit = 100): ApprovalView[] {
    return this.#work.openWaits(limit).map(toApprovalView);
  }

  /**
   * Records an approval decision, once: a second decision on the same wait is refused. The
   * journal keeps who, when, the comment and the input the approver was shown.
   */
  decide(
    runId: string,
    decision: Decision,
    options: { nodeId?: string; by?: string; comment?: string } = {},
  ): RunSummary {
    const by = options.by ?? defaultActor();
    const now = Date.now();
    this.db
      .transaction(() => {
        const run = this.#book.load(runId);
        if (!run) throw new EngineError(`no run "${runId}"`, 'not-found');
        const waits = this.#work
          .waitsOfRun(runId)
          .filter((wait) => options.nodeId === undefined || wait.node_id === options.nodeId);
        const open = waits.filter((wait) => wait.status === 'open');
        if (open.length === 0) {
          const decided = waits.find((wait) => wait.status === 'decided');
          if (decided)
            throw new EngineError(
              `approval "${decided.node_id}" of run ${runId} was already decided: ${decided.decision} by ${decided.decided_by} at ${new Date(decided.decided_at ?? 0).toISOString()}; a decision is recorded once`,
              'already-decided',
            );
          if (isTerminal(run.state.status))
            throw new EngineError(`run ${runId} is ${run.state.status}; there is nothing to decide`, 'finished');
          throw new EngineError(
            options.nodeId === undefined
              ? `run ${runId} is not waiting for an approval`
              : `run ${runId} has no approval waiting at node "${options.nodeId}"`,
            'not-waiting',
          );
        }
        if (open.length > 1)
          throw new EngineError(
            `run ${runId} waits for ${open.length} approvals (${open.map((wait) => `"${wait.node_id}"`).join(', ')}); say which with --node`,
            'ambiguous',
          );
        const wait = open[0] as WaitRow;
        if (!this.#work.decideWait(runId, wait.activation_id, decision, by, options.comment ?? null, now))
          throw new EngineError(`approval "${wait.node_id}" of run ${runId} was already decided`, 'already-decided');
        const activation = run.state.activations.get(wait.activation_id);
        const node = run.workflow.nodes.get(wait.node_id);
        if (!activation || !node)
          throw new EngineError(`run ${runId} has no activation "${wait.activation_id}"`, 'not-found');
        const base = { activationId: wait.activation_id, nodeId: wait.node_id, attempt: activation.attempt };
        this.#writer.record(
          runId,
          run,
          {
            ...base,
            type: 'SignalReceived',
            data: { decision, by, comment: options.comment ?? null, shownInput: activation.input },
          },
          now,
        );
        const outcome: WaitOutcome = { kind: 'decision', decision, by, comment: options.comment ?? null };
        const ref = { runId, ...base, input: activation.input };
        const resumed = resumeActivation(node, ref, this.#services, outcome);
        if (resumed.kind === 'completed')
          this.#writer.record(
            runId,
            run,
            { ...base, type: 'NodeCompleted', data: { port: resumed.port, output: resumed.output } },
            now,
          );
        else if (resumed.kind === 'failed')
          this.#writer.record(runId, run, { ...base, type: 'NodeFailed', data: { error: resumed.error } }, now);
        this.#writer.flush(now);
      })
      .immediate();
    this.#commits += 1;
    this.#worker?.scheduleFlush();
    return this.#summary(runId);
  }

  cancelRun(runId: string, options: { reason?: string; by?: string } = {}): RunSummary {
    const now = Date.now();
    this.db
      .transaction(() => {
        const run = this.#book.load(runId);
        if (!run) throw new EngineError(`no run "${runId}"`, 'not-found');
        if (isTerminal(run.state.status))
          throw new EngineError(`run ${runId} is already ${run.state.status}`, 'finished');
        this.#writer.record(
          runId,
          run,
          {
            type: 'RunCancelled',
            activationId: null,
            nodeId: null,
            attempt: null,
            data: { reason: options.reason ?? null, by: options.by ?? defaultActor() },
          },
          now,
        );
        this.#writer.flush(now);
      })
      .immediate();
    this.#commits += 1;
    this.#worker?.abortRun(runId);
    return this.#summary(runId);
  }

  exportRun(runId: string): RunExport {
    const run = this.#journal.getRun(runId);
    if (!run) throw new EngineError(`no run "${runId}"`, 'not-found');
    const version = this.#workflows.getVersion(run.workflowId, run.version) as WorkflowVersion;
    return {
      format: 'stepwise/run-export@1',
      exportedAt: new Date().toISOString(),
      run,
      version,
      events: this.#journal.eventsAfter(runId, 0),
      approvals: this.#work.waitsOfRun(runId).map(toApprovalView),
    };
  }

  // ── Execution ────────────────────────────────────────────────────────────────────────────

  /** Starts executing in this process: recovery, ready work, timers, other processes' runs. */
  startWorker(options: { runId?: string } = {}): Worker {
    if (this.#worker?.running) return this.#worker;
    this.#worker = new Worker(this.db, this.#work, this.#book, this.#writer, this.#services, {
      id: `${process.pid}-${randomBytes(4).toString('hex')}`,
      concurrency: this.#options.concurrency,
      leaseMs: this.#options.leaseMs,
      pollMs: this.#options.pollMs,
      ...(options.runId !== undefined && { runId: options.runId }),
    });
    this.#worker.start();
    return this.#worker;
  }

  async stopWorker(): Promise<void> {
    await this.#worker?.stop();
    this.#commits += this.#worker?.commits ?? 0;
    this.#worker = undefined;
  }

  /** Works until nothing is runnable (only finished or parked runs; no timer due within the horizon). */
  async runUntilIdle(options: { runId?: string; signal?: AbortSignal } = {}): Promise<void> {
    const worker = this.startWorker(options);
    while (!options.signal?.aborted) {
      await delay(Math.min(this.#options.pollMs, 50));
      if (worker.isIdle(this.#options.parkHorizonMs)) break;
    }
    await this.stopWorker();
  }

  /** Resolves when the run has finished, or (with `until: 'settled'`) is parked on a wait. */
  async waitForRun(
    runId: string,
    options: { until?: 'finished' | 'settled'; timeoutMs?: number } = {},
  ): Promise<RunDetail> {
    const until = options.until ?? 'settled';
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      const detail = this.getRun(runId);
      if (!detail) throw new EngineError(`no run "${runId}"`, 'not-found');
      if (detail.settled === 'finished' || (until === 'settled' && detail.settled === 'parked')) return detail;
      if (Date.now() > deadline)
        throw new Error(
          `run ${runId} did not ${until === 'settled' ? 'settle' : 'finish'} in ${options.timeoutMs} ms (it is ${detail.status})`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#options.pollMs);
        const unsubscribe = this.#worker?.onCommit((changes) => {
          if (changes.some((change) => change.runId === runId)) done();
        });
        function done(): void {
          clearTimeout(timer);
          unsubscribe?.();
          resolve();
        }
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.stopWorker();
    this.#sandbox.dispose();
    this.db.close();
  }

  #summary(runId: string): RunSummary {
    return this.#journal.getRun(runId) as RunSummary;
  }

  #settled(state: RunState): RunDetail['settled'] {
    if (isTerminal(state.status)) return 'finished';
    if (state.openActivations === 0) return 'active';
    const horizon = Date.now() + this.#options.parkHorizonMs;
    for (const activation of state.activations.values()) {
      const parked =
        (activation.status === 'waiting' &&
          (activation.wait?.kind === 'approval' ||
            (activation.wait?.kind === 'timer' && activation.wait.dueAt > horizon))) ||
        (activation.status === 'retrying' && (activation.retryDueAt ?? 0) > horizon);
      if (isOpen(activation.status) && !parked) return 'active';
    }
    return 'parked';
  }
}

/** Time-ordered, unique run ids: 9 base-36 time digits + 10 hex random digits. */
function newRunId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}${randomBytes(5).toString('hex')}`;
}

function normaliseJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value) ?? 'null') as unknown;
}

function defaultActor(): string {
  return process.env.USER ?? process.env.USERNAME ?? 'unknown';
}

function toApprovalView(row: WaitRow): ApprovalView {
  return {
    runId: row.run_id,
    activationId: row.activation_id,
    nodeId: row.node_id,
    status: row.status,
    title: row.title,
    instructions: row.instructions,
    input: JSON.parse(row.input) as unknown,
    createdAt: row.created_at,
    timeoutAt: row.timeout_at,
    decision: row.decision,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    comment: row.comment,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type { Workflow };
