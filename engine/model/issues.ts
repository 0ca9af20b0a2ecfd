// zod issues as one line a person can act on: "path: message; path: message". Messages name what
// was expected and what was found ("expected a number, got a string"); a missing field "is required".
import type { z } from 'zod';

/**
 * Parse options for schemas a person writes (workflow files, node config, run exports): readable
 * messages, and the input kept on each issue so that a wrong type is never reported as missing.
 */
export const READABLE_ISSUES = { error: readableError, reportInput: true } as const;

/** The first issues of a zod error as "path: message", paths optionally under `root`. */
export function describeIssues(error: z.ZodError, root?: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [...(root === undefined ? [] : [root]), ...issue.path.map(String)].join('.');
      const message = issueMessage(issue);
      return path.length > 0 ? `${path}: ${message}` : message;
    })
    .join('; ');
}

/** One issue's message. A wrong type always says so, even where a schema's own message is about a missing field. */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.input !== undefined) return typeMismatch(issue.expected, issue.input);
  return issue.message;
}

// Consulted only where the schema sets no message of its own (zod's precedence), e.g. the code
// node's "is required (a JavaScript function body)".
function readableError(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type')
    return issue.input === undefined ? 'is required' : typeMismatch(issue.expected, issue.input);
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((value) => JSON.stringify(value));
    const expected = allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`;
    return `expected ${expected}, got ${preview(issue.input)}`;
  }
  if (issue.code === 'unrecognized_keys') return 'unknown field';
  return undefined;
}

const EXPECTED: Record<string, string> = {
  object: 'an object',
  record: 'an object',
  map: 'an object',
  array: 'an array',
  tuple: 'an array',
  set: 'an array',
  number: 'a number',
  int: 'a whole number',
  nan: 'a number',
  string: 'a string',
  boolean: 'true or false',
  null: 'null',
};

function typeMismatch(expected: string, input: unknown): string {
  return `expected ${EXPECTED[expected] ?? `a ${expected}`}, got ${kindOf(input)}`;
}

/** What a JSON value is, as a person would say it. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return `${value}`;
  return `a ${typeof value}`;
}

function preview(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return kindOf(value);
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
