// code: a JS function body run in the sandbox; `input` in, its return value out.
import { z } from 'zod';
import { defineNode, NO_RETRY, type NodeContext, type SandboxRequest } from '../../engine/sdk/index.js';
import { checkFunctionBody } from '../syntax.js';

const config = z.strictObject({
  code: z
    .string({ error: 'is required (a JavaScript function body)' })
    .min(1, 'is required (a JavaScript function body)')
    .meta({ description: 'Function body. `input` holds the node input; `return` the output.', format: 'code' }),
  timeoutMs: z
    .number()
    .int()
    .min(1)
    .max(600_000)
    .default(5000)
    .meta({ description: 'Wall-clock limit for one execution, in milliseconds.' }),
  memoryLimitMb: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(64)
    .meta({ description: 'Heap limit of the sandbox, in MiB.' }),
});

type CodeConfig = z.infer<typeof config>;

export const code = defineNode({
  type: 'code',
  typeVersion: 1,
  title: 'Code',
  description:
    "Runs a JavaScript function body in a sandbox (no file system, network or process). `input` is the node input; the return value is the output; `console.log` lines go to the run's log.",
  category: 'Data',
  icon: 'code',
  ports: { in: ['in'], out: ['out', 'error'] },
  config,
  retry: NO_RETRY,
  sideEffects: 'pure',
  // The sandbox stops the code at `timeoutMs`; the engine's limit only catches a sandbox that hangs.
  startToCloseMs: (config) => config.timeoutMs + 5000,
  check: (config) => checkFunctionBody(config.code, 'code'),
  async execute(ctx) {
    return { port: 'out', output: await ctx.sandbox.evaluate(sandboxRequest(ctx)) };
  },
  executeNow(ctx) {
    const answer = ctx.sandbox.evaluateNow?.(sandboxRequest(ctx));
    return answer && { port: 'out', output: answer.value };
  },
});

function sandboxRequest(ctx: NodeContext<CodeConfig>): SandboxRequest {
  return {
    source: ctx.config.code,
    mode: 'function',
    input: ctx.input,
    timeoutMs: ctx.config.timeoutMs,
    memoryLimitBytes: ctx.config.memoryLimitMb * 1024 * 1024,
    maxOutputBytes: ctx.limits.outputBytes,
    // The run's log: each printed line a note (kept also when the code throws or times out).
    onConsole: (lines, dropped) => {
      for (const { level, text } of lines)
        ctx.note({ kind: 'console', level: level === 'log' ? 'info' : level, message: text });
      if (dropped > 0)
        ctx.note({
          kind: 'console',
          level: 'warn',
          message: `${dropped} more console line${dropped === 1 ? '' : 's'} dropped`,
        });
    },
  };
}
