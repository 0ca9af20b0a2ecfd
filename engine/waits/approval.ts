// approval: parks until people decide (an inbox row), or its optional timeout passes. A decision is
// one of the node's outcomes (approve, reject, or a custom one, each its own port), with a comment
// and the values of the node's form. With a quorum, approvals are votes until enough distinct
// people approved; any other outcome ends the wait at once. A decision is recorded once: the
// runtime refuses a second one, naming the first.
import { z } from 'zod';
import { isoTime } from '../model/duration.js';
import {
  APPROVE,
  cardFieldSchema,
  cardOutcomeSchema,
  formFieldSchema,
  formProblem,
  REJECT,
  personKey,
  TIMEOUT_PORT,
  type InboxCard,
} from './card.js';
import { defineWaitKind, type SignalAnswer } from './wait-kind.js';

export const approvalRequestSchema = z.strictObject({
  kind: z.literal('approval'),
  title: z.string(),
  instructions: z.string(),
  timeoutAt: z.number().nullable(),
  // The rest came with custom outcomes, forms and quorums; a wait journaled before has none of it.
  /** Custom outcomes, after approve and reject. */
  outcomes: z.array(cardOutcomeSchema).optional(),
  fields: z.array(cardFieldSchema).optional(),
  form: z.array(formFieldSchema).optional(),
  /** Only these people may decide; empty: anyone. */
  assignees: z.array(z.string()).optional(),
  /** Approvals by distinct people needed to approve. */
  quorum: z.number().int().min(1).optional(),
  /** The person who started the run may not decide. */
  excludeStarter: z.boolean().optional(),
  /** When the inbox highlights it and notifies again. */
  remindAt: z.number().nullable().optional(),
  /** What the node that asked gets back in its outcome (a missed timer's times); not shown to people. */
  memo: z.unknown().optional(),
});
export type ApprovalWaitRequest = z.infer<typeof approvalRequestSchema>;

/** A person's decision, as the UI, the CLI or the HTTP API sends it. */
export const approvalSignalSchema = z.strictObject({
  /** The outcome's port: `approved`, `rejected` or a custom outcome. */
  decision: z.string().min(1),
  by: z.string().trim().min(1, 'a name is required: who decides'),
  comment: z.string().nullable(),
  /** The form's values, by field name. */
  values: z.record(z.string(), z.unknown()).optional(),
});
export type ApprovalSignal = z.infer<typeof approvalSignalSchema>;

/** What the journal records of a decision or a vote (a timeout is decided by `system`). */
export const approvalRecordSchema = z.strictObject({
  wait: z.literal('approval'),
  /** An outcome's port, or `timeout`. */
  decision: z.string(),
  by: z.string(),
  comment: z.string().nullable(),
  values: z.record(z.string(), z.unknown()).optional(),
  /** What the person was shown besides the input: the card's fields. */
  fields: z.array(cardFieldSchema).optional(),
});
export type ApprovalRecord = z.infer<typeof approvalRecordSchema>;

/** What `resume` gets: the decision (its port) and the form's values. */
export interface ApprovalOutcome {
  kind: 'decision';
  decision: string;
  by: string;
  comment: string | null;
  values: Record<string, unknown>;
  /** The request's `memo`, when it had one. */
  memo?: unknown;
}

export function cardOf(request: ApprovalWaitRequest): InboxCard {
  return {
    outcomes: [APPROVE, REJECT, ...(request.outcomes ?? [])],
    fields: request.fields ?? [],
    form: request.form ?? [],
    assignees: request.assignees ?? [],
    quorum: request.quorum ?? 1,
    excludeStarter: request.excludeStarter ?? false,
    remindAt: request.remindAt ?? null,
  };
}

function decided(
  request: ApprovalWaitRequest,
  record: ApprovalRecord,
): { record: ApprovalRecord; outcome: ApprovalOutcome } {
  const { decision, by, comment } = record;
  return {
    record,
    outcome: {
      kind: 'decision',
      decision,
      by,
      comment,
      values: record.values ?? {},
      ...(request.memo !== undefined && { memo: request.memo }),
    },
  };
}

function summary(record: ApprovalRecord): string {
  return `${record.decision} by ${record.by}`;
}

/** Who may decide, the outcome, the form; then a vote towards the quorum or the end of the wait. */
function resolveDecision(
  request: ApprovalWaitRequest,
  signal: ApprovalSignal,
  context: { pending: readonly (ApprovalRecord & { at: number })[]; startedBy: string | null },
): SignalAnswer<ApprovalRecord, ApprovalOutcome> {
  const card = cardOf(request);
  const { by } = signal;
  const person = personKey(by);
  const outcome = card.outcomes.find((choice) => choice.port === signal.decision);
  if (!outcome)
    return {
      refused: `"${signal.decision}" is not an outcome of this approval (${card.outcomes.map((choice) => choice.port).join(', ')})`,
      code: 'invalid',
    };
  if (card.assignees.length > 0 && !card.assignees.some((assignee) => personKey(assignee) === person))
    return {
      refused: `${by} may not decide this approval: it is assigned to ${card.assignees.join(', ')}`,
      code: 'not-allowed',
    };
  if (card.excludeStarter && context.startedBy !== null && personKey(context.startedBy) === person)
    return { refused: `${by} started this run and may not decide its approval`, code: 'not-allowed' };
  const earlier = context.pending.find((vote) => personKey(vote.by) === person);
  if (earlier)
    return {
      refused: `${earlier.by} already ${earlier.decision} at ${isoTime(earlier.at)}; ${card.quorum} different people must approve`,
      code: 'already-decided',
    };
  const values = signal.values ?? {};
  const problem = formProblem(card.form, values, signal.decision);
  if (problem !== null) return { refused: `invalid form: ${problem}`, code: 'invalid' };
  const record: ApprovalRecord = {
    wait: 'approval',
    decision: signal.decision,
    by,
    comment: signal.comment,
    ...(Object.keys(values).length > 0 ? { values } : {}),
    ...(card.fields.length > 0 ? { fields: card.fields } : {}),
  };
  const approvals = context.pending.filter((vote) => vote.decision === APPROVE.port).length;
  // Only approving needs a quorum: one rejection (or custom outcome) is enough to stop it.
  if (signal.decision === APPROVE.port && approvals + 1 < card.quorum) return { record, outcome: null };
  return decided(request, record);
}

export const approvalWait = defineWaitKind<ApprovalWaitRequest, ApprovalSignal, ApprovalRecord, ApprovalOutcome>({
  kind: 'approval',
  label: 'Approval',
  phrase: 'an approval',
  request: approvalRequestSchema,
  timers: (request) => (request.timeoutAt === null ? [] : [{ purpose: 'wait-timeout', dueAt: request.timeoutAt }]),
  inbox: (request) => ({
    title: request.title,
    instructions: request.instructions,
    timeoutAt: request.timeoutAt,
    card: cardOf(request),
  }),
  parked: () => true,
  describe: (request) => {
    const quorum = request.quorum ?? 1;
    const needs = quorum > 1 ? ` (${quorum} approvals needed)` : '';
    return `${request.title}${needs}${request.timeoutAt === null ? '' : ` (times out ${isoTime(request.timeoutAt)})`}`;
  },
  onTimer: (request) => decided(request, { wait: 'approval', decision: TIMEOUT_PORT, by: 'system', comment: null }),
  signal: {
    schema: approvalSignalSchema,
    resolve: resolveDecision,
  },
  record: {
    schema: approvalRecordSchema,
    summary,
    detail: (record) => {
      const values = record.values === undefined ? '' : ` with ${JSON.stringify(record.values)}`;
      return `${summary(record)}${record.comment ? ` — "${record.comment}"` : ''}${values}`;
    },
    inbox: (record) => ({ decision: record.decision, comment: record.comment }),
  },
});
