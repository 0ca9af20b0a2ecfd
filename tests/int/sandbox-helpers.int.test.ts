// The sandbox helpers in real runs: a `code` node and `{{ }}` templates use them, `$date.now()` is
// the activation's journaled time on every attempt, and one node cannot change them for the next.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chain, node } from '../support/harness.js';
import { runWorkflow, testEngine } from '../support/engine.js';

describe('sandbox helpers in runs', () => {
  let server: Server;
  let base = '';
  const seen: { path: string; headers: IncomingHttpHeaders; body: string; at: number }[] = [];
  let failuresLeft = 0;
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ path: request.url ?? '', headers: request.headers, body, at: Date.now() });
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          response.writeHead(503).end('later');
        } else response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a code node and {{ }} templates use them; $date.now() is the activation time', async () => {
    seen.length = 0;
    const run = await runWorkflow(
      testEngine(),
      chain('helpers', [
        node('shape', 'code', {
          code: [
            'return {',
            '  slug: $text.slugify(input.title),',
            '  total: $math.round($math.sum(input.amounts), 2),',
            '  at: $date.now(),',
            '  due: $date.add($date.startOfDay($date.now()), "3d"),',
            '  meta: $data.parse(input.meta, {}),',
            '};',
          ].join('\n'),
        }),
        node('call', 'http.request', {
          method: 'POST',
          url: `${base}/orders/{{ input.slug }}`,
          body: '{{ $data.stringify({ total: input.total, b: 1, a: 2 }) }}',
          headers: { 'X-Due': '{{ $date.format(input.due, "yyyy-MM-dd") }}', 'X-At': '{{ $date.now() }}' },
        }),
      ]),
      { title: 'Crème Brûlée Order!', amounts: [10.005, 0.1, 0.2], meta: 'not json' },
    );
    expect(run.status).toBe('completed');
    const shape = run.activations.find((activation) => activation.nodeId === 'shape');
    const call = run.activations.find((activation) => activation.nodeId === 'call');
    expect(shape?.output).toEqual({
      slug: 'creme-brulee-order',
      total: 10.31,
      at: new Date(shape?.scheduledAt ?? 0).toISOString(),
      due: new Date(Math.floor((shape?.scheduledAt ?? 0) / 86_400_000) * 86_400_000 + 3 * 86_400_000).toISOString(),
      meta: {},
    });
    const request = seen.at(-1);
    expect(request?.path).toBe('/orders/creme-brulee-order');
    expect(request?.body).toBe('"{\\"a\\":2,\\"b\\":1,\\"total\\":10.31}"');
    expect(request?.headers['x-due']).toBe(((shape?.output as { due: string }).due ?? '').slice(0, 10));
    expect(request?.headers['x-at']).toBe(new Date(call?.scheduledAt ?? 0).toISOString());
  });

  it('a retried activation sees the same $date.now() on every attempt', async () => {
    seen.length = 0;
    failuresLeft = 2;
    const run = await runWorkflow(
      testEngine(),
      chain('retried', [
        node(
          'call',
          'http.request',
          { url: `${base}/flaky`, headers: { 'X-At': '{{ $date.now() }}' } },
          { retry: { maxAttempts: 3, initialIntervalMs: 40, backoffCoefficient: 2, maxIntervalMs: 100, jitter: 0 } },
        ),
      ]),
    );
    expect(run.status).toBe('completed');
    const call = run.activations.find((activation) => activation.nodeId === 'call');
    expect(call?.attempts).toHaveLength(3);
    expect(seen).toHaveLength(3);
    // Three requests at three different wall-clock times, one activation time.
    expect((seen[2]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(100);
    expect(new Set(seen.map((request) => request.headers['x-at']))).toEqual(
      new Set([new Date(call?.scheduledAt ?? 0).toISOString()]),
    );
  });

  it('one node cannot change the helpers another node sees', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('tamper', [
        node('tamper', 'code', {
          code: [
            'const refused = [];',
            'const tries = [',
            '  () => { $math.sum = () => -1; },',
            '  () => { $date.now = () => "1999-01-01T00:00:00.000Z"; },',
            '  () => { Object.defineProperty(globalThis, "$text", { value: {} }); },',
            '  () => { Object.setPrototypeOf($data, { get: () => "forged" }); },',
            '];',
            'for (const attempt of tries) { try { attempt(); } catch (error) { refused.push(error.name); } }',
            'return refused;',
          ].join('\n'),
        }),
        node('use', 'code', {
          code: 'return { sum: $math.sum([1, 2]), now: $date.now(), slug: $text.slugify("A B"), get: $data.get({ a: 1 }, "a") };',
        }),
      ]),
    );
    expect(run.status).toBe('completed');
    const tamper = run.activations.find((activation) => activation.nodeId === 'tamper');
    const use = run.activations.find((activation) => activation.nodeId === 'use');
    expect(tamper?.output).toEqual(['TypeError', 'TypeError', 'TypeError', 'TypeError']);
    expect(use?.output).toEqual({
      sum: 3,
      now: new Date(use?.scheduledAt ?? 0).toISOString(),
      slug: 'a-b',
      get: 1,
    });
  });
});
