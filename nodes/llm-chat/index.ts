// llm.chat: asks a language model (OpenAI-compatible, Anthropic or Ollama wire format), failing
// over along an ordered list of providers on 5xx, 429, timeouts, slow answers and invalid output;
// a request error (4xx, the prompt too long) fails the node. Every provider attempt is a journal
// record (`ctx.note`, kind `llm.attempt`) and in the output's `attempts` (or the failure's
// details); API keys come from credentials by name. Each answer is recorded in the node cache
// under a hash of what was asked (never the key), and a playback run answers from it for free.
import { z } from 'zod';
import {
  compileJsonSchema,
  defineNode,
  NodeError,
  TerminalError,
  type ConfigProblem,
  type NodeContext,
} from '../../engine/sdk/index.js';
import { readCapped } from '../read-capped.js';
import { CircuitBreakers, circuitBreakers, type BreakerSettings } from './breaker.js';
import { costEstimate } from './prices.js';
import {
  buildRequest,
  errorMessage,
  isContextLengthError,
  parseAnswer,
  retryAfterMs,
  type ChatRequest,
  type ProviderKind,
  type Usage,
} from './wire.js';

export { circuitBreakers } from './breaker.js';

/** An answer body larger than this is refused (a chat answer is far smaller; a runaway server is not). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** First pause before a provider's next attempt when it gave no Retry-After; doubled each time. */
const BACKOFF_MS = 200;

const credentialName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a credential name (a letter, then letters, digits or _)');

const providerSchema = z.strictObject({
  kind: z.enum(['openai', 'anthropic', 'ollama']).meta({ description: 'The wire format the server speaks.' }),
  baseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).meta({
    description:
      'openai: including /v1 (https://api.openai.com/v1); anthropic: the host root (https://api.anthropic.com); ollama: http://127.0.0.1:11434.',
  }),
  model: z.string().min(1, 'is required (the model name)'),
  credential: credentialName
    .optional()
    // A name, never a template: the input must not choose which secret is sent.
    .meta({ description: 'The credential holding the API key; none for a local server.', format: 'credential' }),
  system: z.string().optional().meta({ description: "Overrides the node's system prompt for this provider." }),
  prompt: z.string().optional().meta({ description: "Overrides the node's prompt for this provider." }),
  timeoutMs: z.number().int().min(1).max(600_000).default(60_000),
  maxAttempts: z.number().int().min(1).max(10).default(2),
});
type ProviderConfig = z.infer<typeof providerSchema>;

const configSchema = z.strictObject({
  providers: z
    .array(providerSchema)
    .min(1, 'needs at least one provider')
    .max(10)
    .meta({ description: 'Tried in order: the next one when a provider keeps failing.' }),
  system: z.string().optional().meta({ description: 'The system prompt.' }),
  prompt: z
    .string()
    .optional()
    .meta({ description: 'The user prompt. Default: the node input (a string as is, anything else as JSON).' }),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().min(1).max(1_000_000).default(1024),
  outputSchema: z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ description: 'A JSON Schema: the answer must be JSON that matches it, else the next attempt.' }),
  maxLatencyMs: z
    .number()
    .int()
    .min(1)
    .max(600_000)
    .optional()
    .meta({ description: 'An attempt slower than this is abandoned and counts as a failure.' }),
  maxRetryAfterMs: z.number().int().min(0).max(600_000).default(10_000).meta({
    description: 'A 429 whose Retry-After is longer than this moves on to the next provider instead of waiting.',
  }),
  breaker: z
    .strictObject({
      failures: z.number().int().min(1).max(1000).default(5),
      coolDownMs: z
        .number()
        .int()
        .min(0)
        .max(24 * 3_600_000)
        .default(30_000),
    })
    .default({ failures: 5, coolDownMs: 30_000 })
    .meta({
      description:
        'Per provider, for the whole engine: after this many consecutive failures it is skipped, then probed again after the cool-down.',
    }),
});
type LlmConfig = z.infer<typeof configSchema>;

/** Why an attempt did not give the answer; the journal's "error class". */
type ErrorClass =
  | 'http-5xx'
  | 'http-429'
  | 'timeout'
  | 'latency'
  | 'network'
  | 'malformed-response'
  | 'not-json'
  | 'schema-mismatch'
  | 'request'
  | 'context-length'
  | 'circuit-open';

interface AttemptRecord {
  provider: number;
  kind: ProviderKind;
  model: string;
  /** 1 for the provider's first attempt; 0 when its breaker was open and nothing was sent. */
  attempt: number;
  latencyMs: number;
  status: number | null;
  usage: Usage | null;
  error: ErrorClass | null;
  message?: string;
  /** Answered from a recorded answer (playback): nothing was sent, nothing paid. */
  cached?: true;
}

/** What the node cache keeps of an answer: never the API key, which is not part of the key either. */
const cachedAnswerSchema = z.strictObject({
  text: z.string(),
  json: z.unknown().optional(),
  usage: z.strictObject({ inputTokens: z.number(), outputTokens: z.number() }),
});
type CachedAnswer = z.infer<typeof cachedAnswerSchema>;

/** What an answer is cached under: the wire format, where, the model and everything sent. */
function cacheKeyOf(provider: ProviderConfig, chat: ChatRequest): unknown {
  return { kind: provider.kind, baseUrl: provider.baseUrl, ...chat };
}

/** One line for the run's log. */
function attemptLine(record: AttemptRecord): string {
  const who = `provider ${record.provider + 1} (${record.kind} ${record.model})`;
  const tokens = record.usage ? `, ${record.usage.inputTokens}+${record.usage.outputTokens} tokens` : '';
  if (record.cached) return `${who}: recorded answer (playback, not sent)${tokens}`;
  if (record.error === 'circuit-open') return `${who}: skipped, its circuit breaker is open`;
  const what = record.error === null ? 'answered' : `${record.error}${record.message ? ` — ${record.message}` : ''}`;
  return `${who} attempt ${record.attempt}: ${what} in ${record.latencyMs} ms${tokens}`;
}

type AttemptResult =
  | { ok: true; text: string; json: unknown; usage: Usage }
  | {
      ok: false;
      error: ErrorClass;
      message: string;
      /** Whether it speaks of the provider's health (the breaker counts it). */
      health: boolean;
      retryAfterMs?: number;
      status: number | null;
      usage: Usage | null;
    };

function checkConfig(config: LlmConfig): ConfigProblem[] {
  if (config.outputSchema === undefined) return [];
  const compiled = compileJsonSchema(config.outputSchema);
  return typeof compiled === 'string' ? [{ field: 'outputSchema', message: compiled }] : [];
}

/** Each attempt's own limit: the provider's timeout, or the node's latency bound when smaller. */
function attemptLimitMs(provider: ProviderConfig, config: LlmConfig): number {
  return Math.min(provider.timeoutMs, config.maxLatencyMs ?? Infinity);
}

function clip(text: string, length = 500): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The answer as JSON: the whole text, or the one fenced block models like to wrap it in. */
function answerJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  try {
    return { ok: true, value: JSON.parse(fenced?.[1] ?? text) as unknown };
  } catch {
    return { ok: false };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** One request to one provider, told as an answer or a classified failure. */
async function attemptOnce(
  ctx: NodeContext<LlmConfig>,
  provider: ProviderConfig,
  chat: ChatRequest,
  apiKey: string | null,
  schema: z.ZodType | null,
): Promise<AttemptResult> {
  const limitMs = attemptLimitMs(provider, ctx.config);
  const request = buildRequest(provider.kind, provider.baseUrl, chat, apiKey);
  const timeout = AbortSignal.timeout(limitMs);
  const failure = (error: ErrorClass, message: string, health: boolean, status: number | null = null) =>
    ({ ok: false, error, message: clip(message), health, status, usage: null }) as const;
  let response: Response;
  let text: string;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: { ...request.headers, 'idempotency-key': ctx.idempotencyKey },
      body: JSON.stringify(request.body),
      signal: AbortSignal.any([ctx.signal, timeout]),
      // A redirect could carry the API key to another origin: an LLM endpoint is called where it is.
      redirect: 'manual',
    });
    text = await readCapped(
      response,
      MAX_RESPONSE_BYTES,
      () => new TerminalError(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`, 'llm.response-too-large'),
    );
  } catch (error) {
    if (error instanceof NodeError) throw error;
    if (ctx.signal.aborted) throw new NodeError('cancelled', { kind: 'node.cancelled', retryable: false });
    if (timeout.aborted) {
      const byLatency = ctx.config.maxLatencyMs !== undefined && ctx.config.maxLatencyMs < provider.timeoutMs;
      return byLatency
        ? failure('latency', `no answer within maxLatencyMs (${limitMs} ms)`, true)
        : failure('timeout', `no answer within timeoutMs (${limitMs} ms)`, true);
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    return failure('network', `request failed: ${cause}`, true);
  }
  const status = response.status;
  const body = parseJson(text);
  if (status === 429) {
    const wait = retryAfterMs(response.headers.get('retry-after'), Date.now());
    return {
      ...failure('http-429', `429 ${errorMessage(body) ?? 'rate limited'}`, true, status),
      ...(wait === null ? {} : { retryAfterMs: wait }),
    };
  }
  if (status >= 500) return failure('http-5xx', `${status} ${errorMessage(body) ?? clip(text, 200)}`, true, status);
  if (status < 200 || status >= 300) {
    const said = errorMessage(body) ?? clip(text, 200);
    if (isContextLengthError(status, body)) return failure('context-length', `${status} ${said}`, false, status);
    const redirected =
      status >= 300 && status < 400
        ? ` (redirected to ${response.headers.get('location') ?? '?'}: set baseUrl to where the API is)`
        : '';
    return failure('request', `${status} ${said}${redirected}`, false, status);
  }
  const answer = body === undefined ? null : parseAnswer(provider.kind, body);
  if (answer === null)
    return failure(
      'malformed-response',
      `the body is not a ${provider.kind} chat answer: ${clip(text, 200)}`,
      true,
      status,
    );
  if (schema === null) return { ok: true, text: answer.text, json: undefined, usage: answer.usage };
  const parsed = answerJson(answer.text);
  const invalid = (error: ErrorClass, message: string): AttemptResult => ({
    ok: false,
    error,
    message: clip(message),
    // The provider answered; its health is fine even when the model's answer is not.
    health: false,
    status,
    usage: answer.usage,
  });
  if (!parsed.ok) return invalid('not-json', `the answer is not JSON: ${clip(answer.text, 200)}`);
  const checked = schema.safeParse(parsed.value);
  if (!checked.success)
    return invalid(
      'schema-mismatch',
      `the answer does not match outputSchema: ${checked.error.issues
        .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
        .join('; ')}`,
    );
  return { ok: true, text: answer.text, json: parsed.value, usage: answer.usage };
}

export const llmChat = defineNode({
  type: 'llm.chat',
  typeVersion: 1,
  title: 'LLM chat',
  description:
    'Asks a language model (OpenAI-compatible, Anthropic, Ollama), failing over along its providers. Output: `{text, json?, provider, usage, costEstimate, attempts}`.',
  category: 'Network',
  icon: 'sparkles',
  ports: { in: ['in'], out: ['out', 'error'] },
  config: configSchema,
  // The node's own failover already retried every provider; the engine retries the whole list a
  // few times, slowly (an outage passes), and never a request error.
  retry: {
    maxAttempts: 3,
    initialIntervalMs: 10_000,
    backoffCoefficient: 2,
    maxIntervalMs: 5 * 60_000,
    jitter: 0.2,
    nonRetryableErrorKinds: ['llm.request', 'llm.context-length'],
  },
  // Every call is paid for: it is not to be run again lightly.
  sideEffects: 'write',
  startToCloseMs: (config) =>
    config.providers.reduce(
      (total, provider) =>
        total + provider.maxAttempts * (attemptLimitMs(provider, config) + config.maxRetryAfterMs + BACKOFF_MS * 8),
      5000,
    ),
  check: checkConfig,
  async execute(ctx) {
    const { config } = ctx;
    const problem = checkConfig(config)[0];
    if (problem) throw new TerminalError(`${problem.field}: ${problem.message}`, 'node.config');
    const compiled = config.outputSchema === undefined ? null : compileJsonSchema(config.outputSchema);
    const schema = typeof compiled === 'string' ? null : compiled;
    const settings: BreakerSettings = config.breaker;
    const fallbackPrompt = typeof ctx.input === 'string' ? ctx.input : JSON.stringify(ctx.input ?? null);
    const attempts: AttemptRecord[] = [];
    // Each attempt is journaled as it is made (with the activation's end, also when it fails).
    const record = (attempt: AttemptRecord): void => {
      attempts.push(attempt);
      ctx.note({
        kind: 'llm.attempt',
        level: attempt.error === null ? 'info' : 'warn',
        message: attemptLine(attempt),
        data: { ...attempt, cached: attempt.cached === true },
      });
    };
    // An attempt that sent nothing: answered from the record, or skipped by an open breaker.
    const notCalled = (
      index: number,
      provider: ProviderConfig,
      outcome: Pick<AttemptRecord, 'usage' | 'error' | 'cached'>,
    ): void =>
      record({
        provider: index,
        kind: provider.kind,
        model: provider.model,
        attempt: 0,
        latencyMs: 0,
        status: null,
        ...outcome,
      });
    const chatOf = (provider: ProviderConfig): ChatRequest => ({
      model: provider.model,
      system: provider.system ?? config.system,
      prompt: provider.prompt ?? config.prompt ?? fallbackPrompt,
      temperature: config.temperature,
      maxTokens: config.maxTokens,
      outputSchema: config.outputSchema,
    });
    const answer = (index: number, provider: ProviderConfig, cached: CachedAnswer, cost: number | null) => ({
      port: 'out',
      output: {
        text: cached.text,
        ...(schema === null ? {} : { json: cached.json }),
        provider: { index, kind: provider.kind, model: provider.model },
        usage: cached.usage,
        costEstimate: cost,
        attempts,
      },
    });

    // Playback: the first provider, in order, with a recorded answer to exactly this request answers.
    if (ctx.playback)
      for (const [index, provider] of config.providers.entries()) {
        const parsed = cachedAnswerSchema.safeParse(await ctx.cache.get(cacheKeyOf(provider, chatOf(provider))));
        if (!parsed.success || (schema !== null && parsed.data.json === undefined)) continue;
        notCalled(index, provider, { usage: parsed.data.usage, error: null, cached: true });
        // Nothing was paid for this answer.
        return answer(index, provider, parsed.data, 0);
      }

    for (const [index, provider] of config.providers.entries()) {
      const { kind, model } = provider;
      const key = CircuitBreakers.key(kind, provider.baseUrl, model);
      const apiKey = provider.credential === undefined ? null : ctx.credentials.get(provider.credential);
      const chat = chatOf(provider);
      for (let attempt = 1; attempt <= provider.maxAttempts; attempt += 1) {
        if (circuitBreakers.admit(key, settings, ctx.now()) === 'open') {
          notCalled(index, provider, { usage: null, error: 'circuit-open' });
          break;
        }
        const started = performance.now();
        let result: AttemptResult;
        try {
          result = await attemptOnce(ctx, provider, chat, apiKey, schema);
        } catch (error) {
          circuitBreakers.released(key);
          throw error;
        }
        const latencyMs = Math.round(performance.now() - started);
        if (result.ok) {
          circuitBreakers.succeeded(key);
          record({
            provider: index,
            kind,
            model,
            attempt,
            latencyMs,
            status: 200,
            usage: result.usage,
            error: null,
          });
          const answered: CachedAnswer = {
            text: result.text,
            ...(schema === null ? {} : { json: result.json }),
            usage: result.usage,
          };
          await ctx.cache.put(cacheKeyOf(provider, chat), answered);
          return answer(index, provider, answered, costEstimate(kind, model, result.usage));
        }
        record({
          provider: index,
          kind,
          model,
          attempt,
          latencyMs,
          status: result.status,
          usage: result.usage,
          error: result.error,
          message: result.message,
        });
        if (result.error === 'request' || result.error === 'context-length') {
          circuitBreakers.released(key);
          throw new TerminalError(
            `${kind} ${model} (provider ${index + 1}) refused the request: ${result.message}`,
            result.error === 'request' ? 'llm.request' : 'llm.context-length',
            { attempts },
          );
        }
        if (result.health) circuitBreakers.failed(key, settings, ctx.now());
        else circuitBreakers.succeeded(key);
        if (attempt === provider.maxAttempts) break;
        // Retry-After is honoured when it fits the budget; a longer one moves on to the next provider.
        if (result.retryAfterMs !== undefined && result.retryAfterMs > config.maxRetryAfterMs) break;
        await sleep(result.retryAfterMs ?? BACKOFF_MS * 2 ** (attempt - 1), ctx.signal);
        if (ctx.signal.aborted) throw new NodeError('cancelled', { kind: 'node.cancelled', retryable: false });
      }
    }
    const last = attempts.at(-1);
    throw new NodeError(
      `every provider failed (${attempts.length} attempts; last: ${last?.error ?? 'none'}${last?.message === undefined ? '' : `, ${last.message}`})`,
      { kind: 'llm.exhausted', retryable: true, details: { attempts } },
    );
  },
});
