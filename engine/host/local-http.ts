// HTTP on 127.0.0.1 for the plain API routes (decisions, signals, webhooks: http-routes.ts), shared
// by served mode (serve.ts, which adds the UI and the WebSocket) and the desktop app's engine host
// (`listenLocalApi`). Everything under /api/ needs the token (`?token=` or `Authorization: Bearer`)
// — or, for a webhook call, a signature the engine checks — and a same-origin or absent Origin; the
// Host header must name this server (no DNS rebinding). Any local process can connect, so nothing
// a client sends may stop the server: malformed requests are answered with a 4xx or a closed
// connection, and a bug in a handler answers 500.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EngineApi } from '../api/index.js';
import { answerRoute, isWebhookPath, matchRoute } from './http-routes.js';

/**
 * Bounds on what one client may hold. A browser tab needs a handful of connections and sends small
 * requests with few headers; these leave room for many tabs while keeping a flood of connections
 * or a slow sender (slowloris) from holding sockets and memory for long.
 */
export const SERVE_LIMITS = {
  /** Open TCP connections, WebSockets included; later ones are closed at once. */
  connections: 256,
  /** Time to receive a request's headers, and the whole request. */
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  /** How often Node checks the two timeouts above. */
  timeoutCheckMs: 2_000,
  /** Headers per request (Node's own cap on their total size is 16 KiB: 431 beyond it). */
  headers: 100,
} as const;

/** A server listening on 127.0.0.1, with the limits above, and who may call its API. */
export interface LocalServer {
  server: Server;
  port: number;
  /** Refuses a request that may not go on (status, reason), or gives its URL. */
  admit: (request: IncomingMessage, api: (url: URL) => boolean) => [number, string] | URL;
  hasToken: (request: IncomingMessage, url: URL) => boolean;
}

export async function listenLocal(port: number, token: string): Promise<LocalServer> {
  const server = createServer({
    requestTimeout: SERVE_LIMITS.requestTimeoutMs,
    headersTimeout: SERVE_LIMITS.headersTimeoutMs,
    connectionsCheckingInterval: SERVE_LIMITS.timeoutCheckMs,
  });
  server.maxConnections = SERVE_LIMITS.connections;
  server.maxHeadersCount = SERVE_LIMITS.headers;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket));
  const bound = (server.address() as AddressInfo).port;
  const hosts = new Set([`127.0.0.1:${bound}`, `localhost:${bound}`]);
  const origins = new Set([...hosts].map((host) => `http://${host}`));
  const hasToken = (request: IncomingMessage, url: URL): boolean => {
    const given = url.searchParams.get('token') ?? bearer(request.headers.authorization);
    return given !== null && sameSecret(given, token);
  };
  const admit = (request: IncomingMessage, api: (url: URL) => boolean): [number, string] | URL => {
    if (!hosts.has(request.headers.host ?? '')) return [403, 'unexpected Host header'];
    const url = requestUrl(request.url);
    if (url === null) return [400, 'malformed request target'];
    if (!api(url)) return url;
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.has(origin)) return [403, 'cross-origin requests are refused'];
    if (hasToken(request, url)) return url;
    // A webhook sender may sign its call instead: the engine host checks the signature against
    // the trigger's secret (http-routes.ts), and refuses the call when it does not match.
    if (isWebhookPath(url.pathname) && typeof request.headers['x-stepwise-signature'] === 'string') return url;
    return [401, 'a valid token is required'];
  };
  return { server, port: bound, admit, hasToken };
}

export function isApiPath(url: URL): boolean {
  return url.pathname === '/api' || url.pathname.startsWith('/api/');
}

/**
 * Answers an admitted /api/ request: `GET /api/health` from `health`, the plain routes through
 * `api`; anything else is 404.
 */
export function answerApi(
  local: LocalServer,
  api: EngineApi,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  health: () => { ok: boolean; [key: string]: unknown },
  log: (line: string) => void,
): void {
  const { pathname } = url;
  if (pathname === '/api/health' && request.method === 'GET') {
    const answer = health();
    return sendJson(response, answer.ok ? 200 : 503, answer);
  }
  const route = matchRoute(pathname);
  if (route === 'bad-path') return sendJson(response, 400, { error: 'malformed path' });
  if (route === null) return sendJson(response, 404, { error: `no API route ${pathname}` });
  answerRoute(api, route, request, { url, authorised: local.hasToken(request, url) }).then(
    (answer) => sendJson(response, answer.status, answer.body, answer.headers),
    (error: unknown) => {
      log(`${request.method ?? '?'} ${pathname} failed: ${describeError(error)}`);
      failed(response);
    },
  );
}

/**
 * The plain API alone on 127.0.0.1 (the desktop app's engine host: its UI talks over a
 * MessagePort, so only programs call this — curl, scripts, webhooks).
 */
export async function listenLocalApi(options: {
  api: EngineApi;
  port: number;
  token: string;
  log: (line: string) => void;
}): Promise<{ port: number; url: string; close(): Promise<void> }> {
  const local = await listenLocal(options.port, options.token);
  local.server.on('error', (error) => options.log(`local API: ${String(error)}`));
  local.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    try {
      const admitted = local.admit(request, isApiPath);
      if (!(admitted instanceof URL)) return sendJson(response, admitted[0], { error: admitted[1] });
      if (!isApiPath(admitted)) return sendJson(response, 404, { error: 'not found' });
      answerApi(local, options.api, request, response, admitted, () => ({ ok: true }), options.log);
    } catch (error) {
      options.log(`local API: ${request.method ?? '?'} request failed: ${describeError(error)}`);
      failed(response);
    }
  });
  const url = `http://127.0.0.1:${local.port}`;
  return {
    port: local.port,
    url,
    close: () => new Promise<void>((resolve) => local.server.close(() => resolve())),
  };
}

/**
 * The request target as a URL, or null when it is not one. Only the origin form (`/path?query`)
 * is accepted: browsers send nothing else to a server that is not a proxy, and an absolute or
 * `*` target would let the URL name another host than the checked Host header.
 */
function requestUrl(target: string | undefined): URL | null {
  if (target === undefined || !target.startsWith('/')) return null;
  try {
    // Prefixing (not resolving against a base) keeps `//evil/x` a path rather than a host.
    return new URL(`http://127.0.0.1${target}`);
  } catch {
    return null;
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};

/** Answers on a socket the HTTP server no longer manages (an upgrade, a parse error), then closes it. */
export function endRaw(socket: Duplex, status: number): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Node's parser rejected the bytes on a connection: say why when the client can still hear it. */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || (socket as Socket).bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  endRaw(socket, status);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** A handler failed: 500, or a cut connection when the answer had begun. */
export function failed(response: ServerResponse): void {
  if (response.headersSent) response.destroy();
  else sendJson(response, 500, { error: 'internal error' });
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
