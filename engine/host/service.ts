// EngineApi implemented on an Engine: what the engine host answers to the renderer. It maps the
// contract's types onto the engine's commands and queries, and nothing more: every workflow
// change emits `workflowsChanged`; run changes are pushed by the host (see host-main.ts).
import { z } from 'zod';
import {
  ApiError,
  type ApiErrorCode,
  formatWorkflowFile,
  workflowFileName,
  type EngineApi,
  type EventData,
  type EventName,
  type NodeType,
  type Params,
  type Result,
  type RunSummary,
  type Template,
  type WorkflowDetail,
} from '../api/index.js';
import { CredentialError } from '../credentials/index.js';
import { MOCK_SERVICE_DEFAULT_ORIGIN } from '../mock-service/server.js';
import { workflowSchema } from '../model/workflow.js';
import {
  EngineError,
  RunExportFormatError,
  type Engine,
  type RunCursor,
  type RunSummary as EngineRunSummary,
} from '../runtime/engine.js';
import { WorkflowInvalidError } from '../validate/index.js';
import { createFromTemplate, listTemplates } from './templates.js';
import { findWebhookTrigger, signatureMatches, webhookInput } from './webhook.js';

export interface EngineServiceOptions {
  engine: Engine;
  dbPath: string;
  templatesDir: string;
  /** The built-in mock service, started when a template that calls it is used. */
  mockService?: { origin(): Promise<string> };
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
    return Promise.resolve({ ok: true as const, pid: process.pid, dbPath: this.#options.dbPath });
  }

  listNodeTypes(): Promise<NodeType[]> {
    this.#nodeTypes ??= describeNodeTypes(this.#engine);
    return Promise.resolve(this.#nodeTypes);
  }

  listTemplates(): Promise<Template[]> {
    return Promise.resolve(listTemplates(this.#options.templatesDir));
  }

  listWorkflows(): Promise<Result<'listWorkflows'>> {
    return this.#engine.workflows.list();
  }

  getWorkflow({ workflowId }: Params<'getWorkflow'>): Promise<WorkflowDetail> {
    return mapErrors(() => this.#detail(workflowId));
  }

  createWorkflow({ name, template }: Params<'createWorkflow'>): Promise<WorkflowDetail> {
    return mapErrors(async () => {
      if (template === undefined)
        return this.#changed(await this.#engine.workflows.create(this.#engine.workflows.empty(name)));
      const workflows = this.#engine.workflows;
      const mockService = this.#options.mockService;
      const workflowId = await createFromTemplate(this.#options.templatesDir, template, name, {
        create: (graph) => workflows.create(graph),
        saveVersion: async (id) => {
          await workflows.saveDraftAsVersion(id, 'made with a template');
          this.#options.emit('workflowsChanged', { workflowId: id });
        },
        mockOrigin: () => (mockService ? mockService.origin() : Promise.resolve(MOCK_SERVICE_DEFAULT_ORIGIN)),
      });
      return this.#changed(workflowId);
    });
  }

  renameWorkflow({ workflowId, name }: Params<'renameWorkflow'>): Promise<WorkflowDetail> {
    return mapErrors(async () => {
      await this.#engine.workflows.rename(workflowId, name);
      return this.#changed(workflowId);
    });
  }

  duplicateWorkflow({ workflowId }: Params<'duplicateWorkflow'>): Promise<WorkflowDetail> {
    return mapErrors(async () => this.#changed(await this.#engine.workflows.duplicate(workflowId)));
  }

  deleteWorkflow({ workflowId }: Params<'deleteWorkflow'>): Promise<{ deleted: true }> {
    return mapErrors(async () => {
      await this.#engine.workflows.delete(workflowId);
      this.#options.emit('workflowsChanged', { workflowId });
      return { deleted: true as const };
    });
  }

  importWorkflow({ text }: Params<'importWorkflow'>): Promise<Result<'importWorkflow'>> {
    return mapErrors(async () => {
      const imported = await this.#engine.workflows.import(text);
      return {
        workflow: await this.#changed(imported.workflowId),
        version: imported.version,
        problems: imported.problems,
      };
    });
  }

  exportWorkflow({ workflowId, version }: Params<'exportWorkflow'>): Promise<Result<'exportWorkflow'>> {
    return mapErrors(async () => {
      const graph =
        version === undefined
          ? (await this.#detail(workflowId)).draft
          : (await this.#version(workflowId, version)).graph;
      return { fileName: workflowFileName(graph, version), text: formatWorkflowFile(graph) };
    });
  }

  saveDraft({ workflowId, draft }: Params<'saveDraft'>): Promise<Result<'saveDraft'>> {
    return mapErrors(async () => {
      const graph = workflowSchema.parse(draft);
      if (graph.id !== workflowId)
        throw new ApiError('bad-request', `the draft's id "${graph.id}" is not the workflow's id "${workflowId}"`);
      const saved = await this.#engine.workflows.saveDraft(graph);
      this.#options.emit('workflowsChanged', { workflowId });
      return saved;
    });
  }

  validate({ workflow }: Params<'validate'>): Promise<Result<'validate'>> {
    return Promise.resolve({ problems: this.#engine.workflows.validate(workflow).problems });
  }

  saveVersion({ workflowId, note }: Params<'saveVersion'>): Promise<Result<'saveVersion'>> {
    return mapErrors(async () => {
      const saved = await this.#saveVersion(workflowId, note?.trim() || null);
      return { version: saved.version, created: saved.created, problems: saved.warnings };
    });
  }

  listVersions({ workflowId }: Params<'listVersions'>): Promise<Result<'listVersions'>> {
    return mapErrors(async () => {
      await this.#engine.workflows.record(workflowId);
      return this.#engine.workflows.versions(workflowId);
    });
  }

  getVersion({ workflowId, version }: Params<'getVersion'>): Promise<Result<'getVersion'>> {
    return mapErrors(async () => {
      const found = await this.#version(workflowId, version);
      const runs =
        (await this.#engine.workflows.versions(workflowId)).find((entry) => entry.version === version)?.runs ?? 0;
      return { ...found, runs };
    });
  }

  restoreVersion({ workflowId, version }: Params<'restoreVersion'>): Promise<WorkflowDetail> {
    return mapErrors(async () => {
      await this.#engine.workflows.restore(workflowId, version);
      return this.#changed(workflowId);
    });
  }

  runDraft({ workflowId, input, by, playback }: Params<'runDraft'>): Promise<Result<'runDraft'>> {
    return mapErrors(async () => {
      const saved = await this.#saveVersion(workflowId, 'Run from the editor');
      const run = await this.#engine.commands.start(workflowId, {
        version: saved.version,
        input,
        ...(by !== undefined && { by }),
        ...(playback === true && { playback }),
      });
      return { run: apiRun(run), versionCreated: saved.created };
    });
  }

  // ── Runs ───────────────────────────────────────────────────────────────────────────────────

  listRuns(params: Params<'listRuns'>): Promise<Result<'listRuns'>> {
    return mapErrors(async () => {
      const filter = {
        ...(params.workflowId !== undefined && { workflowId: params.workflowId }),
        ...(params.version !== undefined && { version: params.version }),
        ...(params.idPrefix !== undefined && { idPrefix: params.idPrefix }),
      };
      const page = await this.#engine.queries.list(
        { ...filter, ...(params.status !== undefined && { status: params.status }) },
        { after: parseCursor(params.cursor), limit: params.limit ?? 50 },
      );
      return {
        runs: page.runs.map(apiRun),
        nextCursor: page.next === null ? null : formatCursor(page.next),
        counts: await this.#engine.queries.counts(filter),
      };
    });
  }

  getRun({ runId }: Params<'getRun'>): Promise<Result<'getRun'>> {
    return mapErrors(async () => {
      const detail = await this.#engine.queries.get(runId);
      if (!detail) throw new ApiError('not-found', `no run "${runId}"`);
      const { events: _events, activations, ...rest } = detail;
      return {
        ...rest,
        activations: activations.map((activation) => ({ ...activation, attempts: [...activation.attempts] })),
      };
    });
  }

  getRunEvents({ runId, afterSeq, limit }: Params<'getRunEvents'>): Promise<Result<'getRunEvents'>> {
    return mapErrors(async () => {
      if (!(await this.#engine.queries.summary(runId))) throw new ApiError('not-found', `no run "${runId}"`);
      // One more than asked says whether there is more, whatever is appended meanwhile.
      const max = limit ?? 1000;
      const events = await this.#engine.queries.events(runId, afterSeq ?? 0, max + 1);
      return { events: events.slice(0, max), more: events.length > max };
    });
  }

  startRun({ workflowId, version, input, by, playback }: Params<'startRun'>): Promise<RunSummary> {
    return mapErrors(async () =>
      apiRun(
        await this.#engine.commands.start(workflowId, {
          input,
          ...(version !== undefined && { version }),
          ...(by !== undefined && { by }),
          ...(playback === true && { playback }),
        }),
      ),
    );
  }

  decide({ runId, nodeId, decision, by, comment, values }: Params<'decide'>): Promise<RunSummary> {
    return mapErrors(async () =>
      apiRun(
        await this.#engine.commands.decide(runId, decision, {
          ...(nodeId !== undefined && { nodeId }),
          ...(by !== undefined && { by }),
          ...(comment !== undefined && { comment }),
          ...(values !== undefined && { values }),
        }),
      ),
    );
  }

  cancelRun({ runId, reason }: Params<'cancelRun'>): Promise<RunSummary> {
    return mapErrors(async () =>
      apiRun(await this.#engine.commands.cancel(runId, reason === undefined ? {} : { reason })),
    );
  }

  forkRun({ runId, seq, on, setOutput, playback }: Params<'forkRun'>): Promise<RunSummary> {
    return mapErrors(async () =>
      apiRun(
        await this.#engine.commands.fork(runId, {
          seq,
          ...(on !== undefined && { on }),
          ...(setOutput !== undefined && { setOutput }),
          ...(playback === true && { playback }),
        }),
      ),
    );
  }

  getRunState({ runId, seq }: Params<'getRunState'>): Promise<Result<'getRunState'>> {
    return mapErrors(() => this.#engine.queries.state(runId, seq));
  }

  exportRun({ runId }: Params<'exportRun'>): Promise<Result<'exportRun'>> {
    return mapErrors(async () => {
      const exported = await this.#engine.queries.export(runId);
      return { fileName: `run-${runId}.json`, text: `${JSON.stringify(exported, null, 2)}\n` };
    });
  }

  importRun({ text }: Params<'importRun'>): Promise<Result<'importRun'>> {
    return mapErrors(async () => {
      let file: unknown;
      try {
        file = JSON.parse(text);
      } catch (error) {
        throw new ApiError('invalid', `not a run export: the file is not JSON (${(error as Error).message})`);
      }
      const { run, warnings } = await this.#engine.commands.import(file);
      return { run: apiRun(run), warnings };
    });
  }

  verifyReplay({ runId }: Params<'verifyReplay'>): Promise<Result<'verifyReplay'>> {
    return mapErrors(async () => {
      const result = await this.#engine.queries.verifyReplay(runId);
      if (result.ok) return { ok: true, events: result.events, divergence: null };
      const { seq, message, recorded, expected } = result.divergence;
      const nodeId = recorded && 'nodeId' in recorded && typeof recorded.nodeId === 'string' ? recorded.nodeId : null;
      return { ok: false, events: result.events, divergence: { seq, message, nodeId, expected } };
    });
  }

  redriveRun({ runId }: Params<'redriveRun'>): Promise<RunSummary> {
    return mapErrors(async () => apiRun(await this.#engine.commands.redrive(runId)));
  }

  evaluateTemplate({ template, input, run }: Params<'evaluateTemplate'>): Promise<Result<'evaluateTemplate'>> {
    return this.#engine.evaluateTemplate(template, {
      input,
      run: run ?? { id: 'preview', input, startedAt: Date.now() },
    });
  }

  async lateTimers(): Promise<Result<'lateTimers'>> {
    const worker = this.#engine.worker;
    if (!worker) return { since: Date.now(), swept: true, timers: [] };
    const report = worker.lateTimers;
    // The start-up timers fire in the worker's first cycles: answer once they have, so the app's
    // first look at start-up is complete; a slow sweep is answered as it stands.
    await Promise.race([report.swept, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    return {
      since: report.since,
      swept: report.isSwept,
      timers: report.list.map(({ runId, nodeId, purpose, dueAt, firedAt, lateMs, policy, outcome }) => ({
        runId,
        nodeId,
        purpose,
        dueAt,
        firedAt,
        lateMs,
        policy,
        outcome,
      })),
    };
  }

  listInbox({ limit }: Params<'listInbox'>): Promise<Result<'listInbox'>> {
    return mapErrors(async () => {
      const newest = await this.#engine.queries.inbox(limit ?? 200);
      const names = new Map((await this.#engine.workflows.list()).map((workflow) => [workflow.id, workflow.name]));
      const runs = new Map<string, { workflowId: string; version: number } | undefined>();
      for (const wait of newest)
        if (!runs.has(wait.runId)) runs.set(wait.runId, await this.#engine.queries.summary(wait.runId));
      const total = await this.#engine.queries.inboxCount();
      return {
        items: newest.flatMap((wait) => {
          const run = runs.get(wait.runId);
          // An inbox row outlives nothing: a run gone from the store has no item to decide.
          if (!run) return [];
          return [
            {
              ...wait,
              workflowId: run.workflowId,
              workflowName: names.get(run.workflowId) ?? run.workflowId,
              version: run.version,
            },
          ];
        }),
        total,
      };
    });
  }

  sendSignal({ runId, name, payload, by }: Params<'sendSignal'>): Promise<RunSummary> {
    return mapErrors(async () => {
      try {
        return apiRun(await this.#engine.commands.sendSignal(runId, name, payload, by === undefined ? {} : { by }));
      } catch (error) {
        // "Does not wait for it" is the answer whether no node waits on that name or it arrived already.
        if (error instanceof EngineError && error.code === 'not-waiting')
          throw new ApiError('not-found', error.message);
        throw error;
      }
    });
  }

  receiveWebhook(call: Params<'receiveWebhook'>): Promise<Result<'receiveWebhook'>> {
    return mapErrors(async () => {
      const { workflowId, path, signature } = call;
      const version = await this.#engine.workflows.version(workflowId);
      const trigger = version ? findWebhookTrigger(version.graph, path) : null;
      if (signature !== null) {
        // A caller without the token learns nothing about which workflows and paths exist.
        const secret = trigger?.secret ? this.#secret(trigger.secret) : undefined;
        if (secret === undefined || !signatureMatches(secret, call.body, signature))
          throw new ApiError('unauthorized', 'the signature does not match (or this webhook takes no signature)');
      }
      if (!version || !trigger)
        throw new ApiError(
          'not-found',
          `workflow "${workflowId}" has no webhook trigger with the path "${path}" in its latest version`,
        );
      const run = await this.#engine.commands.start(workflowId, {
        version: version.version,
        input: webhookInput(call),
        trigger: trigger.nodeId,
        by: 'webhook',
      });
      return { runId: run.runId };
    });
  }

  /** A trigger's secret, or undefined when it is not set or not a valid credential name. */
  #secret(name: string): string | undefined {
    try {
      return this.#engine.credentials.get(name);
    } catch (error) {
      if (error instanceof CredentialError) return undefined;
      throw error;
    }
  }

  // ── Helpers ────────────────────────────────────────────────────────────────────────────────

  async #saveVersion(
    workflowId: string,
    note: string | null,
  ): Promise<{ version: number; created: boolean; warnings: Result<'saveVersion'>['problems'] }> {
    const saved = await this.#engine.workflows.saveDraftAsVersion(workflowId, note);
    if (saved.created) this.#options.emit('workflowsChanged', { workflowId });
    return saved;
  }

  async #version(
    workflowId: string,
    version: number,
  ): Promise<NonNullable<Awaited<ReturnType<Engine['workflows']['version']>>>> {
    const found = await this.#engine.workflows.version(workflowId, version);
    if (!found) throw new ApiError('not-found', `workflow "${workflowId}" has no version ${version}`);
    return found;
  }

  listCredentials(): Promise<Result<'listCredentials'>> {
    return mapErrors(() => {
      const { credentials } = this.#engine;
      return Promise.resolve({ credentials: credentials.list(), location: credentials.location });
    });
  }

  setCredential({ name, value }: Params<'setCredential'>): Promise<Result<'setCredential'>> {
    return mapErrors(() => this.#engine.credentials.set(name, value));
  }

  deleteCredential({ name }: Params<'deleteCredential'>): Promise<Result<'deleteCredential'>> {
    return mapErrors(async () => {
      await this.#engine.credentials.delete(name);
      return { deleted: true as const };
    });
  }

  async #detail(workflowId: string): Promise<WorkflowDetail> {
    const record = await this.#engine.workflows.record(workflowId);
    return {
      id: record.id,
      name: record.name,
      latestVersion: record.latestVersion,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      draft: record.draft ?? this.#engine.workflows.empty(record.name),
      draftUpdatedAt: record.draftUpdatedAt ?? record.updatedAt,
      draftChanged: await this.#engine.workflows.draftChanged(record),
      draftVersion: await this.#engine.workflows.draftVersion(record),
    };
  }

  #changed(workflowId: string): Promise<WorkflowDetail> {
    this.#options.emit('workflowsChanged', { workflowId });
    return this.#detail(workflowId);
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
    ports: {
      in: [...definition.ports.in],
      out: [...definition.ports.out],
      ...(definition.ports.outFromConfig && { outFromConfig: { ...definition.ports.outFromConfig } }),
      ...(definition.ports.undo === true && { undo: true }),
    },
    configSchema: z.toJSONSchema(definition.config, { io: 'input', unrepresentable: 'any' }),
    retry: definition.retry,
    role: definition.role ?? null,
    join: definition.join ?? 'any',
  }));
}

function apiRun(run: EngineRunSummary): RunSummary {
  return run;
}

/** A page cursor is the last row of the previous page: "createdAt:runId". */
function formatCursor(cursor: RunCursor): string {
  return `${cursor.createdAt}:${cursor.runId}`;
}

function parseCursor(text: string | undefined): RunCursor | null {
  if (text === undefined) return null;
  const match = /^(\d+):(.+)$/.exec(text);
  if (!match) throw new ApiError('bad-request', `"${text}" is not a cursor from listRuns`);
  return { createdAt: Number(match[1]), runId: match[2] as string };
}

function toApiError(error: unknown): unknown {
  if (error instanceof CredentialError)
    return new ApiError(
      error.code === 'not-found'
        ? 'not-found'
        : error.code === 'read-only' || error.code === 'unsafe-file' || error.code === 'sealed'
          ? 'conflict'
          : 'bad-request',
      error.message,
    );
  if (error instanceof WorkflowInvalidError) return new ApiError('invalid', error.message, error.problems);
  if (error instanceof RunExportFormatError) return new ApiError('invalid', error.message);
  if (error instanceof EngineError) {
    const code: ApiErrorCode =
      error.code === 'not-found'
        ? 'not-found'
        : error.code === 'invalid'
          ? 'invalid'
          : error.code === 'not-allowed'
            ? 'forbidden'
            : 'conflict';
    return new ApiError(code, error.message, [], error.code);
  }
  return error;
}

async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toApiError(error);
  }
}
