// branch.switch: sends the input, unchanged, to the port of the first case whose sandboxed
// JavaScript expression over `input` is truthy; no case matches → `default`. Each case is a port.
import { z } from 'zod';
import { defineNode, NO_RETRY, type ConfigProblem } from '../../engine/sdk/index.js';
import { firstTruthy } from '../expressions.js';
import { configPortProblems, type ConfigPortRules } from '../config-ports.js';
import { checkExpression } from '../syntax.js';

const DEFAULT_PORT = 'default';
const PORT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const CASE_PORTS: ConfigPortRules = {
  pattern: PORT_NAME,
  patternText: 'letters, digits, _ and -, at most 64',
  reserved: new Set([DEFAULT_PORT, 'error']),
  owner: 'switch',
  item: 'a case',
};

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
  problems.push(
    ...configPortProblems(
      config.cases.map(({ port }) => port),
      (index) => `cases.${index}.port`,
      CASE_PORTS,
    ),
  );
  config.cases.forEach(({ when }, index) => problems.push(...checkExpression(when, `cases.${index}.when`)));
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
