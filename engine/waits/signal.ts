// signal: parks until a named signal arrives from a process (HTTP, the CLI, the API), with a
// payload checked against the node's JSON Schema, or until its optional timeout passes. Not an
// inbox row: nobody is asked, a program sends it.
import { z } from 'zod';
import { isoTime } from '../model/duration.js';
import { describeIssues, READABLE_ISSUES } from '../model/issues.js';
import { defineWaitKind } from './wait-kind.js';

/** A JSON Schema, as the node's config holds it (checked by `jsonSchemaProblem`). */
export const jsonSchemaObject = z.record(z.string(), z.unknown());

export const signalRequestSchema = z.strictObject({
  kind: z.literal('signal'),
  /** The signal's name: what a sender targets (`POST /api/runs/<run>/signals/<name>`). */
  name: z.string().min(1),
  /** The payload must match this JSON Schema; null accepts any JSON. */
  schema: jsonSchemaObject.nullable(),
  timeoutAt: z.number().nullable(),
});
export type SignalWaitRequest = z.infer<typeof signalRequestSchema>;

/** A signal as a sender gives it: its name (which wait), who sent it and the payload. */
export const signalSignalSchema = z.strictObject({
  name: z.string().min(1),
  by: z.string().min(1),
  payload: z.unknown(),
});
export type SignalSignal = z.infer<typeof signalSignalSchema>;

/** What the journal records of a signal received. The payload is the sender's data, kept as sent. */
export const signalRecordSchema = z.strictObject({
  wait: z.literal('signal'),
  name: z.string(),
  by: z.string(),
  payload: z.unknown(),
});
export type SignalWaitRecord = z.infer<typeof signalRecordSchema>;

/** What `resume` gets: the payload, or that the timeout passed first. */
export type SignalOutcome =
  { kind: 'signal'; name: string; by: string; payload: unknown } | { kind: 'signal-timeout'; name: string };

/** The zod schema of a JSON Schema, or why it cannot be one (for a config problem). */
export function compileJsonSchema(schema: Record<string, unknown>): z.ZodType | string {
  try {
    return z.fromJSONSchema(schema);
  } catch (error) {
    return `not a usable JSON Schema: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Why `payload` does not match `schema`, naming the field; null when it matches. */
export function payloadProblem(schema: Record<string, unknown> | null, payload: unknown): string | null {
  if (schema === null) return null;
  const compiled = compileJsonSchema(schema);
  // The node's check refuses such a schema; a version pinned before it still must not accept anything.
  if (typeof compiled === 'string') return `the node's schema is ${compiled}`;
  const parsed = compiled.safeParse(payload, READABLE_ISSUES);
  return parsed.success ? null : describeIssues(parsed.error, 'payload');
}

export const signalWait = defineWaitKind<SignalWaitRequest, SignalSignal, SignalWaitRecord, SignalOutcome>({
  kind: 'signal',
  label: 'Signal',
  phrase: 'a signal',
  request: signalRequestSchema,
  timers: (request) => (request.timeoutAt === null ? [] : [{ purpose: 'wait-timeout', dueAt: request.timeoutAt }]),
  inbox: () => null,
  parked: () => true,
  describe: (request) =>
    `"${request.name}"${request.timeoutAt === null ? '' : ` (times out ${isoTime(request.timeoutAt)})`}`,
  // The timeout is journaled as its TimerFired; there is no sender to record.
  onTimer: (request) => ({ record: null, outcome: { kind: 'signal-timeout', name: request.name } }),
  signal: {
    schema: signalSignalSchema,
    matches: (request, key) => request.name === key,
    resolve: (request, signal) => {
      const problem = payloadProblem(request.schema, signal.payload);
      if (problem !== null) return { refused: problem, code: 'invalid' };
      return {
        record: { wait: 'signal', name: signal.name, by: signal.by, payload: signal.payload },
        outcome: { kind: 'signal', name: signal.name, by: signal.by, payload: signal.payload },
      };
    },
  },
  record: {
    schema: signalRecordSchema,
    summary: (record) => `signal "${record.name}" from ${record.by}`,
    detail: (record) => `signal "${record.name}" from ${record.by}`,
    inbox: (record) => ({ decision: `signal:${record.name}`, comment: null }),
  },
});
