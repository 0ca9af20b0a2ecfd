// http.request: one HTTP call with a stable Idempotency-Key; 5xx/429/network errors are retried.
import { z } from 'zod';
import { DEFAULT_RETRY, defineNode, NodeError, TerminalError } from '../../engine/sdk/index.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

export const httpRequest = defineNode({
  type: 'http.request',
  typeVersion: 1,
  title: 'HTTP request',
  description:
    'Calls a URL. Sends `Idempotency-Key` (stable across retries and crash recovery). Output: `{status, headers, body}`.',
  category: 'Network',
  icon: 'globe',
  ports: { in: ['in'], out: ['out', 'error'] },
  config: z.strictObject({
    method: z.enum(METHODS).default('GET'),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .meta({ description: 'The URL to call, e.g. https://api.example.com/refunds.' }),
    headers: z.record(z.string(), z.string()).default({}),
    body: z
      .unknown()
      .optional()
      .meta({ description: 'Request body (JSON). Default: the node input, for methods that send a body.' }),
    timeoutMs: z.number().int().min(1).max(600_000).default(30_000),
  }),
  retry: { ...DEFAULT_RETRY, nonRetryableErrorKinds: ['http.4xx'] },
  sideEffects: 'write',
  // The request is aborted at `timeoutMs`; the engine's limit only catches a call that hangs anyway.
  startToCloseMs: (config) => config.timeoutMs + 5000,
  async execute(ctx) {
    const { method, url, headers, timeoutMs } = ctx.config;
    const sendsBody = method !== 'GET' && method !== 'HEAD';
    const requestHeaders = new Headers(headers);
    requestHeaders.set('Idempotency-Key', ctx.idempotencyKey);
    let body: string | undefined;
    if (sendsBody) {
      body = JSON.stringify(ctx.config.body === undefined ? (ctx.input ?? null) : ctx.config.body);
      if (!requestHeaders.has('content-type')) requestHeaders.set('content-type', 'application/json');
    }
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
    let response: Response;
    try {
      response = await fetch(url, { method, headers: requestHeaders, body, signal, redirect: 'follow' });
    } catch (error) {
      if (ctx.signal.aborted) throw new NodeError('cancelled', { kind: 'node.cancelled', retryable: false });
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw timedOut
        ? new NodeError(`${method} ${url} timed out after ${timeoutMs} ms`, { kind: 'http.timeout', retryable: true })
        : new NodeError(`${method} ${url} failed${cause}`, { kind: 'http.network', retryable: true });
    }
    const text = method === 'HEAD' ? '' : await response.text();
    const responseBody = parseBody(text, response.headers.get('content-type'));
    const result = { status: response.status, headers: Object.fromEntries(response.headers), body: responseBody };
    if (response.ok || (response.status >= 300 && response.status < 400)) return { port: 'out', output: result };
    const summary = `${method} ${url} answered ${response.status} ${response.statusText}`.trim();
    if (response.status === 429) throw new NodeError(summary, { kind: 'http.429', retryable: true, details: result });
    if (response.status >= 500) throw new NodeError(summary, { kind: 'http.5xx', retryable: true, details: result });
    throw new TerminalError(summary, 'http.4xx', result);
  },
});

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
