// Evaluates the `{{ expression }}` fields of a node's config before its `execute` sees it: all of
// one activation's expressions in one sandbox call, over `input` and `run` only (no credentials,
// no clock: the same input and run give the same config on a retry or after a crash), then the
// config schema and the node's checks again on what they produced.
import { describeIssues, READABLE_ISSUES } from '../model/issues.js';
import { isoTime } from '../model/duration.js';
import { expressionsOf, fieldName, renderTemplate, withFieldValues, type TemplateField } from '../model/template.js';
import { OUTPUT_LIMIT } from '../model/workflow.js';
import type { CompiledNode } from '../orchestrator/compile.js';
import { NodeError, TerminalError, type Sandbox } from '../sdk/index.js';

/** What `run` holds in an expression. */
export interface RunInfo {
  id: string;
  input: unknown;
  /** When the run started (ms); shown to expressions as an ISO 8601 string. */
  startedAt: number;
}

/** The limits of one activation's expressions together: those of a `branch.if` condition. */
export const EXPRESSION_LIMITS = {
  timeoutMs: 1000,
  // The `branch.if` and `code` default: a sandbox thread keeps one WebAssembly instance per limit.
  memoryLimitBytes: 64 * 1024 * 1024,
  // A field may take a large part of the input (a request body); the largest output a node may have.
  maxOutputBytes: OUTPUT_LIMIT.maxBytes,
} as const;

type Evaluated = { v?: unknown } | { e: string };

/**
 * The program for one sandbox call: each expression in its own function of `input` and `run`, its
 * own try/catch, so an error names its field. Each source was compiled on its own by validation.
 */
export function programOf(sources: readonly string[]): string {
  const calls = sources.map(
    (source) => `  __out.push((function (input, run) {
    try { return { v: (
${source}
) }; } catch (__error) { return { e: __describe(__error) }; }
  })(__scope.input, __scope.run));`,
  );
  return [
    'const __scope = input;',
    'const __out = [];',
    'const __describe = (error) => {',
    '  try { return error instanceof Error ? `${error.name}: ${error.message}` : String(error); }',
    "  catch { return 'an exception'; }",
    '};',
    ...calls,
    'return __out;',
  ].join('\n');
}

/** Evaluates the values of `fields` against an input and a run (also the inspector's preview). */
export async function evaluateFields(
  fields: readonly TemplateField[],
  scope: { input: unknown; run: RunInfo },
  sandbox: Sandbox,
  signal?: AbortSignal,
): Promise<{ values: unknown[] } | { field: TemplateField; source: string; error: string }> {
  const expressions = fields.flatMap((field) => expressionsOf(field.parts).map((part) => ({ field, part })));
  let results: Evaluated[] = [];
  if (expressions.length > 0) {
    try {
      const value = await sandbox.evaluate({
        source: programOf(expressions.map(({ part }) => part.source)),
        mode: 'function',
        input: { input: scope.input, run: runValue(scope.run) },
        ...EXPRESSION_LIMITS,
        ...(signal && { signal }),
      });
      results = value as Evaluated[];
    } catch (error) {
      if (!(error instanceof NodeError)) throw error;
      // Time, memory or a value that cannot be JSON: the whole set failed, not one field.
      throw new NodeError(`config expressions: ${error.message}`, {
        kind: error.kind,
        retryable: false,
        details: error.details,
      });
    }
  }
  const failed = results.findIndex((result) => 'e' in result);
  const failure = expressions[failed];
  if (failure) return { ...failure, source: failure.part.source, error: (results[failed] as { e: string }).e };
  let next = 0;
  const values = fields.map((field) => {
    const count = expressionsOf(field.parts).length;
    const own = results.slice(next, next + count).map((result) => ('v' in result ? result.v : undefined));
    next += count;
    return renderTemplate(field.parts, own);
  });
  return { values };
}

/** The config `execute` sees: templates evaluated, then the schema and the node's checks. */
export async function evaluateConfig(
  node: CompiledNode,
  scope: { input: unknown; run: RunInfo },
  sandbox: Sandbox,
): Promise<unknown> {
  const evaluated = await evaluateFields(node.templates, scope, sandbox);
  if ('error' in evaluated)
    throw new TerminalError(
      `config.${fieldName(evaluated.field.path)}: {{${evaluated.source}}} failed: ${evaluated.error}`,
      'expression.error',
      { field: fieldName(evaluated.field.path) },
    );
  const config = withFieldValues(node.node.config, node.templates, evaluated.values);
  const { definition } = node;
  const parsed = definition.config.safeParse(config, READABLE_ISSUES);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issue.path.map(String).join('.') : '';
    throw new TerminalError(
      `${describeIssues(parsed.error, 'config')} (after evaluating its {{ }} expressions)`,
      'node.config',
      { field },
    );
  }
  // The other fields were checked when the version was saved; a templated one only now.
  const templated = node.templates.map((field) => fieldName(field.path));
  const problem = (definition.check?.(parsed.data) ?? []).find((item) =>
    templated.some((name) => item.field === name || item.field.startsWith(`${name}.`)),
  );
  if (problem)
    throw new TerminalError(
      `config.${problem.field}: ${problem.message} (after evaluating its {{ }} expressions)`,
      'node.config',
      { field: problem.field },
    );
  return parsed.data;
}

function runValue(run: RunInfo): { id: string; input: unknown; started: string } {
  return { id: run.id, input: run.input, started: isoTime(run.startedAt) };
}
