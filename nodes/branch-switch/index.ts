// branch.switch: sends the input, unchanged, to the port of the first case whose sandboxed
// JavaScript expression over `input` is truthy; no case matches → `default`. Each case is a port.
import { z } from 'zod';
import { defineNode, NO_RETRY, type ConfigProblem } from '../../engine/sdk/index.js';
import { firstTruthy } from '../expressions.js';
import { checkExpression } from '../syntax.js';

const DEFAULT_PORT = 'default';
const PORT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const RESERVED_PORTS = new Set([DEFAULT_PORT, 'error']);

const config = z.strictObject({
  cases: z
    .array(
      z.strictObject({
        port: z.string().meta({ description: 'The output port this case takes, e.g. `refund`.' }),
        when: z
          .string({ error: 'is required (a JavaScript expression)' })
          .min(1, 'is required (a JavaScript expression)')
          .meta({ description: 'Expression over `input`, e.g. `input.kind === "refund"`.', format: 'expression' }),
      }),
    )
    .min(1, 'needs at least one case')
    .meta({
      description:
        'Tried in order; the first truthy `when` takes its port: [{"port": "refund", "when": "input.kind === \\"refund\\""}].',
    }),
  timeoutMs: z.number().int().min(1).max(60_000).default(1000),
});
type Config = z.infer<typeof config>;

function check(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const ports = new Set<string>();
  config.cases.forEach(({ port, when }, index) => {
    const field = `cases.${index}.port`;
    if (!PORT_NAME.test(port))
      problems.push({ field, message: `"${port}" is not a port name (letters, digits, _ and -, at most 64)` });
    else if (RESERVED_PORTS.has(port)) problems.push({ field, message: `"${port}" is a port every switch has` });
    else if (ports.has(port)) problems.push({ field, message: `"${port}" is already a case` });
    ports.add(port);
    problems.push(...checkExpression(when, `cases.${index}.when`));
  });
  return problems;
}

export const branchSwitch = defineNode({
  type: 'branch.switch',
  typeVersion: 1,
  title: 'Switch',
  description:
    'Sends the input to the port of the first case whose JavaScript expression over `input` is truthy, or to `default`.',
  category: 'Logic',
  icon: 'signpost',
  ports: { in: ['in'], out: [DEFAULT_PORT, 'error'], outFromConfig: { list: 'cases', key: 'port' } },
  config,
  retry: NO_RETRY,
  sideEffects: 'pure',
  check,
  async execute(ctx) {
    const { cases, timeoutMs } = ctx.config;
    const match = await firstTruthy(
      ctx,
      cases.map(({ port, when }, index) => ({ source: when, field: `cases.${index} (${port})` })),
      timeoutMs,
      'cases',
    );
    return { port: cases[match]?.port ?? DEFAULT_PORT, output: ctx.input };
  },
});
