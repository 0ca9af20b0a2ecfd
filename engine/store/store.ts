// The store: everything the engine keeps, behind one interface at the grain of the group commit —
// claim a batch of ready activations, commit a batch of effects atomically (with optimistic
// checks: a run must not have moved on, a lease must still be held), and the read queries.
// Async-shaped so that a networked store (PostgreSQL: FOR UPDATE SKIP LOCKED, LISTEN/NOTIFY)
// can implement it; SQLite (./sqlite/) is the first implementation. Only engine/runtime uses it.
import type { JournalEvent, RunFailure, TimerPurpose } from '../journal/events.js';
import type { RunStatus } from '../journal/state.js';
import type { Schedule } from '../model/cron.js';
import type { Workflow, WorkflowVersion } from '../model/workflow.js';
import type { InboxCard } from '../waits/index.js';

export type Synchronous = 'FULL' | 'NORMAL';

/** Enough to open the same store again (another thread or process). */
export type StoreLocation = { kind: 'sqlite'; path: string; synchronous: Synchronous };

// ── Runs ─────────────────────────────────────────────────────────────────────────────────────

/** Where a fork came from: the origin run and the seq it was forked at. */
export interface ForkOrigin {
  runId: string;
  seq: number;
}

/** A run's row: the projection of its journal kept in the same commit as the events. */
export interface RunRecord {
  runId: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: RunFailure | null;
  parentRunId: string | null;
  /** Set on a fork: the run and step it was forked from. */
  forkOf: ForkOrigin | null;
  lastSeq: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** Brought in from another database's export (`stepwise import`): read-only, never executed. */
  imported: boolean;
}

/** A run from an export, stored as it was: its row and its journal, and no work (nothing executes it). */
export interface ImportedRun {
  record: Omit<RunRecord, 'imported'>;
  events: JournalEvent[];
}

export interface NewRun {
  runId: string;
  workflowId: string;
  version: number;
  input: unknown;
  parentRunId: string | null;
  forkOf?: ForkOrigin | null;
}

export interface RunProjection {
  status: RunStatus;
  output: unknown;
  error: RunFailure | null;
  lastSeq: number;
  finishedAt: number | null;
}

export interface RunFilter {
  status?: readonly RunStatus[];
  workflowId?: string;
  version?: number;
  /** Runs whose id starts with this. */
  idPrefix?: string;
  /** Forks of this run. */
  forkOf?: string;
}

/** Runs are listed newest first; a cursor is the last row of the previous page. */
export interface RunCursor {
  createdAt: number;
  runId: string;
}

export interface RunPage {
  runs: RunRecord[];
  /** Where the next page starts; null on the last page. */
  next: RunCursor | null;
}

/**
 * A run that changed in some commit (of this process or another). Every run a commit touches
 * gets the commit's `changeId`; a store must make change ids visible in increasing order (SQLite:
 * one writer at a time; a networked store must not let a later commit's id show first).
 */
export interface RunChange {
  runId: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  lastSeq: number;
  updatedAt: number;
  changeId: number;
}

/** Where a reader of the change feed is: after this run of this change. */
export interface ChangeCursor {
  changeId: number;
  runId: string;
}

// ── Work lists ───────────────────────────────────────────────────────────────────────────────

/**
 * An activation to execute. A lease marks the worker executing it until `leaseUntil`; its
 * heartbeats renew the lease while `deadline` (the node's start-to-close limit) is ahead. A claim
 * sets `deadline` to the claim's time: a claimed activation is not renewed until the worker
 * starts it (its `NodeStarted` commit sets the real deadline), so a claim that never gets that far
 * lapses after one lease.
 */
export interface ReadyRecord {
  runId: string;
  activationId: string;
  nodeId: string;
  attempt: number;
  availableAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  deadline: number | null;
}

export interface TimerRecord {
  runId: string;
  activationId: string;
  purpose: TimerPurpose;
  nodeId: string;
  attempt: number;
  dueAt: number;
}

export type WaitStatus = 'open' | 'decided' | 'cancelled';

/** An inbox row: a wait that someone must act on (see the wait kinds' `inbox`). */
export interface WaitRecord {
  runId: string;
  activationId: string;
  nodeId: string;
  kind: string;
  status: WaitStatus;
  title: string;
  instructions: string;
  /** What the person is shown: the node's input. */
  input: unknown;
  createdAt: number;
  timeoutAt: number | null;
  decision: string | null;
  decidedBy: string | null;
  decidedAt: number | null;
  comment: string | null;
  /** What the person is shown and asked (a row written before cards existed: `PLAIN_CARD`). */
  card: InboxCard;
  /** Decisions recorded while it stays open (votes towards a quorum), oldest first. */
  votes: WaitVote[];
}

/** A vote on an open wait: a decision that did not end it. */
export interface WaitVote {
  decision: string;
  by: string;
  comment: string | null;
  at: number;
}

export interface WaitDecision {
  activationId: string;
  decision: string;
  by: string;
  comment: string | null;
  at: number;
}

/** The final state of the work rows a commit touched, per run. */
export interface WorkChanges {
  readyPut: ReadyRecord[];
  readyDelete: string[];
  timerPut: TimerRecord[];
  timerDelete: { activationId: string; purpose: TimerPurpose }[];
  waitOpen: WaitRecord[];
  waitVote: (WaitVote & { activationId: string })[];
  waitDecide: WaitDecision[];
}

// ── Schedules ────────────────────────────────────────────────────────────────────────────────

/**
 * A schedule trigger of a workflow's latest version and its next fire time. Firing moves `nextAt`
 * on in the commit that starts the runs, checked against the time it was read at, so one
 * occurrence is fired by one worker only.
 */
export interface ScheduleRecord {
  workflowId: string;
  nodeId: string;
  schedule: Schedule;
  nextAt: number;
}

/** A fire: the row moves from `expectedNextAt` to `nextAt` (null: the row goes), or the commit is refused. */
export interface ScheduleAdvance {
  workflowId: string;
  nodeId: string;
  expectedNextAt: number;
  nextAt: number | null;
}

// ── The group commit ─────────────────────────────────────────────────────────────────────────

/** What one run contributes to a commit. */
export interface RunWrite {
  runId: string;
  /** A new run (its `RunStarted` is among `events`); it must not exist yet. */
  create: NewRun | null;
  /** The run's last seq this write was computed on (0 with `create`); refused if the stored run moved on. */
  expectedLastSeq: number;
  events: JournalEvent[];
  /** The `runs` row after `events`; null when the write appends nothing. */
  projection: RunProjection | null;
  /**
   * The run ended, or started compensating: its ready rows and timers go and its open waits are
   * cancelled — after `work`'s inbox changes, before its ready and timer rows (a batch keeps only
   * those recorded after the clear: the first compensation's).
   */
  clear: boolean;
  work: WorkChanges;
  /** Activations whose lease (at this attempt) the committing worker must still hold. */
  leases: { activationId: string; attempt: number }[];
}

export interface CommitBatch {
  /** The worker committing (lease checks); null for a process without a worker (the CLI). */
  workerId: string | null;
  at: number;
  runs: RunWrite[];
  /** Also lease ready activations, after the writes and in the same transaction (one fsync for both). */
  claim?: ClaimRequest;
  /** Schedules fired by this batch (checked like runs: all or nothing). */
  schedules?: ScheduleAdvance[];
}

export type CommitConflict =
  | { kind: 'run-moved'; runId: string; expectedLastSeq: number; lastSeq: number | null }
  | { kind: 'run-exists'; runId: string }
  | { kind: 'lease-lost'; runId: string; activationId: string; attempt: number }
  /** Another worker fired this occurrence first, or a save replaced the schedule. */
  | { kind: 'schedule-moved'; runId: null; workflowId: string; nodeId: string };

/** All or nothing: with conflicts, nothing of the batch was written (nor claimed). */
export type CommitResult = { ok: true; claimed: ReadyRecord[] } | { ok: false; conflicts: CommitConflict[] };

export interface ClaimRequest {
  workerId: string;
  now: number;
  leaseUntil: number;
  limit: number;
  /** Only this run's activations and its child runs', transitively (a worker scoped to one run). */
  runId?: string;
}

// ── Workers ──────────────────────────────────────────────────────────────────────────────────

export interface WorkerRecord {
  /** Generated per worker start; never a process id. */
  id: string;
  host: string;
  /** For a hint only: a worker on this host whose process is gone can be expired at once. */
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  /** How long it may stay silent before others expire it (its lease length). */
  leaseMs: number;
}

// ── Workflows ────────────────────────────────────────────────────────────────────────────────

export interface WorkflowSummary {
  id: string;
  name: string;
  latestVersion: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A workflow with its editable draft (the canvas state, saved as the user types). */
export interface WorkflowRecord extends WorkflowSummary {
  draft: Workflow | null;
  draftUpdatedAt: number | null;
}

export type VersionSummary = Omit<WorkflowVersion, 'graph'> & { runs: number };

export interface WorkflowRepository {
  /** A live (not deleted) workflow with its draft. */
  get(workflowId: string): Promise<WorkflowRecord | undefined>;
  /** True when the id is taken, also by a deleted workflow (whose versions runs may still use). */
  exists(workflowId: string): Promise<boolean>;
  list(): Promise<WorkflowSummary[]>;
  /** A new workflow whose draft is `graph`; no version yet. */
  create(graph: Workflow, now: number): Promise<void>;
  /** Replaces the draft (and the name it carries); false when there is no such live workflow. */
  saveDraft(graph: Workflow, now: number): Promise<boolean>;
  /** Hides the workflow from lists; its versions stay for the runs pinned to them. */
  delete(workflowId: string, now: number): Promise<boolean>;
  /**
   * Stores `graph` as a new version unless identical content is already one. It also becomes the
   * draft, unless the draft holds edits beyond the latest version.
   */
  saveVersion(
    graph: Workflow,
    note: string | null,
    now: number,
  ): Promise<{ version: WorkflowVersion; created: boolean }>;
  /** True when `draft` differs from the latest version, or there is no version yet. */
  draftChanged(workflowId: string, draft: Workflow): Promise<boolean>;
  getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined>;
  latestVersion(workflowId: string): Promise<WorkflowVersion | undefined>;
  latestVersionNumber(workflowId: string): Promise<number | undefined>;
  /** With the number of runs pinned to each. */
  listVersions(workflowId: string): Promise<VersionSummary[]>;
}

// ── The store ────────────────────────────────────────────────────────────────────────────────

export interface Store {
  readonly location: StoreLocation;
  readonly workflows: WorkflowRepository;

  /**
   * Writes a batch atomically (then claims, if asked), or nothing and the conflicts that refused it.
   * A large value held by several events and rows (an output, the next node's input, the run's
   * output) is kept once; every read gives back plain values.
   */
  commit(batch: CommitBatch): Promise<CommitResult>;
  /** Leases up to `limit` ready activations nobody holds (or whose lease expired). Never two workers one row. */
  claim(request: ClaimRequest): Promise<ReadyRecord[]>;
  hasClaimable(now: number, runId?: string): Promise<boolean>;

  registerWorker(worker: WorkerRecord): Promise<void>;
  /**
   * The worker is alive (registered again if it had been expired): every lease it holds is
   * renewed until `now + worker.leaseMs`, except those whose deadline has passed.
   */
  heartbeat(worker: WorkerRecord, now: number): Promise<void>;
  /** The leases a worker holds now. */
  leasesOf(workerId: string): Promise<{ runId: string; activationId: string; attempt: number }[]>;
  /** Removes workers silent for longer than their own lease length and frees their leases. */
  expireWorkers(now: number): Promise<{ workerId: string; released: number }[]>;
  /** A worker stopping (or known dead): its row goes and its leases are freed at once. */
  removeWorker(workerId: string): Promise<number>;
  workers(): Promise<WorkerRecord[]>;

  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Stores an imported run (marked `imported`) with its journal; false when its id is taken (nothing written). */
  importRun(run: ImportedRun): Promise<boolean>;
  listRuns(filter: RunFilter, page: { after?: RunCursor | null; limit: number }): Promise<RunPage>;
  countRuns(filter: Omit<RunFilter, 'status'>): Promise<Record<RunStatus, number>>;
  /** Run ids starting with `prefix` (at most `limit`). */
  findRunIds(prefix: string, limit: number): Promise<string[]>;
  /** Events after `afterSeq`, validated and in their current shape; at most `limit`. */
  readEvents(runId: string, afterSeq: number, limit?: number): Promise<JournalEvent[]>;
  /**
   * Runs changed after `cursor`, in change order, at most `limit`; null: none yet, just the cursor
   * to start from (the latest change).
   */
  changesSince(cursor: ChangeCursor | null, limit: number): Promise<{ cursor: ChangeCursor; changes: RunChange[] }>;

  /** Wait rows in the order they were created (`newestFirst`: the reverse, as an inbox lists them). */
  waits(filter: { runId?: string; status?: WaitStatus; limit: number; newestFirst?: boolean }): Promise<WaitRecord[]>;
  /** How many inbox rows have this status (the inbox's count, whatever page of it is read). */
  countWaits(status: WaitStatus): Promise<number>;
  dueTimers(now: number, limit: number, runId?: string): Promise<TimerRecord[]>;
  /**
   * The earliest due time after `after`; null when none. With `runId`, here and in `hasClaimable`,
   * `dueTimers` and `pending`: only that run's and its child runs' (transitively), as `claim`.
   */
  nextTimerDue(after: number, runId?: string): Promise<number | null>;
  /**
   * Makes the workflow's schedule rows these (its latest version's schedule triggers): a row whose
   * schedule is unchanged keeps its next fire time (fires missed meanwhile stay missed); a new or
   * changed one gets the given `nextAt`; the others go. One transaction.
   */
  syncSchedules(workflowId: string, wanted: ScheduleRecord[]): Promise<void>;
  /** Schedule rows (of one workflow), by next fire time. */
  schedules(workflowId?: string): Promise<ScheduleRecord[]>;
  /** Rows whose next fire time is at or before `now`, earliest first. */
  dueSchedules(now: number, limit: number): Promise<ScheduleRecord[]>;
  /** The earliest next fire time after `after`; null when there is none. */
  nextScheduleDue(after: number): Promise<number | null>;
  /**
   * A recorded answer (the node cache, `ctx.cache`): its JSON, or undefined; a hit marks it used
   * at `now`. `key` is already a hash.
   */
  cacheGet(key: string, now: number): Promise<string | undefined>;
  /**
   * Records an answer (replacing one under the same key); past `maxEntries` the least recently
   * used entries go, in the same transaction.
   */
  cachePut(key: string, json: string, now: number, maxEntries: number): Promise<void>;
  /** What is left to do: ready (unleased), leased, and timers due before `now + horizon`. */
  pending(now: number, horizon: number, runId?: string): Promise<{ ready: number; leased: number; timers: number }>;

  close(): Promise<void>;
}

/** The node cache's bound: entries (least recently used go first) and the largest value kept. */
export const RESPONSE_CACHE_LIMIT = { entries: 5000, valueBytes: 256 * 1024 } as const;

export { RUN_STATUSES } from '../journal/state.js';

export function noWork(): WorkChanges {
  return { readyPut: [], readyDelete: [], timerPut: [], timerDelete: [], waitOpen: [], waitVote: [], waitDecide: [] };
}

/** A run's write that changes nothing (to spread fields over). */
export function emptyWrite(runId: string): RunWrite {
  return {
    runId,
    create: null,
    expectedLastSeq: 0,
    events: [],
    projection: null,
    clear: false,
    work: noWork(),
    leases: [],
  };
}
