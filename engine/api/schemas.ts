// Runtime schemas of everything that crosses the process boundary between the engine host and
// its clients. Pure (zod only), shared by the renderer, Electron main and the engine host.
import { z } from 'zod';
import { retryPolicySchema, workflowSchema } from '../model/workflow.js';

export { retryPolicySchema, workflowSchema };

const json = z.unknown();

export const problemSchema = z.object({
  severity: z.enum(['error', 'warning']),
  code: z.string(),
  message: z.string(),
  nodeId: z.string().optional(),
  edgeId: z.string().optional(),
  field: z.string().optional(),
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
  ports: z.object({ in: z.array(z.string()), out: z.array(z.string()) }),
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
});
export type Template = z.infer<typeof templateSchema>;

export const runStatusSchema = z.enum(['running', 'waiting', 'completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const runSummarySchema = z.object({
  runId: z.string(),
  workflowId: z.string(),
  version: z.number().int(),
  status: runStatusSchema,
  input: json,
  output: json,
  error: json,
  parentRunId: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().nullable(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export const workflowIdSchema = z.string().min(1).max(128);
