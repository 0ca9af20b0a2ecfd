// Served mode: the built renderer and the EngineApi (over a WebSocket) on 127.0.0.1 only.
// Everything under /api/ needs the token (`?token=` or `Authorization: Bearer`) — or, for a webhook
// call (/api/hooks/), a signature the engine host checks — and a same-origin or absent Origin;
// the Host header must name this server (no DNS rebinding). Static files are public.
// Any local process can connect, so nothing a client sends may stop the server: malformed requests
// and frames are answered with a 4xx or a closed connection, and a bug in a handler answers 500.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  contentSecurityPolicy,
  decodeFrame,
  EngineClient,
  MAX_WEBSOCKET_FRAME_BYTES,
  requestFrameSchema,
  type Connection,
  type ServerFrame,
} from '../api/index.js';
import { answerRoute, isWebhookPath, matchRoute } from './http-routes.js';
import {
  hostEntry as defaultHostEntry,
  rendererDir as defaultRendererDir,
  templatesDir as defaultTemplatesDir,
} from './paths.js';
import { HostSupervisor, type HostState } from './supervisor.js';

export interface ServeOptions {
  dbPath: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
  rendererDir?: string;
  templatesDir?: string;
  hostEntry?: string;
  log?: (line: string) => void;
}

export interface ServedApp {
  url: string;
  origin: string;
  port: number;
  token: string;
  supervisor: HostSupervisor;
  close(): Promise<void>;
}

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
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export async function serve(options: ServeOptions): Promise<ServedApp> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const rendererDir = options.rendererDir ?? defaultRendererDir;
  const log = options.log ?? (() => {});
  const clients = new Map<number, WebSocket>();
  // Client 0 is this process: the plain-HTTP routes call the engine host through it.
  let nextClient = 1;
  let toHttpClient: ((frame: ServerFrame) => void) | null = null;
  const sendTo = (socket: WebSocket, frame: ServerFrame): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  const hostFrame = (state: HostState): ServerFrame => ({
    t: 'host',
    state: state === 'ready' ? 'ready' : 'restarting',
  });

  const supervisor = new HostSupervisor({
    entry: options.hostEntry ?? defaultHostEntry,
    args: ['--db', options.dbPath, '--templates', options.templatesDir ?? defaultTemplatesDir],
    onFrame: (client, frame) => {
      if (client === HTTP_CLIENT) toHttpClient?.(frame);
      else if (client === null) for (const socket of clients.values()) sendTo(socket, frame);
      else {
        const socket = clients.get(client);
        if (socket) sendTo(socket, frame);
      }
    },
    onState: (state, detail) => {
      if (detail) log(detail);
      for (const socket of clients.values()) sendTo(socket, hostFrame(state));
    },
  });
  await supervisor.start();
  const http = new EngineClient(supervisorConnection(supervisor, (deliver) => (toHttpClient = deliver)));

  const server = createServer({
    requestTimeout: SERVE_LIMITS.requestTimeoutMs,
    headersTimeout: SERVE_LIMITS.headersTimeoutMs,
    connectionsCheckingInterval: SERVE_LIMITS.timeoutCheckMs,
  });
  server.maxConnections = SERVE_LIMITS.connections;
  server.maxHeadersCount = SERVE_LIMITS.headers;
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  await listening;
  // Past listen, an 'error' on the server is not about a client; report it, never throw it.
  server.on('error', (error) => log(`served mode: ${String(error)}`));
  const port = (server.address() as AddressInfo).port;
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = new Set([...hosts].map((host) => `http://${host}`));
  const csp = contentSecurityPolicy([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]);

  /** The refusal for a request (status, reason), or its parsed URL when it may go on. */
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
  const hasToken = (request: IncomingMessage, url: URL): boolean => {
    const given = url.searchParams.get('token') ?? bearer(request.headers.authorization);
    return given !== null && sameSecret(given, token);
  };

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket));

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    try {
      const admitted = admit(request, isApiPath);
      if (!(admitted instanceof URL)) return sendJson(response, admitted[0], { error: admitted[1] });
      const { pathname } = admitted;
      if (isApiPath(admitted)) {
        if (pathname === '/api/health' && request.method === 'GET')
          return sendJson(response, supervisor.state === 'ready' ? 200 : 503, {
            ok: supervisor.state === 'ready',
            host: supervisor.state,
            hostPid: supervisor.pid,
          });
        const route = matchRoute(pathname);
        if (route === 'bad-path') return sendJson(response, 400, { error: 'malformed path' });
        if (route === null) return sendJson(response, 404, { error: `no API route ${pathname}` });
        answerRoute(http.api, route, request, { url: admitted, authorised: hasToken(request, admitted) }).then(
          (answer) => sendJson(response, answer.status, answer.body, answer.headers),
          (error: unknown) => {
            log(`served mode: ${request.method ?? '?'} ${pathname} failed: ${describe(error)}`);
            if (response.headersSent) response.destroy();
            else sendJson(response, 500, { error: 'internal error' });
          },
        );
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return sendJson(response, 405, { error: 'method not allowed' });
      serveStatic(rendererDir, pathname, response, csp);
    } catch (error) {
      log(`served mode: ${request.method ?? '?'} request failed: ${describe(error)}`);
      if (response.headersSent) response.destroy();
      else sendJson(response, 500, { error: 'internal error' });
    }
  });

  // No compression: a small frame must not inflate into a large message.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WEBSOCKET_FRAME_BYTES, perMessageDeflate: false });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands the socket over without its own error listener: a reset must not become an
    // uncaught 'error'.
    socket.on('error', () => socket.destroy());
    try {
      const admitted = admit(request, () => true);
      const refused: [number, string] | null = !(admitted instanceof URL)
        ? admitted
        : admitted.pathname === '/api/ws'
          ? null
          : [404, 'not found'];
      if (refused) return endRaw(socket, refused[0]);
      wss.handleUpgrade(request, socket, head, (ws) => {
        const client = nextClient++;
        clients.set(client, ws);
        sendTo(ws, hostFrame(supervisor.state));
        // A malformed frame (bad UTF-8, a reserved opcode, an unmasked or oversized frame) makes
        // `ws` close the connection with a 1xxx code and emit 'error': that error is the client's.
        ws.on('error', (error) => log(`served mode: closed a WebSocket: ${error.message}`));
        ws.on('message', (data, isBinary) => {
          try {
            if (isBinary) return;
            const text = Buffer.isBuffer(data)
              ? data.toString('utf8')
              : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
            const frame = requestFrameSchema.safeParse(decodeFrame(text));
            supervisor.send(client, text, frame.success ? frame.data : null);
          } catch (error) {
            log(`served mode: a WebSocket frame failed: ${describe(error)}`);
            ws.close(1011, 'internal error');
          }
        });
        ws.on('close', () => clients.delete(client));
      });
    } catch (error) {
      log(`served mode: an upgrade failed: ${describe(error)}`);
      endRaw(socket, 500);
    }
  });

  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    supervisor,
    async close() {
      http.stop();
      for (const socket of clients.values()) socket.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await supervisor.stop();
    },
  };
}

const HTTP_CLIENT = 0;

/**
 * A Connection from this process to the engine host, as client 0: the host's answers come back
 * through `onFrame`. Always open — while the host restarts, the supervisor answers 'unavailable'
 * at once, so an HTTP caller hears 503 instead of waiting.
 */
function supervisorConnection(
  supervisor: HostSupervisor,
  listen: (deliver: (frame: ServerFrame) => void) => void,
): Connection {
  return {
    start(handlers) {
      listen((frame) => handlers.frame(frame));
      handlers.open();
    },
    send(frame) {
      supervisor.send(HTTP_CLIENT, frame, frame);
    },
    stop() {
      listen(() => {});
    },
  };
}

function isApiPath(url: URL): boolean {
  return url.pathname === '/api' || url.pathname.startsWith('/api/');
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
function endRaw(socket: Duplex, status: number): void {
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

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function serveStatic(root: string, pathname: string, response: ServerResponse, csp: string): void {
  let relative: string;
  try {
    relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
  } catch {
    return sendJson(response, 400, { error: 'bad path' });
  }
  let file = join(root, relative);
  if (!file.startsWith(root + sep) && file !== root) return sendJson(response, 403, { error: 'outside the app' });
  // Client-side routes (no extension) get the app shell.
  if (!existsSync(file) || statSync(file).isDirectory()) {
    if (extname(relative) !== '') return sendJson(response, 404, { error: 'not found' });
    file = join(root, 'index.html');
    if (!existsSync(file))
      return sendJson(response, 500, { error: `the renderer is not built (${file} is missing): run npm run build` });
  }
  const headers: Record<string, string> = {
    'content-type': MIME[extname(file)] ?? 'application/octet-stream',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    // Hashed asset names never change; the shell must be fetched fresh to pick up a new build.
    'cache-control': file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (file.endsWith('.html')) headers['content-security-policy'] = csp;
  response.writeHead(200, headers);
  // The file can vanish or become unreadable after the checks above: cut the response short.
  createReadStream(file)
    .on('error', () => response.destroy())
    .pipe(response);
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
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
