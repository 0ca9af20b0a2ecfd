// Replay verification: run the orchestrator over a recorded journal and check that every
// decision it makes now is the decision that was recorded (non-determinism check).
import { z } from 'zod';
import { canonicalJson } from '../model/canonical-json.js';
import { describeIssues, READABLE_ISSUES } from '../model/issues.js';
import { workflowSchema } from '../model/workflow.js';
import { eventCodec, JournalFormatError } from '../journal/codec.js';
import { isDecision, type JournalEvent, type NewEvent } from '../journal/events.js';
import { evolve, initialState } from '../journal/state.js';
import { compileWorkflow } from '../orchestrator/compile.js';
import { step } from '../orchestrator/step.js';
import type { NodeRegistry } from '../registry/index.js';

export interface Divergence {
  seq: number;
  message: string;
  recorded: JournalEvent | null;
  /** The decision the orchestrator makes now, described. */
  expected: string | null;
}

export type ReplayResult =
  { ok: true; runId: string; events: number } | { ok: false; runId: string; events: number; divergence: Divergence };

export class RunExportFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunExportFormatError';
  }
}

/** Run exports written today: with a hash chain over the version and the events. */
export const RUN_EXPORT_FORMAT = 'stepwise/run-export@2';
/** Run exports written before the chain: still read, never verifiable. */
export const UNCHAINED_RUN_EXPORT_FORMAT = 'stepwise/run-export@1';

/**
 * The hash chain of an export. Link i = sha256(link i-1 + canonical JSON of event i), link 0 being
 * the version's content hash; `head` is the last link. The hashing is the runtime's (node:crypto);
 * this layer only reads the structure.
 */
export const exportChainSchema = z.strictObject({
  algorithm: z.literal('sha256'),
  /** How many events the journal had when it was exported. */
  events: z.number().int().min(0),
  links: z.array(z.string()),
  head: z.string(),
});
export type ExportChain = z.infer<typeof exportChainSchema>;

const versionSchema = z.object({ workflowId: z.string(), version: z.number().int(), graph: workflowSchema }).loose();
const exportSchema = z.discriminatedUnion('format', [
  z.object({
    format: z.literal(RUN_EXPORT_FORMAT),
    run: z.object({ runId: z.string() }).loose(),
    version: versionSchema.extend({ hash: z.string() }),
    events: z.array(z.unknown()),
    chain: exportChainSchema,
  }),
  z.object({
    format: z.literal(UNCHAINED_RUN_EXPORT_FORMAT),
    run: z.object({ runId: z.string() }).loose(),
    version: versionSchema,
    events: z.array(z.unknown()),
  }),
]);
export type RunExportFile = z.infer<typeof exportSchema>;

/** The structure of a `stepwise export` file (either format). Throws RunExportFormatError when it is not one. */
export function parseRunExport(value: unknown): RunExportFile {
  const parsed = exportSchema.safeParse(value, READABLE_ISSUES);
  if (!parsed.success) throw new RunExportFormatError(`not a Stepwise run export: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * Replays a `stepwise export` file. Throws RunExportFormatError when it is not one. The hash chain
 * is not checked here (that needs a hash function, which this pure layer has none of): `stepwise
 * replay` verifies it first (engine/runtime/run-export.ts).
 */
export function replayExport(value: unknown, registry: NodeRegistry): ReplayResult {
  const { run, version, events: stored } = parseRunExport(value);
  let events: JournalEvent[];
  try {
    events = stored.map((event, index) => eventCodec.decode(event, `events[${index}]`));
  } catch (error) {
    if (error instanceof JournalFormatError) throw new RunExportFormatError(`not a valid run export: ${error.message}`);
    throw error;
  }
  return replayJournal(run.runId, version, events, registry);
}

export function replayJournal(
  runId: string,
  version: { workflowId: string; version: number; graph: z.infer<typeof workflowSchema> },
  events: readonly JournalEvent[],
  registry: NodeRegistry,
): ReplayResult {
  const workflow = compileWorkflow(version, registry);
  let state = initialState(runId);
  let expected: NewEvent[] = [];
  const diverged = (
    seq: number,
    message: string,
    recorded: JournalEvent | null,
    next: NewEvent | null,
  ): ReplayResult => ({
    ok: false,
    runId,
    events: events.length,
    divergence: { seq, message, recorded, expected: next ? describe(next) : null },
  });
  let previousSeq = 0;
  for (const event of events) {
    if (event.seq !== previousSeq + 1)
      return diverged(event.seq, `journal has a gap: event #${previousSeq} is followed by #${event.seq}`, event, null);
    previousSeq = event.seq;
    if (isDecision(event)) {
      const next = expected.shift();
      if (!next)
        return diverged(
          event.seq,
          `the journal records ${describe(event)}, but the orchestrator decides nothing here`,
          event,
          null,
        );
      if (!sameDecision(next, event))
        return diverged(
          event.seq,
          `the journal records ${describe(event)}, but the orchestrator decides ${describe(next)}`,
          event,
          next,
        );
      state = evolve(state, event);
      continue;
    }
    const pending = expected[0];
    if (pending)
      return diverged(
        event.seq,
        `the orchestrator decides ${describe(pending)} before this ${event.type}`,
        event,
        pending,
      );
    ({ state, decisions: expected } = step(workflow, state, event));
  }
  const missing = expected[0];
  if (missing)
    return diverged(
      previousSeq + 1,
      `the journal ends, but the orchestrator decides ${describe(missing)}`,
      null,
      missing,
    );
  return { ok: true, runId, events: events.length };
}

function sameDecision(expected: NewEvent, recorded: JournalEvent): boolean {
  return (
    expected.type === recorded.type &&
    expected.activationId === recorded.activationId &&
    expected.nodeId === recorded.nodeId &&
    expected.attempt === recorded.attempt &&
    canonicalJson(expected.data) === canonicalJson(recorded.data)
  );
}

function describe(event: NewEvent | JournalEvent): string {
  const subject = event.nodeId === null ? '' : ` of "${event.nodeId}"`;
  const attempt = event.attempt === null ? '' : ` (attempt ${event.attempt})`;
  const data = canonicalJson(event.data);
  return `${event.type}${subject}${attempt} ${data.length > 200 ? `${data.slice(0, 200)}…` : data}`;
}
