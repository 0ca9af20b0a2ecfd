// Several expressions over `input` in one sandbox call: a node that maps fields or picks a case pays
// one round trip to a sandbox thread per activation, not one per expression, and an error still
// names the field whose expression threw.
import { NodeError, type NodeContext } from '../engine/sdk/index.js';

export interface NamedExpression {
  /** JavaScript expression over `input`. */
  source: string;
  /** How an error names it, e.g. `fields.1 (customer.name)`. */
  field: string;
}

/** A thread keeps one WebAssembly instance per memory limit: the `code` and `branch.if` one. */
const MEMORY_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The program run in the sandbox (function mode). Each expression is compiled on its own, exactly as
 * `branch.if` compiles its condition, so one expression cannot reach into the next one's text, and a
 * syntax error (a version saved before validation knew better) names its field like any other. An
 * error is returned rather than thrown so it keeps its index; the sandbox's own stops (time, memory)
 * are rethrown for the sandbox to report.
 */
function programOf(sources: readonly string[], mode: 'all' | 'first-truthy'): string {
  return `const __sources = ${JSON.stringify(sources)};
const __values = [];
for (let __i = 0; __i < __sources.length; __i += 1) {
  let __value;
  try {
    __value = new Function('input', '"use strict";\\nreturn (\\n' + __sources[__i] + '\\n);')(input);
  } catch (__error) {
    if (__error instanceof InternalError && (__error.message === 'interrupted' || /memory/.test(__error.message)))
      throw __error;
    const __isError = __error instanceof Error;
    return {
      failed: __i,
      name: __isError ? __error.name : '',
      message: __isError ? String(__error.message) : String(__error),
      stack: __isError ? String(__error.stack || '') : '',
    };
  }
  ${mode === 'all' ? '__values.push(__value === undefined ? null : __value);' : 'if (__value) return { match: __i };'}
}
return ${mode === 'all' ? '{ values: __values }' : '{ match: -1 }'};`;
}

/** QuickJS reports `new Function` code as `<input>`, the expression's first line as line 5. */
const FIRST_LINE = 5;

function failure(expressions: readonly NamedExpression[], result: Record<string, unknown>): NodeError {
  const index = typeof result.failed === 'number' ? result.failed : -1;
  const expression = expressions[index];
  const name = typeof result.name === 'string' && result.name !== '' && result.name !== 'Error' ? result.name : '';
  const message = typeof result.message === 'string' ? result.message : 'failed';
  const reported = /<input>:(\d+)/.exec(typeof result.stack === 'string' ? result.stack : '');
  const line = reported ? Number(reported[1]) - FIRST_LINE + 1 : 0;
  const lines = expression ? expression.source.split('\n').length : 0;
  const where = line >= 1 && line <= lines ? ` (line ${line})` : '';
  // The same input fails the same way on every attempt: not retried.
  return new NodeError(`${expression?.field ?? 'expression'}: ${name === '' ? '' : `${name}: `}${message}${where}`, {
    kind: 'code.error',
    retryable: false,
  });
}

async function run(
  ctx: NodeContext<unknown>,
  expressions: readonly NamedExpression[],
  mode: 'all' | 'first-truthy',
  timeoutMs: number,
  what: string,
): Promise<Record<string, unknown>> {
  let result: unknown;
  try {
    result = await ctx.sandbox.evaluate({
      source: programOf(
        expressions.map((expression) => expression.source),
        mode,
      ),
      mode: 'function',
      input: ctx.input,
      timeoutMs,
      memoryLimitBytes: MEMORY_LIMIT_BYTES,
      maxOutputBytes: ctx.limits.outputBytes,
    });
  } catch (error) {
    // A stop by the sandbox (time, memory, output size) belongs to the expressions as a whole.
    if (error instanceof NodeError)
      throw new NodeError(`${what}: ${error.message}`, {
        kind: error.kind,
        retryable: error.retryable,
        details: error.details,
      });
    throw error;
  }
  if (typeof result !== 'object' || result === null) throw new Error(`${what}: the sandbox returned ${typeof result}`);
  const record = result as Record<string, unknown>;
  if ('failed' in record) throw failure(expressions, record);
  return record;
}

/** The value of every expression, in order; `undefined` becomes `null` (JSON has no undefined). */
export async function evaluateAll(
  ctx: NodeContext<unknown>,
  expressions: readonly NamedExpression[],
  timeoutMs: number,
  what: string,
): Promise<unknown[]> {
  if (expressions.length === 0) return [];
  const { values } = await run(ctx, expressions, 'all', timeoutMs, what);
  if (!Array.isArray(values) || values.length !== expressions.length)
    throw new Error(`${what}: the sandbox returned no values`);
  return values as unknown[];
}

/** The index of the first expression whose value is truthy (later ones are not evaluated), or -1. */
export async function firstTruthy(
  ctx: NodeContext<unknown>,
  expressions: readonly NamedExpression[],
  timeoutMs: number,
  what: string,
): Promise<number> {
  const { match } = await run(ctx, expressions, 'first-truthy', timeoutMs, what);
  if (typeof match !== 'number') throw new Error(`${what}: the sandbox returned no match`);
  return match;
}
