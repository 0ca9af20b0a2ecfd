// The mock service's language model: deterministic answers, so templates run offline and tests
// can assert them. With a JSON Schema (OpenAI's `response_format`, Ollama's `format`) the answer is
// a value of that schema made from the prompt: a key the prompt states as `"key": value` keeps its
// value, an enum takes the option the prompt mentions, a confidence drops when the prompt calls the
// text unclear. Without one, the answer is a labelled summary of the prompt. Nothing here is clever
// on purpose: it is a stand-in that says what it is.

type Schema = Record<string, unknown>;

const asSchema = (value: unknown): Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : {};

const normalized = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The first `"key": value` the prompt states (a JSON scalar), if any. */
function statedValue(prompt: string, key: string): unknown {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`"${escaped}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*"|-?\\d+(?:\\.\\d+)?|true|false)`).exec(prompt);
  if (!match?.[1]) return undefined;
  try {
    return JSON.parse(match[1]) as unknown;
  } catch {
    return undefined;
  }
}

const UNCLEAR = /\b(unclear|illegible|smudged|handwritten|blurry|ambiguous)\b/i;
const RISKY = /\b(fraud|fraudulent|stolen|chargeback|suspicious)\b/i;

function typeOf(schema: Schema): string {
  const type = schema.type;
  if (Array.isArray(type)) return String(type.find((entry) => entry !== 'null') ?? 'string');
  if (typeof type === 'string') return type;
  if (schema.properties !== undefined) return 'object';
  if (schema.items !== undefined) return 'array';
  return 'string';
}

function pickEnum(options: unknown[], prompt: string, key: string): unknown {
  const stated = statedValue(prompt, key);
  if (options.includes(stated)) return stated;
  const lower = prompt.toLowerCase();
  const mentioned = options.find(
    (option) => typeof option === 'string' && lower.includes(option.toLowerCase().replace(/[-_]/g, ' ')),
  );
  if (mentioned !== undefined) return mentioned;
  if (RISKY.test(prompt)) {
    const risky = options.find((option) => typeof option === 'string' && RISKY.test(option.replace(/[-_]/g, ' ')));
    if (risky !== undefined) return risky;
  }
  return options.find((option) => option === 'other') ?? options[0];
}

function clamp(value: number, schema: Schema): number {
  const minimum = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
  const maximum = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
  return Math.min(maximum, Math.max(minimum, value));
}

function fakeNumber(schema: Schema, key: string, prompt: string, integer: boolean): number {
  const stated = statedValue(prompt, key);
  if (typeof stated === 'number') return clamp(integer ? Math.round(stated) : stated, schema);
  if (/confidence|probability|certainty/i.test(key)) return clamp(UNCLEAR.test(prompt) ? 0.55 : 0.93, schema);
  if (/score/i.test(key)) return clamp(UNCLEAR.test(prompt) ? 40 : 85, schema);
  const first = /-?\d+(?:\.\d+)?/.exec(prompt);
  const value = first ? Number(first[0]) : 1;
  return clamp(integer ? Math.round(value) : value, schema);
}

function fakeString(schema: Schema, key: string, prompt: string): string {
  const stated = statedValue(prompt, key);
  if (typeof stated === 'string') return stated;
  if (schema.format === 'date') return '2026-01-15';
  if (schema.format === 'date-time') return '2026-01-15T09:00:00.000Z';
  if (schema.format === 'email' || /email/i.test(key)) return 'customer@example.com';
  const text = normalized(prompt);
  return `[mock] ${key}: ${text.length > 120 ? `${text.slice(0, 117)}...` : text}`;
}

/** A value of `schema` made from the prompt (see the header). */
export function fakeValue(schemaValue: unknown, key: string, prompt: string, depth = 0): unknown {
  const schema = asSchema(schemaValue);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return pickEnum(schema.enum, prompt, key);
  if ('const' in schema) return schema.const;
  const variants = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null;
  if (variants) {
    const first = variants.map(asSchema).find((variant) => variant.type !== 'null') ?? {};
    return fakeValue(first, key, prompt, depth);
  }
  switch (typeOf(schema)) {
    case 'object': {
      const properties = asSchema(schema.properties);
      return Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, fakeValue(property, name, prompt, depth + 1)]),
      );
    }
    case 'array': {
      const minimum = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const maximum = typeof schema.maxItems === 'number' ? schema.maxItems : Infinity;
      const length = Math.max(minimum, Math.min(maximum, depth > 2 ? 1 : 3));
      const singular = key.replace(/ies$/, 'y').replace(/s$/, '');
      return Array.from({ length }, (_, index) =>
        fakeValue(schema.items, `${singular} ${index + 1}`, prompt, depth + 1),
      );
    }
    case 'integer':
      return fakeNumber(schema, key, prompt, true);
    case 'number':
      return fakeNumber(schema, key, prompt, false);
    case 'boolean': {
      const stated = statedValue(prompt, key);
      if (typeof stated === 'boolean') return stated;
      // "approved", "refundable", "eligible"… are yes unless the prompt smells of fraud.
      return !RISKY.test(prompt);
    }
    case 'null':
      return null;
    default:
      return fakeString(schema, key, prompt);
  }
}

/** The answer without a schema: a labelled, deterministic summary of the prompt. */
export function fakeText(prompt: string, model: string): string {
  const text = normalized(prompt);
  const words = text === '' ? 0 : text.split(' ').length;
  const gist = text.length > 200 ? `${text.slice(0, 197)}...` : text;
  return `[Stepwise mock model ${model}] ${words} words received. Summary: ${gist}`;
}

/** Word counts stand in for tokens. */
export const countTokens = (text: string): number => (normalized(text) === '' ? 0 : normalized(text).split(' ').length);
