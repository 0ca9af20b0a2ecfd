// timer: parks until a time (wait.timer). Resolved only by its timer coming due; records nothing.
import { z } from 'zod';
import { isoTime } from '../model/duration.js';
import { defineWaitKind } from './wait-kind.js';

export const timerRequestSchema = z.strictObject({ kind: z.literal('timer'), dueAt: z.number() });
export type TimerWaitRequest = z.infer<typeof timerRequestSchema>;

/** What `resume` gets when the timer fires. */
export interface TimerOutcome {
  kind: 'timer-fired';
  dueAt: number;
  firedAt: number;
}

export const timerWait = defineWaitKind<TimerWaitRequest, never, never, TimerOutcome>({
  kind: 'timer',
  label: 'Timer',
  phrase: 'a timer',
  request: timerRequestSchema,
  timers: (request) => [{ purpose: 'wait', dueAt: request.dueAt }],
  inbox: () => null,
  parked: (request, horizon) => request.dueAt > horizon,
  describe: (request) => `until ${isoTime(request.dueAt)}`,
  onTimer: (_request, _purpose, fired) => ({
    record: null,
    outcome: { kind: 'timer-fired', dueAt: fired.dueAt, firedAt: fired.firedAt },
  }),
  signal: null,
  record: null,
});
