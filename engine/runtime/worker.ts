// The worker: executes activations in this process and takes part in every group commit. Its
// concerns live beside it — the group commit (group-commit.ts), membership and heartbeats
// (membership.ts), execution and start-to-close limits (dispatcher.ts), due timers (timers.ts) —
// and this file wires them: outcomes, claimed activations and due timers become commit items;
// what a commit makes ready is started here (inline nodes at once); what it started is dispatched.
import { randomBytes } from 'node:crypto';
import { isTerminal } from '../journal/state.js';
import type { ClaimRequest, CommitBatch, ReadyRecord, Store } from '../store/index.js';
import type { Batch, Started } from './batch.js';
import type { Clock } from './clock.js';
import { Dispatcher } from './dispatcher.js';
import { completeNow, executeInline, outcomeEvents, type ExecutionOutcome, type ExecutionServices } from './execute.js';
import type { CommitItem, CommitListener, CommitParticipant, GroupCommit, HeldLease } from './group-commit.js';
import { HEARTBEAT_MS, Membership, type HeartbeatMode } from './membership.js';
import { errorText } from './errors.js';
import type { Schedules } from './schedules.js';
import { DueTimers, LateTimers, TIMER_BATCH } from './timers.js';
import { fireTimer, type FiredTimer } from './waits.js';

export interface WorkerOptions {
  /** Activations executing at once. */
  concurrency: number;
  /** Only this run's work (the CLI's `run`). */
  runId?: string;
  /** How long a lease lasts without a heartbeat renewing it. */
  leaseMs: number;
  /** How often an idle worker looks for work other processes wrote. */
  pollMs: number;
  heartbeat: HeartbeatMode;
  /** Real time one batch spends at most finishing nodes answered at once (see `fill`). */
  answerNowMs: number;
}

export interface WorkerDeps {
  store: Store;
  commits: GroupCommit;
  services: ExecutionServices;
  clock: Clock;
  /** Schedule triggers to fire (not by a worker scoped to one run). */
  schedules?: Schedules;
}

/** The default of `WorkerOptions.answerNowMs`. */
export const ANSWER_NOW_MS = 25;
/** Rounds of `fill` in one batch: each takes every run one node further along a chain. */
const MAX_FILL_ROUNDS = 1000;

/** What starting a ready activation came to (see `Worker.#start`). */
type StartResult = 'done' | 'dispatched' | 'left';

export class Worker implements CommitParticipant {
  /** Generated for each worker start; journaled in `NodeStarted` and held in its leases. */
  readonly workerId = `w-${randomBytes(6).toString('hex')}`;
  readonly options: WorkerOptions;
  /** Settles once the worker has registered and begun (set by whoever starts it). */
  started: Promise<void> = Promise.resolve();
  readonly #deps: WorkerDeps;
  readonly #dispatcher: Dispatcher;
  readonly #membership: Membership;
  readonly #timers: DueTimers;
  /** Timers this worker fired late, and when the ones due at its start have all fired. */
  readonly lateTimers: LateTimers;
  #outcomes: CommitItem[] = [];
  /** Activations the last commit claimed from the queue: they start in the next. */
  #claimed: CommitItem[] = [];
  /** Claim at the next cycle (there is capacity and, as far as we know, claimable work). */
  #claimWanted = true;
  /** The ready queue had work we did not take (seen by a poll, a full claim, or left over here). */
  #queueHasWork = true;
  /** 'stopping': no new work is claimed or started; outcomes still commit. */
  #state: 'stopped' | 'running' | 'stopping' = 'stopped';
  #cancelPoll: (() => void) | undefined;
  #cancelSweep: (() => void) | undefined;
  #drained: (() => void) | undefined;
  /** Pure activations dispatched from a deferred batch: their leases are not in the store yet. */
  readonly #unleased = new Set<string>();

  constructor(deps: WorkerDeps, options: WorkerOptions) {
    this.#deps = deps;
    this.options = options;
    this.#dispatcher = new Dispatcher(deps.services, (started, outcome) => this.#outcome(started, outcome));
    this.#timers = new DueTimers(deps.store, options.runId);
    this.lateTimers = new LateTimers(deps.clock.now());
    this.#membership = new Membership(deps.store, deps.clock, {
      workerId: this.workerId,
      leaseMs: options.leaseMs,
      mode: options.heartbeat,
      // Only leases the store has: a deferred one is not renewed, nor taken for lost.
      executing: () =>
        this.#dispatcher.executing().filter((lease) => !this.#unleased.has(`${lease.runId}\0${lease.activationId}`)),
      // Another worker took these over: stop ours (their outcomes would be refused anyway).
      onLost: (lost) => {
        for (const lease of lost) this.#dispatcher.abortAttempt(lease);
      },
      logger: deps.services.logger,
    });
  }

  /** The engine's schedules, unless this worker is scoped to one run. */
  get #schedules(): Schedules | undefined {
    return this.options.runId === undefined ? this.#deps.schedules : undefined;
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  /** Activations executing now. */
  get executing(): number {
    return this.#dispatcher.size;
  }

  get wantsCycle(): boolean {
    if (this.#state === 'stopped') return false;
    if (this.#outcomes.length > 0) return true;
    return (
      this.#state === 'running' &&
      (this.#claimed.length > 0 ||
        this.#claimWanted ||
        this.#timers.due(this.#deps.clock.now()) ||
        (this.#schedules?.due(this.#deps.clock.now()) ?? false))
    );
  }

  onCommit(listener: CommitListener): () => void {
    return this.#deps.commits.onCommit(listener);
  }

  async start(): Promise<void> {
    if (this.#state !== 'stopped') return;
    await this.#membership.start();
    // Versions saved while no worker ran (or by another process) get their rows before any fire.
    await this.#schedules?.syncAll();
    this.#state = 'running';
    this.#deps.commits.attach(this);
    this.#schedulePoll();
    this.#scheduleSweep();
    this.#deps.commits.schedule();
  }

  /**
   * Stops claiming; lets executing activations finish (up to `graceMs`) and commits their
   * outcomes. Those still running then are abandoned uncommitted: leaving frees their leases,
   * so a worker recovers them with the same attempt and idempotency key.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.#cancelPoll?.();
    this.#cancelSweep?.();
    if (this.#dispatcher.size > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    this.#dispatcher.abandonAll();
    this.#deps.commits.schedule();
    await this.#deps.commits.idle();
    this.#state = 'stopped';
    this.lateTimers.stopped();
    this.#deps.commits.attach(undefined);
    await this.#membership.stop();
  }

  /**
   * Resolves once nothing executes here, nothing waits to be committed, and no timer this worker
   * knows of is due at the clock's now: with a manual clock, the point to check the outcome of
   * `advance`. Rejects after `timeoutMs` of real time.
   */
  async settled(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.#deps.commits.idle();
      if (this.#dispatcher.size === 0 && !this.wantsCycle) return;
      if (Date.now() > deadline) throw new Error(`the worker did not settle in ${timeoutMs} ms`);
      if (this.wantsCycle) this.#deps.commits.schedule();
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Nothing executing or queued here, and nothing claimable or due within `horizonMs`. */
  async isIdle(horizonMs: number): Promise<boolean> {
    if (this.#dispatcher.size > 0 || this.#outcomes.length > 0) return false;
    await this.#deps.commits.idle();
    const pending = await this.#deps.store.pending(this.#deps.clock.now(), horizonMs, this.options.runId);
    return pending.ready === 0 && pending.leased === 0 && pending.timers === 0;
  }

  // ── The group commit's participant ─────────────────────────────────────────────────────────

  async gather(now: number): Promise<CommitItem[]> {
    const items = this.#outcomes;
    this.#outcomes = [];
    if (this.#state !== 'running') return items;
    items.push(...this.#claimed);
    this.#claimed = [];
    try {
      const due = await this.#timers.take(now);
      const startup = this.lateTimers.taken(due.length, due.length === TIMER_BATCH);
      for (const timer of due) {
        let fired: FiredTimer | null = null;
        const logRefusal = this.#logRefusal('a due timer');
        items.push({
          runIds: [timer.runId],
          apply: (batch) => {
            fired = fireTimer(batch, this.#deps.services, timer);
          },
          settle: (error) => {
            logRefusal(error);
            this.lateTimers.settled(error === null ? fired : null, startup);
          },
        });
      }
    } catch (error) {
      // The timers wait for the next cycle; what was already taken goes on.
      this.#deps.services.logger.warn('could not read due timers', { error: errorText(error) });
    }
    try {
      if (this.#schedules) items.push(...(await this.#schedules.take(now)));
    } catch (error) {
      this.#deps.services.logger.warn('could not read due schedules', { error: errorText(error) });
    }
    return items;
  }

  fill(batch: Batch): void {
    if (this.#state !== 'running') return;
    let capacity = this.options.concurrency - this.#dispatcher.size - batch.started.length;
    // Failed to start (said once), or left ready for lack of capacity: not tried again in this batch.
    const passed = new Set<string>();
    // Answering at once is cheap and bounded per node, but a batch may hold thousands of them
    // (a wide fan-out, many runs): past this, they are dispatched like any other node.
    const answerUntil = performance.now() + this.options.answerNowMs;
    // Nodes done here (inline, or answered at once) may make more ready: look again until nothing
    // changes, or up to a bound (a chain of thousands): then what is ready is left to the next claim.
    let settled = false;
    for (let round = 0; round < MAX_FILL_ROUNDS && !settled; round += 1) {
      let done = 0;
      for (const { runId, row } of [...batch.unclaimed()]) {
        const key = `${runId}\0${row.activationId}`;
        if (passed.has(key)) continue;
        let start = 'left' as StartResult;
        const error = batch.isolate(() => {
          start = this.#start(batch, row, false, {
            mayDispatch: capacity > 0,
            answerNow: performance.now() < answerUntil,
          });
        });
        if (error === null) {
          if (start === 'done') done += 1;
          else if (start === 'dispatched') capacity -= 1;
          else passed.add(key);
          continue;
        }
        passed.add(key);
        this.#deps.services.logger.error('could not start an activation', {
          runId,
          activationId: row.activationId,
          error: errorText(error),
        });
      }
      settled = done === 0;
    }
    // Ready work left over (no capacity): another worker, or this one once capacity frees, claims it.
    if (capacity <= 0) this.#queueHasWork = true;
    // Cut short with capacity to spare: claim the rest at once rather than at the next poll.
    if (!settled) this.#queueHasWork = this.#claimWanted = true;
  }

  claim(batch: Batch): ClaimRequest | null {
    const capacity = this.options.concurrency - this.#dispatcher.size - batch.started.length - this.#claimed.length;
    if (this.#state !== 'running' || !this.#claimWanted || capacity <= 0) return null;
    return {
      workerId: this.workerId,
      now: batch.at,
      leaseUntil: batch.at + this.options.leaseMs,
      limit: capacity,
      ...(this.options.runId !== undefined && { runId: this.options.runId }),
    };
  }

  committed(batch: Batch, commit: CommitBatch, claimed: ReadyRecord[], durable: boolean): void {
    if (durable) this.#unleased.clear();
    // Stopping: what this commit started is not dispatched; leaving frees its leases, so another
    // worker (or this one's next start) recovers it with the same attempt.
    if (this.#state !== 'running') return;
    if (!durable) for (const started of batch.started) this.#unleased.add(`${started.runId}\0${started.activationId}`);
    // A run that started compensating cut its other branches off: their executions stop before
    // its first compensation starts.
    for (const write of commit.runs)
      if (write.events.some((event) => event.type === 'CompensationStarted')) this.#dispatcher.abort(write.runId);
    for (const started of batch.started) this.#dispatcher.run(started);
    if (commit.claim) {
      // A full page may leave more behind it.
      this.#queueHasWork = claimed.length === commit.claim.limit;
      this.#claimWanted = this.#queueHasWork;
      for (const row of claimed) this.#claimed.push(this.#claimedItem(row));
    }
    for (const write of commit.runs) {
      for (const timer of write.work.timerPut) this.#timers.lower(timer.dueAt);
      if (write.projection && isTerminal(write.projection.status)) this.#dispatcher.abort(write.runId);
    }
  }

  dropped(runIds: readonly string[], leases: readonly HeldLease[]): void {
    // Only what the dropped writes started stops: an activation of the run started by a durable
    // commit (another branch) runs on, and its lease in the store still holds.
    for (const key of this.#unleased) {
      const [runId = '', activationId = ''] = key.split('\0');
      if (!runIds.includes(runId)) continue;
      this.#dispatcher.abortActivation(runId, activationId);
      this.#unleased.delete(key);
    }
    if (this.#state !== 'running') return;
    // Still ours in the store, renewed by the heartbeat until their deadline: started again here,
    // like an activation claimed back (the commit checks the lease; a run that ended cleans up).
    for (const lease of leases) this.#claimed.push(this.#retakenItem(lease));
    if (leases.length > 0) this.#deps.commits.schedule();
  }

  // ── Items ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Takes the lease (until the node's start-to-close deadline) and records `NodeStarted`; a node
   * that can finish at once (an inline one, or one whose code is answered directly) then records
   * its outcome right here (`done`), any other is dispatched after the commit (`dispatched`) — or,
   * without `mayDispatch` (no capacity), left ready, nothing recorded (`left`). `checkLease`: the
   * row was claimed from the store, and the commit must find it still ours. Without `answerNow`,
   * only inline nodes finish here.
   */
  #start(
    batch: Batch,
    row: ReadyRecord,
    checkLease: boolean,
    { mayDispatch = true, answerNow = true }: { mayDispatch?: boolean; answerNow?: boolean } = {},
  ): StartResult {
    const run = batch.run(row.runId);
    const activation = run?.state.activations.get(row.activationId);
    // Started by an earlier item of this batch (a claim and a retake of the same lease): once.
    if (batch.started.some((started) => started.runId === row.runId && started.activationId === row.activationId))
      return 'dispatched';
    if (!run || !activation || isTerminal(run.state.status)) {
      batch.work(row.runId, { kind: 'ready', activationId: row.activationId, row: null });
      return 'done';
    }
    if (checkLease) batch.requireLease(row.runId, row.activationId, row.attempt);
    const node = run.workflow.nodes.get(row.nodeId);
    const deadline = batch.at + (node?.timeoutMs ?? 0);
    const lease = (until: number): void =>
      batch.work(row.runId, {
        kind: 'ready',
        activationId: row.activationId,
        row: { ...row, leaseOwner: this.workerId, leaseUntil: batch.at + this.options.leaseMs, deadline: until },
      });
    // Our own lease lapsed (a long pause) and we claimed the activation back while it still
    // executes here: keep that execution, just hold the lease again.
    const executing = this.#dispatcher.deadlineOf(row);
    if (executing !== undefined) {
      lease(executing);
      return 'dispatched';
    }
    const started: Started = {
      runId: row.runId,
      activationId: row.activationId,
      nodeId: row.nodeId,
      attempt: row.attempt,
      input: activation.input,
      run: { id: row.runId, input: run.state.input, startedAt: run.state.startedAt },
      playback: run.state.playback,
      scheduledAt: activation.scheduledAt,
      workflow: run.workflow,
      startedAt: batch.at,
      deadline,
    };
    // `{{ }}` expressions run in the sandbox, which answers asynchronously: not inline then.
    const outcome =
      node === undefined
        ? undefined
        : node.definition.inline && node.templates.length === 0
          ? executeInline(node, started, this.#deps.services)
          : answerNow
            ? completeNow(node, started, this.#deps.services)
            : undefined;
    if (outcome === undefined && !mayDispatch) return 'left';
    batch.record(row.runId, {
      type: 'NodeStarted',
      activationId: row.activationId,
      nodeId: row.nodeId,
      attempt: row.attempt,
      // Started before and never finished: a crash (or a lost lease) interrupted it.
      data: { worker: this.workerId, recovered: activation.status === 'running' && activation.attempt === row.attempt },
    });
    if (outcome !== undefined) {
      for (const event of outcomeEvents(started, outcome)) batch.record(row.runId, event);
      return 'done';
    }
    lease(deadline);
    batch.started.push(started);
    return 'dispatched';
  }

  /** A lease this worker holds for an activation it no longer executes (see `dropped`). */
  #retakenItem(lease: HeldLease): CommitItem {
    const { runId, activationId, attempt } = lease;
    return {
      runIds: [runId],
      fresh: true,
      apply: (batch) => {
        const nodeId = batch.run(runId)?.state.activations.get(activationId)?.nodeId;
        if (nodeId === undefined) return;
        this.#start(
          batch,
          {
            runId,
            activationId,
            nodeId,
            attempt,
            availableAt: batch.at,
            leaseOwner: this.workerId,
            leaseUntil: batch.at + this.options.leaseMs,
            deadline: null,
          },
          true,
        );
      },
      settle: this.#logRefusal('an activation taken up again'),
      holdsLease: (leaseRun, leaseActivation) => leaseRun === runId && leaseActivation === activationId,
    };
  }

  #claimedItem(row: ReadyRecord): CommitItem {
    return {
      runIds: [row.runId],
      apply: (batch) => this.#start(batch, row, true),
      settle: this.#logRefusal('a claimed activation'),
      holdsLease: (runId, activationId) => runId === row.runId && activationId === row.activationId,
    };
  }

  #outcome(started: Started, outcome: ExecutionOutcome): void {
    const { runId, activationId, attempt } = started;
    const sideEffects = started.workflow.nodes.get(started.nodeId)?.definition.sideEffects;
    this.#outcomes.push({
      runIds: [runId],
      // A failure may retry (a timer) or route to compensation: only a completion is deferred.
      pure: sideEffects === 'pure' && outcome.kind === 'completed',
      apply: (batch) => {
        const run = batch.run(runId);
        if (!run) throw new Error(`run ${runId} is not in the store`);
        // The run ended meanwhile (cancelled, failed elsewhere): the outcome has nowhere to go.
        if (isTerminal(run.state.status)) return;
        // Cut off when the run started compensating: its outcome no longer counts.
        if (run.state.activations.get(activationId)?.status === 'cancelled') return;
        batch.requireLease(runId, activationId, attempt);
        for (const event of outcomeEvents(started, outcome)) batch.record(runId, event);
      },
      settle: this.#logRefusal('an outcome'),
      holdsLease: (leaseRun, leaseActivation) => leaseRun === runId && leaseActivation === activationId,
    });
    // Capacity freed: take more of the queue now rather than at the next poll.
    if (this.#queueHasWork) this.#claimWanted = true;
    this.#deps.commits.schedule();
    if (this.#dispatcher.size === 0) this.#drained?.();
  }

  #logRefusal(what: string): (error: unknown) => void {
    return (error) => {
      // The group commit's own failure (the disk stayed full) is reported once, by whoever stops.
      if (error !== null && error !== this.#deps.commits.failure)
        this.#deps.services.logger.error(`could not commit ${what}`, { error: errorText(error) });
    };
  }

  // ── Polling and sweeping ───────────────────────────────────────────────────────────────────

  #schedulePoll(): void {
    this.#cancelPoll = this.#deps.clock.after(this.options.pollMs, () => {
      void this.#poll().finally(() => {
        if (this.#state === 'running') this.#schedulePoll();
      });
    });
  }

  /** Work other processes wrote: claimable activations, and timers (the hint is re-read). */
  async #poll(): Promise<void> {
    try {
      const now = this.#deps.clock.now();
      if (
        this.options.concurrency - this.#dispatcher.size > 0 &&
        (await this.#deps.store.hasClaimable(now, this.options.runId))
      )
        this.#claimWanted = this.#queueHasWork = true;
      await this.#timers.refresh();
      await this.#schedules?.refresh();
      if (this.wantsCycle) this.#deps.commits.schedule();
    } catch (error) {
      this.#deps.services.logger.warn('polling for work failed', { error: errorText(error) });
    }
  }

  #scheduleSweep(): void {
    this.#cancelSweep = this.#deps.clock.after(HEARTBEAT_MS, () => {
      this.#dispatcher.sweep(this.#deps.clock.now());
      if (this.#state === 'running') this.#scheduleSweep();
    });
  }
}
