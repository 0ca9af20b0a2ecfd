// Webhook calls (`receiveWebhook`): which trigger a call is for, whether its signature is the
// HMAC of its body under the trigger's secret, and the run input made of it. The secret is read
// here and never leaves this module: not in an answer, an error or a log line.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError, type WebhookCall } from '../api/index.js';
import type { Workflow } from '../model/workflow.js';

export const WEBHOOK_TRIGGER_TYPE = 'trigger.webhook';

export interface WebhookTrigger {
  nodeId: string;
  /** The credential whose value signs calls; null when only the access token is accepted. */
  secret: string | null;
}

/** The graph's webhook trigger with this path (the first, when several share it); null when none. */
export function findWebhookTrigger(graph: Workflow, path: string): WebhookTrigger | null {
  for (const node of graph.nodes) {
    if (node.type !== WEBHOOK_TRIGGER_TYPE || node.config.path !== path) continue;
    const secret = node.config.secret;
    return { nodeId: node.id, secret: typeof secret === 'string' ? secret : null };
  }
  return null;
}

/** True when `header` is `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`; constant time. */
export function signatureMatches(secret: string, body: string, header: string): boolean {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1], 'hex');
  const expected = createHmac('sha256', secret).update(body, 'utf8').digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The run input: `{ body, headers, query }`, the body parsed when it says it is JSON. */
export function webhookInput(call: WebhookCall): { body: unknown; headers: Record<string, string>; query: unknown } {
  return { body: parseBody(call.body, call.contentType), headers: call.headers, query: call.query };
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError('bad-request', `the body is not JSON: ${(error as Error).message}`);
  }
}
