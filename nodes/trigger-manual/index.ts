// trigger.manual: the entry of a run started by hand, the CLI or the API; emits the run input.
import { z } from 'zod';
import { defineNode, NO_RETRY } from '../../engine/sdk/index.js';

export const triggerManual = defineNode({
  type: 'trigger.manual',
  typeVersion: 1,
  title: 'Manual trigger',
  description: 'Starts the workflow with the input given to the run.',
  category: 'Triggers',
  icon: 'play',
  ports: { in: [], out: ['out'] },
  config: z.strictObject({
    // Only a suggestion for people: the run dialog starts from it the first time. Runs get the input
    // they are given, whatever this says.
    sampleInput: z
      .unknown()
      .optional()
      .describe('An example input (JSON): what the run dialog offers the first time you run the workflow.'),
  }),
  retry: NO_RETRY,
  sideEffects: 'pure',
  inline: true,
  role: 'trigger',
  execute: (ctx) => ({ port: 'out', output: ctx.input }),
});
