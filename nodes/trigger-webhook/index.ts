// trigger.webhook: the entry of a run started by an HTTP call, POST /api/hooks/<workflowId>/<path>,
// authorised by the served-mode token or by an HMAC of the body with a secret from the credentials
// store. Emits the run input: { body, headers, query } (authorisation and cookies removed).
import { z } from 'zod';
import { defineNode, NO_RETRY } from '../../engine/sdk/index.js';

/** Path segments of URL-safe characters, e.g. "orders/paid"; no leading or trailing "/". */
export const WEBHOOK_PATH = /^[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;

export const triggerWebhook = defineNode({
  type: 'trigger.webhook',
  typeVersion: 1,
  title: 'Webhook trigger',
  description:
    'Starts the workflow (its latest version) on POST /api/hooks/<workflow id>/<path>, with { body, headers, query } as the input.',
  category: 'Triggers',
  icon: 'webhook',
  ports: { in: [], out: ['out'] },
  config: z.strictObject({
    path: z
      .string()
      .max(200)
      .regex(WEBHOOK_PATH, 'letters, digits and . _ ~ - in segments separated by "/", e.g. "orders/paid"')
      .meta({ description: 'The path after /api/hooks/<workflow id>/.' }),
    secret: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a credential name: a letter, then letters, digits or _')
      .optional()
      .meta({
        description:
          'A credential whose value signs calls: X-Stepwise-Signature: sha256=<hex HMAC-SHA256 of the body>. Without it, only the access token is accepted.',
      }),
  }),
  retry: NO_RETRY,
  sideEffects: 'pure',
  inline: true,
  role: 'trigger',
  execute: (ctx) => ({ port: 'out', output: ctx.input }),
});
