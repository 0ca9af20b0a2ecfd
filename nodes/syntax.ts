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
