// transform: builds an object from named fields, each a sandboxed JavaScript expression over
// `input`; dotted names nest (`customer.name`), and `keep` starts from the input's own fields.
import { z } from 'zod';
import { defineNode, NO_RETRY, type ConfigProblem } from '../../engine/sdk/index.js';
import { evaluateAll } from '../expressions.js';
import { checkExpression } from '../syntax.js';

const config = z.strictObject({
  fields: z
    .array(
      z.strictObject({
        name: z.string().meta({ description: 'Output field; dots nest, e.g. `customer.name`.' }),
        value: z
          .string({ error: 'is required (a JavaScript expression)' })
          .min(1, 'is required (a JavaScript expression)')
          .meta({
            description: 'Expression over `input`, e.g. `input.first + " " + input.last`.',
            format: 'expression',
          }),
      }),
    )
    .meta({
      description:
        'The output\'s fields, in order: [{"name": "customer.name", "value": "input.first + \\" \\" + input.last"}].',
    }),
  keep: z
    .boolean()
    .default(false)
    .meta({ description: "Start from the input's fields (an object input) and set the mapped ones over them." }),
  timeoutMs: z.number().int().min(1).max(60_000).default(1000),
});
type Config = z.infer<typeof config>;

/** `__proto__` would set an object's prototype rather than a field (see the workflow file's rule). */
const RESERVED_SEGMENT = '__proto__';

function check(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = new Set<string>();
  config.fields.forEach(({ name, value }, index) => {
    const field = `fields.${index}.name`;
    const segments = name.split('.');
    if (name === '') problems.push({ field, message: 'is required (the output field)' });
    else if (segments.includes('')) problems.push({ field, message: `"${name}" has an empty part between dots` });
    else if (segments.includes(RESERVED_SEGMENT))
      problems.push({ field, message: `"${RESERVED_SEGMENT}" cannot be a field name` });
    else if (names.has(name)) problems.push({ field, message: `"${name}" is already a field` });
    else {
      // `a` and `a.b` would both set `a`: the second would silently replace or extend the first.
      const clash = [...names].find((other) => name.startsWith(`${other}.`) || other.startsWith(`${name}.`));
      if (clash !== undefined)
        problems.push({ field, message: `"${name}" and "${clash}" both set "${clash < name ? clash : name}"` });
    }
    names.add(name);
    problems.push(...checkExpression(value, `fields.${index}.value`));
  });
  return problems;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own data property, never a prototype, whatever the key. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `target` with `value` at the dotted `path`; objects on the way are copied, never changed. */
function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) return setOwn(target, head, value);
  const existing = Object.hasOwn(target, head) ? target[head] : undefined;
  const child = isPlainObject(existing) ? { ...existing } : {};
  setPath(child, rest, value);
  setOwn(target, head, child);
}

export const transform = defineNode({
  type: 'transform',
  typeVersion: 1,
  title: 'Transform',
  description:
    "Builds an object from named fields, each a JavaScript expression over `input`. Dotted names nest (`customer.name`); `keep` keeps the input's other fields.",
  category: 'Data',
  icon: 'shuffle',
  ports: { in: ['in'], out: ['out', 'error'] },
  config,
  retry: NO_RETRY,
  sideEffects: 'pure',
  check,
  async execute(ctx) {
    const { fields, keep, timeoutMs } = ctx.config;
    const values = await evaluateAll(
      ctx,
      fields.map(({ name, value }, index) => ({ source: value, field: `fields.${index} (${name})` })),
      timeoutMs,
      'fields',
    );
    const input = ctx.input;
    const output: Record<string, unknown> = keep && isPlainObject(input) ? { ...input } : {};
    fields.forEach(({ name }, index) => setPath(output, name.split('.'), values[index]));
    return { port: 'out', output };
  },
});
