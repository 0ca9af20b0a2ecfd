// loop.map: runs a saved workflow once per item of a list, as child runs, at most `concurrency` at
// once, and emits their outputs in item order. The fan-out is one `children` wait: the commit that
// parks the node starts the first children, each child's end is journaled on this run and starts
// the next item, so after a crash only the items that had not finished run (again).
import { z } from 'zod';
import {
  defineNode,
  itemRunId,
  MAX_CHILD_CONCURRENCY,
  MAX_CHILD_ITEMS,
  NO_RETRY,
  OUTPUT_TOO_LARGE,
  outputTooLargeMessage,
  TerminalError,
} from '../../engine/sdk/index.js';

const config = z.strictObject({
  // A string is accepted so that an expression validates when saved; after evaluation it must be a list.
  items: z.union([z.array(z.unknown()), z.string()]).meta({
    description: 'The list to map over, usually an expression: "{{ input.documents }}". One child run per item.',
  }),
  workflowId: z.string().min(1, 'is required').meta({ description: 'The workflow each item runs through.' }),
  version: z
    .union([z.number().int().positive(), z.literal('latest')])
    .default('latest')
    .meta({ description: 'A saved version, or "latest": resolved when the node first runs, then kept.' }),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(MAX_CHILD_CONCURRENCY)
    .default(4)
    .meta({ description: `Child runs at once (1–${MAX_CHILD_CONCURRENCY}).` }),
  onItemError: z.enum(['fail', 'collect']).default('fail').meta({
    description:
      'A failed item: "fail" fails the node and cancels the running items; "collect" puts {index, error} in its place.',
  }),
});

function tooMany(count: number): string {
  return `${count} items, more than ${MAX_CHILD_ITEMS}; split the list into batches`;
}

export const loopMap = defineNode({
  type: 'loop.map',
  typeVersion: 1,
  title: 'Map (child runs)',
  description:
    'Runs a workflow once per item (child runs, `concurrency` at a time) and emits the outputs in item order on `out`. A failed item fails the node (or is collected). Costs nothing while the children run; after a crash, finished items never run again.',
  category: 'Flow',
  icon: 'layers',
  ports: { in: ['in'], out: ['out', 'error'] },
  config,
  // A failed item is an answer, not a glitch; a retry would run every item again (new child runs).
  retry: NO_RETRY,
  sideEffects: 'write',
  // Also run on the config as evaluated, before `execute`: a list from an expression is bounded too.
  check(config) {
    return Array.isArray(config.items) && config.items.length > MAX_CHILD_ITEMS
      ? [{ field: 'items', message: tooMany(config.items.length) }]
      : [];
  },
  async execute(ctx) {
    const { items, workflowId, concurrency, onItemError } = ctx.config;
    if (typeof items === 'string')
      throw new TerminalError(
        `items must be a list, got the text ${JSON.stringify(items.slice(0, 80))}; write an expression such as "{{ input.documents }}"`,
        'node.config',
      );
    if (items.length === 0) return { port: 'out', output: [] };
    const version = await ctx.workflows.pin(workflowId, ctx.config.version);
    return {
      wait: {
        kind: 'children',
        workflowId,
        version,
        concurrency,
        onItemError,
        items: items.map((input, index) => ({
          runId: itemRunId(ctx.runId, ctx.activationId, ctx.attempt, index),
          input,
        })),
      },
    };
  },
  resume(_ctx, outcome) {
    if (outcome.kind !== 'children') throw new TerminalError(`loop.map cannot resume from a ${outcome.kind} wait`);
    if (outcome.overLimit)
      throw new TerminalError(
        `the outputs of the first ${outcome.ended.length} items: ${outputTooLargeMessage(outcome.overLimit.size, outcome.overLimit.limitBytes, true)}`,
        OUTPUT_TOO_LARGE,
        { items: outcome.ended.length, size: outcome.overLimit.size, limitBytes: outcome.overLimit.limitBytes },
      );
    const failed = outcome.ended.find((end) => end.status !== 'completed');
    if (failed && outcome.onItemError === 'fail')
      throw new TerminalError(
        `item ${failed.index} (child run ${failed.runId}) ${failed.status}: ${failed.error?.message ?? 'no error recorded'}`,
        `loop.map.item-${failed.status}`,
        { index: failed.index, runId: failed.runId, error: failed.error },
      );
    return {
      port: 'out',
      output: outcome.ended.map((end) =>
        end.status === 'completed' ? end.output : { index: end.index, runId: end.runId, error: end.error },
      ),
    };
  },
});
