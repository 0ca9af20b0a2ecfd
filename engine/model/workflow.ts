// The workflow file format `stepwise/workflow@1`: types and the structural schema.
// Pure and shared: the engine, the CLI and (later) the renderer import it.
import { z } from 'zod';
import { depthExcessReason, jsonDepthExcess } from './json-limits.js';
import { MAX_DURATION } from './duration.js';

export const WORKFLOW_FORMAT = 'stepwise/workflow@1';

const idPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const id = z.string().regex(idPattern, 'must be 1–128 letters, digits, "_", "-" or "." and not start with "-" or "."');

/** A node's output limit (JSON bytes) when the workflow node sets none, and the most it may set. */
export const OUTPUT_LIMIT = { defaultBytes: 1024 * 1024, maxBytes: 16 * 1024 * 1024 } as const;

const MIB = 1024 * 1024;

/** The error kind of a node whose output is over its limit (the engine's check and the sandbox's). */
export const OUTPUT_TOO_LARGE = 'node.output-too-large';

/** Why a node's output was refused for its size, and how to raise the limit. `atLeast`: `bytes` is a
 * lower bound (the sandbox stops counting non-ASCII text past the limit). */
export function outputTooLargeMessage(bytes: number, limitBytes: number, atLeast = false): string {
  return (
    `output is ${atLeast ? 'at least ' : ''}${bytes} bytes, over this node's output limit of ${limitBytes} bytes; ` +
    `raise the node's Output limit (maxOutputBytes, up to ${OUTPUT_LIMIT.maxBytes / MIB} MiB)`
  );
}
const intervalMs = z
  .number()
  .int()
  .min(0)
  .max(MAX_DURATION.ms, `must be at most ${MAX_DURATION.ms} ms: ${MAX_DURATION.text}`);

export const retryPolicySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100),
  initialIntervalMs: intervalMs,
  backoffCoefficient: z.number().min(1).max(100),
  maxIntervalMs: intervalMs,
  /** Fraction of the interval added or removed at random (0 = none, 0.2 = ±20%). */
  jitter: z.number().min(0).max(1),
  /** Error kinds that are never retried, e.g. "http.4xx". */
  nonRetryableErrorKinds: z.array(z.string()),
});
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

export const nodeSchema = z.strictObject({
  id,
  type: z.string().min(1),
  typeVersion: z.number().int().min(1),
  name: z.string().optional(),
  position: z.strictObject({ x: z.number(), y: z.number() }),
  config: z
    .record(z.string(), z.unknown())
    .default({})
    // Refused here, before any recursive walk (config schemas, canonical JSON, a draft's JSON) sees it.
    .superRefine((config, ctx) => {
      const deep = jsonDepthExcess(config);
      if (deep)
        ctx.addIssue({ code: 'custom', message: depthExcessReason('config', deep), path: deep.path.slice(0, 1) });
    }),
  retry: retryPolicySchema.partial().optional(),
  /** Start-to-close limit of one execution (ms): past it the engine abandons the attempt. */
  timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
  /** Largest output one execution may produce (its JSON, in bytes). */
  maxOutputBytes: z
    .number()
    .int()
    .min(1)
    .max(OUTPUT_LIMIT.maxBytes, `must be at most ${OUTPUT_LIMIT.maxBytes} bytes (${OUTPUT_LIMIT.maxBytes / MIB} MiB)`)
    .optional(),
  notes: z.string().optional(),
});
export type WorkflowNode = z.infer<typeof nodeSchema>;

export const edgeSchema = z.strictObject({
  id,
  source: z.string(),
  sourceHandle: z.string(),
  target: z.string(),
  targetHandle: z.string(),
});
export type WorkflowEdge = z.infer<typeof edgeSchema>;

export const workflowSchema = z.strictObject({
  format: z.literal(WORKFLOW_FORMAT),
  id,
  name: z.string().min(1),
  description: z.string().optional(),
  nodes: z.array(nodeSchema),
  edges: z.array(edgeSchema),
});
export type Workflow = z.infer<typeof workflowSchema>;

/** A saved, immutable version of a workflow: what a run is pinned to. */
export interface WorkflowVersion {
  workflowId: string;
  version: number;
  /** sha256 of the canonical JSON of the graph. */
  hash: string;
  graph: Workflow;
  note: string | null;
  createdAt: number;
}

/** An id made from a name: lowercase letters, digits and "-", at most `maxLength`, never empty. */
export function slugId(name: string, maxLength: number, fallback: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, maxLength)
      .replace(/-+$/, '') || fallback
  );
}
