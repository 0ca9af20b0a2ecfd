// Syntax checks for user code at validation time: compiled by V8, never run.
import { Script } from 'node:vm';
import type { ConfigProblem } from '../engine/sdk/index.js';

export function checkFunctionBody(source: string, field: string): ConfigProblem[] {
  return compile(`(function (input) {\n${source}\n})`, field, 1);
}

export function checkExpression(source: string, field: string): ConfigProblem[] {
  return compile(`(function (input) { return (\n${source}\n); })`, field, 1);
}

function compile(wrapped: string, field: string, linesBefore: number): ConfigProblem[] {
  try {
    new Script(wrapped, { filename: 'user-code' });
    return [];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const line = error instanceof Error ? /user-code:(\d+)/.exec(error.stack ?? '')?.[1] : undefined;
    const where = line ? ` (line ${Number(line) - linesBefore})` : '';
    return [{ field, message: `syntax error${where}: ${message}` }];
  }
}

/**
 * Where a `{{ }}` expression (over `input` and `run`) fails to compile: its message and the
 * 0-based offset in `source`, read from the caret line V8 puts above the error in the stack.
 */
export function expressionSyntax(source: string): { message: string; offset: number } | null {
  try {
    new Script(`(function (input, run) { return (\n${source}\n); })`, { filename: 'user-code' });
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? (error.stack ?? '') : '';
    const [, lineNumber, lineText, caret] = /^user-code:(\d+)\n([^\n]*)\n( *)\^/.exec(stack) ?? [];
    const line = Number(lineNumber ?? 0) - 2;
    const lines = source.split('\n');
    // Line -1 or past the end: the error is in the wrapper (e.g. an unbalanced bracket): at the end.
    if (lineText === undefined || caret === undefined || line < 0 || line >= lines.length)
      return { message, offset: source.length };
    const before = lines.slice(0, line).reduce((sum, text) => sum + text.length + 1, 0);
    return { message, offset: before + caret.length };
  }
}
