// trigger.schedule: starts the workflow (its latest saved version) at the times of a cron rule in a
// time zone. The engine keeps the next fire time on disk (the `schedules` rows) and starts each run
// with { scheduledAt, firedAt, lateMs }; fires missed while nothing ran follow `misfire`.
import { z } from 'zod';
import { cronProblem, localTimeZone, scheduleMisfirePolicies, timeZoneProblem } from '../../engine/model/cron.js';
import { durationProblem, parseDuration } from '../../engine/model/duration.js';
import { defineNode, NO_RETRY, type ConfigProblem } from '../../engine/sdk/index.js';

const config = z.strictObject({
  cron: z.string().meta({
    description:
      'Five fields "minute hour day-of-month month day-of-week" (*, lists, ranges, steps, JAN-DEC, SUN-SAT), or @hourly, @daily, @weekly, @monthly, @yearly.',
  }),
  timezone: z.string().optional().meta({
    description: 'IANA time zone the rule reads its clock in, e.g. "Europe/Berlin". Default: this machine’s.',
  }),
  misfire: z.enum(scheduleMisfirePolicies).default('once').meta({
    description:
      'Fires missed while Stepwise was closed: "once" (one late run for the latest), "skip" (none; wait for the next), "all" (one run each, at most maxCatchUp).',
  }),
  maxCatchUp: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .meta({ description: 'With misfire "all": at most this many runs for missed fires (the latest ones).' }),
  misfireGrace: z
    .string()
    .default('1m')
    .meta({ description: 'How late a fire may start and still count as on time, e.g. "1m", "1h".' }),
});
type ScheduleConfig = z.infer<typeof config>;

function check(value: ScheduleConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const cron = cronProblem(value.cron);
  if (cron !== null) problems.push({ field: 'cron', message: cron });
  const zone = value.timezone === undefined ? null : timeZoneProblem(value.timezone);
  if (zone !== null) problems.push({ field: 'timezone', message: zone });
  const grace = durationProblem(value.misfireGrace, '"1m", "1h"');
  if (grace !== null) problems.push({ field: 'misfireGrace', message: grace });
  return problems;
}

export const triggerSchedule = defineNode({
  type: 'trigger.schedule',
  typeVersion: 1,
  title: 'Schedule trigger',
  description:
    'Starts the workflow (its latest saved version) on a cron schedule in a time zone, with { scheduledAt, firedAt, lateMs } as the input.',
  category: 'Triggers',
  icon: 'calendar-clock',
  ports: { in: [], out: ['out'] },
  config,
  check,
  retry: NO_RETRY,
  sideEffects: 'pure',
  inline: true,
  role: 'trigger',
  // A pinned version whose rule no longer checks (a zone this system dropped) just stops firing.
  schedule: (value) =>
    check(value).length > 0
      ? null
      : {
          cron: value.cron,
          timeZone: value.timezone ?? localTimeZone(),
          misfire: value.misfire,
          maxCatchUp: value.maxCatchUp,
          graceMs: parseDuration(value.misfireGrace) ?? 0,
        },
  execute: (ctx) => ({ port: 'out', output: ctx.input }),
});
