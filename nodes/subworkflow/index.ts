// subworkflow: runs another saved workflow as a child run and emits its output. The child's
// version is pinned when the node first executes ("latest" resolved then) and journaled with the
// wait, so a retry of the commit, a recovery or a replay uses the same child; the parent costs
// nothing while the child runs (a `child` wait). A failed or cancelled child fails the node.
import { z } from 'zod';
import { childRunId, defineNode, NO_RETRY, TerminalError } from '../../engine/sdk/index.js';

const config = z.strictObject({
  workflowId: z.string().min(1, 'is required').meta({ description: 'The workflow to run as a child.' }),
  version: z
    .union([z.number().int().positive(), z.literal('latest')])
    .default('latest')
    .meta({ description: 'A saved version, or "latest": resolved when the node first runs, then kept.' }),
  input: z
    .unknown()
    .optional()
    .meta({ description: "The child run's input (default: this node's input); strings may hold {{ expressions }}." }),
});

export const subworkflow = defineNode({
  type: 'subworkflow',
  typeVersion: 1,
  title: 'Sub-workflow',
  description:
    "Runs another workflow as a child run and emits the child's output on `out`. A failed or cancelled child fails this node. Costs nothing while the child runs.",
  category: 'Flow',
  icon: 'layout',
  ports: { in: ['in'], out: ['out', 'error'] },
  config,
  // A failed child is an answer, not a glitch: running it again is the workflow's choice (`retry`).
  retry: NO_RETRY,
  sideEffects: 'write',
  async execute(ctx) {
    const version = await ctx.workflows.pin(ctx.config.workflowId, ctx.config.version);
    return {
      wait: {
        kind: 'child',
        workflowId: ctx.config.workflowId,
        version,
        runId: childRunId(ctx.runId, ctx.activationId, ctx.attempt),
        input: ctx.config.input === undefined ? ctx.input : ctx.config.input,
      },
    };
  },
  resume(_ctx, outcome) {
    if (outcome.kind !== 'child') throw new TerminalError(`subworkflow cannot resume from a ${outcome.kind} wait`);
    if (outcome.status === 'completed') return { port: 'out', output: outcome.output };
    throw new TerminalError(
      `child run ${outcome.runId} ${outcome.status}: ${outcome.error?.message ?? 'no error recorded'}`,
      `subworkflow.${outcome.status}`,
      { runId: outcome.runId, error: outcome.error },
    );
  },
});
