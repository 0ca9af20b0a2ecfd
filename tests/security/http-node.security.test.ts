// The HTTP node against hostile or careless servers and configs: redirects to another origin,
// URLs with user info, huge bodies, credential-bearing response headers.
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialStore, MemoryVault } from '../../engine/credentials/index.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { validateWorkflow } from '../../engine/validate/index.js';
import { runWorkflow, testEngine } from '../support/engine.js';
import { chain, node } from '../support/harness.js';
import { startScriptedServer, type ScriptedServer } from '../support/http-server.js';

const SECRET = 'sk_live_3f9a8b7c6d5e4f3a';
const MiB = 1024 * 1024;
const servers: ScriptedServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function server(...args: Parameters<typeof startScriptedServer>): Promise<ScriptedServer> {
  const started = await startScriptedServer(...args);
  servers.push(started);
  return started;
}

async function engineWithKey() {
  const engine = testEngine({ credentials: new CredentialStore(new MemoryVault(), {}) });
  await engine.credentials.set('api', SECRET);
  return engine;
}

const noRetry = { retry: { maxAttempts: 1 } };

describe('http.request redirects', () => {
  it('drops credentials, custom headers and the Idempotency-Key on a redirect to another origin', async () => {
    const other = await server((_request, response) => response.writeHead(200).end('landed'));
    const first = await server((_request, response) =>
      response.writeHead(302, { location: `${other.url}/elsewhere` }).end(),
    );
    const engine = await engineWithKey();
    const run = await runWorkflow(
      engine,
      chain('redirect', [
        node('h', 'http.request', {
          url: `${first.url}/start`,
          headers: { 'X-Trace': 'abc' },
          auth: { credential: 'api', header: 'X-Api-Key' },
        }),
      ]),
    );
    expect(run.status).toBe('completed');
    expect(first.requests[0]?.headers).toMatchObject({ 'x-api-key': SECRET, 'x-trace': 'abc' });
    expect(first.requests[0]?.headers['idempotency-key']).toBeDefined();
    const landed = other.requests[0]?.headers ?? {};
    expect(other.requests).toHaveLength(1);
    expect(landed['x-api-key']).toBeUndefined();
    expect(landed['x-trace']).toBeUndefined();
    expect(landed['idempotency-key']).toBeUndefined();
    expect(landed.authorization).toBeUndefined();
  });

  it('drops a bearer token on a redirect to another origin, also after a 307 that keeps the body', async () => {
    const other = await server((_request, response) => response.writeHead(200).end('ok'));
    const first = await server((_request, response) => response.writeHead(307, { location: other.url }).end());
    const engine = await engineWithKey();
    const run = await runWorkflow(
      engine,
      chain('redirect307', [
        node('h', 'http.request', {
          method: 'POST',
          url: first.url,
          body: { amount: 5 },
          auth: { credential: 'api', scheme: 'bearer' },
        }),
      ]),
    );
    expect(run.status).toBe('completed');
    expect(first.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(other.requests[0]).toMatchObject({ method: 'POST', body: '{"amount":5}' });
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
    expect(other.requests[0]?.headers['idempotency-key']).toBeUndefined();
  });

  it('keeps credentials on a redirect within the same origin', async () => {
    const only = await server((request, response) =>
      request.path === '/a' ? response.writeHead(301, { location: '/b' }).end() : response.writeHead(200).end('b'),
    );
    const run = await runWorkflow(
      await engineWithKey(),
      chain('same', [
        node('h', 'http.request', { url: `${only.url}/a`, auth: { credential: 'api', header: 'X-Api-Key' } }),
      ]),
    );
    expect(run.status).toBe('completed');
    expect(only.requests.map((request) => [request.path, request.headers['x-api-key']])).toEqual([
      ['/a', SECRET],
      ['/b', SECRET],
    ]);
  });

  it('refuses a redirect to another origin when crossOriginRedirects is "refuse"', async () => {
    const other = await server((_request, response) => response.writeHead(200).end('ok'));
    const first = await server((_request, response) => response.writeHead(302, { location: other.url }).end());
    const run = await runWorkflow(
      testEngine(),
      chain('refuse', [node('h', 'http.request', { url: first.url, crossOriginRedirects: 'refuse' }, noRetry)]),
    );
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'http.redirect', retryable: false });
    expect(run.error?.message).toContain('crossOriginRedirects');
    expect(other.requests).toHaveLength(0);
  });

  it('stops following redirects after maxRedirects', async () => {
    const loop = await server((request, response) =>
      response.writeHead(302, { location: `/hop${request.path.length}` }).end(),
    );
    const run = await runWorkflow(
      testEngine(),
      chain('loop', [node('h', 'http.request', { url: loop.url, maxRedirects: 3 }, noRetry)]),
    );
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'http.redirects', retryable: false });
    expect(loop.requests).toHaveLength(4);
  });
});

describe('http.request URLs with user info', () => {
  it('refuses a URL with user:password@ in validation, pointing to credentials', () => {
    const result = validateWorkflow(
      chain('userinfo', [node('h', 'http.request', { url: 'https://alice:hunter2secret@api.example.com/x' })]),
      defaultRegistry(),
    );
    expect(result.ok).toBe(false);
    const problem = result.problems.find((item) => item.nodeId === 'h');
    expect(problem).toMatchObject({ severity: 'error', field: 'url' });
    expect(problem?.message).toMatch(/user name or password.*credential/);
    expect(problem?.message).not.toContain('hunter2secret');
  });

  it('refuses secrets in a query string and in headers named by other common habits', () => {
    const result = validateWorkflow(
      chain('habits', [
        node('q', 'http.request', { url: `https://maps.example.com/geo?api_key=${SECRET}&q=paris` }),
        node('h', 'http.request', {
          url: 'https://api.example.com/x',
          headers: { 'X-Auth': SECRET, 'Ocp-Apim-Subscription-Key': SECRET, 'X-Access-Key': SECRET, 'X-Trace': 'ok' },
        }),
      ]),
      defaultRegistry(),
    );
    expect(result.ok).toBe(false);
    const refused = result.problems.map((item) => `${item.nodeId}:${item.field}`).sort();
    expect(refused).toEqual([
      'h:headers.Ocp-Apim-Subscription-Key',
      'h:headers.X-Access-Key',
      'h:headers.X-Auth',
      'q:url',
    ]);
    expect(result.problems.find((item) => item.nodeId === 'q')?.message).toMatch(/"api_key" looks like a secret/);
    for (const problem of result.problems) expect(problem.message).not.toContain(SECRET);
  });

  it('keeps a query string out of its error messages', async () => {
    const server = await startScriptedServer((_request, response) => response.writeHead(404).end());
    servers.push(server);
    const engine = testEngine();
    const run = await runWorkflow(
      engine,
      chain('query', [node('h', 'http.request', { url: `${server.url}/x?q=private` })]),
    );
    expect(run.status).toBe('failed');
    expect(run.error?.message).toContain(`GET ${server.url}/x?… answered 404`);
    expect(JSON.stringify(run.events)).not.toMatch(/q=private[^&]*answered/);
  });
});

describe('http.request response bodies', () => {
  it('cuts a 50 MB body off while it streams and fails the node naming maxBodyBytes; memory stays bounded', async () => {
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const huge = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const pump = (): void => {
        while (sent < 50 * 1024 * 1024 && !response.destroyed) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      response.on('close', () => response.destroy());
      pump();
    });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const started = Date.now();
    const run = await runWorkflow(testEngine(), chain('huge', [node('h', 'http.request', { url: huge.url }, noRetry)]));
    clearInterval(sampler);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'http.body-too-large', retryable: false });
    expect(run.error?.message).toContain(`larger than ${10 * MiB} bytes (maxBodyBytes)`);
    expect(run.error?.message).toContain('raise maxBodyBytes');
    // Cut off: the server could not push the whole body (socket buffers hold a few MB at most).
    expect(sent).toBeLessThan(30 * MiB);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(peak - before).toBeLessThan(150 * MiB);
  });

  it('honours a smaller maxBodyBytes and refuses one above the hard maximum in validation', async () => {
    const big = await server((_request, response) => response.writeHead(200).end('y'.repeat(5000)));
    const run = await runWorkflow(
      testEngine(),
      chain('small', [node('h', 'http.request', { url: big.url, maxBodyBytes: 1000 }, noRetry)]),
    );
    expect(run.error).toMatchObject({ kind: 'http.body-too-large' });
    const result = validateWorkflow(
      chain('toobig', [node('h', 'http.request', { url: big.url, maxBodyBytes: 1024 * MiB })]),
      defaultRegistry(),
    );
    expect(result.problems.find((item) => item.nodeId === 'h')?.field).toBe('maxBodyBytes');
  });
});

describe('http.request response headers', () => {
  it('does not store Set-Cookie, WWW-Authenticate or other credential-bearing response headers', async () => {
    const site = await server((_request, response) =>
      response
        .writeHead(200, {
          'set-cookie': ['session=s3cr3t-cookie; HttpOnly', 'other=x'],
          'www-authenticate': 'Bearer realm="api"',
          'proxy-authenticate': 'Basic realm="proxy"',
          'x-request-id': 'r-1',
          'content-type': 'application/json',
        })
        .end('{"ok":true}'),
    );
    const run = await runWorkflow(testEngine(), chain('cookies', [node('h', 'http.request', { url: site.url })]));
    expect(run.status).toBe('completed');
    const headers = (run.output as { headers: Record<string, string> }).headers;
    expect(headers['x-request-id']).toBe('r-1');
    expect(headers['set-cookie']).toBeUndefined();
    expect(headers['www-authenticate']).toBeUndefined();
    expect(headers['proxy-authenticate']).toBeUndefined();
    expect(JSON.stringify(run)).not.toContain('s3cr3t-cookie');
  });
});
