// The journal (append-only events, unique per run + seq) and the `runs` projection beside it.
// Callers hold the transaction: an event and the projection change commit together.
import type { JournalEvent } from '../journal/events.js';
import type { RunStatus } from '../journal/state.js';
import type { Db } from './database.js';

interface EventRow {
  seq: number;
  type: string;
  activation_id: string | null;
  node_id: string | null;
  attempt: number | null;
  data: string;
  at: number;
}

interface RunRow {
  id: string;
  workflow_id: string;
  version: number;
  status: string;
  input: string;
  output: string | null;
  error: string | null;
  parent_run_id: string | null;
  last_seq: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface RunSummary {
  runId: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: unknown;
  parentRunId: string | null;
  lastSeq: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface RunFilter {
  status?: RunStatus;
  workflowId?: string;
  limit?: number;
}

export class JournalStore {
  readonly #db: Db;
  readonly #insertEvent;
  readonly #eventsAfter;
  readonly #insertRun;
  readonly #updateRun;
  readonly #runRow;
  readonly #lastSeq;

  constructor(db: Db) {
    this.#db = db;
    this.#insertEvent = db.prepare(
      `INSERT INTO events (run_id, seq, type, activation_id, node_id, attempt, data, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#eventsAfter = db.prepare<[string, number], EventRow>(
      'SELECT seq, type, activation_id, node_id, attempt, data, at FROM events WHERE run_id = ? AND seq > ? ORDER BY seq',
    );
    this.#insertRun = db.prepare(
      `INSERT INTO runs (id, workflow_id, version, status, input, parent_run_id, last_seq, created_at, updated_at)
       VALUES (?, ?, ?, 'running', ?, ?, 0, ?, ?)`,
    );
    this.#updateRun = db.prepare(
      `UPDATE runs SET status = ?, output = ?, error = ?, last_seq = ?, updated_at = ?, finished_at = ? WHERE id = ?`,
    );
    this.#runRow = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?');
    this.#lastSeq = db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM runs WHERE id = ?');
  }

  insertRun(run: {
    runId: string;
    workflowId: string;
    version: number;
    input: unknown;
    parentRunId: string | null;
    at: number;
  }): void {
    this.#insertRun.run(
      run.runId,
      run.workflowId,
      run.version,
      JSON.stringify(run.input ?? null),
      run.parentRunId,
      run.at,
      run.at,
    );
  }

  append(runId: string, event: JournalEvent): void {
    this.#insertEvent.run(
      runId,
      event.seq,
      event.type,
      event.activationId,
      event.nodeId,
      event.attempt,
      JSON.stringify(event.data),
      event.at,
    );
  }

  updateRun(
    runId: string,
    projection: {
      status: RunStatus;
      output: unknown;
      error: unknown;
      lastSeq: number;
      at: number;
      finishedAt: number | null;
    },
  ): void {
    this.#updateRun.run(
      projection.status,
      projection.output === undefined ? null : JSON.stringify(projection.output),
      projection.error === null || projection.error === undefined ? null : JSON.stringify(projection.error),
      projection.lastSeq,
      projection.at,
      projection.finishedAt,
      runId,
    );
  }

  lastSeq(runId: string): number | undefined {
    return this.#lastSeq.get(runId)?.last_seq;
  }

  eventsAfter(runId: string, seq: number): JournalEvent[] {
    return this.#eventsAfter.all(runId, seq).map(toEvent);
  }

  getRun(runId: string): RunSummary | undefined {
    const row = this.#runRow.get(runId);
    return row && toSummary(row);
  }

  /** Finds a run by a unique prefix of its id (as `git` does for commits). */
  resolveRunId(prefix: string): string[] {
    return this.#db
      .prepare<[string, string], { id: string }>('SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2')
      .all(prefix, `${prefix}\uffff`)
      .map((row) => row.id);
  }

  listRuns(filter: RunFilter = {}): RunSummary[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.workflowId) {
      where.push('workflow_id = ?');
      params.push(filter.workflowId);
    }
    params.push(filter.limit ?? 100);
    return this.#db
      .prepare<(string | number)[], RunRow>(
        `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(...params)
      .map(toSummary);
  }

  /** Runs that still have work: used to warm caches and by `--until-idle`. */
  countByStatus(): Record<string, number> {
    const rows = this.#db
      .prepare<[], { status: string; n: number }>('SELECT status, count(*) AS n FROM runs GROUP BY status')
      .all();
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }
}

function toEvent(row: EventRow): JournalEvent {
  return {
    seq: row.seq,
    at: row.at,
    type: row.type,
    activationId: row.activation_id,
    nodeId: row.node_id,
    attempt: row.attempt,
    data: JSON.parse(row.data) as never,
  } as JournalEvent;
}

function toSummary(row: RunRow): RunSummary {
  return {
    runId: row.id,
    workflowId: row.workflow_id,
    version: row.version,
    status: row.status as RunStatus,
    input: JSON.parse(row.input) as unknown,
    output: row.output === null ? null : (JSON.parse(row.output) as unknown),
    error: row.error === null ? null : (JSON.parse(row.error) as unknown),
    parentRunId: row.parent_run_id,
    lastSeq: row.last_seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}
