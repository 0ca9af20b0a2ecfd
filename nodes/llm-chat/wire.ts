// The three wire formats llm.chat speaks: where a request goes, its headers and body, and how
// the answer's text and token usage are read back. Nothing here does I/O.

export type ProviderKind = 'openai' | 'anthropic' | 'ollama';

export interface ChatRequest {
  model: string;
  system: string | undefined;
  prompt: string;
  temperature: number | undefined;
  maxTokens: number;
  /**
   * OpenAI-compatible servers (`response_format`) and Ollama (`format`) constrain the answer to a
   * JSON Schema; Anthropic's messages API has no such field, so there the prompt must ask in words.
   */
  outputSchema: Record<string, unknown> | undefined;
}

export interface WireRequest {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** The Anthropic API version its clients send; the body shape below is that version's. */
export const ANTHROPIC_VERSION = '2023-06-01';

function join(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

/** The HTTP request for one provider call. `apiKey` is null for a server that needs none. */
export function buildRequest(
  kind: ProviderKind,
  baseUrl: string,
  chat: ChatRequest,
  apiKey: string | null,
): WireRequest {
  const messages = [
    ...(chat.system === undefined || kind === 'anthropic' ? [] : [{ role: 'system', content: chat.system }]),
    { role: 'user', content: chat.prompt },
  ];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  switch (kind) {
    case 'openai':
      // `baseUrl` includes the `/v1`, as in OpenAI's own clients and compatible servers.
      if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
      return {
        url: join(baseUrl, '/chat/completions'),
        headers,
        body: {
          model: chat.model,
          messages,
          max_tokens: chat.maxTokens,
          ...(chat.temperature === undefined ? {} : { temperature: chat.temperature }),
          // Not strict: OpenAI's strict mode rejects schemas without additionalProperties: false.
          ...(chat.outputSchema === undefined
            ? {}
            : {
                response_format: {
                  type: 'json_schema',
                  json_schema: { name: 'output', schema: chat.outputSchema, strict: false },
                },
              }),
        },
      };
    case 'anthropic':
      // The system prompt is a top-level field here, not a message; `max_tokens` is required.
      if (apiKey !== null) headers['x-api-key'] = apiKey;
      headers['anthropic-version'] = ANTHROPIC_VERSION;
      return {
        url: join(baseUrl, '/v1/messages'),
        headers,
        body: {
          model: chat.model,
          max_tokens: chat.maxTokens,
          messages,
          ...(chat.system === undefined ? {} : { system: chat.system }),
          ...(chat.temperature === undefined ? {} : { temperature: chat.temperature }),
        },
      };
    case 'ollama':
      if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
      return {
        url: join(baseUrl, '/api/chat'),
        headers,
        body: {
          model: chat.model,
          messages,
          stream: false,
          options: {
            num_predict: chat.maxTokens,
            ...(chat.temperature === undefined ? {} : { temperature: chat.temperature }),
          },
          ...(chat.outputSchema === undefined ? {} : { format: chat.outputSchema }),
        },
      };
  }
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** The answer's text and usage, or null when the body is not that format's answer. */
export function parseAnswer(kind: ProviderKind, body: unknown): { text: string; usage: Usage } | null {
  const root = record(body);
  if (root === null) return null;
  switch (kind) {
    case 'openai': {
      const choices = root.choices;
      const message = Array.isArray(choices) ? record(record(choices[0])?.message) : null;
      if (message === null || typeof message.content !== 'string') return null;
      const usage = record(root.usage);
      return {
        text: message.content,
        usage: { inputTokens: count(usage?.prompt_tokens), outputTokens: count(usage?.completion_tokens) },
      };
    }
    case 'anthropic': {
      if (!Array.isArray(root.content)) return null;
      // The answer is the text blocks in order; other block types (thinking, tool use) are not text.
      const texts = root.content
        .map(record)
        .filter((block) => block?.type === 'text' && typeof block.text === 'string')
        .map((block) => block?.text as string);
      if (texts.length === 0) return null;
      const usage = record(root.usage);
      return {
        text: texts.join(''),
        usage: { inputTokens: count(usage?.input_tokens), outputTokens: count(usage?.output_tokens) },
      };
    }
    case 'ollama': {
      const message = record(root.message);
      if (message === null || typeof message.content !== 'string') return null;
      return {
        text: message.content,
        usage: { inputTokens: count(root.prompt_eval_count), outputTokens: count(root.eval_count) },
      };
    }
  }
}

/** The error message a provider put in its error body (`{error: {message}}` or `{error: "…"}`). */
export function errorMessage(body: unknown): string | null {
  const root = record(body);
  const error = root?.error;
  if (typeof error === 'string') return error;
  const message = record(error)?.message;
  return typeof message === 'string' ? message : null;
}

const CONTEXT_LENGTH =
  /context[ _-]?(length|window)|maximum context|prompt is too long|too many tokens|context_length_exceeded/i;

/** A request error that says the prompt does not fit the model (OpenAI's code, Anthropic's and Ollama's words). */
export function isContextLengthError(status: number, body: unknown): boolean {
  if (status === 413) return true;
  const error = record(record(body)?.error);
  if (error?.code === 'context_length_exceeded') return true;
  const message = errorMessage(body);
  return message !== null && CONTEXT_LENGTH.test(message);
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (header === null || header.trim() === '') return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
