// Served mode: the built renderer, the EngineApi over a WebSocket and the plain API routes, on
// 127.0.0.1 only (admission, limits and the plain routes: local-http.ts). Static files are public.
// Malformed frames are answered with a closed connection; nothing a client sends stops the server.
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import {
  answerApi,
  describeError as describe,
  endRaw,
  failed,
  isApiPath,
  listenLocal,
  sendJson,
} from './local-http.js';
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

export { SERVE_LIMITS } from './local-http.js';
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

  const local = await listenLocal(options.port ?? 0, token);
  const { server, port, admit } = local;
  // Past listen, an 'error' on the server is not about a client; report it, never throw it.
  server.on('error', (error) => log(`served mode: ${String(error)}`));
  const csp = contentSecurityPolicy([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]);

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    try {
      const admitted = admit(request, isApiPath);
      if (!(admitted instanceof URL)) return sendJson(response, admitted[0], { error: admitted[1] });
      if (isApiPath(admitted)) {
        const health = () => ({
          ok: supervisor.state === 'ready',
          host: supervisor.state,
          hostPid: supervisor.pid,
        });
        return answerApi(local, http.api, request, response, admitted, health, (line) => log(`served mode: ${line}`));
      }
      const { pathname } = admitted;
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return sendJson(response, 405, { error: 'method not allowed' });
      serveStatic(rendererDir, pathname, response, csp);
    } catch (error) {
      log(`served mode: ${request.method ?? '?'} request failed: ${describe(error)}`);
      failed(response);
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
