// wait.timer: parks the run on a durable timer row; emits its input unchanged when it fires.
import { z } from 'zod';
import { durationProblem, parseDuration } from '../../engine/model/duration.js';
import { defineNode, NO_RETRY, TerminalError, type ConfigProblem } from '../../engine/sdk/index.js';

const configSchema = z.strictObject({
  duration: z.string().optional().meta({ description: 'How long to wait, e.g. "500ms", "2h", "3d", "1h30m".' }),
  until: z.string().optional().meta({ description: 'Wait until this ISO 8601 time instead.', format: 'date-time' }),
});
type TimerConfig = z.infer<typeof configSchema>;

function checkTimer(config: TimerConfig): ConfigProblem[] {
  if (config.duration === undefined && config.until === undefined)
    return [{ field: 'duration', message: 'set either "duration" or "until"' }];
  if (config.duration !== undefined && config.until !== undefined)
    return [{ field: 'until', message: 'set only one of "duration" and "until"' }];
  const problem = config.duration === undefined ? null : durationProblem(config.duration);
  // The bound is newer than some pinned versions: they still compile, and fail plainly when run.
  if (problem !== null) return [{ field: 'duration', message: problem, newVersionsOnly: true }];
  if (config.until !== undefined && Number.isNaN(Date.parse(config.until)))
    return [{ field: 'until', message: `"${config.until}" is not an ISO 8601 time` }];
  return [];
}

export const waitTimer = defineNode({
  type: 'wait.timer',
  typeVersion: 1,
  title: 'Wait',
  description: 'Waits for a duration or until a time. Durable: survives restarts; costs nothing while waiting.',
  category: 'Flow',
  icon: 'clock',
  ports: { in: ['in'], out: ['out'] },
  config: configSchema,
  retry: NO_RETRY,
  sideEffects: 'pure',
  check: checkTimer,
  execute(ctx) {
    const problem = checkTimer(ctx.config)[0];
    if (problem) throw new TerminalError(`${problem.field}: ${problem.message}`, 'node.config');
    const dueAt =
      ctx.config.until !== undefined
        ? Date.parse(ctx.config.until)
        : ctx.now() + (parseDuration(ctx.config.duration ?? '') ?? 0);
    return { wait: { kind: 'timer', dueAt } };
  },
  resume: (ctx) => ({ port: 'out', output: ctx.input }),
});
