// Plain HTTP against the API routes on 127.0.0.1 (served mode, the desktop host), and a served
// app with an API client for the tests of those routes.
import { request } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { EngineClient, WebSocketConnection } from '../../engine/api/index.js';
import { serve, type ServeOptions, type ServedApp } from '../../engine/host/serve.js';
import { tempDir } from './harness.js';

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * A POST with a JSON body (a string is sent as it is) and the token as a bearer header (none when
 * `token` is null); `headers` add to or override them.
 */
export function postJson(
  target: { port: number | string; token: string | null },
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const auth: Record<string, string> = target.token === null ? {} : { authorization: `Bearer ${target.token}` };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path,
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', ...headers },
      },
      (response) => {
        let raw = '';
        response.on('data', (chunk: Buffer) => (raw += chunk.toString()));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(raw) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** An API client over the served app's WebSocket, with its token. */
export function apiClient(served: { port: number; token: string }): EngineClient {
  return new EngineClient(
    new WebSocketConnection(`ws://127.0.0.1:${served.port}/api/ws?token=${served.token}`, (url) => new WebSocket(url)),
  );
}

/**
 * `stepwise serve` (in this process, its engine host a child) on a fresh database for the tests of
 * a file, with an API client; `setup` runs once both are up.
 */
export function servedApi(
  prefix: string,
  setup: (client: EngineClient) => Promise<void>,
  options: Partial<ServeOptions> = {},
): {
  readonly app: ServedApp;
  readonly client: EngineClient;
  readonly dir: ReturnType<typeof tempDir>;
  post: typeof postTo;
} {
  const dir = tempDir(prefix);
  const fixture = {} as { app: ServedApp; client: EngineClient };
  function postTo(path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return postJson(fixture.app, path, body, headers);
  }
  beforeAll(async () => {
    fixture.app = await serve({ dbPath: dir.db, port: 0, ...options });
    fixture.client = apiClient(fixture.app);
    await setup(fixture.client);
  }, 60_000);
  afterAll(async () => {
    fixture.client.stop();
    await fixture.app.close();
    dir.cleanup();
  });
  return {
    get app() {
      return fixture.app;
    },
    get client() {
      return fixture.client;
    },
    dir,
    post: postTo,
  };
}
