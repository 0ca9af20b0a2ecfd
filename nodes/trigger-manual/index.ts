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
  config: z.strictObject({}),
  retry: NO_RETRY,
  sideEffects: 'pure',
  inline: true,
  role: 'trigger',
  execute: (ctx) => ({ port: 'out', output: ctx.input }),
});
