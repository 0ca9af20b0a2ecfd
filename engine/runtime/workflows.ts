// Workflows, drafts and versions: validation, immutable content-addressed versions, and the
// editor's operations on drafts (create, rename, duplicate, import, restore, delete).
import { randomBytes } from 'node:crypto';
import { slugId, WORKFLOW_FORMAT, type Workflow, type WorkflowVersion } from '../model/workflow.js';
import type { NodeRegistry } from '../registry/index.js';
import {
  contentHash,
  type Store,
  type VersionSummary,
  type WorkflowRecord,
  type WorkflowSummary,
} from '../store/index.js';
import {
  validateWorkflow,
  validateWorkflowText,
  WorkflowInvalidError,
  type Problem,
  type ValidationResult,
} from '../validate/index.js';
import type { Clock } from './clock.js';
import { EngineError } from './errors.js';
import type { Schedules } from './schedules.js';

export interface SavedVersion {
  workflowId: string;
  version: number;
  created: boolean;
  /** Warnings of the validation (errors refuse the save). */
  warnings: Problem[];
}

export class Workflows {
  readonly #store: Store;
  readonly #registry: NodeRegistry;
  readonly #clock: Clock;
  readonly #schedules: Schedules | undefined;

  constructor(store: Store, registry: NodeRegistry, clock: Clock, schedules?: Schedules) {
    this.#store = store;
    this.#registry = registry;
    this.#clock = clock;
    this.#schedules = schedules;
  }

  validate(source: unknown): ValidationResult {
    return typeof source === 'string'
      ? validateWorkflowText(source, this.#registry)
      : validateWorkflow(source, this.#registry);
  }

  /**
   * Saves a workflow (file text or object) as a version; identical content reuses the existing
   * version. Throws WorkflowInvalidError, naming every problem, when it is not valid.
   */
  async save(source: unknown, options: { note?: string | null } = {}): Promise<SavedVersion> {
    const result = this.validate(source);
    if (!result.ok) throw new WorkflowInvalidError(result.problems);
    const saved = await this.#store.workflows.saveVersion(result.workflow, options.note ?? null, this.#clock.now());
    // The latest version decides the schedules: its triggers fire from now on, dropped ones stop.
    await this.#schedules?.sync(saved.version.workflowId);
    return {
      workflowId: saved.version.workflowId,
      version: saved.version.version,
      created: saved.created,
      warnings: result.problems,
    };
  }

  /** Freezes the draft as a version (or finds the identical one). */
  async saveDraftAsVersion(workflowId: string, note: string | null): Promise<SavedVersion> {
    return this.save(draftOf(await this.record(workflowId)), { note });
  }

  list(): Promise<WorkflowSummary[]> {
    return this.#store.workflows.list();
  }

  versions(workflowId: string): Promise<VersionSummary[]> {
    return this.#store.workflows.listVersions(workflowId);
  }

  /** A version, or the latest when `version` is omitted. */
  version(workflowId: string, version?: number): Promise<WorkflowVersion | undefined> {
    return version === undefined
      ? this.#store.workflows.latestVersion(workflowId)
      : this.#store.workflows.getVersion(workflowId, version);
  }

  /** A live workflow; throws not-found otherwise. */
  async record(workflowId: string): Promise<WorkflowRecord> {
    const record = await this.#store.workflows.get(workflowId);
    if (!record) throw new EngineError(`no workflow "${workflowId}"`, 'not-found');
    return record;
  }

  /** True when the draft differs from the latest version (or there is none yet). */
  draftChanged(record: WorkflowRecord): Promise<boolean> {
    return this.#store.workflows.draftChanged(record.id, draftOf(record));
  }

  /**
   * The version whose content the draft has (any version: a restored one too), or null when the
   * draft is content no version has: what running the draft would be pinned to without saving.
   */
  async draftVersion(record: WorkflowRecord): Promise<number | null> {
    const hash = contentHash(draftOf(record));
    const versions = await this.#store.workflows.listVersions(record.id);
    return versions.find((version) => version.hash === hash)?.version ?? null;
  }

  /** A new workflow from a graph (its id replaced by a fresh one derived from its name). */
  async create(graph: Workflow): Promise<string> {
    const id = await this.#freshId(graph.name);
    await this.#store.workflows.create({ ...graph, id }, this.#clock.now());
    return id;
  }

  /** An empty workflow: just a manual trigger. */
  empty(name: string): Workflow {
    return emptyWorkflow('new', name);
  }

  async rename(workflowId: string, name: string): Promise<void> {
    const record = await this.record(workflowId);
    await this.#store.workflows.saveDraft({ ...draftOf(record), name: name.trim() }, this.#clock.now());
  }

  async duplicate(workflowId: string): Promise<string> {
    const draft = draftOf(await this.record(workflowId));
    return this.create({ ...draft, name: `${draft.name} (copy)` });
  }

  async delete(workflowId: string): Promise<void> {
    if (!(await this.#store.workflows.delete(workflowId, this.#clock.now())))
      throw new EngineError(`no workflow "${workflowId}"`, 'not-found');
  }

  /** Replaces the draft; the draft's id names the workflow. */
  async saveDraft(draft: Workflow): Promise<{ draftUpdatedAt: number; draftChanged: boolean }> {
    const now = this.#clock.now();
    if (!(await this.#store.workflows.saveDraft(draft, now)))
      throw new EngineError(`no workflow "${draft.id}"`, 'not-found');
    return { draftUpdatedAt: now, draftChanged: await this.#store.workflows.draftChanged(draft.id, draft) };
  }

  /** Copies a version into the draft; history is never rewritten. */
  async restore(workflowId: string, version: number): Promise<void> {
    await this.record(workflowId);
    const found = await this.#store.workflows.getVersion(workflowId, version);
    if (!found) throw new EngineError(`workflow "${workflowId}" has no version ${version}`, 'not-found');
    await this.#store.workflows.saveDraft(found.graph, this.#clock.now());
  }

  /**
   * Imports workflow file text: a version when it is valid, and the draft either way. Its `id`
   * decides which workflow it becomes; importing over unsaved edits makes a new workflow instead.
   */
  async import(text: string): Promise<{ workflowId: string; version: number | null; problems: Problem[] }> {
    const result = this.validate(text);
    if (result.workflow === null) throw new WorkflowInvalidError(result.problems, 'the file');
    let graph = result.workflow;
    const existing = await this.#store.workflows.get(graph.id);
    if (existing?.draft && (await this.draftChanged(existing)) && contentHash(existing.draft) !== contentHash(graph))
      graph = { ...graph, id: await this.#freshId(graph.name) };
    const now = this.#clock.now();
    let version: number | null = null;
    if (result.ok) version = (await this.#store.workflows.saveVersion(graph, 'Imported', now)).version.version;
    if (await this.#store.workflows.get(graph.id)) await this.#store.workflows.saveDraft(graph, now);
    else await this.#store.workflows.create(graph, now);
    if (version !== null) await this.#schedules?.sync(graph.id);
    return { workflowId: graph.id, version, problems: result.problems };
  }

  /** An id derived from the name, with a random suffix so that names may repeat. */
  async #freshId(name: string): Promise<string> {
    const slug = slugId(name, 48, 'workflow');
    for (;;) {
      const id = `${slug}-${randomBytes(3).toString('hex')}`;
      if (!(await this.#store.workflows.exists(id))) return id;
    }
  }
}

/** The draft; an empty one stands in should a row ever lack it (every write stores one). */
export function draftOf(record: WorkflowRecord): Workflow {
  return record.draft ?? emptyWorkflow(record.id, record.name);
}

function emptyWorkflow(id: string, name: string): Workflow {
  return {
    format: WORKFLOW_FORMAT,
    id,
    name: name.trim() || 'Untitled',
    nodes: [
      { id: 'start', type: 'trigger.manual', typeVersion: 1, name: 'Start', position: { x: 0, y: 0 }, config: {} },
    ],
    edges: [],
  };
}
