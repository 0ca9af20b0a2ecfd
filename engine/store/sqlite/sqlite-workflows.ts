// Workflows and their immutable, content-addressed versions, in SQLite.
import type { Workflow, WorkflowVersion } from '../../model/workflow.js';
import { contentHash } from '../content-hash.js';
import type { VersionSummary, WorkflowRecord, WorkflowRepository, WorkflowSummary } from '../store.js';
import type { Db } from './database.js';

interface VersionRow {
  workflow_id: string;
  version: number;
  hash: string;
  graph: string;
  note: string | null;
  created_at: number;
}

interface WorkflowRow {
  id: string;
  name: string;
  draft: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  draft_updated_at: number | null;
  latest: number | null;
}

export class SqliteWorkflows implements WorkflowRepository {
  readonly #db: Db;
  readonly #versionByHash;
  readonly #versionByNumber;
  readonly #latest;
  readonly #latestNumber;
  readonly #latestHash;
  readonly #row;
  readonly #upsertWorkflow;
  readonly #insertVersion;

  constructor(db: Db) {
    this.#db = db;
    this.#versionByHash = db.prepare<[string, string], VersionRow>(
      'SELECT * FROM workflow_versions WHERE workflow_id = ? AND hash = ?',
    );
    this.#versionByNumber = db.prepare<[string, number], VersionRow>(
      'SELECT * FROM workflow_versions WHERE workflow_id = ? AND version = ?',
    );
    this.#latest = db.prepare<[string], VersionRow>(
      'SELECT * FROM workflow_versions WHERE workflow_id = ? ORDER BY version DESC LIMIT 1',
    );
    this.#latestHash = db.prepare<[string], { hash: string }>(
      'SELECT hash FROM workflow_versions WHERE workflow_id = ? ORDER BY version DESC LIMIT 1',
    );
    this.#latestNumber = db.prepare<[string], { version: number | null }>(
      'SELECT max(version) AS version FROM workflow_versions WHERE workflow_id = ?',
    );
    this.#row = db.prepare<[string], WorkflowRow>(
      `SELECT w.*, (SELECT max(version) FROM workflow_versions v WHERE v.workflow_id = w.id) AS latest
       FROM workflows w WHERE w.id = ?`,
    );
    // A saved version becomes the draft unless the draft holds edits not in the latest version.
    this.#upsertWorkflow = db.prepare(
      `INSERT INTO workflows (id, name, draft, created_at, updated_at, draft_updated_at)
       VALUES (@id, @name, @draft, @now, @now, @now)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at, deleted_at = NULL,
         draft = CASE WHEN @replaceDraft THEN excluded.draft ELSE draft END,
         draft_updated_at = CASE WHEN @replaceDraft THEN excluded.updated_at ELSE draft_updated_at END`,
    );
    this.#insertVersion = db.prepare(
      `INSERT INTO workflow_versions (workflow_id, version, hash, graph, note, created_at)
       VALUES (@workflowId, @version, @hash, @graph, @note, @createdAt)`,
    );
  }

  saveVersion(
    graph: Workflow,
    note: string | null,
    now: number,
  ): Promise<{ version: WorkflowVersion; created: boolean }> {
    return run(() =>
      this.#db
        .transaction(() => {
          const hash = contentHash(graph);
          const replaceDraft = this.#draftIsUnedited(graph.id) ? 1 : 0;
          this.#upsertWorkflow.run({ id: graph.id, name: graph.name, draft: JSON.stringify(graph), now, replaceDraft });
          const existing = this.#versionByHash.get(graph.id, hash);
          if (existing) return { version: toVersion(existing), created: false };
          const number = (this.#latest.get(graph.id)?.version ?? 0) + 1;
          const version: WorkflowVersion = { workflowId: graph.id, version: number, hash, graph, note, createdAt: now };
          this.#insertVersion.run({ ...version, graph: JSON.stringify(graph) });
          return { version, created: true };
        })
        .immediate(),
    );
  }

  /** True when there is no draft, or the draft has the latest version's content (or the workflow is deleted). */
  #draftIsUnedited(workflowId: string): boolean {
    const row = this.#row.get(workflowId);
    if (!row?.draft || row.deleted_at !== null) return true;
    return !this.#draftChanged(workflowId, JSON.parse(row.draft) as Workflow);
  }

  draftChanged(workflowId: string, draft: Workflow): Promise<boolean> {
    return run(() => this.#draftChanged(workflowId, draft));
  }

  /** Reads only the latest version's hash, not its graph. */
  #draftChanged(workflowId: string, draft: Workflow): boolean {
    const latest = this.#latestHash.get(workflowId);
    return latest === undefined || contentHash(draft) !== latest.hash;
  }

  get(workflowId: string): Promise<WorkflowRecord | undefined> {
    return run(() => {
      const row = this.#row.get(workflowId);
      return row && row.deleted_at === null ? toRecord(row) : undefined;
    });
  }

  exists(workflowId: string): Promise<boolean> {
    return run(() => this.#row.get(workflowId) !== undefined);
  }

  create(graph: Workflow, now: number): Promise<void> {
    return run(() => {
      this.#db
        .prepare(
          `INSERT INTO workflows (id, name, draft, created_at, updated_at, draft_updated_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(graph.id, graph.name, JSON.stringify(graph), now, now, now);
    });
  }

  saveDraft(graph: Workflow, now: number): Promise<boolean> {
    return run(
      () =>
        this.#db
          .prepare(
            `UPDATE workflows SET draft = ?, name = ?, draft_updated_at = ?, updated_at = ?
             WHERE id = ? AND deleted_at IS NULL`,
          )
          .run(JSON.stringify(graph), graph.name, now, now, graph.id).changes === 1,
    );
  }

  delete(workflowId: string, now: number): Promise<boolean> {
    return run(() =>
      this.#db
        .transaction(() => {
          const deleted =
            this.#db
              .prepare('UPDATE workflows SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL')
              .run(now, now, workflowId).changes === 1;
          // A deleted workflow's schedules stop with it.
          if (deleted) this.#db.prepare('DELETE FROM schedules WHERE workflow_id = ?').run(workflowId);
          return deleted;
        })
        .immediate(),
    );
  }

  getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined> {
    return run(() => {
      const row = this.#versionByNumber.get(workflowId, version);
      return row && toVersion(row);
    });
  }

  latestVersionNumber(workflowId: string): Promise<number | undefined> {
    return run(() => this.#latestNumber.get(workflowId)?.version ?? undefined);
  }

  latestVersion(workflowId: string): Promise<WorkflowVersion | undefined> {
    return run(() => {
      const row = this.#latest.get(workflowId);
      return row && toVersion(row);
    });
  }

  listVersions(workflowId: string): Promise<VersionSummary[]> {
    return run(() =>
      this.#db
        .prepare<[string], Omit<VersionRow, 'graph'> & { runs: number }>(
          `SELECT v.workflow_id, v.version, v.hash, v.note, v.created_at,
                  (SELECT count(*) FROM runs r WHERE r.workflow_id = v.workflow_id AND r.version = v.version) AS runs
           FROM workflow_versions v WHERE v.workflow_id = ? ORDER BY v.version`,
        )
        .all(workflowId)
        .map((row) => ({
          workflowId: row.workflow_id,
          version: row.version,
          hash: row.hash,
          note: row.note,
          createdAt: row.created_at,
          runs: row.runs,
        })),
    );
  }

  list(): Promise<WorkflowSummary[]> {
    return run(() =>
      this.#db
        .prepare<[], { id: string; name: string; latest: number | null; created_at: number; updated_at: number }>(
          `SELECT w.id, w.name, w.created_at, w.updated_at,
                  (SELECT max(version) FROM workflow_versions v WHERE v.workflow_id = w.id) AS latest
           FROM workflows w WHERE w.deleted_at IS NULL ORDER BY w.updated_at DESC`,
        )
        .all()
        .map((row) => ({
          id: row.id,
          name: row.name,
          latestVersion: row.latest,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
        })),
    );
  }
}

/** SQLite answers synchronously; the interface is async for stores that cannot. */
export function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function toRecord(row: WorkflowRow): WorkflowRecord {
  return {
    id: row.id,
    name: row.name,
    latestVersion: row.latest,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    draft: row.draft === null ? null : (JSON.parse(row.draft) as Workflow),
    draftUpdatedAt: row.draft_updated_at,
  };
}

function toVersion(row: VersionRow): WorkflowVersion {
  return {
    workflowId: row.workflow_id,
    version: row.version,
    hash: row.hash,
    graph: JSON.parse(row.graph) as Workflow,
    note: row.note,
    createdAt: row.created_at,
  };
}
