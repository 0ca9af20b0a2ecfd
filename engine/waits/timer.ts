// timer: parks until a time (wait.timer). Resolved only by its timer coming due.
import { z } from 'zod';
import { defineWaitKind } from './wait-kind.js';

export const timerRequestSchema = z.strictObject({ kind: z.literal('timer'), dueAt: z.number() });
export type TimerWaitRequest = z.infer<typeof timerRequestSchema>;

export const timerWait = defineWaitKind<TimerWaitRequest>({
  kind: 'timer',
  label: 'Timer',
  request: timerRequestSchema,
  timers: (request) => [{ purpose: 'wait', dueAt: request.dueAt }],
  inbox: () => null,
  parked: (request, horizon) => request.dueAt > horizon,
  describe: (request) => `timer until ${isoTime(request.dueAt)}`,
  onTimer: (_request, _purpose, fired) => ({
    signal: null,
    outcome: { kind: 'timer-fired', dueAt: fired.dueAt, firedAt: fired.firedAt },
  }),
  signal: null,
});

/** A time as ISO 8601, or the raw number when it is outside what Date can show. */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
