// Credentials: secrets are kept by name outside workflows, sent by the HTTP node, and their values
// reach no database file, export, CLI output, host log, API answer or error message.
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import WebSocket from 'ws';
import { EngineClient, WebSocketConnection } from '../../engine/api/index.js';
import {
  CredentialStore,
  MemoryVault,
  SealedFileVault,
  credentialsPathFor,
  fileCredentials,
  type Sealer,
} from '../../engine/credentials/index.js';
import { serve } from '../../engine/host/serve.js';
import { NodeRegistry } from '../../engine/registry/index.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { defineNode, NodeError, NO_RETRY } from '../../engine/sdk/index.js';
import { validateWorkflow } from '../../engine/validate/index.js';
import { builtinNodes } from '../../nodes/index.js';
import { dbPathOf, runPinnedVersion, runWorkflow, testEngine } from '../support/engine.js';
import { chain, CLI, node, ROOT, runCli, tempDir } from '../support/harness.js';
import { startScriptedServer, type ScriptedServer } from '../support/http-server.js';

const SECRET = 'sk_live_9Qx7Lm2Vb8Zt4Rw1';
const servers: ScriptedServer[] = [];
const dirs: { cleanup: () => void }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function scratch(): ReturnType<typeof tempDir> {
  const dir = tempDir('stepwise-creds-');
  dirs.push(dir);
  return dir;
}

/** An endpoint that echoes the Authorization header it got: 200 on /echo, 401 elsewhere. */
async function echoServer(): Promise<ScriptedServer> {
  const server = await startScriptedServer((request, response) =>
    response
      .writeHead(request.path === '/echo' ? 200 : 401, { 'content-type': 'application/json' })
      .end(JSON.stringify({ youSent: request.headers.authorization ?? null })),
  );
  servers.push(server);
  return server;
}

/** `stepwise secrets set` with the value on standard input. */
function setSecret(db: string, name: string, value: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, 'secrets', 'set', name, '--db', db], {
    cwd: ROOT,
    input: `${value}\n`,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

/** Every file in the folder (database, -wal, -shm) but the credentials file holds no trace of `text`. */
function filesContaining(dir: string, text: string): string[] {
  return readdirSync(dir).filter(
    (file) => file !== 'credentials.json' && readFileSync(join(dir, file)).includes(Buffer.from(text)),
  );
}

describe('credentials in workflows', () => {
  it('refuses Authorization, X-Api-Key and Cookie headers typed into an HTTP node, pointing to credentials', () => {
    const result = validateWorkflow(
      chain('literal', [
        node('h', 'http.request', {
          url: 'https://api.example.com/x',
          headers: { Authorization: `Bearer ${SECRET}`, 'X-Api-Key': SECRET, Cookie: 'sid=1', 'X-Custom': 'fine' },
        }),
      ]),
      defaultRegistry(),
    );
    expect(result.ok).toBe(false);
    const fields = result.problems.filter((item) => item.nodeId === 'h').map((item) => item.field);
    expect(fields.sort()).toEqual(['headers.Authorization', 'headers.Cookie', 'headers.X-Api-Key']);
    for (const problem of result.problems) {
      expect(problem.message).toContain('credential');
      expect(problem.message).not.toContain(SECRET);
    }
  });

  it('still runs a version pinned before the rule, with a secret header typed in', async () => {
    const server = await echoServer();
    const engine = testEngine();
    const graph = chain('pinned-before', [
      node('h', 'http.request', { url: `${server.url}/echo`, headers: { 'X-Note': 'fine' } }),
    ]);
    // A version written by a Stepwise that had no rule against secret headers.
    const old = chain('pinned-before', [
      node('h', 'http.request', {
        url: `${server.url}/echo`,
        headers: { Authorization: 'Bearer typed-in-long-ago' },
      }),
    ]);
    expect(validateWorkflow(old, defaultRegistry()).ok).toBe(false);
    const detail = await runPinnedVersion(engine, graph, old);
    expect(detail.status).toBe('completed');
    expect(server.requests.map((request) => request.headers.authorization)).toEqual(['Bearer typed-in-long-ago']);
  });

  it('sends a credential named in auth; its value reaches no database file, export or CLI output', async () => {
    const dir = scratch();
    const server = await echoServer();
    const set = setSecret(dir.db, 'stripe', SECRET);
    expect(set.status).toBe(0);
    const file = join(dir.path, 'flow.stepwise.json');
    const auth = { credential: 'stripe', scheme: 'bearer' };
    writeFileSync(
      file,
      JSON.stringify(
        chain('paid', [
          node('ok', 'http.request', { url: `${server.url}/echo`, auth }),
          node('deny', 'http.request', { url: `${server.url}/deny`, auth }),
        ]),
      ),
    );
    const run = await runCli(['run', file, '--json'], { db: dir.db });
    expect(run.code).toBe(1);
    expect(server.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${SECRET}`,
      `Bearer ${SECRET}`,
    ]);
    const runId = (JSON.parse(run.stdout) as { runId: string }).runId;
    const outputs = [
      set,
      run,
      await runCli(['show', runId, '--json'], { db: dir.db }),
      await runCli(['show', runId], { db: dir.db }),
      await runCli(['export', runId], { db: dir.db }),
      await runCli(['runs', '--json'], { db: dir.db }),
      await runCli(['secrets', 'list', '--json'], { db: dir.db }),
    ];
    for (const output of outputs) {
      expect(output.stdout).not.toContain(SECRET);
      expect(output.stderr).not.toContain(SECRET);
    }
    expect(outputs[4]?.stdout).toContain('[redacted]');
    expect(filesContaining(dir.path, '[redacted]')).not.toEqual([]);
    expect(filesContaining(dir.path, SECRET)).toEqual([]);
    expect(readFileSync(file, 'utf8')).not.toContain(SECRET);
  });

  it('fails a node whose credential is missing, by name, saying how to set it, without retrying', async () => {
    const server = await echoServer();
    const run = await runWorkflow(
      testEngine({ credentials: new CredentialStore(new MemoryVault(), {}) }),
      chain('missing', [
        node('h', 'http.request', { url: server.url, auth: { credential: 'stripe', scheme: 'bearer' } }),
      ]),
    );
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'credential.missing', retryable: false });
    expect(run.error?.message).toContain('credential "stripe" is not set');
    expect(run.error?.message).toContain('stepwise secrets set stripe');
    expect(run.error?.message).toContain('STEPWISE_SECRET_STRIPE');
    expect(server.requests).toHaveLength(0);
  });

  it('redacts a credential value from a node error, its details, its logs and its output, and URL user info', async () => {
    const leaky = defineNode({
      type: 'test.leaky',
      typeVersion: 1,
      title: 'Leaky',
      description: 'leaks what it reads',
      category: 'Data',
      icon: 'x',
      ports: { in: ['in'], out: ['out'] },
      config: z.object({}),
      retry: NO_RETRY,
      sideEffects: 'pure',
      execute(ctx) {
        const value = ctx.credentials.get('api');
        ctx.log.warn(`calling with ${value}`, { header: `Bearer ${value}` });
        if (ctx.input === 'fail')
          throw new NodeError(`https://bob:pw-in-url@api.example.com rejected key ${value}`, {
            kind: 'test.leak',
            retryable: false,
            details: { sent: value, nested: [`x${value}x`] },
          });
        return { port: 'out', output: { echoed: value } };
      },
    });
    const engine = testEngine({
      registry: new NodeRegistry([...builtinNodes, leaky]),
      credentials: new CredentialStore(new MemoryVault(), {}),
    });
    await engine.credentials.set('api', SECRET);
    const flow = chain('leak', [node('l', 'test.leaky', {})]);
    const ok = await runWorkflow(engine, flow, 'pass');
    expect(ok.output).toEqual({ echoed: '[redacted]' });
    const failed = await runWorkflow(engine, { ...flow, id: 'leak2' }, 'fail');
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toBe('https://[redacted]@api.example.com rejected key [redacted]');
    expect(failed.error?.details).toEqual({ sent: '[redacted]', nested: ['x[redacted]x'] });
    // The node's log is journaled (NodeNoted), redacted like its error and output.
    for (const run of [ok, failed]) {
      const notes = run.events.flatMap((event) => (event.type === 'NodeNoted' ? event.data.notes : []));
      expect(notes).toMatchObject([
        { level: 'warn', kind: 'log', message: 'calling with [redacted]', data: { header: 'Bearer [redacted]' } },
      ]);
      expect(JSON.stringify(run.events)).not.toContain(SECRET);
    }
    // The grep finds what was written: the redaction marker is there, the value is not.
    expect(filesContaining(dirname(dbPathOf(engine)), '[redacted]')).not.toEqual([]);
    expect(filesContaining(dirname(dbPathOf(engine)), SECRET)).toEqual([]);
    expect(filesContaining(dirname(dbPathOf(engine)), 'pw-in-url')).toEqual([]);
  });
});

describe('the credentials file', () => {
  it('is owner-only (0600) in a folder created owner-only (0700)', () => {
    const dir = scratch();
    const db = join(dir.path, 'new-folder', 'stepwise.db');
    expect(setSecret(db, 'stripe', SECRET).status).toBe(0);
    expect(statSync(join(dir.path, 'new-folder')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir.path, 'new-folder', 'credentials.json')).mode & 0o777).toBe(0o600);
  });

  it('is refused, naming the fix, when other users can read it', async () => {
    const dir = scratch();
    expect(setSecret(dir.db, 'stripe', SECRET).status).toBe(0);
    const path = join(dir.path, 'credentials.json');
    chmodSync(path, 0o644);
    const list = await runCli(['secrets', 'list'], { db: dir.db });
    expect(list.code).toBe(1);
    expect(list.stderr).toContain(`can be read by other users (mode 644): run \`chmod 600 ${path}\``);
    expect(list.stderr).not.toContain(SECRET);
    expect(() => fileCredentials(dir.db).get('stripe')).toThrow(/can be read by other users/);
  });

  it('lists names, sources and dates, never values; an environment variable overrides the file', async () => {
    const dir = scratch();
    expect(setSecret(dir.db, 'stripe', SECRET).status).toBe(0);
    const env = { STEPWISE_SECRET_GITHUB: 'ghp_fromTheEnvironment', STEPWISE_SECRET_STRIPE: 'sk_env_override' };
    const list = await runCli(['secrets', 'list', '--json'], { db: dir.db, env });
    expect(list.code).toBe(0);
    const { credentials } = JSON.parse(list.stdout) as { credentials: { name: string; source: string }[] };
    expect(credentials).toEqual([
      { name: 'GITHUB', source: 'env', updatedAt: null },
      { name: 'STRIPE', source: 'env', updatedAt: null },
    ]);
    expect(list.stdout + list.stderr).not.toMatch(/fromTheEnvironment|sk_env_override|sk_live/);
    expect(fileCredentials(dir.db, env).get('stripe')).toBe('sk_env_override');
    expect(fileCredentials(dir.db, {}).get('stripe')).toBe(SECRET);
    const text = await runCli(['secrets', 'list'], { db: dir.db, env: {} });
    expect(text.stdout).toMatch(/^stripe\s+file\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
  });

  it('removes a stored credential, and refuses to remove one set by the environment or a bad name', async () => {
    const dir = scratch();
    expect(setSecret(dir.db, 'stripe', SECRET).status).toBe(0);
    expect((await runCli(['secrets', 'rm', 'stripe'], { db: dir.db })).code).toBe(0);
    expect(fileCredentials(dir.db, {}).get('stripe')).toBeUndefined();
    const envOnly = await runCli(['secrets', 'rm', 'github'], {
      db: dir.db,
      env: { STEPWISE_SECRET_GITHUB: 'ghp_x1234' },
    });
    expect(envOnly.code).toBe(1);
    expect(envOnly.stderr).toContain('STEPWISE_SECRET_GITHUB');
    const badName = setSecret(dir.db, '1-bad name', SECRET);
    expect(badName.status).toBe(1);
    expect(badName.stderr).toContain('is not a credential name');
    const tooShort = setSecret(dir.db, 'short', 'abc');
    expect(tooShort.status).toBe(1);
    expect(tooShort.stderr).toContain('too short');
  });
});

describe('the desktop vault (values sealed by the OS keychain)', () => {
  // Electron's safeStorage cannot run here: a stand-in sealer with the same contract (base64 both ways).
  const sealer: Sealer = {
    seal: (value) => Promise.resolve(Buffer.from([...value].reverse().join('')).toString('base64')),
    unseal: (sealed) => Promise.resolve([...Buffer.from(sealed, 'base64').toString()].reverse().join('')),
  };

  it('writes only sealed values to its owner-only file and unseals them when reopened', async () => {
    const dir = scratch();
    const path = credentialsPathFor(dir.db);
    const store = new CredentialStore(await SealedFileVault.open(path, sealer), {});
    expect(await store.set('stripe', SECRET)).toMatchObject({ name: 'stripe', source: 'keychain' });
    expect(readFileSync(path, 'utf8')).not.toContain(SECRET);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const reopened = new CredentialStore(await SealedFileVault.open(path, sealer), {});
    expect(reopened.get('stripe')).toBe(SECRET);
    expect(reopened.list()).toEqual([{ name: 'stripe', source: 'keychain', updatedAt: expect.any(Number) }]);
  });

  it("is never rewritten by the CLI: the desktop app's sealed values are kept, and the refusal says why", async () => {
    const dir = scratch();
    const path = credentialsPathFor(dir.db);
    const desktop = new CredentialStore(await SealedFileVault.open(path, sealer), {});
    await desktop.set('stripe', SECRET);
    await desktop.set('github', 'ghp_sealed_value_1');
    const before = readFileSync(path, 'utf8');
    const set = setSecret(dir.db, 'openai', 'sk_cli_value_123');
    expect(set.status).toBe(1);
    expect(set.stderr).toMatch(/belongs to the desktop app .*sealed by the OS keychain.*STEPWISE_SECRET_/);
    expect((await runCli(['secrets', 'rm', 'stripe'], { db: dir.db })).code).toBe(1);
    expect(readFileSync(path, 'utf8')).toBe(before);
    const reopened = new CredentialStore(await SealedFileVault.open(path, sealer), {});
    expect(reopened.get('stripe')).toBe(SECRET);
    expect(reopened.get('github')).toBe('ghp_sealed_value_1');
  });
});

describe('credentials over the API (served mode)', () => {
  it('sets, lists and deletes credentials; no answer and no host log line carries the value', async () => {
    const dir = scratch();
    const log: string[] = [];
    const app = await serve({ dbPath: dir.db, port: 0, log: (line) => log.push(line) });
    const frames: string[] = [];
    const client = new EngineClient(
      new WebSocketConnection(`ws://127.0.0.1:${app.port}/api/ws?token=${app.token}`, (url) => {
        const socket = new WebSocket(url);
        socket.on('message', (data: Buffer) => frames.push(data.toString()));
        return socket;
      }),
    );
    try {
      const saved = await client.api.setCredential({ name: 'stripe', value: SECRET });
      expect(saved).toMatchObject({ name: 'stripe', source: 'file' });
      const listed = await client.api.listCredentials({});
      expect(listed.credentials).toEqual([{ name: 'stripe', source: 'file', updatedAt: saved.updatedAt }]);
      await expect(client.api.setCredential({ name: 'bad name', value: SECRET })).rejects.toThrow(/name/);
      await expect(client.api.deleteCredential({ name: 'nope' })).rejects.toThrow('no credential "nope"');
      expect(await client.api.deleteCredential({ name: 'stripe' })).toEqual({ deleted: true });
      expect((await client.api.listCredentials({})).credentials).toEqual([]);
    } finally {
      client.stop();
      await app.close();
    }
    expect(frames.length).toBeGreaterThan(4);
    expect(frames.join('\n')).not.toContain(SECRET);
    expect(log.join('\n')).not.toContain(SECRET);
    expect(filesContaining(dir.path, SECRET)).toEqual([]);
  });
});

describe('credential values that could escape redaction', () => {
  it('refuses a value with surrounding spaces, which a header would send trimmed and redaction miss', async () => {
    const dir = scratch();
    const store = fileCredentials(dir.db, {});
    await expect(store.set('stripe', `${SECRET} `)).rejects.toThrow(/starts or ends with spaces/);
    await expect(store.set('stripe', ` ${SECRET}`)).rejects.toThrow(/starts or ends with spaces/);
    expect(store.get('stripe')).toBeUndefined();
  });

  it('reports a damaged credentials file without quoting any of it', () => {
    const dir = scratch();
    const path = credentialsPathFor(dir.db);
    writeFileSync(path, `{"version":1,"credentials":{"stripe":{"value":${SECRET}"}}}`, { mode: 0o600 });
    let message = '';
    try {
      fileCredentials(dir.db, {}).get('stripe');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/cannot read the credentials file .*: it is not valid JSON$/);
    expect(message).not.toContain(SECRET.slice(0, 8));
  });
});
