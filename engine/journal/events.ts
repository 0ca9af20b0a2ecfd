// The event catalogue: every journal event type, its data schema (zod; the TypeScript types are
// derived from it), its shape version with upgrades from older shapes, and whether it is a
// decision of the orchestrator. Pure; exported to the renderer through engine/api.
//
// Runtime events record what happened; decision events record what the orchestrator decided, so
// a replay can recompute and compare them. Adding an event type here makes every handler map
// (`EventHandlers`) that does not handle it fail to compile.
import { z } from 'zod';
import { signalRecordSchema, waitRequestSchema } from '../waits/index.js';

export const nodeFailureSchema = z.strictObject({
  message: z.string(),
  kind: z.string(),
  retryable: z.boolean(),
  details: z.unknown().optional(),
});
export type NodeFailure = z.infer<typeof nodeFailureSchema>;

export const runFailureSchema = nodeFailureSchema.extend({ nodeId: z.string().nullable() });
export type RunFailure = z.infer<typeof runFailureSchema>;

/** A note a node made during an activation (a log line, a console line, an LLM attempt), journaled at its end. */
export const nodeNoteSchema = z.strictObject({
  at: z.number(),
  level: z.enum(['info', 'warn', 'error']),
  /** What made it: `log` (ctx.log), `console` (a code node), `llm.attempt`, `notes.dropped`, … */
  kind: z.string(),
  message: z.string(),
  data: z.unknown().optional(),
});
export type NodeNote = z.infer<typeof nodeNoteSchema>;

export const timerPurposeSchema = z.enum(['retry', 'wait', 'wait-timeout']);
export type TimerPurpose = z.infer<typeof timerPurposeSchema>;

/** An older shape of an event's data and how to turn it into the next one. */
interface PastShape {
  schema: z.ZodType;
  upgrade(data: unknown): unknown;
}

export interface EventSpec<S extends z.ZodType = z.ZodType> {
  /** The current shape of `data`. Its version is `past.length + 1`. */
  schema: S;
  /** Older shapes, oldest first: version v is `past[v - 1]`, upgraded step by step. */
  past: readonly PastShape[];
  /** Decided by the orchestrator (replay recomputes these); otherwise recorded by the runtime. */
  decision: boolean;
}

function spec<S extends z.ZodType>(schema: S, options: { decision?: boolean; past?: PastShape[] } = {}): EventSpec<S> {
  return { schema, past: options.past ?? [], decision: options.decision ?? false };
}

export const eventCatalogue = {
  RunStarted: spec(
    z.strictObject({
      workflowId: z.string(),
      version: z.number().int(),
      input: z.unknown(),
      triggerNodeId: z.string(),
      parentRunId: z.string().nullable(),
      /** Who started it (a person's name, the CLI's user, `webhook`), when known. */
      startedBy: z.string().nullable().optional(),
      /** Playback mode: nodes answer from recorded answers (`ctx.cache`) where they have one. */
      playback: z.boolean().optional(),
    }),
  ),
  NodeScheduled: spec(z.strictObject({ input: z.unknown() }), { decision: true }),
  NodeSkipped: spec(z.strictObject({}), { decision: true }),
  NodeStarted: spec(z.strictObject({ worker: z.string(), recovered: z.boolean() })),
  NodeCompleted: spec(z.strictObject({ port: z.string().nullable(), output: z.unknown() })),
  NodeFailed: spec(z.strictObject({ error: nodeFailureSchema })),
  RetryScheduled: spec(z.strictObject({ dueAt: z.number(), delayMs: z.number() }), { decision: true }),
  WaitCreated: spec(
    z.strictObject({
      wait: waitRequestSchema,
      /** The node's config as its `{{ }}` fields evaluated, for `resume`; absent without templates. */
      config: z.unknown().optional(),
    }),
  ),
  TimerFired: spec(
    z.strictObject({ purpose: timerPurposeSchema, dueAt: z.number(), firedAt: z.number(), lateMs: z.number() }),
  ),
  SignalReceived: spec(
    z.strictObject({
      /** What resolved the wait, in its kind's own record (engine/waits): for an approval, the decision. */
      signal: signalRecordSchema,
      /** What the person was shown: the node input at decision time. */
      shownInput: z.unknown(),
      /** Recorded while the wait goes on: a vote towards a quorum, not the decision. */
      pending: z.boolean().optional(),
    }),
    {
      past: [
        {
          // v1, when approvals were the only kind resolved by a signal: the decision's fields at the top.
          schema: z.strictObject({
            decision: z.enum(['approved', 'rejected', 'timeout']),
            by: z.string(),
            comment: z.string().nullable(),
            shownInput: z.unknown(),
          }),
          upgrade: (data) => {
            const { shownInput, ...decision } = data as {
              shownInput: unknown;
              decision: string;
              by: string;
              comment: string | null;
            };
            return { signal: { wait: 'approval', ...decision }, shownInput };
          },
        },
      ],
    },
  ),
  RunCompleted: spec(z.strictObject({ output: z.unknown() }), { decision: true }),
  RunFailed: spec(z.strictObject({ error: runFailureSchema }), { decision: true }),
  RunCancelled: spec(z.strictObject({ reason: z.string().nullable(), by: z.string().nullable() })),
  /**
   * A fork took this node's outcome from its origin run instead of executing it: the node had
   * completed by the origin's `seq` (`edited`: the output was replaced when forking).
   */
  NodeInherited: spec(
    z.strictObject({
      from: z.strictObject({ runId: z.string(), seq: z.number().int() }),
      port: z.string().nullable(),
      output: z.unknown(),
      edited: z.boolean(),
    }),
  ),
  /**
   * The run failed (or was cancelled) after nodes with an `undo` edge completed: their
   * compensations run now, one at a time, latest completion first. `error` is the failure (null
   * for a cancellation).
   */
  CompensationStarted: spec(
    z.strictObject({ cause: z.enum(['failed', 'cancelled']), error: runFailureSchema.nullable() }),
    { decision: true },
  ),
  /** Every compensation completed. */
  RunCompensated: spec(z.strictObject({}), { decision: true }),
  /** A compensation failed for good: `error.nodeId` is the compensation node, `compensates` the node it undoes. */
  RunCompensationFailed: spec(z.strictObject({ error: runFailureSchema, compensates: z.string() }), {
    decision: true,
  }),
  /** A failed run continues: `activationIds` (the failed one and those its failure cancelled) are scheduled again. */
  RunRedriven: spec(z.strictObject({ by: z.string(), activationIds: z.array(z.string()) })),

  // ── Node records ────────────────────────────────────────────────────────────────────────────
  /**
   * What a node noted during one activation (capped, redacted), journaled just before the event
   * that ends the activation (completed, failed, waiting), in the same commit.
   */
  NodeNoted: spec(z.strictObject({ notes: z.array(nodeNoteSchema) })),
} as const satisfies Record<string, EventSpec>;

export type EventCatalogue = typeof eventCatalogue;
export type EventType = keyof EventCatalogue;
export type EventDataMap = { [T in EventType]: z.output<EventCatalogue[T]['schema']> };

export const EVENT_TYPES = Object.keys(eventCatalogue) as EventType[];

export type JournalEvent = {
  [T in EventType]: {
    seq: number;
    at: number;
    type: T;
    activationId: string | null;
    nodeId: string | null;
    attempt: number | null;
    data: EventDataMap[T];
  };
}[EventType];

export type EventOf<T extends EventType> = Extract<JournalEvent, { type: T }>;

/** An event before it has a place in the journal. */
export type NewEvent = JournalEvent extends infer E ? (E extends JournalEvent ? Omit<E, 'seq' | 'at'> : never) : never;

/**
 * A function per event type. Handler maps (fold, decide, work-table effects, descriptions) are
 * typed with this, so an event type nobody handles is a compile error, not a silent fallthrough.
 */
export type EventHandlers<R, A extends unknown[] = []> = {
  readonly [T in EventType]: (event: EventOf<T>, ...args: A) => R;
};

export function handle<R, A extends unknown[]>(handlers: EventHandlers<R, A>, event: JournalEvent, ...args: A): R {
  // The map is keyed by every type and `event.type` selects the handler of the event's own type.
  const handler = handlers[event.type] as (event: JournalEvent, ...args: A) => R;
  return handler(event, ...args);
}

export function isDecision(event: { type: EventType }): boolean {
  return eventCatalogue[event.type].decision;
}
