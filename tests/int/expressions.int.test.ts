// `{{ expression }}` in node config strings, on a real database file, a real sandbox and a real
// local HTTP server: evaluated at run time with the value's type, validated with field and column.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../engine/runtime/engine.js';
import { chain, edge, node, workflow } from '../support/harness.js';
import { runWorkflow, testEngine } from '../support/engine.js';

describe('expressions in node config', () => {
  let server: Server;
  let base = '';
  const seen: { method: string; path: string; body: unknown; headers: Record<string, unknown> }[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        const body = text ? (JSON.parse(text) as unknown) : null;
        seen.push({ method: request.method ?? '', path: request.url ?? '', body, headers: request.headers });
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('http.request gets its URL, body and headers from the input, the body keeping its type', async () => {
    const payload = { amount: 42, items: [{ sku: 'a' }], note: null };
    const run = await runWorkflow(
      testEngine(),
      chain('order', [
        node('call', 'http.request', {
          method: 'POST',
          url: `${base}/orders/{{ input.id }}`,
          body: '{{ input.payload }}',
          headers: {
            'X-Run': '{{ run.id }}',
            'X-Text': 'n={{ input.payload.amount + 1 }} o={{ input.payload.items[0] }}',
          },
        }),
      ]),
      { id: 'ord-7', payload },
    );
    expect(run.status).toBe('completed');
    const request = seen.at(-1);
    expect(request).toMatchObject({ method: 'POST', path: '/orders/ord-7', body: payload });
    expect(request?.headers['x-run']).toBe(run.runId);
    expect(request?.headers['x-text']).toBe('n=43 o={"sku":"a"}');
  });

  it('wait.timer takes its duration from the input, and resumes on the config it started with', async () => {
    const clock = new ManualClock();
    const engine = testEngine({ clock });
    const graph = workflow(
      'nap',
      [
        node('start', 'trigger.manual'),
        node('w', 'wait.timer', { duration: '{{ input.wait }}', misfire: '{{ input.policy }}' }, { typeVersion: 2 }),
        node('fired', 'output'),
        node('missed', 'output'),
      ],
      [edge('start', 'w'), edge('w', 'fired'), edge('w:missed', 'missed')],
    );
    const { workflowId } = await engine.saveWorkflow(graph);
    const onTime = await engine.startRun(workflowId, { input: { wait: '2h', policy: 'skip' } });
    const worker = engine.startWorker();
    await worker.started;
    await worker.settled();
    const late = await engine.startRun(workflowId, { input: { wait: '3h', policy: 'skip' } });
    await worker.settled();
    const waiting = await engine.queries.get(onTime.runId);
    expect(waiting?.status).toBe('waiting');
    const created = waiting?.events.find((event) => event.type === 'WaitCreated');
    expect(created?.type === 'WaitCreated' && created.data.config).toMatchObject({ duration: '2h', misfire: 'skip' });
    clock.advance(119 * 60_000);
    await worker.settled();
    expect((await engine.queries.get(onTime.runId))?.status).toBe('waiting');
    clock.advance(2 * 60_000);
    await worker.settled();
    expect(await engine.queries.get(onTime.runId)).toMatchObject({
      status: 'completed',
      output: { wait: '2h', policy: 'skip' },
    });
    // Due at 3h, fired 1h late (past the 1m grace): `resume` reads the evaluated "skip".
    clock.advance(3 * 60 * 60_000);
    await worker.settled();
    const skipped = await engine.queries.get(late.runId);
    expect(skipped?.status).toBe('completed');
    expect(skipped?.activations.find((activation) => activation.nodeId === 'w')?.port).toBe('missed');
  });

  it('an expression that throws fails the node, naming the field and the error', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('boom', [node('call', 'http.request', { url: `${base}/x/{{ input.customer.id }}` })]),
      { id: 1 },
    );
    expect(run.status).toBe('failed');
    const failed = run.activations.find((activation) => activation.nodeId === 'call');
    expect(failed?.error).toMatchObject({ kind: 'expression.error', retryable: false });
    expect(failed?.error?.message).toMatch(/^config\.url: \{\{ input\.customer\.id \}\} failed: TypeError: \S/);
    expect(failed?.error?.details).toEqual({ field: 'url' });
    expect(failed?.attempts).toHaveLength(1);
  });

  it('a value that does not fit the schema after evaluation fails the node as node.config, naming the field', async () => {
    const engine = testEngine();
    const run = await runWorkflow(
      engine,
      chain('typed', [
        node('call', 'http.request', { url: `${base}/ok`, timeoutMs: '{{ input.timeout }}' }),
        node('w', 'wait.timer', { duration: '{{ input.wait }}' }),
      ]),
      { timeout: 'soon', wait: '1h' },
    );
    expect(run.status).toBe('failed');
    const call = run.activations.find((activation) => activation.nodeId === 'call');
    expect(call?.error).toMatchObject({ kind: 'node.config', details: { field: 'timeoutMs' } });
    expect(call?.error?.message).toMatch(/config\.timeoutMs: expected a number, got a string/);

    const nap = await runWorkflow(
      engine,
      chain('nap-bad', [node('w', 'wait.timer', { duration: '{{ input.wait }}' })]),
      {
        wait: 'a while',
      },
    );
    const timer = nap.activations.find((activation) => activation.nodeId === 'w');
    expect(timer?.error).toMatchObject({ kind: 'node.config', details: { field: 'duration' } });
  });

  it('a syntax error in {{ }} is a validation problem naming the field and the column', async () => {
    const engine = testEngine();
    const graph = chain('bad', [
      node('call', 'http.request', { url: `${base}/orders/{{ input.id + * 2 }}`, headers: { 'X-A': 'a {{ b' } }),
    ]);
    const problems = engine.workflows.validate(graph).problems.filter((item) => item.nodeId === 'call');
    const column = `${base}/orders/{{ input.id + `.length + 1;
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'node.expression',
        field: 'headers.X-A',
        column: 3,
        message: expect.stringContaining('config.headers.X-A, column 3: unclosed {{') as unknown,
      }),
      expect.objectContaining({
        code: 'node.expression',
        field: 'url',
        column,
        message: expect.stringMatching(
          new RegExp(`config\\.url, column ${column}: syntax error in \\{\\{ \\}\\}: Unexpected token`),
        ) as unknown,
      }),
    ]);
    await expect(engine.saveWorkflow(graph)).rejects.toThrow(/config\.url, column/);
  });

  it("branch.if's condition and code's source are not templates: they run once, as written", async () => {
    const graph = workflow(
      'literal',
      [
        node('start', 'trigger.manual'),
        node('check', 'branch.if', { condition: '`{{`.length === 2 && input.n > 1' }),
        node('code', 'code', { code: 'return { text: "{{ input.n }}", n: input.n };' }),
        node('yes', 'output'),
        node('no', 'output'),
      ],
      [edge('start', 'check'), edge('check:true', 'code'), edge('code', 'yes'), edge('check:false', 'no')],
    );
    const run = await runWorkflow(testEngine(), graph, { n: 2 });
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ text: '{{ input.n }}', n: 2 });
  });

  it('a literal \\{{ is sent as braces', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('escaped', [
        node('call', 'http.request', { method: 'POST', url: `${base}/raw`, body: { t: '\\{{ not {{ input.x }}' } }),
      ]),
      { x: 'evaluated' },
    );
    expect(run.status).toBe('completed');
    expect(seen.at(-1)?.body).toEqual({ t: '{{ not evaluated' });
  });

  it('evaluateTemplate (the inspector preview) answers what a field will be, or why not', async () => {
    const engine = testEngine();
    const run = { id: 'r-1', input: { id: 7 }, startedAt: Date.UTC(2026, 0, 2) };
    const scope = { input: { id: 7, items: [1, 2] }, run };
    await expect(engine.evaluateTemplate('{{ input.items }}', scope)).resolves.toEqual({ ok: true, value: [1, 2] });
    await expect(
      engine.evaluateTemplate('/orders/{{ input.id }}?r={{ run.id }}&t={{ run.started }}', scope),
    ).resolves.toEqual({
      ok: true,
      value: '/orders/7?r=r-1&t=2026-01-02T00:00:00.000Z',
    });
    await expect(engine.evaluateTemplate('{{ input.nothing }}', scope)).resolves.toEqual({ ok: true });
    await expect(engine.evaluateTemplate('x {{ input.id + }}', scope)).resolves.toMatchObject({
      ok: false,
      column: 17,
      error: expect.stringMatching(/^syntax error: /) as unknown,
    });
    await expect(engine.evaluateTemplate('{{ input.a.b }}', scope)).resolves.toMatchObject({
      ok: false,
      error: expect.stringMatching(/^TypeError: /) as unknown,
    });
    // No clock, network or process: what the sandbox gives any node.
    await expect(
      engine.evaluateTemplate('{{ typeof process + typeof fetch + typeof require }}', scope),
    ).resolves.toEqual({
      ok: true,
      value: 'undefinedundefinedundefined',
    });
  });
});
