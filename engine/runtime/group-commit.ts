// Group commit: every change to runs — an API command, an activation's outcome, a timer firing, a
// claimed activation starting — is an item; whatever items queued up meanwhile go into one batch,
// one store commit (one fsync at synchronous=FULL). A commit that finds a run moved on (another
// process wrote it) catches the run up and rebuilds the batch; an item whose lease was lost is
// dropped. Items are independent: one that throws, or whose run cannot be read, is refused alone.
// A busy or full store is tried again, backing off; full for longer than `diskFullTimeoutMs`, the
// group commit gives up for good (`failed`): what was committed stays, the rest is redone by recovery.
import type { Logger } from '../sdk/index.js';
import type {
  ClaimRequest,
  CommitBatch,
  CommitConflict,
  CommitResult,
  ReadyRecord,
  RunChange as StoredRunChange,
  Store,
} from '../store/index.js';
import { DatabaseError } from '../store/index.js';
import { Batch, type FollowUp } from './batch.js';
import { defer, MAX_DEFER_MS, mayDefer, mergeCommits, type Deferred } from './deferral.js';
import type { Clock } from './clock.js';
import { errorText } from './errors.js';
import type { LoadedRun, RunBook } from './run-book.js';
import type { RunState } from '../journal/state.js';

export interface CommitItem {
  /** Runs the item reads or changes: loaded into the run book before `apply`. */
  readonly runIds: readonly string[];
  /** A run the item creates (nothing to load); refused should the id exist already. */
  readonly creates?: string;
  /**
   * Catch the runs up with the journal before `apply`: the item decides from a run's state whether
   * to refuse, and a refusal writes nothing, so the commit's check could not catch a stale state.
   */
  readonly fresh?: boolean;
  /** Adds the item's writes to the batch; throwing refuses just this item. */
  apply(batch: Batch): void;
  /** After the commit: `error` is null when the item is durable. */
  settle(error: unknown): void;
  /** True when the item stands on this lease: if the lease was lost, the item is dropped. */
  holdsLease?(runId: string, activationId: string): boolean;
  /** True when the item fires this schedule: if another worker fired it first, the item is dropped. */
  firesSchedule?(workflowId: string, nodeId: string): boolean;
  /** A pure node's completion: its writes may wait in memory for a later commit (`deferral.ts`). */
  readonly pure?: boolean;
}

/** What a worker adds to each cycle. */
export interface CommitParticipant {
  readonly workerId: string;
  /** Items for this cycle: outcomes, claimed activations, due timers. */
  gather(now: number): Promise<CommitItem[]>;
  /** After the items: start what the batch made ready (inline nodes run right here). */
  fill(batch: Batch): void;
  /** Ready activations to claim from the store in the same commit, if any. */
  claim(batch: Batch): ClaimRequest | null;
  /**
   * The batch is durable (`durable`), or deferred — it started only pure work, dispatched now
   * though its leases are not in the store yet: dispatch what it started; `claimed` are now
   * leased to this worker.
   */
  committed(batch: Batch, commit: CommitBatch, claimed: ReadyRecord[], durable: boolean): void;
  /**
   * Deferred writes of these runs were dropped (a conflict): stop their executions here. `leases`:
   * what the store still has leased to this worker there (the pure nodes whose start is durable),
   * to be taken up again now rather than when their leases lapse.
   */
  dropped(runIds: readonly string[], leases: readonly HeldLease[]): void;
  /** Whether `gather` would bring something now. */
  readonly wantsCycle: boolean;
}

export interface HeldLease {
  runId: string;
  activationId: string;
  attempt: number;
}

/** A run a commit changed, as its row now reads (the store's change feed, without its counter). */
export type RunChange = Omit<StoredRunChange, 'changeId'>;

export type CommitListener = (changes: readonly RunChange[]) => void;

const MAX_REBUILDS = 8;
const RETRY_AFTER_MS = 200;
const MAX_RETRY_MS = 5000;
export const DISK_FULL_TIMEOUT_MS = 60_000;

export interface GroupCommitOptions {
  /** How long the store may stay full (SQLITE_FULL) before the group commit gives up. */
  diskFullTimeoutMs?: number;
  /** What events on one run do to other runs in the same batch (child runs). */
  follow?: FollowUp;
  /** Runs a batch touching this run may also change (its parent, its children): loaded with it. */
  linked?: (state: RunState) => string[];
  /** Let batches of pure work wait in memory for the next commit that must be durable (default on). */
  deferPure?: boolean;
}

export class GroupCommit {
  readonly #store: Store;
  readonly #book: RunBook;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #listeners = new Set<CommitListener>();
  #queue: CommitItem[] = [];
  /** Items put back after the store was busy, until their retry is due. */
  #waiting: CommitItem[] = [];
  #participant: CommitParticipant | undefined;
  #scheduled = false;
  #cycle: Promise<void> | undefined;
  #retryDelay = RETRY_AFTER_MS;
  /** The backoff last logged: a store that stays busy or full is said once per change, not per try. */
  #loggedDelay: number | null = null;
  readonly #diskFullTimeoutMs: number;
  readonly #follow: FollowUp | undefined;
  readonly #linked: ((state: RunState) => string[]) | undefined;
  /** Real time (`Date.now()`) the store first answered "full" since the last commit that worked. */
  #fullSince: number | null = null;
  /** The last run state a commit made durable: what the disk-full error points to. */
  #lastCommitted: { runId: string; seq: number } | null = null;
  #failure: DatabaseError | null = null;
  #fail: (error: DatabaseError) => void = () => {};
  /** Settles with the error once the group commit has given up for good (the store stayed full). */
  readonly failed = new Promise<DatabaseError>((resolve) => (this.#fail = resolve));
  /** Store commits made (each is one fsync at synchronous=FULL). */
  commits = 0;
  /** Pure work recorded in memory, carried by the next commit that reaches the store. */
  #deferred: Deferred | null = null;
  /** Off: every batch is committed on its own (`GroupCommitOptions.deferPure`). */
  readonly #deferPure: boolean;

  constructor(store: Store, book: RunBook, clock: Clock, logger: Logger, options: GroupCommitOptions = {}) {
    this.#store = store;
    this.#book = book;
    this.#clock = clock;
    this.#logger = logger;
    this.#diskFullTimeoutMs = options.diskFullTimeoutMs ?? DISK_FULL_TIMEOUT_MS;
    this.#follow = options.follow;
    this.#linked = options.linked;
    this.#deferPure = options.deferPure ?? true;
    book.pin((runId) => this.#deferred?.states.has(runId) ?? false);
  }

  /** The error the group commit gave up with (see `failed`); null while it works. */
  get failure(): DatabaseError | null {
    return this.#failure;
  }

  attach(participant: CommitParticipant | undefined): void {
    this.#participant = participant;
  }

  onCommit(listener: CommitListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Queues an item for the next commit. */
  submit(item: CommitItem): void {
    if (this.#failure) {
      item.settle(this.#failure);
      return;
    }
    this.#queue.push(item);
    this.schedule();
  }

  /** Queues an item and resolves once it is durable (rejects when it was refused). */
  run(item: Omit<CommitItem, 'settle'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.submit({
        ...item,
        settle: (error) =>
          error === null ? resolve() : reject(error instanceof Error ? error : new Error(errorText(error))),
      });
    });
  }

  /** Starts a cycle soon (one at a time; items arriving meanwhile wait for the next). */
  schedule(): void {
    if (this.#scheduled || this.#failure) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#cycle) return;
      this.#cycle = this.#runCycle()
        .catch((error: unknown) => this.#logger.error('a commit cycle failed', { error: errorText(error) }))
        .finally(() => {
          this.#cycle = undefined;
          if (this.#queue.length > 0 || this.#participant?.wantsCycle) this.schedule();
        });
    });
  }

  /** Resolves when nothing is queued, waiting for a retry or being committed. */
  async idle(): Promise<void> {
    // Whoever waits for idle (a stop, a test settling) wants what is recorded durable.
    if (this.#deferred && !this.#cycle) this.schedule();
    while (this.#cycle || this.#scheduled || this.#queue.length > 0 || this.#waiting.length > 0 || this.#deferred) {
      if (this.#deferred && !this.#cycle && !this.#scheduled && this.#queue.length === 0) this.schedule();
      if (this.#cycle) await this.#cycle;
      // Only items waiting out a busy store's backoff: check now and then rather than spin.
      else if (!this.#scheduled && this.#queue.length === 0)
        await new Promise<void>((resolve) => setTimeout(resolve, 10));
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async #runCycle(): Promise<void> {
    const items = this.#queue;
    this.#queue = [];
    const participant = this.#participant;
    if (participant)
      try {
        items.push(...(await participant.gather(this.#clock.now())));
      } catch (error) {
        this.#logger.error('could not gather work', { error: errorText(error) });
      }
    try {
      await this.#commit(await this.#load(items), participant);
    } catch (error) {
      // Whatever went wrong, nobody may wait forever on an item of this cycle.
      for (const item of items) item.settle(error);
      await this.#dropDeferred([], error);
      throw error;
    }
  }

  /**
   * Loads (or, for `fresh` items, catches up) each item's runs. An item whose run cannot be read
   * (a journal from a newer Stepwise, a pinned version that no longer compiles) is refused alone;
   * items the store was too busy to load wait for the next try.
   */
  async #load(items: readonly CommitItem[]): Promise<CommitItem[]> {
    const loaded: CommitItem[] = [];
    const later: CommitItem[] = [];
    for (const item of items) {
      try {
        if (item.fresh) for (const runId of item.runIds) await this.#book.refresh(runId);
        else await this.#book.ensure(item.runIds);
        await this.#ensureLinked(item.runIds);
        loaded.push(item);
      } catch (error) {
        if (isTransient(error)) later.push(item);
        else this.#refuse(item, error);
      }
    }
    if (later.length > 0) this.#retryLater(later, new Error('the store was busy'), 'the store is busy');
    return loaded;
  }

  /** Loads the runs linked to these (parents up, waited-on children down), transitively. */
  async #ensureLinked(runIds: readonly string[]): Promise<void> {
    const linked = this.#linked;
    if (!linked) return;
    const seen = new Set(runIds);
    const queue = [...runIds];
    for (let runId = queue.pop(); runId !== undefined; runId = queue.pop()) {
      const state = this.#book.get(runId)?.state;
      if (!state) continue;
      const next = linked(state).filter((id) => !seen.has(id));
      for (const id of next) seen.add(id);
      await this.#book.ensure(next);
      queue.push(...next);
    }
  }

  async #commit(initial: CommitItem[], participant: CommitParticipant | undefined): Promise<void> {
    let items = initial;
    for (let rebuild = 0; ; rebuild += 1) {
      const { batch, refused } = this.#build(items, participant);
      const claim = participant?.claim(batch) ?? null;
      const deferred = this.#deferred;
      if (batch.empty && claim === null && !deferred) {
        settleAll(items, refused);
        return;
      }
      const own: CommitBatch = { ...batch.toCommit(), ...(claim && { claim }) };
      const now = Date.now();
      if (participant && this.#deferPure && mayDefer(items, refused, batch, own, deferred, now)) {
        const states = batch.states();
        this.#deferred = defer(deferred, own, items, states, now);
        if (!deferred) this.#flushSoon();
        // The book holds these in-memory states so the next batch builds on them; a conflict
        // drops them (`#dropDeferred`).
        this.#book.adopt(states);
        participant.committed(batch, own, [], false);
        return;
      }
      const commit = deferred ? mergeCommits(deferred.commit, own) : own;
      let result: CommitResult;
      try {
        result = await this.#store.commit(commit);
      } catch (error) {
        // Busy or full: the deferred writes stay, and go with the retried items.
        if (isFull(error)) await this.#storeFull(items, error);
        else if (isTransient(error)) this.#retryLater(items, error, 'the store is busy');
        else if (deferred) {
          await this.#dropDeferred(items, error);
          continue;
        }
        // One item's writes break the store (not a conflict): commit them one by one to find it.
        else if (items.length > 1) for (const item of items) await this.#commit([item], participant);
        else {
          for (const item of items) this.#refuse(item, error);
          for (const runId of batch.runIds()) this.#book.forget(runId);
        }
        return;
      }
      if (result.ok) {
        this.commits += 1;
        this.#retryDelay = RETRY_AFTER_MS;
        this.#loggedDelay = this.#fullSince = null;
        const ownStates = batch.states();
        this.#deferred = null;
        const states = deferred ? [...new Map([...deferred.states, ...ownStates])] : ownStates;
        const last = states.at(-1);
        if (last) this.#lastCommitted = { runId: last[0], seq: last[1].state.lastSeq };
        this.#book.adopt(ownStates);
        if (deferred) settleAll(deferred.items, new Map());
        settleAll(items, refused);
        participant?.committed(batch, commit, result.claimed, true);
        this.#publish(states, batch.at);
        return;
      }
      // A conflict on a run with deferred pure work: that work may stand on what another process
      // changed (a run moved on, a lease taken over), so it goes, and the items are built again
      // on what the store holds. Other runs' deferred work stays.
      const involved = deferred ? conflictRunIds(result.conflicts).filter((runId) => deferred.states.has(runId)) : [];
      if (involved.length > 0) {
        // Stale, like an item whose lease was lost: dropped without an error.
        await this.#dropDeferred(items, null, involved);
        continue;
      }
      if (rebuild + 1 >= MAX_REBUILDS) {
        const error = new Error(`the runs kept changing under this commit: ${describeConflicts(result.conflicts)}`);
        for (const item of items) item.settle(error);
        return;
      }
      items = await this.#resolveConflicts(items, result.conflicts);
    }
  }

  /**
   * Forgets the deferred writes (of `only` these runs, else all): their runs are read again from
   * the store and their executions here stopped; the pure work they recorded is redone from the
   * last commit, from the pure nodes whose leases the store holds (the participant takes them up
   * again). Their items settle with `error` (null: stale, like an item whose lease was lost).
   */
  async #dropDeferred(items: readonly CommitItem[], error: unknown, only?: readonly string[]): Promise<void> {
    const deferred = this.#deferred;
    if (!deferred) return;
    const runIds = only ?? [...deferred.states.keys()];
    const dropped = new Set(runIds);
    const kept = deferred.commit.runs.filter((write) => !dropped.has(write.runId));
    const touches = (item: CommitItem): boolean => item.runIds.some((runId) => dropped.has(runId));
    this.#deferred =
      kept.length === 0
        ? null
        : {
            ...deferred,
            commit: { ...deferred.commit, runs: kept },
            items: deferred.items.filter((item) => !touches(item)),
            states: new Map([...deferred.states].filter(([runId]) => !dropped.has(runId))),
          };
    for (const runId of runIds) this.#book.forget(runId);
    // The merged commit checks exactly the leases the store holds for this worker (mergeCommits).
    const held = deferred.commit.runs
      .filter((write) => dropped.has(write.runId))
      .flatMap((write) => write.leases.map((lease) => ({ runId: write.runId, ...lease })));
    this.#participant?.dropped(runIds, held);
    for (const item of deferred.items) if (touches(item)) item.settle(error);
    for (const item of items) await this.#book.ensure(item.runIds);
  }

  /**
   * Deferred writes not carried on by then (a slow pure node) are committed by a cycle of their
   * own. Only these writes: a later deferral (they were committed meanwhile) has its own bound.
   */
  #flushSoon(): void {
    const armed = this.#deferred;
    setTimeout(() => {
      if (armed && this.#deferred?.first === armed.first) this.schedule();
    }, MAX_DEFER_MS).unref();
  }

  #build(
    items: readonly CommitItem[],
    participant: CommitParticipant | undefined,
  ): {
    batch: Batch;
    refused: Map<CommitItem, unknown>;
  } {
    const batch = new Batch(this.#book, this.#clock.now(), participant?.workerId ?? null, this.#follow);
    const refused = new Map<CommitItem, unknown>();
    for (const item of items) {
      const error = batch.isolate(() => item.apply(batch));
      if (error !== null) refused.set(item, error);
    }
    participant?.fill(batch);
    return { batch, refused };
  }

  /**
   * Runs another process moved on are caught up (an item whose run cannot be re-read is refused);
   * items standing on a lost lease are dropped; a run id that exists already refuses its start.
   */
  async #resolveConflicts(items: CommitItem[], conflicts: readonly CommitConflict[]): Promise<CommitItem[]> {
    let kept = items;
    for (const conflict of conflicts) {
      if (conflict.kind === 'schedule-moved') {
        kept = kept.filter((item) => {
          const stale = item.firesSchedule?.(conflict.workflowId, conflict.nodeId) ?? false;
          if (stale) item.settle(null);
          return !stale;
        });
        continue;
      }
      const { runId } = conflict;
      if (conflict.kind === 'lease-lost') {
        kept = kept.filter((item) => {
          const stale = item.holdsLease?.(runId, conflict.activationId) ?? false;
          if (stale) item.settle(null);
          return !stale;
        });
        continue;
      }
      let error: unknown = new Error(`run ${runId} already exists`);
      if (conflict.kind === 'run-moved') {
        try {
          await this.#book.refresh(runId);
          continue;
        } catch (refreshError) {
          error = refreshError;
          this.#book.forget(runId);
        }
      }
      kept = kept.filter((item) => {
        if (!item.runIds.includes(runId) && item.creates !== runId) return true;
        this.#refuse(item, error);
        return false;
      });
    }
    return kept;
  }

  #refuse(item: CommitItem, error: unknown): void {
    this.#logger.error('refused an item of the commit', { error: errorText(error) });
    item.settle(error);
  }

  /** The store was busy or full: keep the items and try them again later, backing off up to 5 s. */
  #retryLater(items: CommitItem[], error: unknown, why: string): void {
    if (this.#loggedDelay !== this.#retryDelay) {
      this.#logger.warn(`${why}; will retry`, { error: errorText(error), retryInMs: this.#retryDelay });
      this.#loggedDelay = this.#retryDelay;
    }
    this.#waiting.push(...items);
    this.#clock.after(this.#retryDelay, () => {
      this.#queue.unshift(...this.#waiting.splice(0));
      this.schedule();
    });
    this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY_MS);
  }

  /**
   * The store is full (a full disk, or a size limit): wait for space like for a busy store, up to
   * `diskFullTimeoutMs`; then give up with an error that says nothing committed was lost.
   */
  async #storeFull(items: CommitItem[], error: unknown): Promise<void> {
    const now = Date.now();
    this.#fullSince ??= now;
    if (now - this.#fullSince < this.#diskFullTimeoutMs) {
      this.#retryLater(
        items,
        error,
        `the database or disk is full (giving up after ${seconds(this.#diskFullTimeoutMs)})`,
      );
      return;
    }
    const failure = new DatabaseError(
      `database or disk is full: ${this.#store.location.path} stayed full for ${seconds(now - this.#fullSince)}; ` +
        `nothing was lost: ${await this.#lastStep()}. Free some space and start the worker again: it carries on from there.`,
      { cause: error },
    );
    this.#failure = failure;
    const pending = [...items, ...this.#waiting.splice(0), ...this.#queue.splice(0), ...(this.#deferred?.items ?? [])];
    this.#deferred = null;
    for (const item of pending) item.settle(failure);
    this.#fail(failure);
  }

  async #lastStep(): Promise<string> {
    const last = this.#lastCommitted;
    if (!last) return 'this process committed no step; everything committed before is in the database';
    try {
      const [event] = await this.#store.readEvents(last.runId, last.seq - 1, 1);
      const what = event ? ` (${event.type}${event.nodeId ? ` "${event.nodeId}"` : ''})` : '';
      return `the last committed step is event #${last.seq}${what} of run ${last.runId}`;
    } catch {
      return `the last committed step is event #${last.seq} of run ${last.runId}`;
    }
  }

  #publish(states: readonly [string, LoadedRun][], at: number): void {
    const changes = states.map(([runId, { state }]) => ({
      runId,
      workflowId: state.workflowId,
      version: state.version,
      status: state.status,
      lastSeq: state.lastSeq,
      updatedAt: at,
    }));
    if (changes.length === 0) return;
    for (const listener of this.#listeners) listener(changes);
  }
}

function settleAll(items: readonly CommitItem[], refused: ReadonlyMap<CommitItem, unknown>): void {
  for (const item of items) item.settle(refused.get(item) ?? null);
}

/** SQLite's "database or disk is full": space may come back (or the disk-full timeout ends it). */
function isFull(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_FULL';
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The store was busy (SQLite: BUSY or LOCKED, extended codes included): worth trying again. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function conflictRunIds(conflicts: readonly CommitConflict[]): string[] {
  return conflicts.flatMap((conflict) => (conflict.kind === 'schedule-moved' ? [] : [conflict.runId]));
}

function describeConflicts(conflicts: readonly CommitConflict[]): string {
  return conflicts
    .slice(0, 3)
    .map((conflict) =>
      conflict.kind === 'schedule-moved'
        ? `${conflict.kind} ${conflict.workflowId}/${conflict.nodeId}`
        : `${conflict.kind} ${conflict.runId}`,
    )
    .join(', ');
}
