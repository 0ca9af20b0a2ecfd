// llm.chat end to end: tiny workflows on real database files call a real local HTTP server that
// speaks the OpenAI, Anthropic and Ollama wire formats and injects faults (tests/support/mock-llm.ts).
// The server's request log proves what was sent, to whom, and what was never sent again.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore, MemoryVault } from '../../engine/credentials/index.js';
import type { Engine, RunDetail } from '../../engine/runtime/engine.js';
import { circuitBreakers } from '../../nodes/llm-chat/index.js';
import { dbPathOf, runWorkflow, testEngine } from '../support/engine.js';
import { writeFileSync } from 'node:fs';
import type { JournalEvent, NodeNote } from '../../engine/journal/events.js';
import {
  chain,
  edge,
  finished,
  node,
  printed,
  runCli,
  spawnCli,
  startHoldingServer,
  tempDir,
  until,
  workflow,
} from '../support/harness.js';
import { start, type MockLlm } from '../support/mock-llm.js';

const SECRET = 'sk-test-9f8e7d6c5b4a-never-journaled';
let mock: MockLlm;

beforeAll(async () => {
  mock = await start();
});
afterAll(() => mock.close());
beforeEach(() => {
  mock.clearFaults();
  mock.requests.length = 0;
  circuitBreakers.reset();
});

async function engineWithKeys(): Promise<Engine> {
  const engine = testEngine({ credentials: new CredentialStore(new MemoryVault(), {}) });
  await engine.credentials.set('llm_key', SECRET);
  return engine;
}

/** start → llm.chat "ask" (no engine retries: the node's own failover is under test) → end. */
function askFlow(id: string, config: Record<string, unknown>) {
  return chain(id, [node('ask', 'llm.chat', config, { retry: { maxAttempts: 1 } })]);
}

/** Two OpenAI-format providers on the mock: "primary" then "backup". */
function twoProviders(primary: Record<string, unknown> = {}, backup: Record<string, unknown> = {}) {
  return [
    { kind: 'openai', baseUrl: `${mock.url}/v1`, model: 'primary', ...primary },
    { kind: 'openai', baseUrl: `${mock.url}/v1`, model: 'backup', ...backup },
  ];
}

interface Attempt {
  provider: number;
  attempt: number;
  error: string | null;
  latencyMs: number;
  usage: { inputTokens: number; outputTokens: number } | null;
}
interface LlmOutput {
  text: string;
  json?: unknown;
  provider: { index: number; kind: string; model: string };
  usage: { inputTokens: number; outputTokens: number };
  costEstimate: number | null;
  attempts: Attempt[];
}

function outputOf(run: RunDetail): LlmOutput {
  expect(run.status).toBe('completed');
  return run.output as LlmOutput;
}

/** [provider index, error class] of each attempt. */
function trail(attempts: Attempt[]): [number, string | null][] {
  return attempts.map((attempt) => [attempt.provider, attempt.error]);
}

function sentTo(model: string): number {
  return mock.requests.filter((request) => request.model === model).length;
}

describe('llm.chat wire formats', () => {
  it('openai: POST <baseUrl>/chat/completions with a Bearer key, the system prompt and the input as JSON', async () => {
    const engine = await engineWithKeys();
    const run = await runWorkflow(
      engine,
      askFlow('openai', {
        providers: [{ kind: 'openai', baseUrl: `${mock.url}/v1`, model: 'gpt-4o-mini', credential: 'llm_key' }],
        system: 'Classify the request.',
        temperature: 0.2,
        maxTokens: 100,
      }),
      { order: 7, reason: 'broken on arrival' },
    );
    const output = outputOf(run);
    expect(mock.requests).toHaveLength(1);
    const [request] = mock.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(request?.headers['idempotency-key']).toBe(`${run.runId}:ask`);
    expect(request?.headers['x-api-key']).toBeUndefined();
    expect(request?.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Classify the request.' },
        { role: 'user', content: '{"order":7,"reason":"broken on arrival"}' },
      ],
      max_tokens: 100,
      temperature: 0.2,
    });
    expect(output.text).toBe('mock openai gpt-4o-mini: {"order":7,"reason":"broken on arrival"}');
    expect(output.provider).toEqual({ index: 0, kind: 'openai', model: 'gpt-4o-mini' });
    // The mock counts words: 3 (system) + 3 (prompt) + 3 for input, the answer's words for output.
    expect(output.usage).toEqual({ inputTokens: 9, outputTokens: 6 });
    expect(output.costEstimate).toBeCloseTo((9 * 0.15 + 6 * 0.6) / 1_000_000, 12);
    expect(trail(output.attempts)).toEqual([[0, null]]);
    expect(output).not.toHaveProperty('json');
  });

  it('anthropic: POST <baseUrl>/v1/messages with x-api-key, anthropic-version, max_tokens and a top-level system', async () => {
    const engine = await engineWithKeys();
    const run = await runWorkflow(
      engine,
      askFlow('anthropic', {
        providers: [{ kind: 'anthropic', baseUrl: mock.url, model: 'claude-3-5-haiku-latest', credential: 'llm_key' }],
        system: 'Be brief.',
        prompt: 'Is this a refund?',
      }),
    );
    const output = outputOf(run);
    const [request] = mock.requests;
    expect(request?.path).toBe('/v1/messages');
    expect(request?.headers['x-api-key']).toBe(SECRET);
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.headers['idempotency-key']).toBe(`${run.runId}:ask`);
    expect(request?.body).toEqual({
      model: 'claude-3-5-haiku-latest',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Is this a refund?' }],
      system: 'Be brief.',
    });
    expect(output.text).toBe('mock anthropic claude-3-5-haiku-latest: Is this a refund?');
    expect(output.provider).toEqual({ index: 0, kind: 'anthropic', model: 'claude-3-5-haiku-latest' });
    expect(output.usage).toEqual({ inputTokens: 9, outputTokens: 7 });
    expect(output.costEstimate).toBeCloseTo((9 * 0.8 + 7 * 4) / 1_000_000, 12);
  });

  it('ollama: POST <baseUrl>/api/chat with stream false, no key, the schema as format; the answer parsed as JSON', async () => {
    mock.setFault({ text: '{"category":"refund","confidence":0.9}' }, { kind: 'ollama' });
    const schema = {
      type: 'object',
      properties: { category: { type: 'string' }, confidence: { type: 'number' } },
      required: ['category'],
    };
    const run = await runWorkflow(
      await engineWithKeys(),
      askFlow('ollama', {
        providers: [{ kind: 'ollama', baseUrl: mock.url, model: 'llama3.2' }],
        system: 'Answer in JSON.',
        outputSchema: schema,
      }),
      'My parcel arrived broken',
    );
    const output = outputOf(run);
    const [request] = mock.requests;
    expect(request?.path).toBe('/api/chat');
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toEqual({
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Answer in JSON.' },
        // A string input is the prompt as it is, not JSON-quoted.
        { role: 'user', content: 'My parcel arrived broken' },
      ],
      stream: false,
      options: { num_predict: 1024 },
      format: schema,
    });
    expect(output.json).toEqual({ category: 'refund', confidence: 0.9 });
    expect(output.usage).toEqual({ inputTokens: 10, outputTokens: 1 });
    expect(output.costEstimate).toBe(0);
  });
});

describe('llm.chat failover', () => {
  it('503: the provider is tried maxAttempts times, then the next one answers with its own system and prompt', async () => {
    mock.setFault({ status: 503 }, { model: 'primary' });
    const run = await runWorkflow(
      await engineWithKeys(),
      askFlow('fail-503', {
        providers: twoProviders(
          {},
          { kind: 'anthropic', baseUrl: mock.url, system: 'Backup rules.', prompt: 'Short.' },
        ),
        system: 'Main rules.',
        prompt: 'Long prompt.',
      }),
    );
    const output = outputOf(run);
    expect(trail(output.attempts)).toEqual([
      [0, 'http-5xx'],
      [0, 'http-5xx'],
      [1, null],
    ]);
    expect(output.provider).toEqual({ index: 1, kind: 'anthropic', model: 'backup' });
    expect(mock.requests.map((request) => request.model)).toEqual(['primary', 'primary', 'backup']);
    // The node's prompts went to the primary; the backup's overrides to the backup.
    expect(mock.requests[0]?.body?.messages).toEqual([
      { role: 'system', content: 'Main rules.' },
      { role: 'user', content: 'Long prompt.' },
    ]);
    expect(mock.requests[2]?.body).toMatchObject({
      system: 'Backup rules.',
      messages: [{ role: 'user', content: 'Short.' }],
    });
    // Every attempt carries the same idempotency key.
    expect(new Set(mock.requests.map((request) => request.headers['idempotency-key']))).toEqual(
      new Set([`${run.runId}:ask`]),
    );
    // An unknown model has no price.
    expect(output.costEstimate).toBeNull();
  });

  it('429 with a short Retry-After: the same provider is asked again after waiting it out', async () => {
    mock.setFault({ status: 429, retryAfter: '1' }, { model: 'primary', times: 1 });
    const run = await runWorkflow(await engineWithKeys(), askFlow('short-429', { providers: twoProviders() }));
    const output = outputOf(run);
    expect(trail(output.attempts)).toEqual([
      [0, 'http-429'],
      [0, null],
    ]);
    expect(output.provider.index).toBe(0);
    const [first, second] = mock.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(sentTo('backup')).toBe(0);
  });

  it('429 with a Retry-After beyond maxRetryAfterMs: straight to the next provider, without waiting', async () => {
    mock.setFault({ status: 429, retryAfter: '120' }, { model: 'primary' });
    const began = Date.now();
    const run = await runWorkflow(await engineWithKeys(), askFlow('long-429', { providers: twoProviders() }));
    const output = outputOf(run);
    expect(trail(output.attempts)).toEqual([
      [0, 'http-429'],
      [1, null],
    ]);
    expect(sentTo('primary')).toBe(1);
    expect(Date.now() - began).toBeLessThan(5000);
  });

  it('a provider slower than its timeoutMs is abandoned: the next one answers', async () => {
    mock.setFault({ delayMs: 3000 }, { model: 'primary' });
    const run = await runWorkflow(
      await engineWithKeys(),
      askFlow('slow', { providers: twoProviders({ timeoutMs: 300, maxAttempts: 1 }) }),
    );
    const output = outputOf(run);
    expect(trail(output.attempts)).toEqual([
      [0, 'timeout'],
      [1, null],
    ]);
    expect(output.attempts[0]?.latencyMs).toBeGreaterThanOrEqual(250);
    expect(output.attempts[0]?.latencyMs).toBeLessThan(2500);
  });

  it('latency over maxLatencyMs counts as a failure (error class latency)', async () => {
    mock.setFault({ delayMs: 3000 }, { model: 'primary' });
    const run = await runWorkflow(
      await engineWithKeys(),
      askFlow('latency', { providers: twoProviders({ maxAttempts: 1 }), maxLatencyMs: 300 }),
    );
    expect(trail(outputOf(run).attempts)).toEqual([
      [0, 'latency'],
      [1, null],
    ]);
  });

  const schema = { type: 'object', properties: { category: { type: 'string' } }, required: ['category'] };

  it('an answer that is not JSON when outputSchema is set: the next provider', async () => {
    mock.setFault({ text: 'Sure! The category is refund.' }, { model: 'primary' });
    mock.setFault({ text: '```json\n{"category":"refund"}\n```' }, { model: 'backup' });
    const run = await runWorkflow(
      await engineWithKeys(),
      askFlow('not-json', { providers: twoProviders({ maxAttempts: 1 }), outputSchema: schema }),
    );
    const output = outputOf(run);
    expect(trail(output.attempts)).toEqual([
      [0, 'not-json'],
      [1, null],
    ]);
    // The refused answer was paid for: its usage is recorded with the attempt.
    expect(output.attempts[0]?.usage?.outputTokens).toBe(5);
    expect(output.json).toEqual({ category: 'refund' });
  });

  it('JSON that does not match outputSchema: the next provider', async () => {
    mock.setFault({ text: '{"category": 5}' }, { model: 'primary' });
    mock.setFault({ text: '{"category":"refund"}' }, { model: 'backup' });
    const run = await runWorkflow(
      await engineWithKeys(),
      askFlow('schema', { providers: twoProviders({ maxAttempts: 1 }), outputSchema: schema }),
    );
    const output = outputOf(run);
    expect(trail(output.attempts)).toEqual([
      [0, 'schema-mismatch'],
      [1, null],
    ]);
    expect(output.json).toEqual({ category: 'refund' });
  });

  it('a body that is not the wire format (malformed JSON from the server): the next provider', async () => {
    mock.setFault({ rawBody: '{"choices": [' }, { model: 'primary' });
    const run = await runWorkflow(
      await engineWithKeys(),
      askFlow('malformed', { providers: twoProviders({ maxAttempts: 1 }) }),
    );
    expect(trail(outputOf(run).attempts)).toEqual([
      [0, 'malformed-response'],
      [1, null],
    ]);
  });

  it('400: the node fails as llm.request, no retry, no failover', async () => {
    mock.setFault({ status: 400 }, { model: 'primary' });
    const run = await runWorkflow(await engineWithKeys(), askFlow('bad-request', { providers: twoProviders() }));
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({
      nodeId: 'ask',
      kind: 'llm.request',
      message: expect.stringMatching(/openai primary \(provider 1\) refused the request: 400 mock error 400/),
    });
    expect((run.error?.details as { attempts: Attempt[] }).attempts.map((a) => a.error)).toEqual(['request']);
    expect(mock.requests.map((request) => request.model)).toEqual(['primary']);
  });

  it('a context-length error fails the node as llm.context-length (OpenAI code, Anthropic words)', async () => {
    const engine = await engineWithKeys();
    mock.setFault({ status: 400, contextLength: true });
    const openai = await runWorkflow(engine, askFlow('ctx-openai', { providers: twoProviders() }));
    expect(openai.error).toMatchObject({ kind: 'llm.context-length' });
    const anthropic = await runWorkflow(
      engine,
      askFlow('ctx-anthropic', {
        providers: [{ kind: 'anthropic', baseUrl: mock.url, model: 'claude-sonnet-4-0' }, twoProviders()[1]],
      }),
    );
    expect(anthropic.error).toMatchObject({
      kind: 'llm.context-length',
      message: expect.stringMatching(/prompt is too long/),
    });
    expect(sentTo('backup')).toBe(0);
    expect(mock.requests).toHaveLength(2);
  });

  it('every provider failing fails the node as llm.exhausted (retryable), every attempt in its details', async () => {
    mock.setFault({ status: 502 });
    const run = await runWorkflow(
      await engineWithKeys(),
      askFlow('exhausted', { providers: twoProviders({ maxAttempts: 1 }, { maxAttempts: 1 }) }),
    );
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'llm.exhausted', message: expect.stringMatching(/every provider failed/) });
    expect(trail((run.error?.details as { attempts: Attempt[] }).attempts)).toEqual([
      [0, 'http-5xx'],
      [1, 'http-5xx'],
    ]);
  });
});

describe('llm.chat circuit breaker', () => {
  it('opens after N consecutive failures across runs, skips the provider without a request, probes it after the cool-down', async () => {
    const engine = await engineWithKeys();
    mock.setFault({ status: 503 }, { model: 'primary' });
    const config = { providers: twoProviders({ maxAttempts: 1 }), breaker: { failures: 2, coolDownMs: 600 } };
    const first = outputOf(await runWorkflow(engine, askFlow('breaker-1', config)));
    const second = outputOf(await runWorkflow(engine, askFlow('breaker-2', config)));
    expect([trail(first.attempts), trail(second.attempts)]).toEqual([
      [
        [0, 'http-5xx'],
        [1, null],
      ],
      [
        [0, 'http-5xx'],
        [1, null],
      ],
    ]);
    // Open: a third run (another workflow) does not send the primary a request.
    const third = outputOf(await runWorkflow(engine, askFlow('breaker-3', config)));
    expect(trail(third.attempts)).toEqual([
      [0, 'circuit-open'],
      [1, null],
    ]);
    expect(sentTo('primary')).toBe(2);
    // After the cool-down one probe goes through; the primary has recovered and answers.
    mock.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, 700));
    const fourth = outputOf(await runWorkflow(engine, askFlow('breaker-4', config)));
    expect(trail(fourth.attempts)).toEqual([[0, null]]);
    expect(sentTo('primary')).toBe(3);
  });

  it('a failed probe opens the breaker again for a whole cool-down', async () => {
    const engine = await engineWithKeys();
    mock.setFault({ status: 503 }, { model: 'primary' });
    const config = { providers: twoProviders({ maxAttempts: 1 }), breaker: { failures: 1, coolDownMs: 500 } };
    await runWorkflow(engine, askFlow('probe-1', config));
    await new Promise((resolve) => setTimeout(resolve, 600));
    const probe = outputOf(await runWorkflow(engine, askFlow('probe-2', config)));
    expect(trail(probe.attempts)).toEqual([
      [0, 'http-5xx'],
      [1, null],
    ]);
    const skipped = outputOf(await runWorkflow(engine, askFlow('probe-3', config)));
    expect(trail(skipped.attempts)).toEqual([
      [0, 'circuit-open'],
      [1, null],
    ]);
    expect(sentTo('primary')).toBe(2);
  });
});

describe('llm.chat durability and secrets', () => {
  it('a completed answer is checkpointed: a fork and a redrive of the run never call the model again', async () => {
    const engine = await engineWithKeys();
    const flow = workflow(
      'checkpoint',
      [
        node('start', 'trigger.manual'),
        node('ask', 'llm.chat', { providers: twoProviders() }, { retry: { maxAttempts: 1 } }),
        // A downstream failure without the sandbox: the run fails after the answer was committed.
        node('after', 'fail', { message: 'downstream broke' }),
      ],
      [edge('start', 'ask'), edge('ask', 'after')],
    );
    const origin = await runWorkflow(engine, flow);
    expect(origin.status).toBe('failed');
    expect(origin.error).toMatchObject({ nodeId: 'after', message: 'downstream broke' });
    expect(mock.requests).toHaveLength(1);
    const fork = await engine.commands.fork(origin.runId, { seq: origin.lastSeq });
    const forked = await engine.waitForRun(fork.runId, { timeoutMs: 15_000 });
    expect(forked.events.filter((event) => event.type === 'NodeInherited').map((event) => event.nodeId)).toContain(
      'ask',
    );
    expect(forked.activations.find((activation) => activation.nodeId === 'ask')?.output).toEqual(
      origin.activations.find((activation) => activation.nodeId === 'ask')?.output,
    );
    await engine.commands.redrive(origin.runId, { by: 'ops' });
    const redriven = await engine.waitForRun(origin.runId, { timeoutMs: 15_000 });
    expect(redriven.events.some((event) => event.type === 'RunRedriven')).toBe(true);
    expect(mock.requests).toHaveLength(1);
  });

  it('the API key is sent from the credential and is in no output, journal or database file', async () => {
    const engine = await engineWithKeys();
    // The provider echoes the key back in its answer and in an error: both are redacted.
    mock.setFault({ status: 503 }, { model: 'primary' });
    mock.setFault({ text: `your key is ${SECRET}` }, { model: 'backup' });
    const run = await runWorkflow(
      engine,
      askFlow('secret', {
        providers: twoProviders({ credential: 'llm_key', maxAttempts: 1 }, { credential: 'llm_key' }),
      }),
    );
    expect(mock.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${SECRET}`,
      `Bearer ${SECRET}`,
    ]);
    expect(outputOf(run).text).toBe('your key is [redacted]');
    expect(JSON.stringify(run)).not.toContain(SECRET);
    const dir = dirname(dbPathOf(engine));
    const leaking = readdirSync(dir).filter(
      (file) => file !== 'credentials.json' && readFileSync(join(dir, file)).includes(Buffer.from(SECRET)),
    );
    expect(leaking).toEqual([]);
  });

  it('validation: a provider without a model or URL, and an unusable outputSchema, are config problems', async () => {
    const engine = await engineWithKeys();
    const fields = (config: Record<string, unknown>) =>
      engine.workflows.validate(askFlow('invalid', config)).problems.map((problem) => problem.field);
    expect(fields({ providers: [{ kind: 'openai', baseUrl: 'not a url', model: '' }] })).toEqual(
      expect.arrayContaining(['providers.0.baseUrl', 'providers.0.model']),
    );
    expect(fields({ providers: [] })).toEqual(['providers']);
    expect(fields({ providers: twoProviders(), outputSchema: { type: 'no-such-type' } })).toEqual(['outputSchema']);
    // A credential is a name, never a template: the input may not choose which secret is sent.
    const [first] = twoProviders();
    expect(fields({ providers: [{ ...first, credential: '{{ input.key }}' }] })).toEqual(['providers.0.credential']);
  });
});

/** The `llm.attempt` notes journaled for node "ask", in order: [provider index, error class, cached]. */
function journaled(events: readonly JournalEvent[]): [number, string | null, boolean][] {
  return events
    .flatMap((event) => (event.type === 'NodeNoted' && event.nodeId === 'ask' ? event.data.notes : []))
    .filter((note: NodeNote) => note.kind === 'llm.attempt')
    .map((note) => {
      const data = note.data as { provider: number; error: string | null; cached: boolean };
      return [data.provider, data.error, data.cached];
    });
}

describe('llm.chat journal records', () => {
  it('each attempt of the failover matrix is a journal record with its error class, latency and tokens', async () => {
    const engine = await engineWithKeys();
    // The newest matching fault answers first.
    mock.setFault({ status: 429, retryAfter: '600' }, { model: 'primary', times: 1 });
    mock.setFault({ status: 503 }, { model: 'primary', times: 1 });
    mock.setFault({ text: '{"ok":true}' }, { model: 'backup' });
    mock.setFault({ text: 'not json' }, { model: 'backup', times: 1 });
    const run = await runWorkflow(
      engine,
      askFlow('records', {
        providers: [
          { kind: 'openai', baseUrl: `${mock.url}/v1`, model: 'primary', maxAttempts: 3 },
          { kind: 'openai', baseUrl: `${mock.url}/v1`, model: 'backup', maxAttempts: 2, credential: 'llm_key' },
        ],
        outputSchema: { type: 'object' },
        maxRetryAfterMs: 1000,
      }),
    );
    mock.clearFaults();
    expect(run.status).toBe('completed');
    // 503 → retried; 429 with a Retry-After over the budget → next provider; not JSON → retried.
    expect(journaled(run.events)).toEqual([
      [0, 'http-5xx', false],
      [0, 'http-429', false],
      [1, 'not-json', false],
      [1, null, false],
    ]);
    const notes = run.events.flatMap((event) => (event.type === 'NodeNoted' ? event.data.notes : []));
    expect(notes[0]).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/^provider 1 \(openai primary\) attempt 1: http-5xx/),
    });
    expect(notes[3]).toMatchObject({
      level: 'info',
      message: expect.stringMatching(/^provider 2 \(openai backup\) attempt 2: answered in \d+ ms, \d+\+\d+ tokens$/),
      data: {
        kind: 'openai',
        model: 'backup',
        status: 200,
        usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
      },
    });
    // Journaled with the completion, in its commit.
    const noted = run.events.find((event) => event.type === 'NodeNoted');
    expect(run.events.find((event) => event.type === 'NodeCompleted' && event.nodeId === 'ask')?.seq).toBe(
      (noted?.seq ?? 0) + 1,
    );
    expect(JSON.stringify(run.events)).not.toContain(SECRET);
  });

  it('a request error fails the node, and its attempts are journaled with the failure', async () => {
    mock.setFault({ status: 400, contextLength: true }, { model: 'primary' });
    const run = await runWorkflow(await engineWithKeys(), askFlow('records-400', { providers: twoProviders() }));
    expect(run.status).toBe('failed');
    expect(journaled(run.events)).toEqual([[0, 'context-length', false]]);
  });
});

describe('llm.chat playback', () => {
  const flow = () => askFlow('playback', { providers: twoProviders(), system: 'Classify.' });

  it('stepwise run --playback and fork --playback answer from the record', { timeout: 60_000 }, async () => {
    const dir = tempDir('stepwise-llm-cli-');
    try {
      const file = join(dir.path, 'flow.json');
      writeFileSync(file, JSON.stringify(flow()));
      const first = await runCli(['run', file, '--input', '{"order":4}', '--json'], { db: dir.db });
      expect(first.code, first.stderr).toBe(0);
      expect(mock.requests).toHaveLength(1);
      const played = await runCli(['run', file, '--input', '{"order":4}', '--playback', '--json'], { db: dir.db });
      expect(played.code, played.stderr).toBe(0);
      const outputOfCli = (stdout: string) => (JSON.parse(stdout) as { output: LlmOutput }).output;
      expect(outputOfCli(played.stdout)).toMatchObject({
        text: outputOfCli(first.stdout).text,
        provider: outputOfCli(first.stdout).provider,
        costEstimate: 0,
      });
      const { runId } = JSON.parse(first.stdout) as { runId: string };
      const forked = await runCli(['fork', runId, '--at', '1', '--playback', '--json'], { db: dir.db });
      expect(forked.code, forked.stderr).toBe(0);
      const worked = await runCli(['worker', '--until-idle'], { db: dir.db });
      expect(worked.code, worked.stderr).toBe(0);
      const fork = JSON.parse(
        (await runCli(['show', (JSON.parse(forked.stdout) as { runId: string }).runId, '--json'], { db: dir.db }))
          .stdout,
      ) as { status: string; events: JournalEvent[] };
      expect(fork.status).toBe('completed');
      expect(journaled(fork.events)).toEqual([[0, null, true]]);
      expect(mock.requests).toHaveLength(1);
    } finally {
      dir.cleanup();
    }
  });

  it('a playback run of the same input answers from the recorded answer: no call, the same output, no cost', async () => {
    const engine = await engineWithKeys();
    const first = await runWorkflow(engine, flow(), { order: 1 });
    expect(mock.requests).toHaveLength(1);
    const played = await engine.commands.start(first.workflowId, { input: { order: 1 }, playback: true });
    const replayed = await engine.waitForRun(played.runId, { timeoutMs: 15_000 });
    expect(mock.requests).toHaveLength(1);
    const [original, again] = [outputOf(first), outputOf(replayed)];
    expect({ ...again, attempts: undefined, costEstimate: undefined }).toEqual({
      ...original,
      attempts: undefined,
      costEstimate: undefined,
    });
    expect(again.costEstimate).toBe(0);
    expect(journaled(replayed.events)).toEqual([[0, null, true]]);
    expect(replayed.events[0]).toMatchObject({ type: 'RunStarted', data: { playback: true } });

    // A fork in playback mode from before the node ran: the node runs again, from the record.
    const fork = await engine.commands.fork(first.runId, { seq: 1, playback: true });
    const forked = await engine.waitForRun(fork.runId, { timeoutMs: 15_000 });
    expect(outputOf(forked).text).toBe(original.text);
    expect(mock.requests).toHaveLength(1);

    // A run that is not in playback mode calls the provider, recorded answer or not.
    await engine.waitForRun((await engine.commands.start(first.workflowId, { input: { order: 1 } })).runId, {
      timeoutMs: 15_000,
    });
    expect(mock.requests).toHaveLength(2);
  });

  it('a playback run whose request was never answered calls the provider (and records the answer)', async () => {
    const engine = await engineWithKeys();
    const saved = await engine.workflows.save(flow());
    engine.startWorker();
    const miss = await engine.commands.start(saved.workflowId, {
      input: { order: 2 },
      playback: true,
      version: saved.version,
    });
    const missed = await engine.waitForRun(miss.runId, { timeoutMs: 15_000 });
    expect(mock.requests).toHaveLength(1);
    expect(journaled(missed.events)).toEqual([[0, null, false]]);
    const hit = await engine.commands.start(saved.workflowId, {
      input: { order: 2 },
      playback: true,
      version: saved.version,
    });
    expect(outputOf(await engine.waitForRun(hit.runId, { timeoutMs: 15_000 })).text).toBe(outputOf(missed).text);
    expect(mock.requests).toHaveLength(1);
    // Another parameter is another request: not answered from the record.
    const other = await engine.workflows.save(
      askFlow('playback', { providers: twoProviders(), system: 'Classify.', temperature: 0.5 }),
    );
    const differs = await engine.commands.start(other.workflowId, {
      input: { order: 2 },
      playback: true,
      version: other.version,
    });
    await engine.waitForRun(differs.runId, { timeoutMs: 15_000 });
    expect(mock.requests).toHaveLength(2);
  });

  it(
    'killed after the answer was checkpointed, the run goes on without asking the model again',
    { timeout: 60_000 },
    async () => {
      const dir = tempDir('stepwise-llm-crash-');
      const held = await startHoldingServer();
      try {
        const file = join(dir.path, 'flow.json');
        writeFileSync(
          file,
          JSON.stringify(
            workflow(
              'crash',
              [
                node('start', 'trigger.manual'),
                node('ask', 'llm.chat', { providers: twoProviders() }, { retry: { maxAttempts: 1 } }),
                node('store', 'http.request', { method: 'POST', url: `${held.url}/store` }),
                node('end', 'output'),
              ],
              [edge('start', 'ask'), edge('ask', 'store'), edge('store', 'end')],
            ),
          ),
        );
        const started = await runCli(['start', file, '--input', '{"order":3}', '--json'], { db: dir.db });
        expect(started.code, started.stderr).toBe(0);
        const worker = spawnCli(['worker'], { db: dir.db });
        const exit = finished(worker);
        await printed(worker, 'stepwise worker: running');
        // The model answered and the next node is executing: the answer is committed.
        await until(() => held.held.length === 1, 'the store request', 20_000);
        worker.kill('SIGKILL');
        expect((await exit).signal).toBe('SIGKILL');
        expect(mock.requests).toHaveLength(1);

        const again = spawnCli(['worker', '--until-idle'], { db: dir.db });
        const done = finished(again);
        await until(() => held.held.length === 2, 'the store request again', 30_000);
        held.answer(1, { stored: true });
        const result = await done;
        expect(result.code, result.stderr).toBe(0);
        const { runId } = JSON.parse(started.stdout) as { runId: string };
        const shown = JSON.parse((await runCli(['show', runId, '--json'], { db: dir.db })).stdout) as {
          status: string;
        };
        expect(shown.status).toBe('completed');
        expect(mock.requests).toHaveLength(1);
      } finally {
        await held.close();
        dir.cleanup();
      }
    },
  );
});
