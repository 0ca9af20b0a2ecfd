// The Store on one SQLite file (WAL). Writes are serialised by SQLite (`BEGIN IMMEDIATE`), so a
// commit's checks and writes see no other writer in between; several processes may share a file.
import { eventCodec } from '../../journal/codec.js';
import type { JournalEvent, RunFailure } from '../../journal/events.js';
import type { RunStatus } from '../../journal/state.js';
import {
  emptyWrite,
  RUN_STATUSES,
  type ClaimRequest,
  type CommitBatch,
  type CommitConflict,
  type ChangeCursor,
  type CommitResult,
  type ImportedRun,
  type NewRun,
  type ReadyRecord,
  type RunChange,
  type RunCursor,
  type RunFilter,
  type RunPage,
  type RunProjection,
  type RunRecord,
  type RunWrite,
  type ScheduleAdvance,
  type ScheduleRecord,
  type Store,
  type StoreLocation,
  type Synchronous,
  type TimerRecord,
  type WaitRecord,
  type WaitStatus,
  type WaitVote,
  type WorkChanges,
  type WorkerRecord,
} from '../store.js';
import { inboxCardSchema, PLAIN_CARD, type InboxCard } from '../../waits/index.js';
import { openDatabase, type Db } from './database.js';
import { LargeValues } from './large-values.js';
import { run, SqliteWorkflows } from './sqlite-workflows.js';

/**
 * Rows of the run `@runId` and of its child runs, transitively (`runs_by_parent`): a worker scoped
 * to one run (`stepwise run`) also does its child runs' work.
 */
const IN_RUN_TREE = `run_id IN (WITH RECURSIVE tree(id) AS (
  SELECT @runId UNION SELECT runs.id FROM runs JOIN tree ON runs.parent_run_id = tree.id) SELECT id FROM tree)`;

interface EventRow {
  seq: number;
  type: string;
  v: number;
  activation_id: string | null;
  node_id: string | null;
  attempt: number | null;
  data: string;
  refs: string | null;
  at: number;
}

interface RunRow {
  id: string;
  workflow_id: string;
  version: number;
  status: RunStatus;
  input: string;
  input_ref: string | null;
  output: string | null;
  output_ref: string | null;
  error: string | null;
  parent_run_id: string | null;
  fork_of_run_id: string | null;
  fork_of_seq: number | null;
  last_seq: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  imported: number;
}

interface ReadyRow {
  run_id: string;
  activation_id: string;
  node_id: string;
  attempt: number;
  available_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  deadline: number | null;
}

interface TimerRow {
  run_id: string;
  activation_id: string;
  purpose: TimerRecord['purpose'];
  node_id: string;
  attempt: number;
  due_at: number;
}

interface WaitRow {
  run_id: string;
  activation_id: string;
  node_id: string;
  kind: string;
  status: WaitStatus;
  title: string;
  instructions: string;
  input: string;
  input_ref: string | null;
  created_at: number;
  timeout_at: number | null;
  decision: string | null;
  decided_by: string | null;
  decided_at: number | null;
  comment: string | null;
  card: string | null;
  votes: string | null;
}

interface ScheduleRow {
  workflow_id: string;
  node_id: string;
  schedule: string;
  next_at: number;
}

interface WorkerRow {
  id: string;
  pid: number;
  host: string;
  started_at: number;
  heartbeat_at: number;
  lease_ms: number;
}

export interface SqliteStoreOptions {
  synchronous?: Synchronous;
  /** Only reads: the file is opened read-only (see openDatabase). */
  readonly?: boolean;
}

export class SqliteStore implements Store {
  readonly location: StoreLocation;
  readonly workflows: SqliteWorkflows;
  readonly #db: Db;
  readonly #values: LargeValues;
  readonly #s;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    const synchronous = options.synchronous ?? 'FULL';
    this.location = { kind: 'sqlite', path, synchronous };
    this.#db = openDatabase(path, { synchronous, readonly: options.readonly ?? false });
    this.workflows = new SqliteWorkflows(this.#db);
    this.#values = new LargeValues(this.#db);
    const db = this.#db;
    const claimable = `available_at <= @now AND (lease_owner IS NULL OR lease_until < @now)`;
    this.#s = {
      runExists: db.prepare<[string], { n: 1 }>('SELECT 1 AS n FROM runs WHERE id = ?'),
      lastSeq: db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM runs WHERE id = ?'),
      insertRun: db.prepare(
        `INSERT INTO runs (id, workflow_id, version, status, input, input_ref, parent_run_id, fork_of_run_id, fork_of_seq, last_seq, created_at, updated_at, change_id)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
      ),
      // Also the check that the run did not move on: no row changed, it did (see #write).
      updateRun: db.prepare(
        `UPDATE runs SET status = ?, output = ?, output_ref = ?, error = ?, last_seq = ?, updated_at = ?, finished_at = ?, change_id = ?
         WHERE id = ? AND last_seq = ?`,
      ),
      nextChange: db.prepare<[], { n: number | null }>('SELECT max(change_id) AS n FROM runs'),
      insertEvent: db.prepare(
        `INSERT INTO events (run_id, seq, type, v, activation_id, node_id, attempt, data, refs, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      events: db.prepare<[string, number, number], EventRow>(
        `SELECT seq, type, v, activation_id, node_id, attempt, data, refs, at FROM events
         WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      run: db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?'),
      readyRow: db.prepare<[string, string], ReadyRow>('SELECT * FROM ready WHERE run_id = ? AND activation_id = ?'),
      putReady: db.prepare(
        `INSERT OR REPLACE INTO ready (run_id, activation_id, node_id, attempt, available_at, lease_owner, lease_until, deadline)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteReady: db.prepare('DELETE FROM ready WHERE run_id = ? AND activation_id = ?'),
      putTimer: db.prepare(
        `INSERT OR REPLACE INTO timers (run_id, activation_id, purpose, node_id, attempt, due_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      deleteTimer: db.prepare('DELETE FROM timers WHERE run_id = ? AND activation_id = ? AND purpose = ?'),
      openWait: db.prepare(
        `INSERT OR REPLACE INTO waits (run_id, activation_id, node_id, kind, status, title, instructions, input, input_ref, created_at, timeout_at, card)
         VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)`,
      ),
      voteWait: db.prepare(
        `UPDATE waits SET votes = json_insert(COALESCE(votes, '[]'), '$[#]', json(?))
         WHERE run_id = ? AND activation_id = ? AND status = 'open'`,
      ),
      decideWait: db.prepare(
        `UPDATE waits SET status = 'decided', decision = ?, decided_by = ?, decided_at = ?, comment = ?
         WHERE run_id = ? AND activation_id = ? AND status = 'open'`,
      ),
      clearRun: [
        db.prepare('DELETE FROM ready WHERE run_id = ?'),
        db.prepare('DELETE FROM timers WHERE run_id = ?'),
        db.prepare("UPDATE waits SET status = 'cancelled' WHERE run_id = ? AND status = 'open'"),
      ],
      claim: db.prepare<{ now: number; limit: number; owner: string; until: number }, ReadyRow>(
        `UPDATE ready SET lease_owner = @owner, lease_until = @until, deadline = @now
         WHERE (run_id, activation_id) IN (
           SELECT run_id, activation_id FROM ready WHERE ${claimable} ORDER BY available_at LIMIT @limit)
         RETURNING *`,
      ),
      claimRun: db.prepare<{ now: number; limit: number; owner: string; until: number; runId: string }, ReadyRow>(
        `UPDATE ready SET lease_owner = @owner, lease_until = @until, deadline = @now
         WHERE (run_id, activation_id) IN (
           SELECT run_id, activation_id FROM ready WHERE ${claimable} AND ${IN_RUN_TREE} ORDER BY available_at LIMIT @limit)
         RETURNING *`,
      ),
      hasClaimable: db.prepare<{ now: number }, { n: 1 }>(`SELECT 1 AS n FROM ready WHERE ${claimable} LIMIT 1`),
      hasClaimableRun: db.prepare<{ now: number; runId: string }, { n: 1 }>(
        `SELECT 1 AS n FROM ready WHERE ${claimable} AND ${IN_RUN_TREE} LIMIT 1`,
      ),
      renewLeases: db.prepare(
        `UPDATE ready SET lease_until = @until WHERE lease_owner = @owner AND (deadline IS NULL OR deadline > @now)`,
      ),
      leasesOf: db.prepare<[string], { run_id: string; activation_id: string; attempt: number }>(
        'SELECT run_id, activation_id, attempt FROM ready WHERE lease_owner = ?',
      ),
      upsertWorker: db.prepare<WorkerRow>(
        `INSERT INTO workers (id, pid, host, started_at, heartbeat_at, lease_ms)
         VALUES (@id, @pid, @host, @started_at, @heartbeat_at, @lease_ms)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, lease_ms = excluded.lease_ms`,
      ),
      releaseLeases: db.prepare('UPDATE ready SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?'),
      dueTimers: db.prepare<[number, number], TimerRow>(
        'SELECT * FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT ?',
      ),
      dueTimersRun: db.prepare<{ now: number; runId: string; limit: number }, TimerRow>(
        `SELECT * FROM timers WHERE due_at <= @now AND ${IN_RUN_TREE} ORDER BY due_at LIMIT @limit`,
      ),
      nextTimer: db.prepare<[number], { due_at: number | null }>(
        'SELECT min(due_at) AS due_at FROM timers WHERE due_at > ?',
      ),
      nextTimerRun: db.prepare<{ after: number; runId: string }, { due_at: number | null }>(
        `SELECT min(due_at) AS due_at FROM timers WHERE due_at > @after AND ${IN_RUN_TREE}`,
      ),
      schedulesOf: db.prepare<[string], ScheduleRow>(
        'SELECT * FROM schedules WHERE workflow_id = ? ORDER BY next_at, node_id',
      ),
      allSchedules: db.prepare<[], ScheduleRow>('SELECT * FROM schedules ORDER BY next_at, workflow_id, node_id'),
      dueSchedules: db.prepare<[number, number], ScheduleRow>(
        'SELECT * FROM schedules WHERE next_at <= ? ORDER BY next_at LIMIT ?',
      ),
      nextSchedule: db.prepare<[number], { next_at: number | null }>(
        'SELECT min(next_at) AS next_at FROM schedules WHERE next_at > ?',
      ),
      putSchedule: db.prepare<{ workflowId: string; nodeId: string; schedule: string; nextAt: number }>(
        `INSERT INTO schedules (workflow_id, node_id, schedule, next_at) VALUES (@workflowId, @nodeId, @schedule, @nextAt)
         ON CONFLICT (workflow_id, node_id) DO UPDATE SET schedule = excluded.schedule, next_at = excluded.next_at`,
      ),
      deleteSchedule: db.prepare<{ workflowId: string; nodeId: string }>(
        'DELETE FROM schedules WHERE workflow_id = @workflowId AND node_id = @nodeId',
      ),
      moveSchedule: db.prepare<{ workflowId: string; nodeId: string; expected: number; nextAt: number }>(
        `UPDATE schedules SET next_at = @nextAt
         WHERE workflow_id = @workflowId AND node_id = @nodeId AND next_at = @expected`,
      ),
      dropSchedule: db.prepare<{ workflowId: string; nodeId: string; expected: number }>(
        'DELETE FROM schedules WHERE workflow_id = @workflowId AND node_id = @nodeId AND next_at = @expected',
      ),
      changes: db.prepare<{ changeId: number; runId: string; limit: number }, RunRow & { change_id: number }>(
        `SELECT * FROM runs WHERE change_id > @changeId OR (change_id = @changeId AND id > @runId)
         ORDER BY change_id, id LIMIT @limit`,
      ),
      latestChange: db.prepare<[], RunRow & { change_id: number }>(
        'SELECT * FROM runs ORDER BY change_id DESC, id DESC LIMIT 1',
      ),
    };
  }

  commit(batch: CommitBatch): Promise<CommitResult> {
    return run(() =>
      this.#db
        .transaction((): CommitResult => {
          const conflicts = batch.runs.flatMap((write) => this.#check(write, batch.workerId));
          // Moving each fired row on is its claim: a row another worker moved first refuses the batch.
          for (const advance of batch.schedules ?? [])
            if (!this.#advanceSchedule(advance))
              conflicts.push({
                kind: 'schedule-moved',
                runId: null,
                workflowId: advance.workflowId,
                nodeId: advance.nodeId,
              });
          // Nothing of a refused batch stays, the schedule rows moved above included.
          if (conflicts.length > 0) throw new Refused(conflicts);
          if (batch.runs.length > 0) {
            const changeId = this.#nextChange();
            for (const write of batch.runs) {
              const moved = this.#write(write, batch.at, changeId);
              if (moved) conflicts.push(moved);
            }
            // Whatever the other runs wrote goes with the refusal (the transaction rolls back).
            if (conflicts.length > 0) throw new Refused(conflicts);
          }
          return { ok: true, claimed: batch.claim ? this.#claim(batch.claim) : [] };
        })
        .immediate(),
    ).catch((error: unknown) => {
      if (error instanceof Refused) return { ok: false, conflicts: error.conflicts };
      throw error;
    });
  }

  #nextChange(): number {
    return (this.#s.nextChange.get()?.n ?? 0) + 1;
  }

  #advanceSchedule(advance: ScheduleAdvance): boolean {
    const key = { workflowId: advance.workflowId, nodeId: advance.nodeId, expected: advance.expectedNextAt };
    return advance.nextAt === null
      ? this.#s.dropSchedule.run(key).changes === 1
      : this.#s.moveSchedule.run({ ...key, nextAt: advance.nextAt }).changes === 1;
  }

  syncSchedules(workflowId: string, wanted: ScheduleRecord[]): Promise<void> {
    return run(() =>
      this.#db
        .transaction(() => {
          const current = new Map(
            this.#s.schedulesOf.all(workflowId).map((row) => [row.node_id, row.schedule] as const),
          );
          const keep = new Set<string>();
          for (const row of wanted) {
            keep.add(row.nodeId);
            const schedule = scheduleJson(row.schedule);
            // Unchanged: its next fire time stands (a save must not forgive or repeat a fire).
            if (current.get(row.nodeId) === schedule) continue;
            this.#s.putSchedule.run({ workflowId, nodeId: row.nodeId, schedule, nextAt: row.nextAt });
          }
          for (const nodeId of current.keys())
            if (!keep.has(nodeId)) this.#s.deleteSchedule.run({ workflowId, nodeId });
        })
        .immediate(),
    );
  }

  schedules(workflowId?: string): Promise<ScheduleRecord[]> {
    return run(() =>
      (workflowId === undefined ? this.#s.allSchedules.all() : this.#s.schedulesOf.all(workflowId)).map(toSchedule),
    );
  }

  dueSchedules(now: number, limit: number): Promise<ScheduleRecord[]> {
    return run(() => this.#s.dueSchedules.all(now, limit).map(toSchedule));
  }

  nextScheduleDue(after: number): Promise<number | null> {
    // SQLite has no infinity: the lowest double stands in for "any time".
    const bound = Number.isFinite(after) ? after : -Number.MAX_VALUE;
    return run(() => this.#s.nextSchedule.get(bound)?.next_at ?? null);
  }

  #check(write: RunWrite, workerId: string | null): CommitConflict[] {
    return [...this.#checkRun(write), ...this.#checkLeases(write, workerId)];
  }

  /** A write that updates the run's row is checked by that update (#write): one statement less per run. */
  #checkRun(write: RunWrite): CommitConflict[] {
    if (write.create) return this.#s.runExists.get(write.runId) ? [{ kind: 'run-exists', runId: write.runId }] : [];
    if (write.projection) return [];
    const moved = this.#moved(write);
    return moved ? [moved] : [];
  }

  #moved(write: RunWrite): CommitConflict | null {
    const lastSeq = this.#s.lastSeq.get(write.runId)?.last_seq ?? null;
    return lastSeq === write.expectedLastSeq
      ? null
      : { kind: 'run-moved', runId: write.runId, expectedLastSeq: write.expectedLastSeq, lastSeq };
  }

  #checkLeases(write: RunWrite, workerId: string | null): CommitConflict[] {
    const conflicts: CommitConflict[] = [];
    for (const lease of write.leases) {
      const row = this.#s.readyRow.get(write.runId, lease.activationId);
      if (!row || workerId === null || row.lease_owner !== workerId || row.attempt !== lease.attempt)
        conflicts.push({ kind: 'lease-lost', runId: write.runId, ...lease });
    }
    return conflicts;
  }

  /** Writes one run's part; the conflict, with nothing else written, when the run moved on. */
  #write(write: RunWrite, at: number, changeId: number): CommitConflict | null {
    const s = this.#s;
    const { runId, create, projection, work } = write;
    const values = this.#values;
    if (create) this.#insertRunRow(runId, create, at, changeId);
    // Before the events: a run that moved on would refuse them as a duplicate key, not a conflict.
    if (projection && !this.#updateRunRow(runId, projection, at, changeId, write.expectedLastSeq))
      return this.#moved(write);
    this.#insertEvents(runId, write.events);
    for (const wait of work.waitOpen) {
      const input = values.column(wait.input);
      s.openWait.run(
        runId,
        wait.activationId,
        wait.nodeId,
        wait.kind,
        wait.title,
        wait.instructions,
        input.json,
        input.ref,
        wait.createdAt,
        wait.timeoutAt,
        cardColumn(wait.card),
      );
    }
    for (const { activationId, ...vote } of work.waitVote) s.voteWait.run(JSON.stringify(vote), runId, activationId);
    for (const decided of work.waitDecide)
      s.decideWait.run(decided.decision, decided.by, decided.at, decided.comment, runId, decided.activationId);
    // An ended (or compensating) run keeps no work from before, and its inbox rows still open become
    // cancelled; the ready and timer rows below are those recorded after the clear.
    if (write.clear) for (const statement of s.clearRun) statement.run(runId);
    this.#deleteReadyRows(runId, work.readyDelete);
    this.#putReadyRows(runId, work.readyPut);
    for (const timer of work.timerDelete) s.deleteTimer.run(runId, timer.activationId, timer.purpose);
    for (const timer of work.timerPut)
      s.putTimer.run(runId, timer.activationId, timer.purpose, timer.nodeId, timer.attempt, timer.dueAt);
    return null;
  }

  #insertRunRow(runId: string, create: NewRun, at: number, changeId: number): void {
    const input = this.#values.column(create.input);
    this.#s.insertRun.run(
      runId,
      create.workflowId,
      create.version,
      input.json,
      input.ref,
      create.parentRunId,
      create.forkOf?.runId ?? null,
      create.forkOf?.seq ?? null,
      at,
      at,
      changeId,
    );
  }

  #insertEvents(runId: string, events: readonly JournalEvent[]): void {
    for (const event of events) {
      const data = this.#values.data(event.data);
      this.#s.insertEvent.run(
        runId,
        event.seq,
        event.type,
        eventCodec.version(event.type),
        event.activationId,
        event.nodeId,
        event.attempt,
        data.json,
        data.refs,
        event.at,
      );
    }
  }

  /** False when the run's row is not at `expectedLastSeq` (it moved on): nothing changed then. */
  #updateRunRow(
    runId: string,
    projection: RunProjection,
    at: number,
    changeId: number,
    expectedLastSeq: number,
  ): boolean {
    const output = this.#values.column(projection.output);
    const { changes } = this.#s.updateRun.run(
      projection.status,
      output.json,
      output.ref,
      projection.error === null ? null : JSON.stringify(projection.error),
      projection.lastSeq,
      at,
      projection.finishedAt,
      changeId,
      runId,
      expectedLastSeq,
    );
    return changes === 1;
  }

  #deleteReadyRows(runId: string, activationIds: readonly string[]): void {
    for (const activationId of activationIds) this.#s.deleteReady.run(runId, activationId);
  }

  #putReadyRows(runId: string, rows: WorkChanges['readyPut']): void {
    for (const row of rows)
      this.#s.putReady.run(
        runId,
        row.activationId,
        row.nodeId,
        row.attempt,
        row.availableAt,
        row.leaseOwner,
        row.leaseUntil,
        row.deadline,
      );
  }

  claim(request: ClaimRequest): Promise<ReadyRecord[]> {
    return run(() => this.#db.transaction(() => this.#claim(request)).immediate());
  }

  #claim(request: ClaimRequest): ReadyRecord[] {
    const params = { now: request.now, limit: request.limit, owner: request.workerId, until: request.leaseUntil };
    const rows =
      request.runId === undefined
        ? this.#s.claim.all(params)
        : this.#s.claimRun.all({ ...params, runId: request.runId });
    return rows.map(toReady).sort((a, b) => a.availableAt - b.availableAt);
  }

  hasClaimable(now: number, runId?: string): Promise<boolean> {
    return run(() => this.#hasClaimable(now, runId));
  }

  #hasClaimable(now: number, runId: string | undefined): boolean {
    const row = runId === undefined ? this.#s.hasClaimable.get({ now }) : this.#s.hasClaimableRun.get({ now, runId });
    return row !== undefined;
  }

  registerWorker(worker: WorkerRecord): Promise<void> {
    return run(() => {
      this.#s.upsertWorker.run(workerRow(worker));
    });
  }

  heartbeat(worker: WorkerRecord, now: number): Promise<void> {
    return run(() =>
      this.#db
        .transaction(() => {
          this.#s.upsertWorker.run(workerRow({ ...worker, heartbeatAt: now }));
          this.#s.renewLeases.run({ until: now + worker.leaseMs, owner: worker.id, now });
        })
        .immediate(),
    );
  }

  leasesOf(workerId: string): Promise<{ runId: string; activationId: string; attempt: number }[]> {
    return run(() =>
      this.#s.leasesOf
        .all(workerId)
        .map((row) => ({ runId: row.run_id, activationId: row.activation_id, attempt: row.attempt })),
    );
  }

  expireWorkers(now: number): Promise<{ workerId: string; released: number }[]> {
    return run(() =>
      this.#db
        .transaction(() =>
          this.#db
            .prepare<[number], { id: string }>('SELECT id FROM workers WHERE heartbeat_at + lease_ms < ?')
            .all(now)
            .map(({ id }) => ({ workerId: id, released: this.#remove(id) })),
        )
        .immediate(),
    );
  }

  removeWorker(workerId: string): Promise<number> {
    return run(() => this.#db.transaction(() => this.#remove(workerId)).immediate());
  }

  #remove(workerId: string): number {
    const released = this.#s.releaseLeases.run(workerId).changes;
    this.#db.prepare('DELETE FROM workers WHERE id = ?').run(workerId);
    return released;
  }

  workers(): Promise<WorkerRecord[]> {
    return run(() =>
      this.#db
        .prepare<[], WorkerRow>('SELECT * FROM workers ORDER BY started_at')
        .all()
        .map((row) => ({
          id: row.id,
          pid: row.pid,
          host: row.host,
          startedAt: row.started_at,
          heartbeatAt: row.heartbeat_at,
          leaseMs: row.lease_ms,
        })),
    );
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return run(() => {
      const row = this.#s.run.get(runId);
      return row && toRun(row, this.#values);
    });
  }

  importRun(imported: ImportedRun): Promise<boolean> {
    return run(() =>
      this.#db
        .transaction((): boolean => {
          const { record, events } = imported;
          if (this.#s.runExists.get(record.runId)) return false;
          const changeId = (this.#s.nextChange.get()?.n ?? 0) + 1;
          const input = this.#values.column(record.input);
          const output = this.#values.column(record.output);
          this.#db
            .prepare(
              `INSERT INTO runs (id, workflow_id, version, status, input, input_ref, output, output_ref, error,
                 parent_run_id, last_seq, created_at, updated_at, finished_at, change_id, imported)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
            )
            .run(
              record.runId,
              record.workflowId,
              record.version,
              record.status,
              input.json,
              input.ref,
              output.json,
              output.ref,
              record.error === null ? null : JSON.stringify(record.error),
              record.parentRunId,
              record.lastSeq,
              record.createdAt,
              record.updatedAt,
              record.finishedAt,
              changeId,
            );
          // The same write of events as a commit's, so they read back (and dedupe large values) alike.
          this.#write({ ...emptyWrite(record.runId), events }, record.updatedAt, changeId);
          return true;
        })
        .immediate(),
    );
  }

  listRuns(filter: RunFilter, page: { after?: RunCursor | null; limit: number }): Promise<RunPage> {
    return run(() => {
      const { where, params } = runWhere(filter);
      if (page.after) {
        where.push('(created_at < ? OR (created_at = ? AND id < ?))');
        params.push(page.after.createdAt, page.after.createdAt, page.after.runId);
      }
      const rows = this.#db
        .prepare<(string | number)[], RunRow>(
          `SELECT * FROM runs ${clause(where)} ORDER BY created_at DESC, id DESC LIMIT ?`,
        )
        .all(...params, page.limit + 1);
      const runs = rows.slice(0, page.limit).map((row) => toRun(row, this.#values));
      const last = runs.at(-1);
      return {
        runs,
        next: rows.length > page.limit && last ? { createdAt: last.createdAt, runId: last.runId } : null,
      };
    });
  }

  countRuns(filter: Omit<RunFilter, 'status'>): Promise<Record<RunStatus, number>> {
    return run(() => {
      const { where, params } = runWhere(filter);
      const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>;
      const rows = this.#db
        .prepare<(string | number)[], { status: RunStatus; n: number }>(
          `SELECT status, count(*) AS n FROM runs ${clause(where)} GROUP BY status`,
        )
        .all(...params);
      for (const row of rows) counts[row.status] = row.n;
      return counts;
    });
  }

  findRunIds(prefix: string, limit: number): Promise<string[]> {
    return run(() =>
      this.#db
        .prepare<[string, string, number], { id: string }>(
          'SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?',
        )
        .all(prefix, `${prefix}\uffff`, limit)
        .map((row) => row.id),
    );
  }

  readEvents(runId: string, afterSeq: number, limit = Number.MAX_SAFE_INTEGER): Promise<JournalEvent[]> {
    return run(() =>
      this.#s.events.all(runId, afterSeq, limit).map((row) =>
        eventCodec.decode(
          {
            seq: row.seq,
            at: row.at,
            type: row.type,
            v: row.v,
            activationId: row.activation_id,
            nodeId: row.node_id,
            attempt: row.attempt,
            data: this.#values.readData(row.data, row.refs, `event #${row.seq} of run ${runId}`),
          },
          `event #${row.seq} of run ${runId}`,
        ),
      ),
    );
  }

  changesSince(cursor: ChangeCursor | null, limit: number): Promise<{ cursor: ChangeCursor; changes: RunChange[] }> {
    return run(() => {
      if (cursor === null) {
        const latest = this.#s.latestChange.get();
        return { cursor: { changeId: latest?.change_id ?? 0, runId: latest?.id ?? '' }, changes: [] };
      }
      const changes = this.#s.changes.all({ ...cursor, limit }).map((row) => ({
        runId: row.id,
        workflowId: row.workflow_id,
        version: row.version,
        status: row.status,
        lastSeq: row.last_seq,
        updatedAt: row.updated_at,
        changeId: row.change_id,
      }));
      const last = changes.at(-1);
      return { cursor: last ? { changeId: last.changeId, runId: last.runId } : cursor, changes };
    });
  }

  waits(filter: { runId?: string; status?: WaitStatus; limit: number; newestFirst?: boolean }): Promise<WaitRecord[]> {
    return run(() => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.runId !== undefined) {
        where.push('run_id = ?');
        params.push(filter.runId);
      }
      if (filter.status !== undefined) {
        where.push('status = ?');
        params.push(filter.status);
      }
      return this.#db
        .prepare<(string | number)[], WaitRow>(
          `SELECT * FROM waits ${clause(where)} ORDER BY created_at ${filter.newestFirst ? 'DESC' : ''} LIMIT ?`,
        )
        .all(...params, filter.limit)
        .map((row) => toWait(row, this.#values));
    });
  }

  cacheGet(key: string, now: number): Promise<string | undefined> {
    return run(() => {
      const row = this.#db
        .prepare<[string], { value: string }>('SELECT value FROM response_cache WHERE key = ?')
        .get(key);
      if (row) this.#db.prepare('UPDATE response_cache SET used_at = ? WHERE key = ?').run(now, key);
      return row?.value;
    });
  }

  cachePut(key: string, json: string, now: number, maxEntries: number): Promise<void> {
    return run(() =>
      this.#db.transaction(() => {
        this.#db
          .prepare(
            `INSERT INTO response_cache (key, value, created_at, used_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, used_at = excluded.used_at`,
          )
          .run(key, json, now, now);
        const count =
          this.#db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM response_cache').get()?.count ?? 0;
        const excess = count - maxEntries;
        if (excess > 0)
          this.#db
            .prepare(
              'DELETE FROM response_cache WHERE key IN (SELECT key FROM response_cache ORDER BY used_at, key LIMIT ?)',
            )
            .run(excess);
      })(),
    );
  }

  countWaits(status: WaitStatus): Promise<number> {
    return run(
      () =>
        this.#db
          .prepare<[string], { count: number }>('SELECT COUNT(*) AS count FROM waits WHERE status = ?')
          .get(status)?.count ?? 0,
    );
  }

  dueTimers(now: number, limit: number, runId?: string): Promise<TimerRecord[]> {
    return run(() =>
      (runId === undefined ? this.#s.dueTimers.all(now, limit) : this.#s.dueTimersRun.all({ now, runId, limit })).map(
        (row) => ({
          runId: row.run_id,
          activationId: row.activation_id,
          purpose: row.purpose,
          nodeId: row.node_id,
          attempt: row.attempt,
          dueAt: row.due_at,
        }),
      ),
    );
  }

  nextTimerDue(after: number, runId?: string): Promise<number | null> {
    // SQLite has no infinity: the lowest double stands in for "any time".
    const bound = Number.isFinite(after) ? after : -Number.MAX_VALUE;
    return run(
      () =>
        (runId === undefined ? this.#s.nextTimer.get(bound) : this.#s.nextTimerRun.get({ after: bound, runId }))
          ?.due_at ?? null,
    );
  }

  pending(now: number, horizon: number, runId?: string): Promise<{ ready: number; leased: number; timers: number }> {
    return run(() => {
      const scope = runId === undefined ? '' : `AND ${IN_RUN_TREE}`;
      const params = { now, limit: now + horizon, ...(runId !== undefined && { runId }) };
      const count = (sql: string): number => this.#db.prepare<typeof params, { n: number }>(sql).get(params)?.n ?? 0;
      return {
        ready: count(`SELECT count(*) AS n FROM ready WHERE (lease_owner IS NULL OR lease_until < @now) ${scope}`),
        leased: count(`SELECT count(*) AS n FROM ready WHERE lease_owner IS NOT NULL AND lease_until >= @now ${scope}`),
        timers: count(`SELECT count(*) AS n FROM timers WHERE due_at <= @limit ${scope}`),
      };
    });
  }

  close(): Promise<void> {
    return run(() => {
      this.#db.close();
    });
  }
}

function workerRow(worker: WorkerRecord): WorkerRow {
  return {
    id: worker.id,
    pid: worker.pid,
    host: worker.host,
    started_at: worker.startedAt,
    heartbeat_at: worker.heartbeatAt,
    lease_ms: worker.leaseMs,
  };
}

function runWhere(filter: RunFilter): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.status !== undefined && filter.status.length > 0) {
    where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
    params.push(...filter.status);
  }
  if (filter.workflowId !== undefined) {
    where.push('workflow_id = ?');
    params.push(filter.workflowId);
  }
  if (filter.version !== undefined) {
    where.push('version = ?');
    params.push(filter.version);
  }
  if (filter.idPrefix !== undefined && filter.idPrefix !== '') {
    where.push('id >= ? AND id < ?');
    params.push(filter.idPrefix, `${filter.idPrefix}\uffff`);
  }
  if (filter.forkOf !== undefined) {
    where.push('fork_of_run_id = ?');
    params.push(filter.forkOf);
  }
  return { where, params };
}

function clause(where: readonly string[]): string {
  return where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
}

function toRun(row: RunRow, values: LargeValues): RunRecord {
  const where = `run ${row.id}`;
  return {
    runId: row.id,
    workflowId: row.workflow_id,
    version: row.version,
    status: row.status,
    input: values.readColumn(row.input, row.input_ref, `${where} input`),
    output: row.output === null ? null : values.readColumn(row.output, row.output_ref, `${where} output`),
    error: row.error === null ? null : (JSON.parse(row.error) as RunFailure),
    parentRunId: row.parent_run_id,
    forkOf: row.fork_of_run_id === null ? null : { runId: row.fork_of_run_id, seq: row.fork_of_seq ?? 0 },
    lastSeq: row.last_seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    imported: row.imported === 1,
  };
}

function toReady(row: ReadyRow): ReadyRecord {
  return {
    runId: row.run_id,
    activationId: row.activation_id,
    nodeId: row.node_id,
    attempt: row.attempt,
    availableAt: row.available_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    deadline: row.deadline,
  };
}

/** A plain card (approve or reject, anyone, once) is most inbox rows: kept as NULL, read back as it. */
const PLAIN_CARD_JSON = JSON.stringify(PLAIN_CARD);
function cardColumn(card: InboxCard): string | null {
  const json = JSON.stringify(card);
  return json === PLAIN_CARD_JSON ? null : json;
}

function toWait(row: WaitRow, values: LargeValues): WaitRecord {
  return {
    runId: row.run_id,
    activationId: row.activation_id,
    nodeId: row.node_id,
    kind: row.kind,
    status: row.status,
    title: row.title,
    instructions: row.instructions,
    input: values.readColumn(row.input, row.input_ref, `wait ${row.activation_id} of run ${row.run_id}`),
    createdAt: row.created_at,
    timeoutAt: row.timeout_at,
    decision: row.decision,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    comment: row.comment,
    card: row.card === null ? PLAIN_CARD : inboxCardSchema.parse(JSON.parse(row.card)),
    votes: row.votes === null ? [] : (JSON.parse(row.votes) as WaitVote[]),
  };
}

/** A refused commit: thrown inside its transaction so that nothing of it stays. */
class Refused extends Error {
  readonly conflicts: CommitConflict[];
  constructor(conflicts: CommitConflict[]) {
    super('the commit was refused');
    this.conflicts = conflicts;
  }
}

/** A schedule's JSON with its keys in one order, so an unchanged schedule compares equal as text. */
function scheduleJson(schedule: ScheduleRecord['schedule']): string {
  const { cron, timeZone, misfire, maxCatchUp, graceMs } = schedule;
  return JSON.stringify({ cron, timeZone, misfire, maxCatchUp, graceMs });
}

function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    workflowId: row.workflow_id,
    nodeId: row.node_id,
    schedule: JSON.parse(row.schedule) as ScheduleRecord['schedule'],
    nextAt: row.next_at,
  };
}
