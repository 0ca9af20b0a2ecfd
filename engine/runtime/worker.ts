// The worker: claims ready activations (with leases), executes them, and commits their outcomes
// with group commit — every completion that arrived meanwhile goes into one transaction, which
// also fires due timers and claims the next activations (so a sequential run costs one commit
// per node). Recovers activations whose owner died. Several workers (processes) may share a file.
import { hostname } from 'node:os';
import type { NodeFailure } from '../journal/events.js';
import { isTerminal, type RunStatus } from '../journal/state.js';
import type { Db } from '../store/database.js';
import type { TimerRow, WorkStore } from '../store/work-store.js';
import type { WaitOutcome } from '../sdk/index.js';
import {
  executeActivation,
  executeInline,
  resumeActivation,
  type ActivationRef,
  type ExecutionOutcome,
  type ExecutionServices,
} from './execute.js';
import type { JournalWriter } from './journal-writer.js';
import type { LoadedRun, RunBook } from './run-book.js';

export interface WorkerOptions {
  id: string;
  /** Activations executing at once. */
  concurrency: number;
  /** Only this run's work (the CLI's `run`). */
  runId?: string;
  leaseMs: number;
  pollMs: number;
}

interface Completion extends ActivationRef {
  outcome: ExecutionOutcome;
}

interface Claimed extends ActivationRef {
  run: LoadedRun;
}

export interface RunChange {
  runId: string;
  status: RunStatus;
}

export type CommitListener = (changes: readonly RunChange[]) => void;

interface Command {
  apply(now: number): void;
  resolve(): void;
  reject(error: unknown): void;
}

const HEARTBEAT_MS = 1000;
const TIMER_BATCH = 200;

export class Worker {
  readonly options: WorkerOptions;
  readonly #db: Db;
  readonly #work: WorkStore;
  readonly #book: RunBook;
  readonly #writer: JournalWriter;
  readonly #services: ExecutionServices;
  /** Executing activations, by `runId\0activationId`. */
  readonly #inFlight = new Set<string>();
  /** One controller per run with executing activations: cancelling a run aborts them all. */
  readonly #runSignals = new Map<string, { controller: AbortController; executing: number }>();
  readonly #listeners = new Set<CommitListener>();
  #completions: Completion[] = [];
  #commands: Command[] = [];
  #flushScheduled = false;
  #running = false;
  #claiming = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #lastDeadCheck = 0;
  #drained: (() => void) | undefined;
  /** Write transactions committed by this worker (each is one fsync at synchronous=FULL). */
  commits = 0;

  constructor(
    db: Db,
    work: WorkStore,
    book: RunBook,
    writer: JournalWriter,
    services: ExecutionServices,
    options: WorkerOptions,
  ) {
    this.#db = db;
    this.#work = work;
    this.#book = book;
    this.#writer = writer;
    this.#services = services;
    this.options = options;
  }

  get running(): boolean {
    return this.#running;
  }

  onCommit(listener: CommitListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#claiming = true;
    const now = Date.now();
    this.#db
      .transaction(() => {
        this.#work.registerWorker({
          id: this.options.id,
          pid: process.pid,
          host: hostname(),
          started_at: now,
          heartbeat_at: now,
        });
        this.#releaseDeadWorkers(now);
      })
      .immediate();
    this.#pollTimer = setInterval(() => this.#poll(), this.options.pollMs);
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), HEARTBEAT_MS);
    this.#pollTimer.unref();
    this.#heartbeatTimer.unref();
    this.scheduleFlush();
  }

  /** Stops claiming; waits for executing activations (up to `graceMs`) and commits them. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.#running) return;
    this.#claiming = false;
    clearInterval(this.#pollTimer);
    clearInterval(this.#heartbeatTimer);
    if (this.#inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    for (const { controller } of this.#runSignals.values()) controller.abort();
    this.#commit(false);
    this.#running = false;
    this.#db.transaction(() => this.#work.removeWorker(this.options.id)).immediate();
  }

  /**
   * Runs `apply` inside the next group commit (in its own savepoint) and resolves once that
   * commit is durable: how API writes such as starting a run share one fsync with everything else.
   */
  inNextCommit(apply: (now: number) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#commands.push({ apply, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Nothing executing here, nothing to commit, and nothing claimable or due within `horizonMs`. */
  isIdle(horizonMs: number): boolean {
    if (this.#inFlight.size > 0 || this.#completions.length > 0 || this.#commands.length > 0 || this.#flushScheduled)
      return false;
    const pending = this.#work.pending(Date.now(), horizonMs, this.options.runId);
    return pending.ready === 0 && pending.leased === 0 && pending.timersWithinHorizon === 0;
  }

  /** Aborts this process's executions of a run (after it was cancelled or failed). */
  abortRun(runId: string): void {
    this.#runSignals.get(runId)?.controller.abort();
  }

  scheduleFlush(): void {
    if (this.#flushScheduled || !this.#running) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (this.#running) this.#commit(this.#claiming);
    });
  }

  #poll(): void {
    const now = Date.now();
    const capacity = this.options.concurrency - this.#inFlight.size;
    const nextTimer = this.#work.refreshTimerHint(this.options.runId);
    if ((capacity > 0 && this.#work.claimable(now, 1, this.options.runId).length > 0) || nextTimer <= now)
      this.scheduleFlush();
  }

  #heartbeat(): void {
    const now = Date.now();
    try {
      this.#db
        .transaction(() => {
          this.#work.heartbeat(this.options.id, now);
          this.#work.renewLeases(this.options.id, now + this.options.leaseMs);
          if (now - this.#lastDeadCheck > 5 * HEARTBEAT_MS) this.#releaseDeadWorkers(now);
        })
        .immediate();
    } catch (error) {
      this.#services.logger.warn('heartbeat failed', { error: String(error) });
    }
  }

  /** Workers on this host whose process is gone lose their leases at once; elsewhere, leases expire. */
  #releaseDeadWorkers(now: number): void {
    this.#lastDeadCheck = now;
    const host = hostname();
    for (const worker of this.#work.workers()) {
      if (worker.id === this.options.id) continue;
      const dead =
        worker.host === host ? !processAlive(worker.pid) : now - worker.heartbeat_at > 2 * this.options.leaseMs;
      if (!dead) continue;
      const released = this.#work.releaseLeasesOf(worker.id);
      this.#work.removeWorker(worker.id);
      if (released > 0)
        this.#services.logger.info('recovered activations of a stopped worker', {
          worker: worker.id,
          activations: released,
        });
    }
  }

  /** One transaction: commit completions, fire due timers, claim new work; then dispatch it. */
  #commit(claim: boolean): void {
    const completions = this.#completions;
    const commands = this.#commands;
    this.#completions = [];
    this.#commands = [];
    const now = Date.now();
    let claimed: Claimed[] = [];
    let touched: string[] = [];
    let failedCommands = new Map<Command, unknown>();
    // Optimistically without a savepoint per item (they cost ~6% of a busy engine's time); if
    // anything throws, the whole batch rolls back and is redone with one savepoint per item, so
    // one bad run cannot sink the others.
    const attempt = (isolate: boolean): void => {
      claimed = [];
      failedCommands = new Map();
      this.#db
        .transaction(() => {
          for (const command of commands) {
            try {
              this.#db.transaction(() => command.apply(now))();
            } catch (error) {
              failedCommands.set(command, error);
            }
          }
          for (const completion of completions)
            this.#guarded(isolate, completion.runId, () => this.#complete(completion, now));
          if (claim) {
            this.#fireTimers(now, isolate);
            claimed = this.#claim(now);
          }
          touched = this.#writer.flush(now);
        })
        .immediate();
    };
    const forgetAttempt = (): void => {
      this.#book.invalidate(this.#writer.discard());
      this.#book.invalidate(completions.map((completion) => completion.runId));
    };
    try {
      try {
        attempt(false);
      } catch (error) {
        forgetAttempt();
        if (isBusy(error)) throw error;
        attempt(true);
      }
      this.commits += 1;
    } catch (error) {
      forgetAttempt();
      // The database was busy or failing: keep the outcomes and commands and try again shortly.
      this.#completions.unshift(...completions);
      this.#commands.unshift(...commands);
      this.#services.logger.error('commit failed; will retry', { error: String(error) });
      setTimeout(() => this.scheduleFlush(), 200).unref();
      return;
    }
    for (const command of commands) {
      const error = failedCommands.get(command);
      if (error === undefined) command.resolve();
      else command.reject(error);
    }
    const changes: RunChange[] = [];
    for (const runId of touched) {
      const status = this.#book.peek(runId)?.state.status;
      if (status === undefined) continue;
      changes.push({ runId, status });
      if (isTerminal(status)) this.abortRun(runId);
    }
    if (changes.length > 0) for (const listener of this.#listeners) listener(changes);
    for (const item of claimed) this.#dispatch(item);
    if (claimed.length > 0 && this.#inFlight.size < this.options.concurrency) this.scheduleFlush();
    if (this.#inFlight.size === 0 && this.#drained) this.#drained();
  }

  /** With `isolate`, runs `fn` in a savepoint: one bad run cannot roll back the others. */
  #guarded(isolate: boolean, runId: string, fn: () => void): void {
    if (!isolate) {
      fn();
      return;
    }
    try {
      this.#db.transaction(fn)();
    } catch (error) {
      // The savepoint rolled back this run's events; its cached state is ahead of the journal.
      this.#writer.retarget(runId, this.#book.reload(runId));
      this.#services.logger.error('could not commit an outcome', { runId, error: String(error) });
    }
  }

  #complete(completion: Completion, now: number): void {
    const lease = this.#work.readyRow(completion.runId, completion.activationId);
    // Someone else owns it now (our lease expired) or the run ended: the outcome is stale.
    if (!lease || lease.lease_owner !== this.options.id || lease.attempt !== completion.attempt) return;
    const run = this.#book.load(completion.runId);
    if (!run || isTerminal(run.state.status)) {
      this.#work.dequeue(completion.runId, completion.activationId);
      return;
    }
    this.#recordOutcome(completion, run, completion.outcome, now);
  }

  #recordOutcome(ref: ActivationRef, run: LoadedRun, outcome: ExecutionOutcome, now: number): void {
    const base = { activationId: ref.activationId, nodeId: ref.nodeId, attempt: ref.attempt };
    if (outcome.kind === 'completed')
      this.#writer.record(
        ref.runId,
        run,
        { ...base, type: 'NodeCompleted', data: { port: outcome.port, output: outcome.output } },
        now,
      );
    else if (outcome.kind === 'waiting')
      this.#writer.record(ref.runId, run, { ...base, type: 'WaitCreated', data: { wait: outcome.wait } }, now);
    else this.#writer.record(ref.runId, run, { ...base, type: 'NodeFailed', data: { error: outcome.error } }, now);
  }

  #fireTimers(now: number, isolate: boolean): void {
    if (now < this.#work.timerHint) return;
    const due = this.#work.dueTimers(now, TIMER_BATCH, this.options.runId);
    // Re-read from the timers this worker fires: another run's overdue timer (when scoped with
    // `runId`) must not keep the hint low and make every commit query again.
    if (due.length < TIMER_BATCH) this.#work.refreshTimerHint(this.options.runId);
    for (const timer of due) {
      this.#guarded(isolate, timer.run_id, () => {
        if (!this.#work.deleteTimer(timer.run_id, timer.activation_id, timer.purpose)) return;
        const run = this.#book.load(timer.run_id);
        if (!run || isTerminal(run.state.status)) return;
        this.fireTimer(timer, run, now);
      });
    }
  }

  /** Journals a timer that came due (late ones say by how much) and what follows from it. */
  fireTimer(timer: TimerRow, run: LoadedRun, now: number): void {
    const activation = run.state.activations.get(timer.activation_id);
    if (!activation) return;
    const ref: ActivationRef = {
      runId: timer.run_id,
      activationId: timer.activation_id,
      nodeId: timer.node_id,
      attempt: timer.attempt,
      input: activation.input,
    };
    const fired = {
      type: 'TimerFired' as const,
      activationId: timer.activation_id,
      nodeId: timer.node_id,
      attempt: timer.attempt,
      data: { purpose: timer.purpose, dueAt: timer.due_at, firedAt: now, lateMs: Math.max(0, now - timer.due_at) },
    };
    if (timer.purpose === 'retry') {
      this.#writer.record(timer.run_id, run, fired, now);
      return;
    }
    const node = run.workflow.nodes.get(timer.node_id);
    if (!node) return;
    if (timer.purpose === 'wait') {
      this.#writer.record(timer.run_id, run, fired, now);
      const outcome: WaitOutcome = { kind: 'timer-fired', dueAt: timer.due_at, firedAt: now };
      this.#recordOutcome(ref, run, resumeActivation(node, ref, this.#services, outcome), now);
      return;
    }
    // An approval's timeout: only if nobody decided first (the waits row is the arbiter).
    if (!this.#work.decideWait(timer.run_id, timer.activation_id, 'timeout', 'system', null, now)) return;
    this.#writer.record(timer.run_id, run, fired, now);
    this.#writer.record(
      timer.run_id,
      run,
      {
        type: 'SignalReceived',
        activationId: timer.activation_id,
        nodeId: timer.node_id,
        attempt: timer.attempt,
        data: { decision: 'timeout', by: 'system', comment: null, shownInput: activation.input },
      },
      now,
    );
    const outcome: WaitOutcome = { kind: 'decision', decision: 'timeout', by: 'system', comment: null };
    this.#recordOutcome(ref, run, resumeActivation(node, ref, this.#services, outcome), now);
  }

  #claim(now: number): Claimed[] {
    const claimed: Claimed[] = [];
    // Inline nodes finish inside this transaction and may make more work ready: claim again.
    for (let round = 0; round < 1000; round += 1) {
      const capacity = this.options.concurrency - this.#inFlight.size - claimed.length;
      if (capacity <= 0) break;
      const inlined = this.#claimRound(now, capacity, claimed);
      if (inlined === 0) break;
    }
    return claimed;
  }

  /** Claims up to `capacity` ready activations; returns how many ran inline. */
  #claimRound(now: number, capacity: number, claimed: Claimed[]): number {
    let inlined = 0;
    for (const row of this.#work.claimable(now, capacity, this.options.runId)) {
      const run = this.#book.load(row.run_id);
      const activation = run?.state.activations.get(row.activation_id);
      if (!run || !activation || isTerminal(run.state.status)) {
        this.#work.dequeue(row.run_id, row.activation_id);
        continue;
      }
      // Started before and never finished: a crash (or a lost lease) interrupted it.
      const recovered = activation.status === 'running' && activation.attempt === row.attempt;
      this.#writer.record(
        row.run_id,
        run,
        {
          type: 'NodeStarted',
          activationId: row.activation_id,
          nodeId: row.node_id,
          attempt: row.attempt,
          data: { worker: this.options.id, recovered },
        },
        now,
      );
      const ref: ActivationRef = {
        runId: row.run_id,
        activationId: row.activation_id,
        nodeId: row.node_id,
        attempt: row.attempt,
        input: activation.input,
      };
      const node = run.workflow.nodes.get(row.node_id);
      if (node?.definition.inline) {
        this.#recordOutcome(ref, run, executeInline(node, ref, this.#services), now);
        inlined += 1;
        continue;
      }
      this.#work.lease(row.run_id, row.activation_id, this.options.id, now + this.options.leaseMs);
      claimed.push({ ...ref, run });
    }
    return inlined;
  }

  #dispatch(item: Claimed): void {
    const node = item.run.workflow.nodes.get(item.nodeId);
    const key = `${item.runId}\0${item.activationId}`;
    let runSignal = this.#runSignals.get(item.runId);
    if (!runSignal) {
      runSignal = { controller: new AbortController(), executing: 0 };
      this.#runSignals.set(item.runId, runSignal);
    }
    runSignal.executing += 1;
    const { controller } = runSignal;
    this.#inFlight.add(key);
    const ref: ActivationRef = {
      runId: item.runId,
      activationId: item.activationId,
      nodeId: item.nodeId,
      attempt: item.attempt,
      input: item.input,
    };
    const execution: Promise<ExecutionOutcome> = node
      ? executeActivation(node, ref, this.#services, controller.signal)
      : Promise.resolve({ kind: 'failed', error: missingNode(item.nodeId) });
    void execution.then((outcome) => {
      this.#inFlight.delete(key);
      const current = this.#runSignals.get(item.runId);
      if (current && --current.executing === 0) this.#runSignals.delete(item.runId);
      this.#completions.push({ ...ref, outcome });
      this.scheduleFlush();
    });
  }
}

function missingNode(nodeId: string): NodeFailure {
  return { message: `node "${nodeId}" is not in the pinned version`, kind: 'engine.missing-node', retryable: false };
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
