// approval: parks until a person approves or rejects (an inbox row), or its optional timeout passes.
// A decision is recorded once: the runtime refuses a second one, naming the first.
import { z } from 'zod';
import { isoTime } from '../model/duration.js';
import { defineWaitKind } from './wait-kind.js';

export const approvalRequestSchema = z.strictObject({
  kind: z.literal('approval'),
  title: z.string(),
  instructions: z.string(),
  timeoutAt: z.number().nullable(),
  /** What the node that asked gets back in its outcome (a missed timer's times); not shown to people. */
  memo: z.unknown().optional(),
});
export type ApprovalWaitRequest = z.infer<typeof approvalRequestSchema>;

export type Decision = 'approved' | 'rejected';

/** A person's decision, as the UI, the CLI or the HTTP API sends it. */
export const approvalSignalSchema = z.strictObject({
  decision: z.enum(['approved', 'rejected']),
  by: z.string().min(1),
  comment: z.string().nullable(),
});
export type ApprovalSignal = z.infer<typeof approvalSignalSchema>;

/** What the journal records of a decision (a timeout is decided by `system`). */
export const approvalRecordSchema = z.strictObject({
  wait: z.literal('approval'),
  decision: z.enum(['approved', 'rejected', 'timeout']),
  by: z.string(),
  comment: z.string().nullable(),
});
export type ApprovalRecord = z.infer<typeof approvalRecordSchema>;

/** What `resume` gets: the decision (its port). */
export interface ApprovalOutcome {
  kind: 'decision';
  decision: ApprovalRecord['decision'];
  by: string;
  comment: string | null;
  /** The request's `memo`, when it had one. */
  memo?: unknown;
}

function decided(
  request: ApprovalWaitRequest,
  record: ApprovalRecord,
): { record: ApprovalRecord; outcome: ApprovalOutcome } {
  const { decision, by, comment } = record;
  return {
    record,
    outcome: { kind: 'decision', decision, by, comment, ...(request.memo !== undefined && { memo: request.memo }) },
  };
}

export const approvalWait = defineWaitKind<ApprovalWaitRequest, ApprovalSignal, ApprovalRecord, ApprovalOutcome>({
  kind: 'approval',
  label: 'Approval',
  phrase: 'an approval',
  request: approvalRequestSchema,
  timers: (request) => (request.timeoutAt === null ? [] : [{ purpose: 'wait-timeout', dueAt: request.timeoutAt }]),
  inbox: (request) => ({ title: request.title, instructions: request.instructions, timeoutAt: request.timeoutAt }),
  parked: () => true,
  describe: (request) =>
    `${request.title}${request.timeoutAt === null ? '' : ` (times out ${isoTime(request.timeoutAt)})`}`,
  onTimer: (request) => decided(request, { wait: 'approval', decision: 'timeout', by: 'system', comment: null }),
  signal: {
    schema: approvalSignalSchema,
    outcomes: approvalSignalSchema.shape.decision.options,
    resolve: (request, signal) => decided(request, { wait: 'approval', ...signal }),
  },
  record: {
    schema: approvalRecordSchema,
    summary: (record) => `${record.decision} by ${record.by}`,
    detail: (record) => `${record.decision} by ${record.by}${record.comment ? ` — "${record.comment}"` : ''}`,
    inbox: (record) => ({ decision: record.decision, comment: record.comment }),
  },
});
