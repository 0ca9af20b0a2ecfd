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
}

function decided(record: ApprovalRecord): { record: ApprovalRecord; outcome: ApprovalOutcome } {
  return { record, outcome: { kind: 'decision', decision: record.decision, by: record.by, comment: record.comment } };
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
  onTimer: () => decided({ wait: 'approval', decision: 'timeout', by: 'system', comment: null }),
  signal: {
    schema: approvalSignalSchema,
    outcomes: approvalSignalSchema.shape.decision.options,
    resolve: (_request, signal) => decided({ wait: 'approval', ...signal }),
  },
  record: {
    schema: approvalRecordSchema,
    summary: (record) => `${record.decision} by ${record.by}`,
    detail: (record) => `${record.decision} by ${record.by}${record.comment ? ` — "${record.comment}"` : ''}`,
    inbox: (record) => ({ decision: record.decision, comment: record.comment }),
  },
});
