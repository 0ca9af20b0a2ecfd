// Served mode as a real HTTP + WebSocket server on 127.0.0.1 with a real engine host child process.
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EngineClient, WebSocketConnection, type ClientStatus } from '../../engine/api/index.js';
import { serve, type ServedApp } from '../../engine/host/serve.js';
import { tempDir, until } from '../support/harness.js';

const dir = tempDir('stepwise-serve-');
let app: ServedApp;

beforeAll(async () => {
  app = await serve({ dbPath: dir.db, port: 0 });
});
afterAll(async () => {
  await app.close();
  dir.cleanup();
});

function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: app.port, path, headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.on('unexpected-response', (_req, response) => resolve(response.statusCode ?? 0));
    socket.on('open', () => {
      socket.close();
      resolve(101);
    });
    socket.on('error', () => {});
  });
}

/** Opens a TCP connection: 'connected', or the error code (e.g. ECONNREFUSED). */
function tcpConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('stepwise serve', () => {
  it('prints a URL on 127.0.0.1 with the token', () => {
    expect(app.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${app.port}/\\?token=[A-Za-z0-9_-]{32}$`));
  });

  // Linux routes all of 127.0.0.0/8 to the loopback interface: a server bound to 0.0.0.0 (or to
  // `::`, dual-stack) accepts a connection to 127.0.0.2 as it would one from the network; a server
  // bound to 127.0.0.1 refuses it.
  it.runIf(process.platform === 'linux')(
    'listens on 127.0.0.1 only: 127.0.0.2 on the same port is refused',
    async () => {
      expect(await tcpConnect('127.0.0.1', app.port)).toBe('connected');
      expect(await tcpConnect('127.0.0.2', app.port)).toBe('ECONNREFUSED');
    },
  );

  it('refuses /api/ without the token (401), from another origin or Host (403); health answers with it', async () => {
    expect((await get('/api/health')).status).toBe(401);
    expect((await get('/api/health?token=wrong')).status).toBe(401);
    expect((await get(`/api/health?token=${app.token}`, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(`/api/health?token=${app.token}`, { host: 'evil.example' })).status).toBe(403);
    const ok = await get(`/api/health?token=${app.token}`, { origin: app.origin });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ ok: true, host: 'ready' });
    expect((await get('/api/health', { authorization: `Bearer ${app.token}` })).status).toBe(200);

    const ws = `ws://127.0.0.1:${app.port}/api/ws`;
    expect(await upgradeStatus(ws)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=${app.token}`, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(`${ws}?token=${app.token}`)).toBe(101);
  });

  it('serves the app shell with a strict CSP, and nothing outside it', async () => {
    const shell = await get('/');
    expect(shell.status).toBe(200);
    expect(shell.body).toContain('<div id="root">');
    expect(String(shell.headers['content-security-policy'])).toMatch(/default-src 'self'; script-src 'self'/);
    expect((await get('/%2e%2e/package.json')).status).toBeGreaterThanOrEqual(403);
    expect((await get('/assets/missing.js')).status).toBe(404);
  });

  it('survives a SIGKILL of the engine host: the client reconnects, edits and runs are kept', async () => {
    const client = new EngineClient(
      new WebSocketConnection(`ws://127.0.0.1:${app.port}/api/ws?token=${app.token}`, (url) => new WebSocket(url)),
    );
    const statuses: ClientStatus[] = [];
    client.onStatus((status) => statuses.push(status));
    try {
      const created = await client.api.createWorkflow({ name: 'Survivor' });
      const draft = {
        ...created.draft,
        nodes: [
          ...created.draft.nodes,
          {
            id: 'wait',
            type: 'wait.timer',
            typeVersion: 1,
            position: { x: 300, y: 0 },
            config: { duration: '1500ms' },
          },
          { id: 'done', type: 'output', typeVersion: 1, position: { x: 600, y: 0 }, config: {} },
        ],
        edges: [
          { id: 'e1', source: 'start', sourceHandle: 'out', target: 'wait', targetHandle: 'in' },
          { id: 'e2', source: 'wait', sourceHandle: 'out', target: 'done', targetHandle: 'in' },
        ],
      };
      await client.api.saveDraft({ workflowId: created.id, draft });
      const { run } = await client.api.runDraft({ workflowId: created.id, input: { n: 1 } });
      const firstPid = app.supervisor.pid;
      if (firstPid === null) throw new Error('no engine host');

      process.kill(firstPid, 'SIGKILL');
      await until(() => statuses.includes('reconnecting'), 'the client to notice');
      await until(() => client.status === 'ready', 'the engine host to come back');
      expect(app.supervisor.pid).not.toBe(firstPid);
      expect(app.supervisor.restarts).toBe(1);

      expect((await client.api.getWorkflow({ workflowId: created.id })).draft).toEqual(draft);
      await until(
        async () =>
          (await client.api.listRuns({ workflowId: created.id })).runs.some(
            (item) => item.runId === run.runId && item.status === 'completed',
          ),
        'the run to finish after the restart',
      );
      const [finished] = (await client.api.listRuns({ workflowId: created.id })).runs;
      expect(finished?.output).toEqual({ n: 1 });
    } finally {
      client.stop();
    }
  });
});
