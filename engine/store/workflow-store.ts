// Workflows and their immutable, content-addressed versions.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../model/canonical-json.js';
import type { Workflow, WorkflowVersion } from '../model/workflow.js';
import type { Db } from './database.js';

interface VersionRow {
  workflow_id: string;
  version: number;
  hash: string;
  graph: string;
  note: string | null;
  created_at: number;
}

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

export function contentHash(graph: Workflow): string {
  return createHash('sha256').update(canonicalJson(graph)).digest('hex');
}

export class WorkflowStore {
  readonly #db: Db;
  readonly #versionByHash;
  readonly #versionByNumber;
  readonly #latest;
  readonly #latestNumber;
  readonly #latestHash;
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

  /** Stores `graph` as a new version unless identical content is already a version. */
  saveVersion(graph: Workflow, note: string | null, now: number): { version: WorkflowVersion; created: boolean } {
    return this.#db
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
      .immediate();
  }

  /** True when there is no draft, or the draft has the latest version's content (or the workflow is deleted). */
  #draftIsUnedited(workflowId: string): boolean {
    const row = this.#row(workflowId);
    if (!row?.draft || row.deleted_at !== null) return true;
    return !this.draftChanged(workflowId, JSON.parse(row.draft) as Workflow);
  }

  /** True when `draft` differs from the latest version, or there is no version yet. Reads only the hash. */
  draftChanged(workflowId: string, draft: Workflow): boolean {
    const latest = this.#latestHash.get(workflowId);
    return latest === undefined || contentHash(draft) !== latest.hash;
  }

  #row(workflowId: string): WorkflowRow | undefined {
    return this.#db
      .prepare<[string], WorkflowRow>(
        `SELECT w.*, (SELECT max(version) FROM workflow_versions v WHERE v.workflow_id = w.id) AS latest
         FROM workflows w WHERE w.id = ?`,
      )
      .get(workflowId);
  }

  /** A live (not deleted) workflow with its draft. */
  getWorkflow(workflowId: string): WorkflowRecord | undefined {
    const row = this.#row(workflowId);
    return row && row.deleted_at === null ? toRecord(row) : undefined;
  }

  /** True when the id is taken, also by a deleted workflow (whose versions runs may still use). */
  exists(workflowId: string): boolean {
    return this.#row(workflowId) !== undefined;
  }

  /** A new workflow whose draft is `graph`; no version yet. */
  createWorkflow(graph: Workflow, now: number): void {
    this.#db
      .prepare(
        `INSERT INTO workflows (id, name, draft, created_at, updated_at, draft_updated_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(graph.id, graph.name, JSON.stringify(graph), now, now, now);
  }

  /** Replaces the draft (and the name it carries). Returns false when there is no such live workflow. */
  saveDraft(graph: Workflow, now: number): boolean {
    const result = this.#db
      .prepare(
        `UPDATE workflows SET draft = ?, name = ?, draft_updated_at = ?, updated_at = ?
         WHERE id = ? AND deleted_at IS NULL`,
      )
      .run(JSON.stringify(graph), graph.name, now, now, graph.id);
    return result.changes === 1;
  }

  /** Hides the workflow from lists; its versions stay for the runs pinned to them. */
  deleteWorkflow(workflowId: string, now: number): boolean {
    const result = this.#db
      .prepare('UPDATE workflows SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL')
      .run(now, now, workflowId);
    return result.changes === 1;
  }

  getVersion(workflowId: string, version: number): WorkflowVersion | undefined {
    const row = this.#versionByNumber.get(workflowId, version);
    return row && toVersion(row);
  }

  latestVersionNumber(workflowId: string): number | undefined {
    return this.#latestNumber.get(workflowId)?.version ?? undefined;
  }

  latestVersion(workflowId: string): WorkflowVersion | undefined {
    const row = this.#latest.get(workflowId);
    return row && toVersion(row);
  }

  listVersions(workflowId: string): (Omit<WorkflowVersion, 'graph'> & { runs: number })[] {
    const rows = this.#db
      .prepare<[string], Omit<VersionRow, 'graph'> & { runs: number }>(
        `SELECT v.workflow_id, v.version, v.hash, v.note, v.created_at,
                (SELECT count(*) FROM runs r WHERE r.workflow_id = v.workflow_id AND r.version = v.version) AS runs
         FROM workflow_versions v WHERE v.workflow_id = ? ORDER BY v.version`,
      )
      .all(workflowId);
    return rows.map((row) => ({
      workflowId: row.workflow_id,
      version: row.version,
      hash: row.hash,
      note: row.note,
      createdAt: row.created_at,
      runs: row.runs,
    }));
  }

  listWorkflows(): WorkflowSummary[] {
    return this.#db
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
      }));
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
