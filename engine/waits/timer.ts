// timer: parks until a time (wait.timer). Resolved only by its timer coming due; records nothing.
// A timer may carry a misfire policy (wait.timer v2): fired later than its grace, it counts as
// missed, and the outcome says so; what a miss leads to (fire, skip, ask) is the node's choice.
import { z } from 'zod';
import { formatDuration, isoTime } from '../model/duration.js';
import { defineWaitKind } from './wait-kind.js';

export const misfirePolicies = ['fire', 'skip', 'ask'] as const;
export type MisfirePolicy = (typeof misfirePolicies)[number];

export const timerRequestSchema = z.strictObject({
  kind: z.literal('timer'),
  dueAt: z.number(),
  // Absent in journals of v1 timers (and before misfire policies existed): they always fire.
  misfire: z.strictObject({ policy: z.enum(misfirePolicies), graceMs: z.number().min(0) }).optional(),
});
export type TimerWaitRequest = z.infer<typeof timerRequestSchema>;

/** What `resume` gets when the timer fires. */
export interface TimerOutcome {
  kind: 'timer-fired';
  dueAt: number;
  firedAt: number;
  /** Fired later than the request's grace: the node applies its misfire policy. Never for v1 timers. */
  missed: boolean;
}

export const timerWait = defineWaitKind<TimerWaitRequest, never, never, TimerOutcome>({
  kind: 'timer',
  label: 'Timer',
  phrase: 'a timer',
  request: timerRequestSchema,
  timers: (request) => [{ purpose: 'wait', dueAt: request.dueAt }],
  inbox: () => null,
  parked: (request, horizon) => request.dueAt > horizon,
  describe: (request) =>
    `until ${isoTime(request.dueAt)}${
      request.misfire && request.misfire.policy !== 'fire'
        ? ` (if missed by over ${formatDuration(request.misfire.graceMs)}: ${request.misfire.policy})`
        : ''
    }`,
  onTimer: (request, _purpose, fired) => ({
    record: null,
    outcome: {
      kind: 'timer-fired',
      dueAt: fired.dueAt,
      firedAt: fired.firedAt,
      missed: request.misfire !== undefined && fired.firedAt - fired.dueAt > request.misfire.graceMs,
    },
  }),
  misfire: (request) => request.misfire ?? { policy: 'fire', graceMs: null },
  signal: null,
  record: null,
});
