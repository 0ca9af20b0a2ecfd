// http.request: one HTTP call with a stable Idempotency-Key; 5xx/429/network errors are retried.
// Secrets come from credentials (`auth`), never from config; they do not follow a redirect to
// another origin; the body is read up to a limit; credential-bearing response headers are dropped.
import { z } from 'zod';
import { DEFAULT_RETRY, defineNode, NodeError, TerminalError, type ConfigProblem } from '../../engine/sdk/index.js';
import { authHeader, authSchema, checkHeaders, checkQuery, describeUrl, storableHeaders } from './headers.js';
import { fetchFollowing, readBodyCapped } from './transfer.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
const MiB = 1024 * 1024;

/** The response body a node reads: 10 MiB unless `maxBodyBytes` says otherwise, never over 64 MiB. */
export const HTTP_BODY_LIMIT = { defaultBytes: 10 * MiB, maxBytes: 64 * MiB } as const;

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
    auth: authSchema.optional(),
    body: z
      .unknown()
      .optional()
      .meta({ description: 'Request body (JSON). Default: the node input, for methods that send a body.' }),
    timeoutMs: z.number().int().min(1).max(600_000).default(30_000),
    maxBodyBytes: z
      .number()
      .int()
      .min(1)
      .max(HTTP_BODY_LIMIT.maxBytes)
      .default(HTTP_BODY_LIMIT.defaultBytes)
      .meta({
        description: `Largest response body read; a larger one fails the node (at most ${HTTP_BODY_LIMIT.maxBytes}).`,
      }),
    maxRedirects: z.number().int().min(0).max(20).default(5),
    crossOriginRedirects: z.enum(['strip', 'refuse']).default('strip').meta({
      description: 'A redirect to another origin: follow it without credentials and custom headers, or fail.',
    }),
  }),
  retry: { ...DEFAULT_RETRY, nonRetryableErrorKinds: ['http.4xx'] },
  sideEffects: 'write',
  // The request is aborted at `timeoutMs`; the engine's limit only catches a call that hangs anyway.
  startToCloseMs: (config) => config.timeoutMs + 5000,
  check(config) {
    const url = new URL(config.url);
    const problems: ConfigProblem[] = [...checkHeaders(config.headers), ...checkQuery(url)];
    if (url.username !== '' || url.password !== '')
      problems.push({
        field: 'url',
        // A pinned version with one still runs, and fails plainly at execution (below).
        newVersionsOnly: true,
        message:
          'must not contain a user name or password (user:password@): keep the secret in a credential and use `auth`',
      });
    return problems;
  },
  async execute(ctx) {
    const { method, headers, timeoutMs, auth } = ctx.config;
    const url = new URL(ctx.config.url);
    // Validation refuses these now; a version saved before still runs, and fails plainly.
    if (url.username !== '' || url.password !== '')
      throw new TerminalError('the URL contains a user name or password: use a credential (`auth`)', 'http.user-info');
    const sendsBody = method !== 'GET' && method !== 'HEAD';
    const requestHeaders = new Headers(headers);
    requestHeaders.set('Idempotency-Key', ctx.idempotencyKey);
    const sent = auth ? authHeader(auth, ctx.credentials.get(auth.credential)) : null;
    if (sent) requestHeaders.set(...sent);
    let body: string | undefined;
    if (sendsBody) {
      body = JSON.stringify(ctx.config.body === undefined ? (ctx.input ?? null) : ctx.config.body);
      if (!requestHeaders.has('content-type')) requestHeaders.set('content-type', 'application/json');
    }
    const what = `${method} ${describeUrl(url)}`;
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
    let response: Response;
    let text: string;
    try {
      response = await fetchFollowing(
        { method, url, headers: requestHeaders, body },
        {
          maxRedirects: ctx.config.maxRedirects,
          crossOriginRedirects: ctx.config.crossOriginRedirects,
          contentType: requestHeaders.get('content-type'),
        },
        signal,
      );
      text = method === 'HEAD' ? '' : await readBodyCapped(response, ctx.config.maxBodyBytes, what);
    } catch (error) {
      if (error instanceof NodeError) throw error;
      if (ctx.signal.aborted) throw new NodeError('cancelled', { kind: 'node.cancelled', retryable: false });
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw timedOut
        ? new NodeError(`${what} timed out after ${timeoutMs} ms`, { kind: 'http.timeout', retryable: true })
        : new NodeError(`${what} failed${cause}`, { kind: 'http.network', retryable: true });
    }
    const responseBody = parseBody(text, response.headers.get('content-type'));
    const result = {
      status: response.status,
      headers: storableHeaders(response.headers, sent?.[0] ?? null),
      body: responseBody,
    };
    if (response.ok || (response.status >= 300 && response.status < 400)) return { port: 'out', output: result };
    const summary = `${what} answered ${response.status} ${response.statusText}`.trim();
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
