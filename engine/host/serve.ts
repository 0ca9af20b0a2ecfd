// Served mode: the built renderer and the EngineApi (over a WebSocket) on 127.0.0.1 only.
// Everything under /api/ needs the token (`?token=` or `Authorization: Bearer`) and a same-origin
// or absent Origin; the Host header must name this server (no DNS rebinding). Static files are public.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { contentSecurityPolicy, decodeFrame, requestFrameSchema, type ServerFrame } from '../api/index.js';
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

const MAX_FRAME_BYTES = 64 * 1024 * 1024;
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
  let nextClient = 1;
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
      if (client === null) for (const socket of clients.values()) sendTo(socket, frame);
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

  const server = createServer();
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  await listening;
  const port = (server.address() as AddressInfo).port;
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = new Set([...hosts].map((host) => `http://${host}`));
  const csp = contentSecurityPolicy([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]);

  /** null when allowed; otherwise the status and reason to refuse with. */
  const refuse = (request: IncomingMessage, url: URL, api: boolean): [number, string] | null => {
    if (!hosts.has(request.headers.host ?? '')) return [403, 'unexpected Host header'];
    if (!api) return null;
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.has(origin)) return [403, 'cross-origin requests are refused'];
    const given = url.searchParams.get('token') ?? bearer(request.headers.authorization);
    if (given === null || !sameSecret(given, token)) return [401, 'a valid token is required'];
    return null;
  };

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? '127.0.0.1'}`);
    const api = url.pathname === '/api' || url.pathname.startsWith('/api/');
    const refused = refuse(request, url, api);
    if (refused) return sendJson(response, refused[0], { error: refused[1] });
    if (api) {
      if (url.pathname === '/api/health' && request.method === 'GET')
        return sendJson(response, supervisor.state === 'ready' ? 200 : 503, {
          ok: supervisor.state === 'ready',
          host: supervisor.state,
          hostPid: supervisor.pid,
        });
      return sendJson(response, 404, { error: `no API route ${url.pathname}` });
    }
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return sendJson(response, 405, { error: 'method not allowed' });
    serveStatic(rendererDir, url.pathname, response, csp);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? '127.0.0.1'}`);
    const refused = url.pathname === '/api/ws' ? refuse(request, url, true) : ([404, 'not found'] as [number, string]);
    if (refused) {
      socket.end(
        `HTTP/1.1 ${refused[0]} ${refused[0] === 401 ? 'Unauthorized' : refused[0] === 403 ? 'Forbidden' : 'Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const client = nextClient++;
      clients.set(client, ws);
      sendTo(ws, hostFrame(supervisor.state));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
        const frame = requestFrameSchema.safeParse(decodeFrame(text));
        supervisor.send(client, text, frame.success ? frame.data : null);
      });
      ws.on('close', () => clients.delete(client));
    });
  });

  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    supervisor,
    async close() {
      for (const socket of clients.values()) socket.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await supervisor.stop();
    },
  };
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
  createReadStream(file).pipe(response);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
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
