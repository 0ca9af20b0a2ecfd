// merge: waits for every connected input that can still arrive; output keyed by source node id.
import { z } from 'zod';
import { defineNode, NO_RETRY } from '../../engine/sdk/index.js';

export const merge = defineNode({
  type: 'merge',
  typeVersion: 1,
  title: 'Merge',
  description:
    'Waits for all connected inputs (inputs on branches not taken are skipped). The output is an object keyed by source node id.',
  category: 'Flow',
  icon: 'merge',
  ports: { in: ['in'], out: ['out'] },
  config: z.strictObject({}),
  retry: NO_RETRY,
  sideEffects: 'pure',
  inline: true,
  join: 'all',
  execute: (ctx) => ({ port: 'out', output: ctx.input }),
});
