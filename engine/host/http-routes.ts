// Served mode's plain-HTTP API for other programs (scripts, webhooks, curl): decisions on a run's
// approval, signals to a run's `wait.signal`, webhook calls that start runs. Each route is a thin
// mapping onto EngineApi calls made to the engine host, so it obeys the same rules as the UI;
// serve.ts has already checked the Host, the Origin and the token (a webhook call may come with a
// signature instead, which the engine host checks against the trigger's secret).
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { ApiError, describeIssues, signalNameSchema, type EngineApi } from '../api/index.js';
import { READABLE_ISSUES } from '../model/issues.js';

/** Bodies of these routes are a few fields; a larger one is refused before it is buffered whole. */
export const MAX_HTTP_BODY_BYTES = 1024 * 1024;

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** What a handler knows of its request besides the parsed body. */
export interface RouteRequest {
  /** The body as received (UTF-8). */
  text: string;
  headers: IncomingMessage['headers'];
  url: URL;
  /** True when the access token came with the request; false when only a signature did. */
  authorised: boolean;
}

interface Route {
  pattern: RegExp;
  method: 'POST';
  /** 'text': the body is handed over as received, not parsed as JSON (webhooks take any body). */
  body?: 'json' | 'text';
  handle(api: EngineApi, params: string[], body: unknown, request: RouteRequest): Promise<HttpAnswer>;
}

const decisionBodySchema = z.strictObject({
  nodeId: z.string().min(1).max(200).optional(),
  /** `approved`, `rejected` or one of the approval's custom outcomes. */
  decision: z.string().min(1).max(200),
  by: z.string().trim().min(1).max(200),
  comment: z.string().max(10_000).optional(),
  /** The approval form's values, by field name. */
  values: z.record(z.string().max(200), z.unknown()).optional(),
});

const ROUTES: Route[] = [
  { pattern: /^\/api\/runs\/([^/]+)\/decisions$/, method: 'POST', handle: postDecision },
  { pattern: /^\/api\/runs\/([^/]+)\/signals\/([^/]+)$/, method: 'POST', body: 'text', handle: postSignal },
  { pattern: /^\/api\/hooks\/([^/]+)\/(.+)$/, method: 'POST', body: 'text', handle: postWebhook },
];

/** Paths a webhook sender may call with a signature instead of the access token. */
export function isWebhookPath(pathname: string): boolean {
  return pathname.startsWith('/api/hooks/');
}

/** The route a path names, with its decoded parameters; null when no route has that path. */
export function matchRoute(pathname: string): { route: Route; params: string[] } | 'bad-path' | null {
  for (const route of ROUTES) {
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    try {
      return { route, params: match.slice(1).map((part) => decodeURIComponent(part)) };
    } catch {
      return 'bad-path';
    }
  }
  return null;
}

/** Answers a request to a route: reads and parses its JSON body, then calls the handler. */
export async function answerRoute(
  api: EngineApi,
  found: { route: Route; params: string[] },
  request: IncomingMessage,
  context: { url: URL; authorised: boolean },
): Promise<HttpAnswer> {
  const { route, params } = found;
  if (request.method !== route.method)
    return { status: 405, body: { error: 'method not allowed' }, headers: { allow: route.method } };
  const raw = await readBody(request);
  // The rest of the body is never read: the connection cannot carry another request.
  if (raw === null)
    return {
      status: 413,
      body: { error: `the body is larger than ${MAX_HTTP_BODY_BYTES} bytes` },
      headers: { connection: 'close' },
    };
  // A signature covers the bytes sent: the text handed on must encode back to exactly them.
  if (route.body === 'text' && !isUtf8(raw)) return { status: 400, body: { error: 'the body is not UTF-8 text' } };
  const text = raw.toString('utf8');
  let body: unknown = text;
  if (route.body !== 'text')
    try {
      body = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
    } catch (error) {
      return { status: 400, body: { error: `the body is not JSON: ${(error as Error).message}` } };
    }
  try {
    return await route.handle(api, params, body, { text, headers: request.headers, ...context });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { status: statusOf(error), body: { error: error.message } };
  }
}

function statusOf(error: ApiError): number {
  if (error.code === 'not-found') return 404;
  if (error.code === 'unauthorized') return 401;
  if (error.code === 'unavailable') return 503;
  if (error.code === 'conflict') return 409;
  if (error.code === 'forbidden') return 403;
  if (error.code === 'internal') return 500;
  return 400;
}

/**
 * A person's decision. A wait is decided once: a second decision (or a second vote by the same
 * person towards a quorum) is 409 with the first as recorded; a run that does not wait on a person
 * is 404; a person the approval does not allow is 403.
 */
async function postDecision(api: EngineApi, [runId = '']: string[], body: unknown): Promise<HttpAnswer> {
  const parsed = decisionBodySchema.safeParse(body, READABLE_ISSUES);
  if (!parsed.success) return { status: 400, body: { error: `invalid decision: ${describeIssues(parsed.error)}` } };
  const { nodeId, decision, by, comment, values } = parsed.data;
  try {
    await api.decide({
      runId,
      decision,
      by,
      ...(nodeId !== undefined && { nodeId }),
      ...(comment !== undefined && { comment }),
      ...(values !== undefined && { values }),
    });
    return { status: 200, body: { ok: true } };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.reason === 'not-waiting' || error.reason === 'finished') return answer(404, error);
    if (error.reason === 'not-allowed') return answer(403, error);
    if (error.reason === 'ambiguous') return answer(400, error);
    if (error.reason !== 'already-decided') throw error;
    const first = await firstDecision(api, runId, nodeId, by.trim());
    if (!first) return answer(409, error);
    return {
      status: 409,
      body: {
        error: 'already-decided',
        message: error.message,
        nodeId: first.nodeId,
        first: { decision: first.decision, by: first.by, at: new Date(first.at).toISOString() },
      },
    };
  }
}

function answer(status: number, error: ApiError): HttpAnswer {
  return { status, body: { error: error.message } };
}

/**
 * The decision a refused one came after, as recorded: the wait's decision, or (a quorum still
 * open) this person's earlier vote.
 */
async function firstDecision(
  api: EngineApi,
  runId: string,
  nodeId: string | undefined,
  by: string,
): Promise<{ nodeId: string; decision: string; by: string; at: number } | null> {
  const run = await api.getRun({ runId });
  const approvals = run.approvals.filter(
    (approval) => approval.kind === 'approval' && (nodeId === undefined || approval.nodeId === nodeId),
  );
  const vote = approvals
    .filter((approval) => approval.status === 'open')
    .flatMap((approval) => approval.votes.map((cast) => ({ nodeId: approval.nodeId, ...cast })))
    .find((cast) => cast.by === by);
  if (vote) return vote;
  const decided = approvals
    .filter((approval) => approval.status === 'decided')
    .sort((a, b) => (a.decidedAt ?? 0) - (b.decidedAt ?? 0))[0];
  if (!decided || decided.decision === null || decided.decidedBy === null || decided.decidedAt === null) return null;
  return { nodeId: decided.nodeId, decision: decided.decision, by: decided.decidedBy, at: decided.decidedAt };
}

/**
 * A signal to the run's `wait.signal` node waiting for `name`: the body is the payload. An
 * invalid payload is 400 with the schema's complaint naming the field, and the run stays parked.
 */
async function postSignal(
  api: EngineApi,
  [runId = '', name = '']: string[],
  _body: unknown,
  request: RouteRequest,
): Promise<HttpAnswer> {
  // A name no wait.signal node can have: the run surely does not wait for it.
  if (!signalNameSchema.safeParse(name).success)
    return { status: 404, body: { error: `run ${runId} does not wait for signal "${name}"` } };
  let payload: unknown = null;
  try {
    // An empty body is a signal without data.
    if (request.text.trim() !== '') payload = JSON.parse(request.text) as unknown;
  } catch (error) {
    return { status: 400, body: { error: `the body is not JSON: ${(error as Error).message}` } };
  }
  try {
    await api.sendSignal({ runId, name, payload, by: 'http' });
    return { status: 200, body: { ok: true } };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === 'invalid' || error.code === 'bad-request')
      return { status: 400, body: { error: 'invalid-signal', message: error.message } };
    // Several nodes wait on that name: the request cannot say which (the engine names them).
    if (error.reason === 'ambiguous') return answer(400, error);
    throw error;
  }
}

/** Headers a run input never gets: credentials of the caller, and the signature itself. */
const PRIVATE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-stepwise-signature',
]);

/** A webhook call: starts a run of the workflow's latest version from its trigger with this path. */
async function postWebhook(
  api: EngineApi,
  [workflowId = '', path = '']: string[],
  _body: unknown,
  request: RouteRequest,
): Promise<HttpAnswer> {
  const given = request.headers['x-stepwise-signature'];
  const signature = typeof given === 'string' ? given : null;
  if (!request.authorised && signature === null)
    return { status: 401, body: { error: 'a valid token or X-Stepwise-Signature is required' } };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined && !PRIVATE_HEADERS.has(name))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(request.url.searchParams.keys())) {
    // The access token may come as ?token=: it is the caller's credential, not the run's data.
    if (key === 'token') continue;
    const values = request.url.searchParams.getAll(key);
    query[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  const { runId } = await api.receiveWebhook({
    workflowId,
    path,
    body: request.text,
    contentType: request.headers['content-type'] ?? null,
    headers,
    query,
    signature: request.authorised ? null : signature,
  });
  return { status: 202, body: { runId } };
}

/** The body, or null once it passes the limit (the rest is not read). */
function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HTTP_BODY_BYTES) {
        request.removeAllListeners('data');
        request.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
