// `{{ expression }}` templates in node config strings: the parser, the walk that finds them in a
// config (leaving code and credential fields alone), and the rendering of evaluated parts. Pure:
// evaluation is the runtime's (in the sandbox); imported by validation, the runtime and the API.
import { z } from 'zod';

export type TemplatePart =
  | { kind: 'text'; text: string }
  /** `column`: 1-based position in the field's text where `source` starts (just after `{{`). */
  | { kind: 'expression'; source: string; column: number };

export interface TemplateError {
  message: string;
  /** 1-based position in the field's text. */
  column: number;
}

/** A config string holding `{{ }}` parts (or an escaped `\{{`), with its place in the config. */
export interface TemplateField {
  path: (string | number)[];
  parts: TemplatePart[];
}

export interface TemplateProblem {
  path: (string | number)[];
  error: TemplateError;
}

const OPEN = '{{';
const ESCAPED_OPEN = '\\{{';

/**
 * The parts of `text`, or null when it holds no `{{` at all (the common case: a plain string).
 * `\{{` writes literal braces. An expression ends at the first `}}` outside its own strings,
 * template literals and braces, so `{{ {a: {b: 1}} }}` and `{{ "}}" }}` are one expression each.
 */
export function parseTemplate(text: string): { parts: TemplatePart[] } | { error: TemplateError } | null {
  if (!text.includes(OPEN)) return null;
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith(ESCAPED_OPEN, i)) {
      literal += OPEN;
      i += ESCAPED_OPEN.length;
      continue;
    }
    if (!text.startsWith(OPEN, i)) {
      literal += text[i];
      i += 1;
      continue;
    }
    const start = i + OPEN.length;
    const end = closingBraces(text, start);
    if (end < 0) return { error: { message: 'unclosed {{ (no matching }})', column: i + 1 } };
    const source = text.slice(start, end);
    if (source.trim() === '') return { error: { message: 'empty {{ }}', column: i + 1 } };
    if (literal !== '') parts.push({ kind: 'text', text: literal });
    literal = '';
    parts.push({ kind: 'expression', source, column: start + 1 });
    i = end + 2;
  }
  if (literal !== '') parts.push({ kind: 'text', text: literal });
  return { parts };
}

/** Index of the `}}` closing an expression starting at `from`, or -1. */
function closingBraces(text: string, from: number): number {
  return scanCode(text, from, '}}');
}

/**
 * Walks code from `from` (strings and template literals skipped whole, braces counted) to the
 * `closer` at depth 0: the index of `}}`, or just past a lone `}` (a `${…}` substitution); -1
 * when it never comes.
 */
function scanCode(text: string, from: number, closer: '}}' | '}'): number {
  let depth = 0;
  let i = from;
  while (i < text.length) {
    const char = text[i];
    if (char === '"' || char === "'" || char === '`') {
      i = skipQuoted(text, i);
      if (i < 0) return -1;
      continue;
    }
    if (char === '{') depth += 1;
    else if (char === '}') {
      if (depth === 0 && closer === '}') return i + 1;
      if (depth === 0 && text[i + 1] === '}') return i;
      if (depth > 0) depth -= 1;
    }
    i += 1;
  }
  return -1;
}

/** Index just past the string or template literal opening at `from`, or -1 when it never closes. */
function skipQuoted(text: string, from: number): number {
  const quote = text[from];
  let i = from + 1;
  while (i < text.length) {
    const char = text[i];
    if (char === '\\') i += 2;
    else if (char === quote) return i + 1;
    else if (quote === '`' && text.startsWith('${', i)) {
      i = scanCode(text, i + 2, '}');
      if (i < 0) return -1;
    } else i += 1;
  }
  return -1;
}

/** The expressions of a parsed field, in order. */
export function expressionsOf(parts: readonly TemplatePart[]): Extract<TemplatePart, { kind: 'expression' }>[] {
  return parts.filter((part): part is Extract<TemplatePart, { kind: 'expression' }> => part.kind === 'expression');
}

/**
 * The field's value from its parts' values (one per expression, in order): a field that is exactly
 * one `{{ }}` takes the value with its type (undefined: the field is left out); otherwise the parts
 * are joined as text, strings as they are, undefined as nothing, anything else as JSON.
 */
export function renderTemplate(parts: readonly TemplatePart[], values: readonly unknown[]): unknown {
  const [only] = parts;
  if (parts.length === 1 && only?.kind === 'expression') return values[0];
  let next = 0;
  let text = '';
  for (const part of parts) {
    if (part.kind === 'text') text += part.text;
    else text += partText(values[next++]);
  }
  return text;
}

function partText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}

/**
 * Formats whose strings are code, expressions or credential references: left as they are. Code
 * and expressions are evaluated by their node (evaluating them here too would run them twice);
 * a credential name taken from the input could send any secret anywhere.
 */
export const LITERAL_FORMATS: ReadonlySet<string> = new Set(['code', 'expression', 'credential', 'credential-auth']);

type JsonSchema = Record<string, unknown>;

const jsonSchemas = new WeakMap<z.ZodType, JsonSchema>();

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  let json = jsonSchemas.get(schema);
  if (!json) {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    jsonSchemas.set(schema, json);
  }
  return json;
}

/** The templates of a node's config, as its config schema allows them (see LITERAL_FORMATS). */
export function configTemplates(
  schema: z.ZodType,
  config: unknown,
): { fields: TemplateField[]; problems: TemplateProblem[] } {
  const fields: TemplateField[] = [];
  const problems: TemplateProblem[] = [];
  const visit = (value: unknown, path: (string | number)[], schemas: JsonSchema[]): void => {
    const candidates = expand(schemas);
    if (candidates.some((candidate) => typeof candidate.format === 'string' && LITERAL_FORMATS.has(candidate.format)))
      return;
    if (typeof value === 'string') {
      const parsed = parseTemplate(value);
      if (parsed === null) return;
      if ('error' in parsed) problems.push({ path, error: parsed.error });
      else fields.push({ path, parts: parsed.parts });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, [...path, index], childSchemas(candidates, index)));
      return;
    }
    if (value !== null && typeof value === 'object')
      for (const [key, item] of Object.entries(value)) visit(item, [...path, key], childSchemas(candidates, key));
  };
  visit(config, [], [jsonSchemaOf(schema)]);
  return { fields, problems };
}

/** The schema and the branches of its unions and intersections. */
function expand(schemas: JsonSchema[]): JsonSchema[] {
  const out: JsonSchema[] = [];
  const pending = [...schemas];
  while (pending.length > 0) {
    const schema = pending.pop() as JsonSchema;
    out.push(schema);
    for (const key of ['anyOf', 'oneOf', 'allOf'])
      if (Array.isArray(schema[key])) pending.push(...(schema[key] as JsonSchema[]));
  }
  return out;
}

function childSchemas(schemas: JsonSchema[], key: string | number): JsonSchema[] {
  const out: JsonSchema[] = [];
  const add = (child: unknown): void => {
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) out.push(child as JsonSchema);
  };
  for (const schema of schemas) {
    if (typeof key === 'number') {
      const prefix = schema.prefixItems;
      add(Array.isArray(prefix) && key < prefix.length ? prefix[key] : schema.items);
      continue;
    }
    const properties = schema.properties as Record<string, unknown> | undefined;
    if (properties && Object.hasOwn(properties, key)) add(properties[key]);
    else add(schema.additionalProperties);
  }
  return out;
}

/** `a.b.0`: how problems and errors name a config field. */
export function fieldName(path: readonly (string | number)[]): string {
  return path.map(String).join('.');
}

/** A copy of `config` with each templated field replaced by its value (undefined: left out). */
export function withFieldValues(
  config: unknown,
  fields: readonly TemplateField[],
  values: readonly unknown[],
): unknown {
  const copy = JSON.parse(JSON.stringify(config ?? null)) as unknown;
  fields.forEach((field, index) => {
    const parent = field.path.slice(0, -1).reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], copy);
    const key = field.path.at(-1);
    if (key === undefined || parent === null || typeof parent !== 'object') return;
    const value = values[index];
    if (value === undefined && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key];
    else (parent as Record<string | number, unknown>)[key] = value === undefined ? null : value;
  });
  return copy;
}
