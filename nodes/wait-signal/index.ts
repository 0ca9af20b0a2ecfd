// wait.signal: parks the run until a named signal arrives (HTTP, CLI, API) with a payload that
// matches the optional JSON Schema; emits the payload on `out`, or the input on `timeout`.
import { z } from 'zod';
import { durationProblem, parseDuration } from '../../engine/model/duration.js';
import { compileJsonSchema, defineNode, NO_RETRY, TerminalError, type ConfigProblem } from '../../engine/sdk/index.js';

const configSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" or "-" (at most 100), e.g. "paid"')
    .meta({ description: 'The signal to wait for: POST /api/runs/<run>/signals/<name>, or `stepwise signal`.' }),
  schema: z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ description: 'A JSON Schema the payload must match; a payload that does not is refused.' }),
  timeout: z
    .string()
    .optional()
    .meta({ description: 'Give up after this long and take the `timeout` port, e.g. "30m", "3d".' }),
});
type SignalConfig = z.infer<typeof configSchema>;

function checkSignal(config: SignalConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const compiled = config.schema === undefined ? null : compileJsonSchema(config.schema);
  if (typeof compiled === 'string') problems.push({ field: 'schema', message: compiled });
  const timeout = config.timeout === undefined ? null : durationProblem(config.timeout, '"30m", "3d"');
  if (timeout !== null) problems.push({ field: 'timeout', message: timeout });
  return problems;
}

export const waitSignal = defineNode({
  type: 'wait.signal',
  typeVersion: 1,
  title: 'Wait for signal',
  description:
    'Waits for a named signal from another program (HTTP or the CLI). Emits its payload on `out`, or the node input on `timeout`. Costs nothing while waiting.',
  category: 'Flow',
  icon: 'radio',
  ports: { in: ['in'], out: ['out', 'timeout'] },
  config: configSchema,
  retry: NO_RETRY,
  sideEffects: 'pure',
  check: checkSignal,
  execute(ctx) {
    const problem = checkSignal(ctx.config)[0];
    if (problem) throw new TerminalError(`${problem.field}: ${problem.message}`, 'node.config');
    const timeoutMs = ctx.config.timeout === undefined ? null : parseDuration(ctx.config.timeout);
    return {
      wait: {
        kind: 'signal',
        name: ctx.config.name,
        schema: ctx.config.schema ?? null,
        timeoutAt: timeoutMs === null ? null : ctx.now() + timeoutMs,
      },
    };
  },
  resume(ctx, outcome) {
    if (outcome.kind === 'signal') return { port: 'out', output: outcome.payload };
    return { port: 'timeout', output: ctx.input };
  },
});
