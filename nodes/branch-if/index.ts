// branch.if: routes the input to `true` or `false` by a sandboxed JS expression over `input`.
import { z } from 'zod';
import { defineNode, NO_RETRY, type NodeContext, type SandboxRequest } from '../../engine/sdk/index.js';
import { checkExpression } from '../syntax.js';

const config = z.strictObject({
  condition: z
    .string({ error: 'is required (a JavaScript expression)' })
    .min(1, 'is required (a JavaScript expression)')
    .meta({ description: 'Expression over `input`, e.g. `input.amount > 100`.', format: 'expression' }),
  timeoutMs: z.number().int().min(1).max(60_000).default(1000),
});

export const branchIf = defineNode({
  type: 'branch.if',
  typeVersion: 1,
  title: 'If',
  description: 'Sends the input to the `true` or the `false` port depending on a JavaScript expression over `input`.',
  category: 'Logic',
  icon: 'split',
  ports: { in: ['in'], out: ['true', 'false'] },
  config,
  retry: NO_RETRY,
  sideEffects: 'pure',
  check: (config) => checkExpression(config.condition, 'condition'),
  async execute(ctx) {
    const value = await ctx.sandbox.evaluate(sandboxRequest(ctx));
    return { port: value ? 'true' : 'false', output: ctx.input };
  },
  executeNow(ctx) {
    const answer = ctx.sandbox.evaluateNow?.(sandboxRequest(ctx));
    return answer && { port: answer.value ? 'true' : 'false', output: ctx.input };
  },
});

function sandboxRequest(ctx: NodeContext<z.infer<typeof config>>): SandboxRequest {
  return {
    source: ctx.config.condition,
    mode: 'expression',
    input: ctx.input,
    timeoutMs: ctx.config.timeoutMs,
    // The `code` node's default: a thread keeps one WebAssembly instance per limit, so one limit
    // for both avoids a new instance when they alternate, and the input (up to an output limit,
    // 16 MiB) fits. Memory is only taken as the expression uses it.
    memoryLimitBytes: 64 * 1024 * 1024,
    maxOutputBytes: ctx.limits.outputBytes,
  };
}
