// Runtime schemas of everything that crosses the process boundary between the engine host and
// its clients. Pure (zod only), shared by the renderer, Electron main and the engine host.
import { z } from 'zod';
import { journalEventSchema } from '../journal/codec.js';
import { nodeFailureSchema, runFailureSchema } from '../journal/events.js';
import { NODE_RUN_STATUSES, type NodeRunStatus } from '../journal/node-states.js';
import { RUN_STATUSES } from '../journal/state.js';
import { retryPolicySchema, workflowSchema } from '../model/workflow.js';
import { inboxCardSchema, signalRecordSchema, waitRequestSchema } from '../waits/index.js';

export {
  journalEventSchema,
  nodeFailureSchema,
  retryPolicySchema,
  runFailureSchema,
  signalRecordSchema,
  waitRequestSchema,
  workflowSchema,
};
export type { JournalEvent, EventType, EventOf, NodeFailure, RunFailure } from '../journal/events.js';
export { eventCatalogue, EVENT_TYPES, isDecision } from '../journal/events.js';
export { eventDetail } from '../journal/describe.js';
export { RunTimeline } from '../journal/timeline.js';
export { activationsOf, type ActivationState, type RunState } from '../journal/state.js';
export {
  idempotencyKeyOf,
  latestActivations,
  NODE_RUN_STATUSES,
  nodeRunStatus,
  nodeStatesAt,
  type NodeRunStatus,
  type NodeStateAt,
} from '../journal/node-states.js';
export type { SignalRecord, WaitRequest } from '../waits/index.js';

const json = z.unknown();

/**
 * The largest request frame served mode accepts (bytes of JSON text). The largest real request is
 * an imported or saved workflow: a 1,000-node workflow is about 0.4 MiB, a run export of 10,000 events a few MiB. A bigger frame closes the
 * WebSocket (1009) before it is buffered; WebSocketConnection refuses to send one, naming the limit.
 */
export const MAX_WEBSOCKET_FRAME_BYTES = 16 * 1024 * 1024;

export const problemSchema = z.object({
  severity: z.enum(['error', 'warning']),
  code: z.string(),
  message: z.string(),
  nodeId: z.string().optional(),
  edgeId: z.string().optional(),
  field: z.string().optional(),
  column: z.number().int().optional(),
});
export type Problem = z.infer<typeof problemSchema>;

export const nodeTypeSchema = z.object({
  type: z.string(),
  typeVersion: z.number().int(),
  /** False for older typeVersions kept runnable for pinned runs; the palette hides them. */
  latest: z.boolean(),
  title: z.string(),
  description: z.string(),
  category: z.string(),
  icon: z.string(),
  ports: z.object({
    in: z.array(z.string()),
    out: z.array(z.string()),
    /** More output ports named by the node's config (see `outputPorts`). */
    outFromConfig: z.object({ list: z.string(), key: z.string() }).optional(),
    /** Offers the `undo` port (saga compensation; see `outputPorts`). */
    undo: z.boolean().optional(),
  }),
  /** JSON Schema (draft 2020-12) of the config as the user writes it: defaults, enums, help text. */
  configSchema: z.record(z.string(), json),
  retry: retryPolicySchema,
  role: z.enum(['trigger', 'output']).nullable(),
  join: z.enum(['all', 'any']),
});
export type NodeType = z.infer<typeof nodeTypeSchema>;

export const workflowSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  latestVersion: z.number().int().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type WorkflowSummary = z.infer<typeof workflowSummarySchema>;

export const workflowDetailSchema = workflowSummarySchema.extend({
  draft: workflowSchema,
  draftUpdatedAt: z.number(),
  /** True when the draft differs from the latest version (or there is no version yet). */
  draftChanged: z.boolean(),
  /** The version with the draft's content (a restored older one too); null when none has it. */
  draftVersion: z.number().int().nullable(),
});
export type WorkflowDetail = z.infer<typeof workflowDetailSchema>;

export const versionSummarySchema = z.object({
  workflowId: z.string(),
  version: z.number().int(),
  hash: z.string(),
  note: z.string().nullable(),
  createdAt: z.number(),
  /** Runs pinned to this version. */
  runs: z.number().int(),
});
export type VersionSummary = z.infer<typeof versionSummarySchema>;

export const versionSchema = versionSummarySchema.extend({ graph: workflowSchema });
export type Version = z.infer<typeof versionSchema>;

export const templateSchema = z.object({
  file: z.string(),
  id: z.string(),
  name: z.string(),
  description: z.string(),
  /** It calls the built-in mock service (started when a workflow is made from it). */
  mockService: z.boolean(),
});
export type Template = z.infer<typeof templateSchema>;

export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const runSummarySchema = z.object({
  runId: z.string(),
  workflowId: z.string(),
  version: z.number().int(),
  status: runStatusSchema,
  input: json,
  output: json,
  /** Why it failed: the node, the message and the error kind. */
  error: runFailureSchema.nullable(),
  parentRunId: z.string().nullable(),
  /** Set on a fork: the run and the step (seq) it was forked from. */
  forkOf: z.object({ runId: z.string(), seq: z.number().int() }).nullable(),
  /** The journal's last sequence number: read events after the one you have. */
  lastSeq: z.number().int(),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().nullable(),
  /** Brought in from an export (`stepwise import`): read-only, never executed. */
  imported: z.boolean(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export const activationStatusSchema = z.enum([
  'scheduled',
  'running',
  'retrying',
  'waiting',
  'completed',
  'failed',
  'skipped',
  'cancelled',
]);

/** One execution of one node in a run, as of the run's latest event. */
export const activationSchema = z.object({
  activationId: z.string(),
  nodeId: z.string(),
  ordinal: z.number().int(),
  status: activationStatusSchema,
  attempt: z.number().int(),
  input: json,
  output: json,
  port: z.string().nullable(),
  error: nodeFailureSchema.nullable(),
  wait: waitRequestSchema.nullable(),
  /** What ended its wait (its kind's record: for an approval, who decided what) and when. */
  signal: z.intersection(signalRecordSchema, z.object({ at: z.number() })).nullable(),
  retryDueAt: z.number().nullable(),
  scheduledAt: z.number(),
  finishedAt: z.number().nullable(),
  attempts: z.array(
    z.object({
      attempt: z.number().int(),
      startedAt: z.number().nullable(),
      finishedAt: z.number().nullable(),
      error: nodeFailureSchema.nullable(),
      recoveries: z.number().int(),
    }),
  ),
});
export type Activation = z.infer<typeof activationSchema>;

/** A wait on a person (an inbox row): what they are asked and, once decided, what they said. */
export const approvalSchema = z.object({
  runId: z.string(),
  activationId: z.string(),
  nodeId: z.string(),
  kind: z.string(),
  status: z.enum(['open', 'decided', 'cancelled']),
  title: z.string(),
  instructions: z.string(),
  input: json,
  createdAt: z.number(),
  timeoutAt: z.number().nullable(),
  decision: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.number().nullable(),
  comment: z.string().nullable(),
  /** What the person is shown and asked: outcomes, fields, form, assignees, quorum, reminder. */
  card: inboxCardSchema,
  /** Decisions recorded while it stays open: approvals towards its quorum. */
  votes: z.array(z.object({ decision: z.string(), by: z.string(), comment: z.string().nullable(), at: z.number() })),
});
export type Approval = z.infer<typeof approvalSchema>;

/** An open inbox item: the wait on a person, with the run's workflow (`listInbox`). */
export const inboxItemSchema = approvalSchema.extend({
  workflowId: z.string(),
  /** The workflow's current name (its id when the workflow was deleted since). */
  workflowName: z.string(),
  /** The version the run is pinned to. */
  version: z.number().int(),
});
export type InboxItem = z.infer<typeof inboxItemSchema>;

export const runDetailSchema = runSummarySchema.extend({
  /** 'parked' when only a decision, a signal or a distant timer can move it on. */
  settled: z.enum(['finished', 'parked', 'active']),
  /** Content hash of the pinned version. */
  versionHash: z.string(),
  /** The workflow's newest version (newer than `version` when it was edited since). */
  latestVersion: z.number().int(),
  activations: z.array(activationSchema),
  approvals: z.array(approvalSchema),
  /** The runs forked from this one, oldest first. */
  forks: z.array(z.object({ runId: z.string(), seq: z.number().int() })),
  /** Child runs its `subworkflow` and `loop.map` nodes started (status null: not in this database). */
  children: z.array(
    z.object({
      runId: z.string(),
      nodeId: z.string(),
      /** The `loop.map` item it ran; absent for a `subworkflow`'s child. */
      index: z.number().int().optional(),
      workflowId: z.string(),
      version: z.number().int(),
      status: runStatusSchema.nullable(),
    }),
  ),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

export const nodeRunStatusSchema = z.enum(NODE_RUN_STATUSES as [NodeRunStatus, ...NodeRunStatus[]]);

/** The run after one event of its journal, per node of its pinned version (`stepwise state`). */
export const runStateSchema = z.object({
  runId: z.string(),
  seq: z.number().int(),
  status: runStatusSchema,
  nodes: z.record(
    z.string(),
    z.object({
      status: nodeRunStatusSchema,
      output: json,
      error: nodeFailureSchema.nullable(),
      attempts: z.number().int(),
    }),
  ),
});
export type RunStateAt = z.infer<typeof runStateSchema>;

/** Verify replay: "matches", or the first event where the orchestrator now decides otherwise. */
export const replayCheckSchema = z.object({
  ok: z.boolean(),
  events: z.number().int(),
  divergence: z
    .object({
      seq: z.number().int(),
      message: z.string(),
      /** The recorded event's node, to show the divergence on the canvas. */
      nodeId: z.string().nullable(),
      /** The decision the orchestrator makes now, described. */
      expected: z.string().nullable(),
    })
    .nullable(),
});
export type ReplayCheck = z.infer<typeof replayCheckSchema>;

/** A run whose row changed in some commit, of any process. */
export const runChangeSchema = z.object({
  runId: z.string(),
  workflowId: z.string(),
  version: z.number().int(),
  status: runStatusSchema,
  lastSeq: z.number().int(),
  updatedAt: z.number(),
});
export type RunChange = z.infer<typeof runChangeSchema>;

export const workflowIdSchema = z.string().min(1).max(128);

/** A credential's name: what node config refers to (`auth.credential`). */
export const credentialNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must start with a letter, then letters, digits or _ (at most 64)');

/** What a client may see of a credential: never its value. */
export const credentialInfoSchema = z.object({
  name: z.string(),
  /** Where the value in effect comes from; an environment variable overrides a stored value. */
  source: z.enum(['file', 'keychain', 'env']),
  updatedAt: z.number().nullable(),
});

/** A signal's name, as `wait.signal` nodes declare it. */
export const signalNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'not a signal name');

/** A call to a webhook trigger, as served mode received it (`receiveWebhook`). */
export const webhookCallSchema = z.strictObject({
  workflowId: workflowIdSchema,
  path: z.string().min(1).max(200),
  /** The body exactly as received (UTF-8): what the signature covers. */
  body: z.string(),
  contentType: z.string().max(1000).nullable(),
  /** Request headers, lower-case names, without authorisation, cookies and the signature. */
  headers: z.record(z.string(), z.string()),
  /** Query parameters without `token`; a repeated one is an array. */
  query: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  /** `sha256=<hex>`, or null when the access token authorised the call. */
  signature: z.string().max(200).nullable(),
});
export type WebhookCall = z.infer<typeof webhookCallSchema>;

/** A timer fired late (past its misfire grace, else past a minute) since the engine host started. */
export const lateTimerSchema = z.object({
  runId: z.string(),
  nodeId: z.string(),
  /** `wait` (a wait.timer), `retry` (a retry's backoff), `wait-timeout` (an approval's timeout). */
  purpose: z.enum(['wait', 'wait-timeout', 'retry']),
  dueAt: z.number(),
  firedAt: z.number(),
  lateMs: z.number(),
  /** The node's misfire policy ('fire' for retries, timeouts and wait.timer v1). */
  policy: z.enum(['fire', 'skip', 'ask']),
  /** What it did: took its normal port, was skipped (`missed`), asked a person, retried, timed out, failed. */
  outcome: z.enum(['fired', 'skipped', 'asked', 'retried', 'timed-out', 'failed']),
});
export type LateTimer = z.infer<typeof lateTimerSchema>;
