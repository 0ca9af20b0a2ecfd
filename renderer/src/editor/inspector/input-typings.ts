// The declarations the editor's TypeScript checks code and expressions against: `input` typed from
// a JSON value (the node's input in the last run), the sandbox helpers, `console`, and nothing of a
// browser or of Node (the sandbox has neither). Pure, tested without Monaco.
import { helperDeclarations } from '../../../../engine/api/index.js';

export type CheckMode = 'function' | 'expression';

/** How a field is wrapped to be checked, as the sandbox wraps it (engine/sandbox/evaluate.ts);
 * anonymous, so the hidden files of two fields never collide. */
export const CHECK_WRAPPERS: Record<CheckMode, { before: string; after: string }> = {
  function: { before: '(function () {\n', after: '\n});\n' },
  expression: { before: '(function () {\nreturn (\n', after: '\n);\n});\n' },
};

type Primitive = 'string' | 'number' | 'boolean' | 'null';

/** What every value seen at one place had: merged over array items, so optional fields show. */
interface Shape {
  primitives: Set<Primitive>;
  /** Objects seen here: how many, and per field its shape and how many had it. */
  object?: { count: number; fields: Map<string, { shape: Shape; count: number }> };
  /** Arrays seen here: the shape of their items (undefined while every array was empty). */
  array?: { items?: Shape };
}

/** Past this depth or number of fields a part is `any`: a type too large to read helps nobody. */
const MAX_DEPTH = 8;
const MAX_FIELDS = 400;

const emptyShape = (): Shape => ({ primitives: new Set() });

function merge(shape: Shape, value: unknown, budget: { fields: number }): Shape {
  if (value === null) shape.primitives.add('null');
  else if (Array.isArray(value)) {
    shape.array ??= {};
    for (const item of value) shape.array.items = merge(shape.array.items ?? emptyShape(), item, budget);
  } else if (typeof value === 'object') {
    shape.object ??= { count: 0, fields: new Map() };
    shape.object.count += 1;
    for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
      let entry = shape.object.fields.get(key);
      if (!entry) {
        if (budget.fields <= 0) continue;
        budget.fields -= 1;
        entry = { shape: emptyShape(), count: 0 };
        shape.object.fields.set(key, entry);
      }
      entry.count += 1;
      merge(entry.shape, field, budget);
    }
  } else if (typeof value === 'string') shape.primitives.add('string');
  else if (typeof value === 'number') shape.primitives.add('number');
  else if (typeof value === 'boolean') shape.primitives.add('boolean');
  return shape;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function print(shape: Shape, depth: number): string {
  if (depth > MAX_DEPTH) return 'any';
  const parts: string[] = [];
  if (shape.object) {
    const { count, fields } = shape.object;
    const members = [...fields].map(([key, entry]) => {
      const name = IDENTIFIER.test(key) ? key : JSON.stringify(key);
      return `${name}${entry.count < count ? '?' : ''}: ${print(entry.shape, depth + 1)};`;
    });
    parts.push(members.length === 0 ? 'Record<string, unknown>' : `{ ${members.join(' ')} }`);
  }
  if (shape.array) {
    const items = shape.array.items ? print(shape.array.items, depth + 1) : 'unknown';
    parts.push(/^[\w$]+$/.test(items) ? `${items}[]` : `Array<${items}>`);
  }
  for (const primitive of ['string', 'number', 'boolean', 'null'] as const)
    if (shape.primitives.has(primitive)) parts.push(primitive);
  return parts.length === 0 ? 'unknown' : parts.join(' | ');
}

/** A TypeScript type for a JSON value, e.g. `{ amount: number; tags: string[] }`. */
export function typeOfJson(value: unknown): string {
  return print(merge(emptyShape(), value, { fields: MAX_FIELDS }), 0);
}

/** The console of the sandbox: what it logs goes to the run's log. */
const CONSOLE = `declare const console: Readonly<{
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
}>;`;

/**
 * The ambient declarations for one node's code. `input`: the node's input in the last run, or
 * `undefined` when there is none — then `input` is `any`: without an example every `input.x`
 * would be flagged, and an editor that is wrong about every line is one people learn to ignore.
 */
export function sandboxDeclarations(input: { value: unknown } | undefined): string {
  const inputType = input === undefined ? 'any' : typeOfJson(input.value);
  return [
    input === undefined
      ? '/** The node input (no run yet to learn its type from). */'
      : "/** The node input, typed from this node's input in the last run. */",
    `declare const input: ${inputType};`,
    CONSOLE,
    helperDeclarations(),
    '',
  ].join('\n');
}
