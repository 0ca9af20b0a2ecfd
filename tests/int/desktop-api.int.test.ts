// The desktop app's plain API: its engine host (the process Electron forks, run here as a plain
// child process with the same arguments) listens on 127.0.0.1 with a token kept in an owner-only
// file, for decisions, signals and webhooks from other programs — the same routes and rules as
// served mode.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/runtime/engine.js';
import { ROOT, refundFlow, tempDir, until } from '../support/harness.js';
import { postJson, type HttpAnswer } from '../support/http-api.js';

const dir = tempDir('stepwise-desktop-api-');
const accessFile = join(dir.path, 'api-access.json');
const hosts: ChildProcess[] = [];
afterAll(async () => {
  for (const host of hosts) host.kill('SIGKILL');
  await engine?.close();
  dir.cleanup();
});
let engine: Engine | undefined;

/** The engine host as the desktop app starts it, with its plain API on a free port. */
async function startHost(): Promise<ChildProcess> {
  const host = fork(
    join(ROOT, 'dist', 'engine', 'host', 'host-entry.js'),
    ['--db', dir.db, '--templates', join(ROOT, 'assets', 'templates'), '--http-port', '0', '--http-access', accessFile],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
  );
  hosts.push(host);
  await new Promise<void>((resolve, reject) => {
    host.on('message', (message: { type?: string }) => {
      if (message.type === 'ready') resolve();
    });
    host.once('exit', (code) => reject(new Error(`the host exited (${String(code)})`)));
  });
  return host;
}

function access(): { url: string; token: string } {
  return JSON.parse(readFileSync(accessFile, 'utf8')) as { url: string; token: string };
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const { url, token } = access();
  return postJson({ port: new URL(url).port, token }, path, body, headers);
}

describe("the desktop engine host's API for other programs", () => {
  it('decides over HTTP with the token from the owner-only access file; refuses a wrong token or Host; keeps the token across restarts', async () => {
    const first = await startHost();
    const { url, token } = access();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(accessFile).mode & 0o777).toBe(0o600);

    // Another process (here, the test) starts a run; the host's worker parks it.
    engine = Engine.open({ dbPath: dir.db, synchronous: 'NORMAL' });
    const { workflowId } = await engine.saveWorkflow(refundFlow());
    const run = await engine.startRun(workflowId, { input: { amount: 8 } });
    await until(async () => (await engine?.queries.get(run.runId))?.status === 'waiting', 'the run to park');

    const path = `/api/runs/${run.runId}/decisions`;
    expect((await post(path, { decision: 'approved', by: 'alice' }, { authorization: 'Bearer nope' })).status).toBe(
      401,
    );
    expect((await post(path, { decision: 'approved', by: 'alice' }, { host: 'evil.example:80' })).status).toBe(403);
    expect((await post(`/api/runs/${run.runId}/signals/paid`, {})).status).toBe(404);
    expect(await post(path, { decision: 'approved', by: 'alice', comment: 'from a script' })).toEqual({
      status: 200,
      body: { ok: true },
    });
    await until(async () => (await engine?.queries.get(run.runId))?.status === 'completed', 'the run to complete');
    expect((await engine.queries.get(run.runId))?.output).toEqual({ refunded: 8 });
    expect((await post(path, { decision: 'rejected', by: 'bob' })).status).toBe(409);

    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await startHost();
    expect(access().token).toBe(token);
  }, 60_000);
});
