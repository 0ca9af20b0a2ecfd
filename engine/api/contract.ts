// EngineApi: the one contract between the engine host and its clients (renderer, Electron main).
// Every method has a params schema and a result schema; every pushed event has a data schema.
// Transports (MessagePort, WebSocket) derive their channels from these keys and validate both ways.
import { z } from 'zod';
import {
  credentialInfoSchema,
  credentialNameSchema,
  inboxItemSchema,
  MAX_WEBSOCKET_FRAME_BYTES,
  journalEventSchema,
  lateTimerSchema,
  nodeTypeSchema,
  problemSchema,
  replayCheckSchema,
  runChangeSchema,
  runDetailSchema,
  runStateSchema,
  runStatusSchema,
  runSummarySchema,
  signalNameSchema,
  templateSchema,
  versionSchema,
  versionSummarySchema,
  webhookCallSchema,
  workflowDetailSchema,
  workflowIdSchema,
  workflowSchema,
  workflowSummarySchema,
} from './schemas.js';

function method<P extends z.ZodType, R extends z.ZodType>(params: P, result: R): { params: P; result: R } {
  return { params, result };
}

const byWorkflow = z.strictObject({ workflowId: workflowIdSchema });
const runIdSchema = z.string().min(1).max(128);
const byRun = z.strictObject({ runId: runIdSchema });
/** A person's name, as they sign decisions and start runs. */
const personSchema = z.string().trim().min(1).max(200);
const byVersion = z.strictObject({ workflowId: workflowIdSchema, version: z.number().int().min(1) });
const exportedFile = z.object({ fileName: z.string(), text: z.string() });

export const engineMethods = {
  health: method(z.strictObject({}), z.object({ ok: z.literal(true), pid: z.number(), dbPath: z.string() })),
  listNodeTypes: method(z.strictObject({}), z.array(nodeTypeSchema)),
  listTemplates: method(z.strictObject({}), z.array(templateSchema)),

  listWorkflows: method(z.strictObject({}), z.array(workflowSummarySchema)),
  getWorkflow: method(byWorkflow, workflowDetailSchema),
  /** A new workflow: empty (with a manual trigger) or a copy of a template. */
  createWorkflow: method(
    z.strictObject({ name: z.string().trim().min(1).max(200), template: z.string().optional() }),
    workflowDetailSchema,
  ),
  renameWorkflow: method(
    z.strictObject({ workflowId: workflowIdSchema, name: z.string().trim().min(1).max(200) }),
    workflowDetailSchema,
  ),
  duplicateWorkflow: method(byWorkflow, workflowDetailSchema),
  deleteWorkflow: method(byWorkflow, z.object({ deleted: z.literal(true) })),
  /** Workflow file text. Its `id` decides which workflow it becomes a version of. */
  importWorkflow: method(
    z.strictObject({ text: z.string().max(50_000_000) }),
    z.object({
      workflow: workflowDetailSchema,
      version: z.number().int().nullable(),
      problems: z.array(problemSchema),
    }),
  ),
  /** The draft, or a version when given, as `.stepwise.json` text. */
  exportWorkflow: method(
    z.strictObject({ workflowId: workflowIdSchema, version: z.number().int().min(1).optional() }),
    exportedFile,
  ),

  /** Autosave: replaces the draft. The draft's `id` must be `workflowId`. */
  saveDraft: method(
    z.strictObject({ workflowId: workflowIdSchema, draft: workflowSchema }),
    z.object({ draftUpdatedAt: z.number(), draftChanged: z.boolean() }),
  ),
  /** The engine's validator over any graph: what the problems panel shows. */
  validate: method(z.strictObject({ workflow: z.unknown() }), z.object({ problems: z.array(problemSchema) })),

  /** Freezes the draft as an immutable version (or finds the identical one). Invalid drafts are refused. */
  saveVersion: method(
    z.strictObject({ workflowId: workflowIdSchema, note: z.string().max(2000).optional() }),
    z.object({ version: z.number().int(), created: z.boolean(), problems: z.array(problemSchema) }),
  ),
  listVersions: method(byWorkflow, z.array(versionSummarySchema)),
  getVersion: method(byVersion, versionSchema),
  /** Copies a version into the draft; history is never rewritten. */
  restoreVersion: method(byVersion, workflowDetailSchema),

  /** Runs the draft: saves a version first when the draft changed, then starts a run pinned to it. */
  runDraft: method(
    z.strictObject({
      workflowId: workflowIdSchema,
      input: z.unknown().optional(),
      by: personSchema.optional(),
      /** Playback: nodes answer from recorded answers (llm.chat) where they have one. */
      playback: z.boolean().optional(),
    }),
    z.object({ run: runSummarySchema, versionCreated: z.boolean() }),
  ),
  /** Runs newest first, filtered, a page at a time, with counts by status (for the same filter, any status). */
  listRuns: method(
    z.strictObject({
      workflowId: workflowIdSchema.optional(),
      version: z.number().int().min(1).optional(),
      status: z.array(runStatusSchema).optional(),
      /** Runs whose id starts with this. */
      idPrefix: z.string().max(128).optional(),
      /** `nextCursor` of the previous page. */
      cursor: z.string().max(300).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    }),
    z.object({
      runs: z.array(runSummarySchema),
      nextCursor: z.string().nullable(),
      counts: z.record(runStatusSchema, z.number().int()),
    }),
  ),
  /** A run with every activation (status, input, output, error, attempts) and its approvals. */
  getRun: method(byRun, runDetailSchema),
  /** The run's journal after `afterSeq`, at most `limit` events; `more` when there are further ones. */
  getRunEvents: method(
    z.strictObject({
      runId: runIdSchema,
      afterSeq: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(5000).optional(),
    }),
    z.object({ events: z.array(journalEventSchema), more: z.boolean() }),
  ),
  /** Starts a run of a saved version (the latest unless given) with an input. */
  startRun: method(
    z.strictObject({
      workflowId: workflowIdSchema,
      version: z.number().int().min(1).optional(),
      input: z.unknown().optional(),
      /** Who starts it (an approval may forbid them to decide). */
      by: personSchema.optional(),
      /** Playback: nodes answer from recorded answers (llm.chat) where they have one. */
      playback: z.boolean().optional(),
    }),
    runSummarySchema,
  ),
  /**
   * Decides the run's waiting approval (`nodeId` when it waits on several): `approved`, `rejected`
   * or one of its custom outcomes, with the form's `values`. Recorded once; with a quorum, an
   * approval is a vote until enough different people approved.
   */
  decide: method(
    z.strictObject({
      runId: runIdSchema,
      nodeId: z.string().optional(),
      decision: z.string().min(1).max(200),
      by: personSchema.optional(),
      comment: z.string().max(10_000).optional(),
      values: z.record(z.string().max(200), z.unknown()).optional(),
    }),
    runSummarySchema,
  ),
  /** Stops a run: open waits and timers are dropped, executing activations aborted. */
  cancelRun: method(z.strictObject({ runId: runIdSchema, reason: z.string().max(2000).optional() }), runSummarySchema),
  /**
   * A new run from step `seq` of `runId`: nodes completed by then are inherited (never executed
   * again), on the same version, the latest or a given one; `setOutput` replaces the output of
   * nodes completed by then (what is downstream of them runs again).
   */
  forkRun: method(
    z.strictObject({
      runId: runIdSchema,
      seq: z.number().int().min(1),
      on: z.union([z.enum(['same', 'latest']), z.number().int().min(1)]).optional(),
      setOutput: z.record(z.string(), z.unknown()).optional(),
      /** Playback: nodes that run again answer from recorded answers where they have one. */
      playback: z.boolean().optional(),
    }),
    runSummarySchema,
  ),
  /** The run after event `seq` (inclusive; the latest when omitted), per node of its pinned version. */
  getRunState: method(z.strictObject({ runId: runIdSchema, seq: z.number().int().min(1).optional() }), runStateSchema),
  /** The run's pinned version and hash-chained journal (`stepwise export`); credentials are never in it. */
  exportRun: method(byRun, exportedFile),
  /** Stores the run of an export file here, read-only (`stepwise import`): listed, viewable, never executed. */
  importRun: method(
    z.strictObject({ text: z.string().max(MAX_WEBSOCKET_FRAME_BYTES) }),
    z.object({ run: runSummarySchema, warnings: z.array(z.string()) }),
  ),
  /** Re-runs the orchestrator over the journal on the pinned version: "matches" or the first divergence. */
  verifyReplay: method(byRun, replayCheckSchema),
  /** A failed run continues: its failed activations are scheduled again, completed ones are kept. */
  redriveRun: method(byRun, runSummarySchema),

  /** Credential names, sources and dates; values are write-only and never returned. */
  listCredentials: method(
    z.strictObject({}),
    z.object({ credentials: z.array(credentialInfoSchema), location: z.string() }),
  ),
  /** Adds or replaces a credential's value. */
  setCredential: method(
    z.strictObject({ name: credentialNameSchema, value: z.string().min(1).max(16_384) }),
    credentialInfoSchema,
  ),
  deleteCredential: method(z.strictObject({ name: credentialNameSchema }), z.object({ deleted: z.literal(true) })),

  /** Everything waiting on a person (open approvals), newest first, with each run's workflow name and version. */
  listInbox: method(
    z.strictObject({ limit: z.number().int().min(1).max(1000).optional() }),
    z.object({
      items: z.array(inboxItemSchema),
      /** Every open wait on a person, however many `items` holds: the badge's number. */
      total: z.number().int(),
    }),
  ),

  /**
   * Delivers the signal `name` to the run's `wait.signal` node waiting for it. Refused as
   * 'invalid' (naming the field) when the payload does not match the node's schema — the run
   * stays parked — and as 'not-found' when the run does not wait for that signal.
   */
  sendSignal: method(
    z.strictObject({
      runId: runIdSchema,
      name: signalNameSchema,
      payload: z.unknown(),
      by: z.string().trim().min(1).max(200).optional(),
    }),
    runSummarySchema,
  ),
  /**
   * Starts a run of the workflow's latest version from its `trigger.webhook` node with this
   * `path`. `signature` (X-Stepwise-Signature) is checked against the trigger's secret; a caller
   * that passes null has already been authorised by the access token.
   */
  receiveWebhook: method(webhookCallSchema, z.object({ runId: z.string() })),
  /**
   * Timers fired late since this engine host started: those that came due while nothing ran (fired
   * at start-up) and any later one. Answers once the start-up timers have fired (or after 5 s,
   * with `swept` false).
   */
  lateTimers: method(
    z.strictObject({}),
    z.object({
      /** When this engine host started. */
      since: z.number(),
      /** Every timer due at start-up has fired. */
      swept: z.boolean(),
      timers: z.array(lateTimerSchema),
    }),
  ),
  /**
   * Evaluates one config string holding `{{ }}` expressions in the sandbox, as a node's run
   * would: against an `input` and a `run` (by default a run of that input started now). The
   * inspector shows what a field will be against the last run's input. `value` is absent when
   * the field would be left out (an expression that is undefined).
   */
  evaluateTemplate: method(
    z.strictObject({
      template: z.string().max(64 * 1024),
      input: z.unknown(),
      run: z.strictObject({ id: z.string().max(200), input: z.unknown(), startedAt: z.number() }).optional(),
    }),
    z.union([
      z.object({ ok: z.literal(true), value: z.unknown().optional() }),
      z.object({ ok: z.literal(false), error: z.string(), column: z.number().int().optional() }),
    ]),
  ),
} as const;

export type EngineMethods = typeof engineMethods;
export type MethodName = keyof EngineMethods;
export type Params<M extends MethodName> = z.input<EngineMethods[M]['params']>;
export type Result<M extends MethodName> = z.output<EngineMethods[M]['result']>;

/** What a client calls: one async function per method. */
export type EngineApi = { [M in MethodName]: (params: Params<M>) => Promise<Result<M>> };

export const engineEvents = {
  /** A workflow was created, changed, versioned or deleted (by any client or the CLI's host). */
  workflowsChanged: z.object({ workflowId: z.string() }),
  /** Runs changed by a commit of any process (this host, the CLI, another worker). */
  runsChanged: z.object({ runs: z.array(runChangeSchema) }),
} as const;

export type EngineEvents = typeof engineEvents;
export type EventName = keyof EngineEvents;
export type EventData<E extends EventName> = z.output<EngineEvents[E]>;

export const apiErrorCodes = [
  'bad-request',
  'not-found',
  'invalid',
  'conflict',
  'forbidden',
  'unavailable',
  'internal',
  // A webhook call whose signature does not match its trigger's secret.
  'unauthorized',
] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

/**
 * Why a command on a run was refused, more finely than the code: a decision on a wait decided
 * already (`conflict`), a run that waits on nothing of the kind or has finished (`conflict`), a
 * person not allowed to decide (`forbidden`), several waits to choose from (`conflict`).
 */
export type ApiErrorReason = 'already-decided' | 'not-waiting' | 'finished' | 'ambiguous' | 'not-allowed';

/** A failed call, as the client sees it. `problems` comes with 'invalid'. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly problems: z.infer<typeof problemSchema>[];
  readonly reason: string | undefined;
  constructor(
    code: ApiErrorCode,
    message: string,
    problems: z.infer<typeof problemSchema>[] = [],
    reason?: ApiErrorReason | (string & {}),
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.problems = problems;
    this.reason = reason;
  }
}

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(engineMethods, name);
}

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(engineEvents, name);
}
