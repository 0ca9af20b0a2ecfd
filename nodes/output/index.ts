// output: sets the run's output to its input.
import { z } from 'zod';
import { defineNode, NO_RETRY } from '../../engine/sdk/index.js';

export const output = defineNode({
  type: 'output',
  typeVersion: 1,
  title: 'Output',
  description: "Sets the run's output to this node's input.",
  category: 'Flow',
  icon: 'flag',
  ports: { in: ['in'], out: [] },
  config: z.strictObject({}),
  retry: NO_RETRY,
  sideEffects: 'pure',
  inline: true,
  role: 'output',
  execute: (ctx) => ({ port: 'out', output: ctx.input }),
});
