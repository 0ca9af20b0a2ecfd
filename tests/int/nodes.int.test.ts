// Each built-in node type, run through a tiny workflow on a real database file.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chain, edge, node, workflow } from '../support/harness.js';
import { dbPathOf, readDb, runWorkflow, testEngine } from '../support/engine.js';

const quickRetry = { maxAttempts: 3, initialIntervalMs: 10, backoffCoefficient: 2, maxIntervalMs: 50, jitter: 0 };

describe('built-in nodes', () => {
  let server: Server;
  let base = '';
  const seen: { path: string; method: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let flaky = 0;
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ path: request.url ?? '', method: request.method ?? '', headers: request.headers, body });
        if (request.url === '/ok')
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ got: body ? JSON.parse(body) : null }));
        else if (request.url === '/text') response.writeHead(200, { 'content-type': 'text/plain' }).end('plain');
        else if (request.url === '/flaky') {
          flaky += 1;
          if (flaky < 3) response.writeHead(503).end('later');
          else response.writeHead(200, { 'content-type': 'application/json' }).end('{"finally":true}');
        } else if (request.url === '/busy') response.writeHead(429).end('slow down');
        else if (request.url === '/missing') response.writeHead(404).end('no such thing');
        else response.writeHead(500).end('broken');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('trigger.manual and output pass the run input through', async () => {
    const run = await runWorkflow(testEngine(), chain('echo', []), { hello: 'world' });
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ hello: 'world' });
  });

  it('code transforms its input in the sandbox', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('code', [node('c', 'code', { code: 'return input.items.map((x) => x * 2);' })]),
      {
        items: [1, 2, 3],
      },
    );
    expect(run.output).toEqual([2, 4, 6]);
  });

  it('code that loops forever fails the node with a clear error; the engine goes on', async () => {
    const engine = testEngine();
    const looping = await runWorkflow(
      engine,
      chain('loop', [node('c', 'code', { code: 'while (true) {}', timeoutMs: 300 })]),
    );
    expect(looping.status).toBe('failed');
    expect(looping.error).toMatchObject({
      nodeId: 'c',
      kind: 'code.timeout',
      message: expect.stringMatching(/did not finish within 300 ms/),
    });
    const next = await runWorkflow(engine, chain('after', [node('c', 'code', { code: 'return "fine";' })]));
    expect(next.output).toBe('fine');
  });

  it('code errors go to the error port when it is connected', async () => {
    const graph = workflow(
      'handled',
      [node('start', 'trigger.manual'), node('c', 'code', { code: 'throw new Error("nope")' }), node('end', 'output')],
      [edge('start', 'c'), edge('c:error', 'end')],
    );
    const run = await runWorkflow(testEngine(), graph, { id: 1 });
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ error: { message: 'nope (line 1)', kind: 'code.error' }, input: { id: 1 } });
  });

  it('branch.if routes by its condition and skips the other side', async () => {
    const graph = workflow(
      'route',
      [
        node('start', 'trigger.manual'),
        node('big', 'branch.if', { condition: 'input.amount > 100' }),
        node('yes', 'code', { code: 'return "manual review";' }),
        node('no', 'code', { code: 'return "auto";' }),
        node('end', 'output'),
      ],
      [edge('start', 'big'), edge('big:true', 'yes'), edge('big:false', 'no'), edge('yes', 'end'), edge('no', 'end')],
    );
    const engine = testEngine();
    const large = await runWorkflow(engine, graph, { amount: 500 });
    expect(large.output).toBe('manual review');
    expect(large.activations.find((activation) => activation.nodeId === 'no')?.status).toBe('skipped');
    const small = await runWorkflow(engine, graph, { amount: 5 });
    expect(small.output).toBe('auto');
  });

  it('http.request sends the input as JSON with a stable Idempotency-Key', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('post', [node('h', 'http.request', { method: 'POST', url: `${base}/ok` })]),
      { a: 1 },
    );
    expect(run.status).toBe('completed');
    expect(run.output).toMatchObject({ status: 200, body: { got: { a: 1 } } });
    const request = seen.find((item) => item.path === '/ok');
    expect(request?.headers['idempotency-key']).toBe(`${run.runId}:h`);
    expect(request?.headers['content-type']).toBe('application/json');
  });

  it('http.request retries 5xx with the same key and succeeds', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('flaky', [node('h', 'http.request', { url: `${base}/flaky` }, { retry: quickRetry })]),
    );
    expect(run.status).toBe('completed');
    expect(run.output).toMatchObject({ body: { finally: true } });
    const keys = seen.filter((item) => item.path === '/flaky').map((item) => item.headers['idempotency-key']);
    expect(keys).toEqual([`${run.runId}:h`, `${run.runId}:h`, `${run.runId}:h`]);
    expect(run.events.filter((event) => event.type === 'RetryScheduled')).toHaveLength(2);
  });

  it('http.request does not retry a 404, and retries 429 until attempts run out', async () => {
    const engine = testEngine();
    const missing = await runWorkflow(
      engine,
      chain('missing', [node('h', 'http.request', { url: `${base}/missing` }, { retry: quickRetry })]),
    );
    expect(missing.status).toBe('failed');
    expect(missing.error).toMatchObject({ kind: 'http.4xx', message: expect.stringContaining('answered 404') });
    expect(missing.events.filter((event) => event.type === 'NodeStarted')).toHaveLength(2); // trigger + one attempt
    const busy = await runWorkflow(
      engine,
      chain('busy', [node('h', 'http.request', { url: `${base}/busy` }, { retry: quickRetry })]),
    );
    expect(busy.status).toBe('failed');
    expect(busy.error).toMatchObject({ kind: 'http.429' });
    expect(busy.activations.find((activation) => activation.nodeId === 'h')?.attempts).toHaveLength(3);
  });

  it('http.request treats a refused connection as a retryable network error', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('down', [
        node('h', 'http.request', { url: 'http://127.0.0.1:9/' }, { retry: { ...quickRetry, maxAttempts: 2 } }),
      ]),
    );
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'http.network', retryable: true });
  });

  it('wait.timer parks on a durable timer and emits its input unchanged', async () => {
    const started = Date.now();
    const run = await runWorkflow(testEngine(), chain('wait', [node('w', 'wait.timer', { duration: '250ms' })]), {
      keep: true,
    });
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ keep: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(run.events.map((event) => event.type)).toContain('TimerFired');
  });

  it('a long wait.timer parks the run (status waiting, a timer row, no sleeping promise)', async () => {
    const engine = testEngine();
    const run = await runWorkflow(engine, chain('long', [node('w', 'wait.timer', { duration: '3d' })]));
    expect(run.status).toBe('waiting');
    expect(run.settled).toBe('parked');
    const timers = readDb(dbPathOf(engine), (db) =>
      db.prepare('SELECT purpose, due_at FROM timers WHERE run_id = ?').all(run.runId),
    ) as { purpose: string; due_at: number }[];
    expect(timers).toHaveLength(1);
    expect(timers[0]?.purpose).toBe('wait');
    expect(timers[0]?.due_at).toBeGreaterThan(Date.now() + 2.9 * 86_400_000);
  });

  it('approval parks, then routes approved / rejected with the input unchanged', async () => {
    const graph = workflow(
      'approve',
      [
        node('start', 'trigger.manual'),
        node('ok', 'approval', { title: 'Refund?', instructions: 'Check the order' }),
        node('paid', 'code', { code: 'return { paid: input.amount };' }),
        node('end', 'output'),
        node('refused', 'output'),
      ],
      [edge('start', 'ok'), edge('ok:approved', 'paid'), edge('paid', 'end'), edge('ok:rejected', 'refused')],
    );
    const engine = testEngine();
    const parked = await runWorkflow(engine, graph, { amount: 30 });
    expect(parked.status).toBe('waiting');
    expect(await engine.queries.inbox()).toEqual([
      expect.objectContaining({
        runId: parked.runId,
        nodeId: 'ok',
        title: 'Refund?',
        instructions: 'Check the order',
        input: { amount: 30 },
      }),
    ]);
    await engine.commands.decide(parked.runId, 'approved', { by: 'alice', comment: 'ok' });
    const approved = await engine.waitForRun(parked.runId, { timeoutMs: 5000 });
    expect(approved.output).toEqual({ paid: 30 });
    expect(approved.events.find((event) => event.type === 'SignalReceived')?.data).toEqual({
      signal: { wait: 'approval', decision: 'approved', by: 'alice', comment: 'ok' },
      shownInput: { amount: 30 },
    });

    const second = await runWorkflow(engine, graph, { amount: 99 });
    await engine.commands.decide(second.runId, 'rejected', { by: 'bob' });
    const rejected = await engine.waitForRun(second.runId, { timeoutMs: 5000 });
    expect(rejected.output).toEqual({ amount: 99 });
    await expect(engine.commands.decide(second.runId, 'approved', { by: 'eve' })).rejects.toThrow(
      /already decided: rejected by bob/,
    );
  });

  it('approval takes the timeout port when nobody decides in time', async () => {
    const graph = workflow(
      'timeout',
      [node('start', 'trigger.manual'), node('ok', 'approval', { timeout: '200ms' }), node('late', 'output')],
      [edge('start', 'ok'), edge('ok:timeout', 'late')],
    );
    const engine = testEngine();
    const saved = await engine.saveWorkflow(graph);
    const run = await engine.startRun(saved.workflowId, { input: { x: 1 } });
    engine.startWorker();
    const done = await engine.waitForRun(run.runId, { until: 'finished', timeoutMs: 5000 });
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ x: 1 });
    expect(done.approvals[0]).toMatchObject({ status: 'decided', decision: 'timeout', decidedBy: 'system' });
    await expect(engine.commands.decide(run.runId, 'approved')).rejects.toThrow(/already decided: timeout by system/);
  });

  it('merge waits for all connected inputs and keys them by source node', async () => {
    const graph = workflow(
      'merge',
      [
        node('start', 'trigger.manual'),
        node('a', 'code', { code: 'return input * 2;' }),
        node('b', 'wait.timer', { duration: '100ms' }),
        node('join', 'merge'),
        node('end', 'output'),
      ],
      [edge('start', 'a'), edge('start', 'b'), edge('a', 'join'), edge('b', 'join'), edge('join', 'end')],
    );
    const run = await runWorkflow(testEngine(), graph, 21);
    expect(run.output).toEqual({ a: 42, b: 21 });
  });

  it('fail stops the run with its message', async () => {
    const graph = workflow(
      'stop',
      [node('start', 'trigger.manual'), node('f', 'fail', { message: 'out of stock' })],
      [edge('start', 'f')],
    );
    const run = await runWorkflow(testEngine(), graph);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ nodeId: 'f', message: 'out of stock', kind: 'fail' });
  });
});
