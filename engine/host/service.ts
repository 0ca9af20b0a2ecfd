// EngineApi implemented on an Engine: what the engine host answers to the renderer.
// Every workflow mutation emits `workflowsChanged`; every commit that changes runs emits `runsChanged`.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ApiError,
  formatWorkflowFile,
  WORKFLOW_FILE_SUFFIX,
  workflowFileName,
  type EngineApi,
  type EventData,
  type EventName,
  type NodeType,
  type Params,
  type Result,
  type RunSummary as ApiRunSummary,
  type Template,
  type WorkflowDetail,
} from '../api/index.js';
import { slugId, WORKFLOW_FORMAT, workflowSchema, type Workflow } from '../model/workflow.js';
import { EngineError, type Engine } from '../runtime/engine.js';
import type { RunSummary } from '../store/journal-store.js';
import { contentHash, type WorkflowRecord } from '../store/workflow-store.js';
import { WorkflowInvalidError, type Problem } from '../validate/index.js';

export interface EngineServiceOptions {
  engine: Engine;
  dbPath: string;
  templatesDir: string;
  emit<E extends EventName>(event: E, data: EventData<E>): void;
}

export class EngineService implements EngineApi {
  readonly #engine: Engine;
  readonly #options: EngineServiceOptions;
  #nodeTypes: NodeType[] | undefined;

  constructor(options: EngineServiceOptions) {
    this.#engine = options.engine;
    this.#options = options;
  }

  health(): Promise<Result<'health'>> {
    return done({ ok: true as const, pid: process.pid, dbPath: this.#options.dbPath });
  }

  listNodeTypes(): Promise<NodeType[]> {
    this.#nodeTypes ??= describeNodeTypes(this.#engine);
    return done(this.#nodeTypes);
  }

  listTemplates(): Promise<Template[]> {
    return done(this.#templates().map(({ template }) => template));
  }

  listWorkflows(): Promise<Result<'listWorkflows'>> {
    return done(this.#engine.listWorkflows());
  }

  getWorkflow({ workflowId }: Params<'getWorkflow'>): Promise<WorkflowDetail> {
    return done(this.#detail(workflowId));
  }

  createWorkflow({ name, template }: Params<'createWorkflow'>): Promise<WorkflowDetail> {
    const base =
      template === undefined
        ? emptyWorkflow('new', name)
        : { ...this.#template(template), name: name.trim() || 'Untitled' };
    const graph: Workflow = { ...base, id: this.#freshId(base.name) };
    this.#engine.workflows.createWorkflow(graph, Date.now());
    return done(this.#changed(graph.id));
  }

  renameWorkflow({ workflowId, name }: Params<'renameWorkflow'>): Promise<WorkflowDetail> {
    const record = this.#record(workflowId);
    this.#engine.workflows.saveDraft({ ...draftOf(record), name: name.trim() }, Date.now());
    return done(this.#changed(workflowId));
  }

  duplicateWorkflow({ workflowId }: Params<'duplicateWorkflow'>): Promise<WorkflowDetail> {
    const draft = draftOf(this.#record(workflowId));
    const name = `${draft.name} (copy)`;
    const copy: Workflow = { ...draft, id: this.#freshId(name), name };
    this.#engine.workflows.createWorkflow(copy, Date.now());
    return done(this.#changed(copy.id));
  }

  deleteWorkflow({ workflowId }: Params<'deleteWorkflow'>): Promise<{ deleted: true }> {
    if (!this.#engine.workflows.deleteWorkflow(workflowId, Date.now())) throw notFound(workflowId);
    this.#options.emit('workflowsChanged', { workflowId });
    return done({ deleted: true as const });
  }

  importWorkflow({ text }: Params<'importWorkflow'>): Promise<Result<'importWorkflow'>> {
    const result = this.#engine.validate(text);
    if (result.workflow === null) throw new ApiError('invalid', 'the file is not a Stepwise workflow', result.problems);
    let graph = result.workflow;
    const existing = this.#engine.workflows.getWorkflow(graph.id);
    // Importing over unsaved edits would lose them: the file becomes a new workflow instead.
    if (
      existing &&
      this.#draftChanged(existing) &&
      existing.draft &&
      contentHash(existing.draft) !== contentHash(graph)
    )
      graph = { ...graph, id: this.#freshId(graph.name) };
    const now = Date.now();
    let version: number | null = null;
    if (result.ok) version = this.#engine.workflows.saveVersion(graph, 'Imported', now).version.version;
    if (this.#engine.workflows.getWorkflow(graph.id)) this.#engine.workflows.saveDraft(graph, now);
    else this.#engine.workflows.createWorkflow(graph, now);
    return done({ workflow: this.#changed(graph.id), version, problems: result.problems });
  }

  exportWorkflow({ workflowId, version }: Params<'exportWorkflow'>): Promise<Result<'exportWorkflow'>> {
    const graph = version === undefined ? draftOf(this.#record(workflowId)) : this.#version(workflowId, version).graph;
    return done({ fileName: workflowFileName(graph, version), text: formatWorkflowFile(graph) });
  }

  saveDraft({ workflowId, draft }: Params<'saveDraft'>): Promise<Result<'saveDraft'>> {
    const graph = workflowSchema.parse(draft);
    if (graph.id !== workflowId)
      throw new ApiError('bad-request', `the draft's id "${graph.id}" is not the workflow's id "${workflowId}"`);
    const now = Date.now();
    if (!this.#engine.workflows.saveDraft(graph, now)) throw notFound(workflowId);
    this.#options.emit('workflowsChanged', { workflowId });
    return done({ draftUpdatedAt: now, draftChanged: this.#engine.workflows.draftChanged(workflowId, graph) });
  }

  validate({ workflow }: Params<'validate'>): Promise<{ problems: Problem[] }> {
    return done({ problems: this.#engine.validate(workflow).problems });
  }

  saveVersion({ workflowId, note }: Params<'saveVersion'>): Promise<Result<'saveVersion'>> {
    const saved = this.#saveVersion(workflowId, note?.trim() || null);
    return done({ version: saved.version, created: saved.created, problems: saved.warnings });
  }

  listVersions({ workflowId }: Params<'listVersions'>): Promise<Result<'listVersions'>> {
    this.#record(workflowId);
    return done(this.#engine.listVersions(workflowId));
  }

  getVersion({ workflowId, version }: Params<'getVersion'>): Promise<Result<'getVersion'>> {
    const found = this.#version(workflowId, version);
    const runs = this.#engine.listVersions(workflowId).find((entry) => entry.version === version)?.runs ?? 0;
    return done({ ...found, runs });
  }

  restoreVersion({ workflowId, version }: Params<'restoreVersion'>): Promise<WorkflowDetail> {
    this.#record(workflowId);
    this.#engine.workflows.saveDraft(this.#version(workflowId, version).graph, Date.now());
    return done(this.#changed(workflowId));
  }

  async runDraft({ workflowId, input }: Params<'runDraft'>): Promise<Result<'runDraft'>> {
    const saved = this.#saveVersion(workflowId, 'Run from the editor');
    const run = await mapErrors(() => this.#engine.startRun(workflowId, { version: saved.version, input }));
    return { run: apiRun(run), versionCreated: saved.created };
  }

  listRuns({ workflowId, limit }: Params<'listRuns'>): Promise<ApiRunSummary[]> {
    return done(
      this.#engine.listRuns({ limit: limit ?? 50, ...(workflowId !== undefined && { workflowId }) }).map(apiRun),
    );
  }

  #saveVersion(workflowId: string, note: string | null): { version: number; created: boolean; warnings: Problem[] } {
    const draft = draftOf(this.#record(workflowId));
    const saved = syncMapErrors(() => this.#engine.saveWorkflow(draft, note === null ? {} : { note }));
    if (saved.created) this.#options.emit('workflowsChanged', { workflowId });
    return saved;
  }

  #record(workflowId: string): WorkflowRecord {
    const record = this.#engine.workflows.getWorkflow(workflowId);
    if (!record) throw notFound(workflowId);
    return record;
  }

  #version(workflowId: string, version: number): NonNullable<ReturnType<Engine['getVersion']>> {
    const found = this.#engine.getVersion(workflowId, version);
    if (!found) throw new ApiError('not-found', `workflow "${workflowId}" has no version ${version}`);
    return found;
  }

  #detail(workflowId: string): WorkflowDetail {
    const record = this.#record(workflowId);
    return {
      id: record.id,
      name: record.name,
      latestVersion: record.latestVersion,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      draft: draftOf(record),
      draftUpdatedAt: record.draftUpdatedAt ?? record.updatedAt,
      draftChanged: this.#draftChanged(record),
    };
  }

  #draftChanged(record: WorkflowRecord): boolean {
    return this.#engine.workflows.draftChanged(record.id, draftOf(record));
  }

  #changed(workflowId: string): WorkflowDetail {
    this.#options.emit('workflowsChanged', { workflowId });
    return this.#detail(workflowId);
  }

  /** An id derived from the name, with a random suffix so that names may repeat. */
  #freshId(name: string): string {
    const slug = slugId(name, 48, 'workflow');
    for (;;) {
      const id = `${slug}-${randomBytes(3).toString('hex')}`;
      if (!this.#engine.workflows.exists(id)) return id;
    }
  }

  #templates(): { template: Template; graph: Workflow }[] {
    let files: string[];
    try {
      files = readdirSync(this.#options.templatesDir).filter((file) => file.endsWith(WORKFLOW_FILE_SUFFIX));
    } catch {
      return [];
    }
    return files.sort().flatMap((file) => {
      const parsed = workflowSchema.safeParse(
        JSON.parse(readFileSync(join(this.#options.templatesDir, file), 'utf8')) as unknown,
      );
      if (!parsed.success) return [];
      const graph = parsed.data;
      return [{ template: { file, id: graph.id, name: graph.name, description: graph.description ?? '' }, graph }];
    });
  }

  #template(file: string): Workflow {
    const found = this.#templates().find((entry) => entry.template.file === file);
    if (!found) throw new ApiError('not-found', `no template "${file}"`);
    return found.graph;
  }
}

/** Node types as the palette and inspector see them, with the config schema as JSON Schema. */
export function describeNodeTypes(engine: Engine): NodeType[] {
  const definitions = engine.registry.list();
  return definitions.map((definition) => ({
    type: definition.type,
    typeVersion: definition.typeVersion,
    latest: Math.max(...engine.registry.versionsOf(definition.type)) === definition.typeVersion,
    title: definition.title,
    description: definition.description,
    category: definition.category,
    icon: definition.icon,
    ports: { in: [...definition.ports.in], out: [...definition.ports.out] },
    configSchema: z.toJSONSchema(definition.config, { io: 'input', unrepresentable: 'any' }),
    retry: definition.retry,
    role: definition.role ?? null,
    join: definition.join ?? 'any',
  }));
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

function draftOf(record: WorkflowRecord): Workflow {
  // Every write stores a draft; an empty one stands in should a row ever lack it.
  return record.draft ?? emptyWorkflow(record.id, record.name);
}

function apiRun(run: RunSummary): ApiRunSummary {
  const { lastSeq: _lastSeq, ...rest } = run;
  return rest;
}

function notFound(workflowId: string): ApiError {
  return new ApiError('not-found', `no workflow "${workflowId}"`);
}

function toApiError(error: unknown): unknown {
  if (error instanceof WorkflowInvalidError) return new ApiError('invalid', error.message, error.problems);
  if (error instanceof EngineError)
    return new ApiError(
      error.code === 'not-found' ? 'not-found' : error.code === 'invalid' ? 'invalid' : 'conflict',
      error.message,
    );
  return error;
}

function syncMapErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toApiError(error);
  }
}

async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toApiError(error);
  }
}

function done<T>(value: T): Promise<T> {
  return Promise.resolve(value);
}
