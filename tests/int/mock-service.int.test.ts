// The built-in mock service the templates call: a real server on 127.0.0.1. Its model answers in
// the three wire formats (a JSON Schema's value made from the prompt, or a labelled summary), its
// business endpoints keep idempotency keys like real services, and the engine host starts it when a
// template needs it — and again at every later start, on the same port.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MockServiceHost } from '../../engine/host/mock-host.js';
import { startMockService, type MockService } from '../../engine/mock-service/server.js';
import { chain, node, tempDir } from '../support/harness.js';
import { runWorkflow, testEngine } from '../support/engine.js';

const open: { close(): Promise<void> }[] = [];

async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

async function service(): Promise<MockService> {
  const started = await startMockService(0);
  open.push(started);
  return started;
}

const schema = {
  type: 'object',
  required: ['category', 'refundable', 'confidence', 'orderId', 'tags'],
  properties: {
    category: { type: 'string', enum: ['damaged', 'late', 'fraud-risk', 'other'] },
    refundable: { type: 'boolean' },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    orderId: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
  },
};

async function ask(origin: string, prompt: string): Promise<Record<string, unknown>> {
  const response = await postJson(`${origin}/v1/chat/completions`, {
    model: 'mock-triage',
    messages: [
      { role: 'system', content: 'Fraud is never refundable. Answer JSON.' },
      { role: 'user', content: prompt },
    ],
    response_format: { type: 'json_schema', json_schema: { name: 'output', schema } },
  });
  expect(response.status).toBe(200);
  const body = response.body as { choices: { message: { content: string } }[] };
  return JSON.parse(body.choices[0]?.message.content ?? 'null') as Record<string, unknown>;
}

describe('the mock model', () => {
  it('answers a JSON Schema with a value of it, made from the prompt (not from the system prompt)', async () => {
    const { origin } = await service();
    const damaged = await ask(origin, '{"orderId":"A-7","reason":"arrived damaged, box crushed"}');
    expect(damaged).toEqual({
      category: 'damaged',
      refundable: true,
      confidence: 0.93,
      orderId: 'A-7',
      tags: [expect.any(String), expect.any(String)],
    });
    const fraud = await ask(origin, '{"orderId":"B-1","reason":"card reported stolen, looks like fraud"}');
    expect(fraud).toMatchObject({ category: 'fraud-risk', refundable: false });
    const unclear = await ask(origin, '{"orderId":"C-2","reason":"the note is illegible"}');
    expect(unclear.confidence).toBe(0.55);
  });

  it('speaks Anthropic and Ollama too, and labels its free text as a mock', async () => {
    const { origin } = await service();
    const anthropic = await postJson(`${origin}/v1/messages`, {
      model: 'mock-writer',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Summarise the quarterly report please' }],
    });
    expect(anthropic.headers.get('x-stepwise-mock')).toBe('true');
    expect(anthropic.body).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: expect.stringContaining('[Stepwise mock model mock-writer]') }],
      usage: { input_tokens: 8, output_tokens: expect.any(Number) },
    });
    const ollama = await postJson(`${origin}/api/chat`, {
      model: 'mock-local',
      stream: false,
      messages: [{ role: 'user', content: '{"risk": "low"}' }],
      format: { type: 'object', properties: { risk: { type: 'string', enum: ['low', 'high'] } } },
    });
    const message = (ollama.body as { message: { content: string } }).message;
    expect(JSON.parse(message.content)).toEqual({ risk: 'low' });
  });

  it('is what llm.chat gets with an outputSchema over the OpenAI format: response_format is sent', async () => {
    const { origin } = await service();
    const engine = testEngine();
    const run = await runWorkflow(
      engine,
      chain('structured', [
        node('triage', 'llm.chat', {
          providers: [{ kind: 'openai', baseUrl: `${origin}/v1`, model: 'mock-triage' }],
          outputSchema: schema,
        }),
      ]),
      { orderId: 'Z-9', reason: 'it came late' },
    );
    expect(run.status).toBe('completed');
    expect((run.output as { json: unknown }).json).toMatchObject({
      category: 'late',
      orderId: 'Z-9',
      refundable: true,
    });
  });
});

describe('the mock business endpoints', () => {
  it('answer the same idempotency key with the same result, once', async () => {
    const { origin, calls } = await service();
    const charge = (key: string) =>
      postJson(`${origin}/payments/charges`, { amount: 49, customerId: 'cus_1' }, { 'idempotency-key': key });
    const first = await charge('run-1:charge');
    const again = await charge('run-1:charge');
    const other = await charge('run-2:charge');
    expect(first.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((other.body as { id: string }).id).not.toBe((first.body as { id: string }).id);
    expect(calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      'POST /payments/charges 201',
      'POST /payments/charges 201',
      'POST /payments/charges 201',
    ]);
  });

  it('fail the way templates show their error paths, and say what they are', async () => {
    const { origin } = await service();
    const provision = await postJson(`${origin}/provisioning/workspaces`, { plan: 'fail' }, { 'idempotency-key': 'k' });
    expect(provision.status).toBe(422);
    // An error is not remembered for the key: the same key may succeed once the input is fixed.
    const fixed = await postJson(`${origin}/provisioning/workspaces`, { plan: 'pro' }, { 'idempotency-key': 'k' });
    expect(fixed.status).toBe(201);
    const declined = await postJson(`${origin}/payments/charges`, { amount: 20_000 });
    expect(declined.status).toBe(402);
    const root = await fetch(`${origin}/`);
    expect(await root.json()).toMatchObject({
      service: 'stepwise-mock',
      notice: expect.stringContaining('Not a real provider'),
    });
    const unknown = await fetch(`${origin}/nowhere`);
    expect(unknown.status).toBe(404);
  });
});

describe('the engine host and the mock service', () => {
  it('starts it on demand, remembers it beside the database, and starts it again on the same port', async () => {
    const dir = tempDir('stepwise-mock-');
    try {
      const first = new MockServiceHost(dir.db, { STEPWISE_MOCK_PORT: '0' });
      open.push(first);
      expect(await first.resume()).toBeNull();
      const origin = await first.origin();
      expect(await first.origin()).toBe(origin);
      expect((await fetch(`${origin}/health`)).status).toBe(200);
      await first.close();
      const second = new MockServiceHost(dir.db, { STEPWISE_MOCK_PORT: '0' });
      open.push(second);
      expect(await second.resume()).toBe(origin);
    } finally {
      dir.cleanup();
    }
  });

  it('takes another port when its own is taken', async () => {
    const dir = tempDir('stepwise-mock-');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const host = new MockServiceHost(dir.db, { STEPWISE_MOCK_PORT: String(taken) });
      open.push(host);
      const origin = await host.origin();
      expect(origin).not.toBe(`http://127.0.0.1:${taken}`);
      expect((await fetch(`${origin}/health`)).status).toBe(200);
    } finally {
      blocker.close();
      dir.cleanup();
    }
  });
});
