// approval: parks the run until a person approves or rejects (or the optional timeout passes).
import { z } from 'zod';
import { durationProblem, parseDuration } from '../../engine/model/duration.js';
import { defineNode, NO_RETRY, TerminalError } from '../../engine/sdk/index.js';

export const approval = defineNode({
  type: 'approval',
  typeVersion: 1,
  title: 'Approval',
  description:
    'Waits for a person to approve or reject. Each port emits the node input unchanged; the decision (who, when, comment) goes to the journal.',
  category: 'Human',
  icon: 'user-check',
  ports: { in: ['in'], out: ['approved', 'rejected', 'timeout'] },
  config: z.strictObject({
    title: z.string().min(1).default('Approval required').meta({ description: 'What is being decided.' }),
    instructions: z.string().default('').meta({ description: 'What the approver should check.', format: 'markdown' }),
    timeout: z
      .string()
      .optional()
      .meta({ description: 'Give up after this long and take the `timeout` port, e.g. "3d".' }),
  }),
  retry: NO_RETRY,
  sideEffects: 'pure',
  check: (config) => {
    const problem = config.timeout === undefined ? null : durationProblem(config.timeout, '"30m", "3d"');
    // A pinned version still compiles; `execute` fails it plainly (below).
    return problem === null ? [] : [{ field: 'timeout', message: problem, newVersionsOnly: true }];
  },
  execute(ctx) {
    // A version saved before durations were bounded may still hold one too long to be a time.
    const problem = ctx.config.timeout === undefined ? null : durationProblem(ctx.config.timeout, '"30m", "3d"');
    if (problem !== null) throw new TerminalError(`timeout: ${problem}`, 'node.config');
    const timeoutMs = ctx.config.timeout === undefined ? null : parseDuration(ctx.config.timeout);
    return {
      wait: {
        kind: 'approval',
        title: ctx.config.title,
        instructions: ctx.config.instructions,
        timeoutAt: timeoutMs === null ? null : ctx.now() + timeoutMs,
      },
    };
  },
  resume(ctx, outcome) {
    const port = outcome.kind === 'decision' ? outcome.decision : 'timeout';
    return { port, output: ctx.input };
  },
});
