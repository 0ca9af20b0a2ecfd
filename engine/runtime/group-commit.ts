// Group commit: every change to runs — an API command, an activation's outcome, a timer firing, a
// claimed activation starting — is an item; whatever items queued up meanwhile go into one batch,
// one store commit (one fsync at synchronous=FULL). A commit that finds a run moved on (another
// process wrote it) catches the run up and rebuilds the batch; an item whose lease was lost is
// dropped. Items are independent: one that throws is refused alone.
import type { Logger } from '../sdk/index.js';
import type {
  ClaimRequest,
  CommitBatch,
  CommitConflict,
  ReadyRecord,
  RunChange as StoredRunChange,
  Store,
} from '../store/index.js';
import { Batch } from './batch.js';
import type { Clock } from './clock.js';
import { errorText } from './errors.js';
import type { RunBook } from './run-book.js';

export interface CommitItem {
  /** Runs the item reads or changes: loaded into the run book before `apply`. */
  readonly runIds: readonly string[];
  /** Adds the item's writes to the batch; throwing refuses just this item. */
  apply(batch: Batch): void;
  /** After the commit: `error` is null when the item is durable. */
  settle(error: unknown): void;
  /** True when the item stands on this lease: if the lease was lost, the item is dropped. */
  holdsLease?(runId: string, activationId: string): boolean;
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
  /** The batch is durable: dispatch what it started; `claimed` are now leased to this worker. */
  committed(batch: Batch, commit: CommitBatch, claimed: ReadyRecord[]): void;
  /** Whether `gather` would bring something now. */
  readonly wantsCycle: boolean;
}

/** A run a commit changed, as its row now reads (the store's change feed, without its counter). */
export type RunChange = Omit<StoredRunChange, 'changeId'>;

export type CommitListener = (changes: readonly RunChange[]) => void;

const MAX_REBUILDS = 8;
const RETRY_AFTER_MS = 200;

export class GroupCommit {
  readonly #store: Store;
  readonly #book: RunBook;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #listeners = new Set<CommitListener>();
  #queue: CommitItem[] = [];
  #participant: CommitParticipant | undefined;
  #scheduled = false;
  #cycle: Promise<void> | undefined;
  /** Store commits made (each is one fsync at synchronous=FULL). */
  commits = 0;

  constructor(store: Store, book: RunBook, clock: Clock, logger: Logger) {
    this.#store = store;
    this.#book = book;
    this.#clock = clock;
    this.#logger = logger;
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
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#cycle) return;
      this.#cycle = this.#runCycle().finally(() => {
        this.#cycle = undefined;
        if (this.#queue.length > 0 || this.#participant?.wantsCycle) this.schedule();
      });
    });
  }

  /** Resolves when nothing is queued or being committed. */
  async idle(): Promise<void> {
    while (this.#cycle || this.#scheduled || this.#queue.length > 0) {
      if (this.#cycle) await this.#cycle;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async #runCycle(): Promise<void> {
    const items = this.#queue;
    this.#queue = [];
    const participant = this.#participant;
    try {
      if (participant) items.push(...(await participant.gather(this.#clock.now())));
    } catch (error) {
      this.#logger.error('could not gather work', { error: String(error) });
    }
    await this.#commit(items, participant);
  }

  async #commit(initial: CommitItem[], participant: CommitParticipant | undefined): Promise<void> {
    let items = initial;
    for (let rebuild = 0; ; rebuild += 1) {
      let batch: Batch;
      let refused: Map<CommitItem, unknown>;
      try {
        await this.#book.ensure(items.flatMap((item) => item.runIds));
        ({ batch, refused } = this.#build(items, participant));
      } catch (error) {
        // Reading the store failed (busy, I/O): keep the items and try again shortly.
        this.#retryLater(items, error);
        return;
      }
      const claim = participant?.claim(batch) ?? null;
      if (batch.empty && claim === null) {
        settleAll(items, refused);
        return;
      }
      const commit: CommitBatch = { ...batch.toCommit(), ...(claim && { claim }) };
      let result;
      try {
        result = await this.#store.commit(commit);
      } catch (error) {
        if (items.length > 1 && !isTransient(error)) {
          // One item's writes break the store (not a conflict): commit them one by one to find it.
          for (const item of items) await this.#commit([item], participant);
          return;
        }
        if (isTransient(error)) this.#retryLater(items, error);
        else {
          this.#logger.error('could not commit', { error: String(error) });
          for (const item of items) item.settle(error);
          for (const runId of batch.runIds()) this.#book.forget(runId);
        }
        return;
      }
      if (result.ok) {
        this.commits += 1;
        this.#book.adopt(batch.states());
        settleAll(items, refused);
        participant?.committed(batch, commit, result.claimed);
        this.#publish(batch);
        return;
      }
      items = await this.#resolveConflicts(items, result.conflicts);
      if (rebuild + 1 >= MAX_REBUILDS) {
        const error = new Error(`the runs kept changing under this commit: ${describeConflicts(result.conflicts)}`);
        for (const item of items) item.settle(error);
        return;
      }
    }
  }

  #build(
    items: readonly CommitItem[],
    participant: CommitParticipant | undefined,
  ): {
    batch: Batch;
    refused: Map<CommitItem, unknown>;
  } {
    const batch = new Batch(this.#book, this.#clock.now(), participant?.workerId ?? null);
    const refused = new Map<CommitItem, unknown>();
    for (const item of items) {
      const error = batch.isolate(() => item.apply(batch));
      if (error !== null) refused.set(item, error);
    }
    participant?.fill(batch);
    return { batch, refused };
  }

  /** Runs another process moved on are caught up; items standing on a lost lease are dropped. */
  async #resolveConflicts(items: CommitItem[], conflicts: readonly CommitConflict[]): Promise<CommitItem[]> {
    let kept = items;
    for (const conflict of conflicts) {
      if (conflict.kind === 'lease-lost') {
        const { runId, activationId } = conflict;
        kept = kept.filter((item) => {
          const stale = item.holdsLease?.(runId, activationId) ?? false;
          if (stale) item.settle(null);
          return !stale;
        });
      } else if (conflict.kind === 'run-moved') await this.#book.refresh(conflict.runId);
      else
        kept = kept.filter((item) => {
          if (!item.runIds.includes(conflict.runId) && item.runIds.length > 0) return true;
          item.settle(new Error(`run ${conflict.runId} already exists`));
          return false;
        });
    }
    return kept;
  }

  #retryLater(items: CommitItem[], error: unknown): void {
    this.#logger.error('commit failed; will retry', { error: String(error) });
    this.#queue.unshift(...items);
    this.#clock.after(RETRY_AFTER_MS, () => this.schedule());
  }

  #publish(batch: Batch): void {
    const changes = batch.states().map(([runId, { state }]) => ({
      runId,
      workflowId: state.workflowId,
      version: state.version,
      status: state.status,
      lastSeq: state.lastSeq,
      updatedAt: batch.at,
    }));
    if (changes.length === 0) return;
    for (const listener of this.#listeners) listener(changes);
  }
}

function settleAll(items: readonly CommitItem[], refused: ReadonlyMap<CommitItem, unknown>): void {
  for (const item of items) item.settle(refused.get(item) ?? null);
}

function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function describeConflicts(conflicts: readonly CommitConflict[]): string {
  return conflicts
    .slice(0, 3)
    .map((conflict) => `${conflict.kind} ${conflict.runId}`)
    .join(', ');
}
