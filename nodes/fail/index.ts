// fail: stops the run with a message (never retried).
import { z } from 'zod';
import { defineNode, NO_RETRY, TerminalError } from '../../engine/sdk/index.js';

export const fail = defineNode({
  type: 'fail',
  typeVersion: 1,
  title: 'Fail',
  description: 'Fails the run with a message.',
  category: 'Flow',
  icon: 'x-octagon',
  ports: { in: ['in'], out: [] },
  config: z.strictObject({
    message: z.string().min(1).default('Workflow failed').meta({ description: 'Why the run failed.' }),
  }),
  retry: NO_RETRY,
  sideEffects: 'pure',
  execute(ctx) {
    throw new TerminalError(ctx.config.message, 'fail');
  },
});
