// wait.timer: parks the run on a durable timer row; emits its input unchanged when it fires.
// v2 adds the misfire policy (a timer that came due while nothing ran) and the `missed` port;
// v1 stays registered unchanged, so runs pinned to it keep its semantics (it always fires).
import { z } from 'zod';
import { durationProblem, formatDuration, isoTime, parseDuration } from '../../engine/model/duration.js';
import {
  defineNode,
  misfirePolicies,
  NO_RETRY,
  TerminalError,
  type ConfigProblem,
  type NodeContext,
  type NodeResult,
  type WaitOutcome,
} from '../../engine/sdk/index.js';

const whenFields = {
  duration: z.string().optional().meta({ description: 'How long to wait, e.g. "500ms", "2h", "3d", "1h30m".' }),
  until: z.string().optional().meta({ description: 'Wait until this ISO 8601 time instead.', format: 'date-time' }),
};

const v1Config = z.strictObject(whenFields);

const v2Config = z.strictObject({
  ...whenFields,
  misfire: z.enum(misfirePolicies).default('fire').meta({
    description:
      'When the timer fires later than the grace (Stepwise was closed): "fire" late, "skip" (take the `missed` port) or "ask" a person (an inbox item: Approve fires, Reject skips).',
  }),
  misfireGrace: z
    .string()
    .default('1m')
    .meta({ description: 'How late the timer may fire and still count as on time, e.g. "1m", "1h".' }),
});
type TimerWhen = z.infer<typeof v1Config>;
type TimerConfigV2 = z.infer<typeof v2Config>;

function checkWhen(config: TimerWhen): ConfigProblem[] {
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

function checkV2(config: TimerConfigV2): ConfigProblem[] {
  const problem = durationProblem(config.misfireGrace, '"1m", "1h"');
  return [...checkWhen(config), ...(problem === null ? [] : [{ field: 'misfireGrace', message: problem }])];
}

/** When the timer is due; the config's first problem (a pinned version may hold one) fails the node. */
function dueAtOf(ctx: NodeContext<TimerWhen>, problems: ConfigProblem[]): number {
  const problem = problems[0];
  if (problem) throw new TerminalError(`${problem.field}: ${problem.message}`, 'node.config');
  return ctx.config.until !== undefined
    ? Date.parse(ctx.config.until)
    : ctx.now() + (parseDuration(ctx.config.duration ?? '') ?? 0);
}

const common = {
  type: 'wait.timer',
  title: 'Wait',
  description: 'Waits for a duration or until a time. Durable: survives restarts; costs nothing while waiting.',
  category: 'Flow',
  icon: 'clock',
  retry: NO_RETRY,
  sideEffects: 'pure',
} as const;

export const waitTimerV1 = defineNode({
  ...common,
  typeVersion: 1,
  ports: { in: ['in'], out: ['out'] },
  config: v1Config,
  check: checkWhen,
  execute: (ctx) => ({ wait: { kind: 'timer', dueAt: dueAtOf(ctx, checkWhen(ctx.config)) } }),
  resume: (ctx) => ({ port: 'out', output: ctx.input }),
});

/** What the `missed` port emits: when the timer was due, when it fired, how late. */
interface Missed {
  dueAt: number;
  firedAt: number;
  lateMs: number;
}

export const waitTimer = defineNode({
  ...common,
  typeVersion: 2,
  description: `${common.description} A timer that came due while Stepwise was closed fires late, is skipped or asks a person (misfire).`,
  ports: { in: ['in'], out: ['out', 'missed'] },
  config: v2Config,
  check: checkV2,
  execute(ctx) {
    const dueAt = dueAtOf(ctx, checkV2(ctx.config));
    const graceMs = parseDuration(ctx.config.misfireGrace) ?? 0;
    return { wait: { kind: 'timer', dueAt, misfire: { policy: ctx.config.misfire, graceMs } } };
  },
  resume(ctx, outcome: WaitOutcome): NodeResult {
    if (outcome.kind === 'decision') {
      // The person asked about a missed timer: Approve fires it now, anything else skips it.
      if (outcome.decision === 'approved') return { port: 'out', output: ctx.input };
      return { port: 'missed', output: outcome.memo };
    }
    if (outcome.kind !== 'timer-fired') throw new TerminalError(`wait.timer cannot resume from ${outcome.kind}`);
    if (!outcome.missed || ctx.config.misfire === 'fire') return { port: 'out', output: ctx.input };
    const missed: Missed = { dueAt: outcome.dueAt, firedAt: outcome.firedAt, lateMs: outcome.firedAt - outcome.dueAt };
    if (ctx.config.misfire === 'skip') return { port: 'missed', output: missed };
    return {
      wait: {
        kind: 'approval',
        title: 'Timer came due while Stepwise was closed: fire now?',
        instructions: [
          `The timer of node \`${ctx.nodeId}\` was due at ${isoTime(missed.dueAt)} and came due ${formatDuration(missed.lateMs)} late.`,
          '',
          '**Approve** fires it now (the `out` port); **Reject** skips it (the `missed` port).',
        ].join('\n'),
        timeoutAt: null,
        memo: missed,
      },
    };
  },
});
