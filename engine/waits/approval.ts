// approval: parks until a person approves or rejects (an inbox row), or its optional timeout passes.
// A decision is recorded once: the runtime refuses a second one, naming the first.
import { z } from 'zod';
import { isoTime } from './timer.js';
import { defineWaitKind } from './wait-kind.js';

export const approvalRequestSchema = z.strictObject({
  kind: z.literal('approval'),
  title: z.string(),
  instructions: z.string(),
  timeoutAt: z.number().nullable(),
});
export type ApprovalWaitRequest = z.infer<typeof approvalRequestSchema>;

export const approvalSignalSchema = z.strictObject({
  decision: z.enum(['approved', 'rejected']),
  by: z.string().min(1),
  comment: z.string().nullable(),
});
export type ApprovalSignal = z.infer<typeof approvalSignalSchema>;

export const approvalWait = defineWaitKind<ApprovalWaitRequest, ApprovalSignal>({
  kind: 'approval',
  label: 'Approval',
  request: approvalRequestSchema,
  timers: (request) => (request.timeoutAt === null ? [] : [{ purpose: 'wait-timeout', dueAt: request.timeoutAt }]),
  inbox: (request) => ({ title: request.title, instructions: request.instructions, timeoutAt: request.timeoutAt }),
  parked: () => true,
  describe: (request) =>
    `${request.title}${request.timeoutAt === null ? '' : ` (times out ${isoTime(request.timeoutAt)})`}`,
  onTimer: () => {
    const timeout = { decision: 'timeout' as const, by: 'system', comment: null };
    return { signal: timeout, outcome: { kind: 'decision', ...timeout } };
  },
  signal: {
    schema: approvalSignalSchema,
    resolve: (_request, signal) => ({ signal, outcome: { kind: 'decision', ...signal } }),
  },
});
