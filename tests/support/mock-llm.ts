// A mock language-model server on 127.0.0.1 that speaks the three wire formats llm.chat uses —
// OpenAI chat completions (POST /v1/chat/completions), Anthropic messages (POST /v1/messages),
// Ollama chat (POST /api/chat) — records every request and injects faults on demand (an HTTP
// status with an error body, Retry-After, a slow answer, a broken body, a given answer text).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type MockLlmKind = 'openai' | 'anthropic' | 'ollama';

export interface MockLlmRequest {
  kind: MockLlmKind;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: Record<string, unknown> | undefined;
  model: string | undefined;
  at: number;
}

/** What to do instead of (or before) the normal answer. */
export interface MockLlmFault {
  /** Answer with this HTTP status and the format's error body. */
  status?: number;
  /** With `status`: the Retry-After header. */
  retryAfter?: string;
  /** With `status` 400: the format's "prompt too long" error. */
  contextLength?: boolean;
  /** Wait this long before answering (a slow provider). */
  delayMs?: number;
  /** The model's answer text (e.g. text that is not the JSON asked for). */
  text?: string;
  /** The raw response body, sent as is with status 200 (a broken server). */
  rawBody?: string;
}

/** Which requests a fault applies to, and how many times (default: until cleared). */
export interface MockLlmMatch {
  model?: string;
  kind?: MockLlmKind;
  times?: number;
}

export interface MockLlmOptions {
  port?: number;
  /** The answer text when no fault says otherwise. Default: a labelled echo of the prompt. */
  reply?: (request: MockLlmRequest, prompt: string) => string;
}

export interface MockLlm {
  /** The server's root: Anthropic and Ollama base URL; OpenAI's is `${url}/v1`. */
  url: string;
  requests: MockLlmRequest[];
  /** Adds a fault for matching requests; the newest matching fault wins. */
  setFault(fault: MockLlmFault, match?: MockLlmMatch): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const ROUTES: Record<string, MockLlmKind> = {
  '/v1/chat/completions': 'openai',
  '/v1/messages': 'anthropic',
  '/api/chat': 'ollama',
};

interface Rule {
  fault: MockLlmFault;
  model: string | undefined;
  kind: MockLlmKind | undefined;
  remaining: number;
}

function lastUserText(body: Record<string, unknown> | undefined): string {
  const messages = Array.isArray(body?.messages) ? (body.messages as { role?: unknown; content?: unknown }[]) : [];
  const user = messages.filter((message) => message.role === 'user').at(-1);
  return typeof user?.content === 'string' ? user.content : '';
}

/** Every message's text and the top-level system prompt, counted as words, plus 3 for framing. */
function promptTokens(body: Record<string, unknown> | undefined): number {
  const messages = Array.isArray(body?.messages) ? (body.messages as { content?: unknown }[]) : [];
  const texts = [...messages.map((message) => message.content), body?.system];
  return texts.reduce<number>((sum, text) => sum + (typeof text === 'string' ? tokens(text) : 0), 3);
}

/** A rough token count (words), so usage numbers are stable and plausible. */
function tokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function answerBody(kind: MockLlmKind, model: string, text: string, inputTokens: number): unknown {
  const outputTokens = tokens(text);
  switch (kind) {
    case 'openai':
      return {
        id: 'chatcmpl-mock',
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: inputTokens,
          completion_tokens: outputTokens,
          total_tokens: inputTokens + outputTokens,
        },
      };
    case 'anthropic':
      return {
        id: 'msg_mock',
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        usage: { input_tokens: inputTokens, output_tokens: outputTokens },
      };
    case 'ollama':
      return {
        model,
        created_at: new Date().toISOString(),
        message: { role: 'assistant', content: text },
        done: true,
        done_reason: 'stop',
        prompt_eval_count: inputTokens,
        eval_count: outputTokens,
      };
  }
}

function errorBody(kind: MockLlmKind, status: number, contextLength: boolean): unknown {
  const message = contextLength
    ? kind === 'anthropic'
      ? 'prompt is too long: 250000 tokens > 200000 maximum'
      : "This model's maximum context length is 8192 tokens, however you requested 9000 tokens."
    : `mock error ${status}`;
  if (kind === 'ollama') return { error: message };
  if (kind === 'anthropic')
    return { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message } };
  return {
    error: { message, type: 'invalid_request_error', code: contextLength ? 'context_length_exceeded' : null },
  };
}

export async function start(options: MockLlmOptions = {}): Promise<MockLlm> {
  const requests: MockLlmRequest[] = [];
  let rules: Rule[] = [];
  const reply = options.reply ?? ((request, prompt) => `mock ${request.kind} ${request.model ?? '?'}: ${prompt}`);

  function faultFor(request: MockLlmRequest): MockLlmFault | null {
    for (let index = rules.length - 1; index >= 0; index -= 1) {
      const rule = rules[index] as Rule;
      if (rule.remaining <= 0) continue;
      if (rule.model !== undefined && rule.model !== request.model) continue;
      if (rule.kind !== undefined && rule.kind !== request.kind) continue;
      rule.remaining -= 1;
      return rule.fault;
    }
    return null;
  }

  function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (response.destroyed) return;
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const path = (incoming.url ?? '').split('?')[0] ?? '';
      const kind = ROUTES[path];
      if (incoming.method !== 'POST' || kind === undefined) {
        send(response, 404, { error: `no route ${incoming.method ?? ''} ${path}` });
        return;
      }
      let body: Record<string, unknown> | undefined;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      const model = typeof body?.model === 'string' ? body.model : undefined;
      const request: MockLlmRequest = { kind, path, headers: incoming.headers, body, model, at: Date.now() };
      requests.push(request);
      const fault = faultFor(request);
      const answer = (): void => {
        if (fault?.status !== undefined) {
          send(
            response,
            fault.status,
            errorBody(kind, fault.status, fault.contextLength === true),
            fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
          );
        } else if (fault?.rawBody !== undefined) {
          if (!response.destroyed) response.writeHead(200, { 'content-type': 'application/json' }).end(fault.rawBody);
        } else {
          const prompt = lastUserText(body);
          const inputTokens = promptTokens(body);
          send(response, 200, answerBody(kind, model ?? 'unknown', fault?.text ?? reply(request, prompt), inputTokens));
        }
      };
      if (fault?.delayMs === undefined) answer();
      else {
        const timer = setTimeout(answer, fault.delayMs);
        response.on('close', () => clearTimeout(timer));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    setFault(fault, match = {}) {
      rules.push({ fault, model: match.model, kind: match.kind, remaining: match.times ?? Infinity });
    },
    clearFaults() {
      rules = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
