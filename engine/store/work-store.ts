// Durable work lists: the ready queue (with leases), timers, waits (approvals) and the workers
// that hold leases. Rows on disk, not promises in memory: waiting costs nothing.
import type { WaitRequest } from '../sdk/index.js';
import type { TimerPurpose } from '../journal/events.js';
import type { Db } from './database.js';

export interface ReadyRow {
  run_id: string;
  activation_id: string;
  node_id: string;
  attempt: number;
  lease_owner: string | null;
}

export interface TimerRow {
  run_id: string;
  activation_id: string;
  purpose: TimerPurpose;
  node_id: string;
  attempt: number;
  due_at: number;
}

export interface WaitRow {
  run_id: string;
  activation_id: string;
  node_id: string;
  kind: string;
  status: 'open' | 'decided' | 'cancelled';
  title: string;
  instructions: string;
  input: string;
  created_at: number;
  timeout_at: number | null;
  decision: string | null;
  decided_by: string | null;
  decided_at: number | null;
  comment: string | null;
}

export interface WorkerRow {
  id: string;
  pid: number;
  host: string;
  started_at: number;
  heartbeat_at: number;
}

export class WorkStore {
  readonly #db: Db;
  readonly #insertReady;
  readonly #deleteReady;
  readonly #claimable;
  readonly #claimableForRun;
  readonly #lease;
  readonly #readyRow;
  readonly #renewLeases;
  readonly #insertTimer;
  readonly #deleteTimer;
  readonly #dueTimers;
  readonly #dueTimersForRun;
  readonly #nextTimer;
  readonly #nextTimerOfRun;
  readonly #insertWait;
  readonly #decideWait;
  readonly #openWaitsOfRun;
  readonly #deleteRunWork;

  constructor(db: Db) {
    this.#db = db;
    this.#insertReady = db.prepare(
      `INSERT OR REPLACE INTO ready (run_id, activation_id, node_id, attempt, available_at, lease_owner, lease_until)
       VALUES (?, ?, ?, ?, ?, NULL, NULL)`,
    );
    this.#deleteReady = db.prepare('DELETE FROM ready WHERE run_id = ? AND activation_id = ?');
    const claimable = `SELECT run_id, activation_id, node_id, attempt, lease_owner FROM ready
       WHERE available_at <= @now AND (lease_owner IS NULL OR lease_until < @now)`;
    this.#claimable = db.prepare<{ now: number; limit: number }, ReadyRow>(
      `${claimable} ORDER BY available_at LIMIT @limit`,
    );
    this.#claimableForRun = db.prepare<{ now: number; limit: number; runId: string }, ReadyRow>(
      `${claimable} AND run_id = @runId ORDER BY available_at LIMIT @limit`,
    );
    this.#lease = db.prepare(
      'UPDATE ready SET lease_owner = ?, lease_until = ? WHERE run_id = ? AND activation_id = ?',
    );
    this.#readyRow = db.prepare<[string, string], ReadyRow>(
      'SELECT run_id, activation_id, node_id, attempt, lease_owner FROM ready WHERE run_id = ? AND activation_id = ?',
    );
    this.#renewLeases = db.prepare('UPDATE ready SET lease_until = ? WHERE lease_owner = ?');
    this.#insertTimer = db.prepare(
      `INSERT OR REPLACE INTO timers (run_id, activation_id, purpose, node_id, attempt, due_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#deleteTimer = db.prepare('DELETE FROM timers WHERE run_id = ? AND activation_id = ? AND purpose = ?');
    this.#dueTimers = db.prepare<[number, number], TimerRow>(
      'SELECT * FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT ?',
    );
    this.#dueTimersForRun = db.prepare<[number, string, number], TimerRow>(
      'SELECT * FROM timers WHERE due_at <= ? AND run_id = ? ORDER BY due_at LIMIT ?',
    );
    this.#nextTimer = db.prepare<[], { due_at: number | null }>('SELECT min(due_at) AS due_at FROM timers');
    this.#nextTimerOfRun = db.prepare<[string], { due_at: number | null }>(
      'SELECT min(due_at) AS due_at FROM timers WHERE run_id = ?',
    );
    this.#insertWait = db.prepare(
      `INSERT OR REPLACE INTO waits (run_id, activation_id, node_id, kind, status, title, instructions, input, created_at, timeout_at)
       VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
    );
    this.#decideWait = db.prepare(
      `UPDATE waits SET status = 'decided', decision = ?, decided_by = ?, decided_at = ?, comment = ?
       WHERE run_id = ? AND activation_id = ? AND status = 'open'`,
    );
    this.#openWaitsOfRun = db.prepare<[string], WaitRow>(
      "SELECT * FROM waits WHERE run_id = ? AND status = 'open' ORDER BY created_at",
    );
    const deletes = [
      db.prepare('DELETE FROM ready WHERE run_id = ?'),
      db.prepare('DELETE FROM timers WHERE run_id = ?'),
      db.prepare("UPDATE waits SET status = 'cancelled' WHERE run_id = ? AND status = 'open'"),
    ];
    this.#deleteRunWork = (runId: string) => {
      for (const statement of deletes) statement.run(runId);
    };
  }

  enqueue(runId: string, activationId: string, nodeId: string, attempt: number, availableAt: number): void {
    this.#insertReady.run(runId, activationId, nodeId, attempt, availableAt);
  }

  dequeue(runId: string, activationId: string): void {
    this.#deleteReady.run(runId, activationId);
  }

  claimable(now: number, limit: number, runId?: string): ReadyRow[] {
    return runId === undefined ? this.#claimable.all({ now, limit }) : this.#claimableForRun.all({ now, limit, runId });
  }

  lease(runId: string, activationId: string, owner: string, until: number): void {
    this.#lease.run(owner, until, runId, activationId);
  }

  readyRow(runId: string, activationId: string): ReadyRow | undefined {
    return this.#readyRow.get(runId, activationId);
  }

  renewLeases(owner: string, until: number): void {
    this.#renewLeases.run(until, owner);
  }

  /** Releases the leases of workers that are gone, so their activations run again now. */
  releaseLeasesOf(owner: string): number {
    return this.#db.prepare('UPDATE ready SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?').run(owner)
      .changes;
  }

  /**
   * No timer is due before this time, as far as this process knows: timers it adds lower it,
   * `refreshTimerHint` re-reads it (which also sees timers added by other processes).
   */
  timerHint = 0;

  addTimer(timer: TimerRow): void {
    this.#insertTimer.run(timer.run_id, timer.activation_id, timer.purpose, timer.node_id, timer.attempt, timer.due_at);
    this.timerHint = Math.min(this.timerHint, timer.due_at);
  }

  /** Re-reads the hint; with `runId`, from that run's timers only (a worker scoped to one run). */
  refreshTimerHint(runId?: string): number {
    this.timerHint = this.nextTimerDue(runId) ?? Number.POSITIVE_INFINITY;
    return this.timerHint;
  }

  deleteTimer(runId: string, activationId: string, purpose: TimerPurpose): boolean {
    return this.#deleteTimer.run(runId, activationId, purpose).changes > 0;
  }

  dueTimers(now: number, limit: number, runId?: string): TimerRow[] {
    return runId === undefined ? this.#dueTimers.all(now, limit) : this.#dueTimersForRun.all(now, runId, limit);
  }

  nextTimerDue(runId?: string): number | null {
    const row = runId === undefined ? this.#nextTimer.get() : this.#nextTimerOfRun.get(runId);
    return row?.due_at ?? null;
  }

  addWait(runId: string, activationId: string, nodeId: string, wait: WaitRequest, input: unknown, at: number): void {
    if (wait.kind !== 'approval') return;
    this.#insertWait.run(
      runId,
      activationId,
      nodeId,
      wait.kind,
      wait.title,
      wait.instructions,
      JSON.stringify(input ?? null),
      at,
      wait.timeoutAt,
    );
  }

  /** Records a decision on an open wait; false when it was already decided (or never open). */
  decideWait(
    runId: string,
    activationId: string,
    decision: string,
    by: string,
    comment: string | null,
    at: number,
  ): boolean {
    return this.#decideWait.run(decision, by, at, comment, runId, activationId).changes === 1;
  }

  wait(runId: string, activationId: string): WaitRow | undefined {
    return this.#db
      .prepare<[string, string], WaitRow>('SELECT * FROM waits WHERE run_id = ? AND activation_id = ?')
      .get(runId, activationId);
  }

  waitsOfRun(runId: string): WaitRow[] {
    return this.#db.prepare<[string], WaitRow>('SELECT * FROM waits WHERE run_id = ? ORDER BY created_at').all(runId);
  }

  openWaitsOfRun(runId: string): WaitRow[] {
    return this.#openWaitsOfRun.all(runId);
  }

  openWaits(limit = 100): WaitRow[] {
    return this.#db
      .prepare<[number], WaitRow>("SELECT * FROM waits WHERE status = 'open' ORDER BY created_at LIMIT ?")
      .all(limit);
  }

  clearRun(runId: string): void {
    this.#deleteRunWork(runId);
  }

  /** What is left to do: used by `worker --until-idle` and `run`. */
  pending(
    now: number,
    horizon: number,
    runId?: string,
  ): { ready: number; leased: number; timersWithinHorizon: number } {
    const scope = runId === undefined ? '' : 'AND run_id = @runId';
    const params = { now, limit: now + horizon, ...(runId !== undefined && { runId }) };
    const ready = this.#db
      .prepare<typeof params, { n: number }>(`SELECT count(*) AS n FROM ready WHERE lease_owner IS NULL ${scope}`)
      .get(params);
    const leased = this.#db
      .prepare<typeof params, { n: number }>(`SELECT count(*) AS n FROM ready WHERE lease_owner IS NOT NULL ${scope}`)
      .get(params);
    const timers = this.#db
      .prepare<typeof params, { n: number }>(`SELECT count(*) AS n FROM timers WHERE due_at <= @limit ${scope}`)
      .get(params);
    return { ready: ready?.n ?? 0, leased: leased?.n ?? 0, timersWithinHorizon: timers?.n ?? 0 };
  }

  registerWorker(worker: WorkerRow): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO workers (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)')
      .run(worker.id, worker.pid, worker.host, worker.started_at, worker.heartbeat_at);
  }

  heartbeat(workerId: string, at: number): void {
    this.#db.prepare('UPDATE workers SET heartbeat_at = ? WHERE id = ?').run(at, workerId);
  }

  workers(): WorkerRow[] {
    return this.#db.prepare<[], WorkerRow>('SELECT * FROM workers').all();
  }

  removeWorker(workerId: string): void {
    this.#db.prepare('DELETE FROM workers WHERE id = ?').run(workerId);
  }
}
