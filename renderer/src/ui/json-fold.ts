// Pure helpers of JsonView: which containers start folded, and the exact text of a value at a
// depth (JSON.stringify's own indentation), so a folded part can be one text node.

/** Containers deeper than this start folded. */
export const FOLD_DEPTH = 3;
/** Above this many characters of JSON, everything below the top level starts folded. */
export const LARGE_TEXT = 64 * 1024;
/** A container with more entries than this starts folded (its rows would flood the DOM). */
export const MANY_ENTRIES = 500;
/** Strings longer than this are clipped on screen (the text stays whole). */
export const LONG_STRING = 160;

export type JsonContainer = readonly unknown[] | { readonly [key: string]: unknown };

export function isContainer(value: unknown): value is JsonContainer {
  return typeof value === 'object' && value !== null;
}

export function entriesOf(value: JsonContainer): [string, unknown][] {
  return Array.isArray(value) ? value.map((item, index) => [String(index), item]) : Object.entries(value);
}

/** Whether the container at `depth` (the root is 0) starts folded. */
export function foldedByDefault(value: JsonContainer, depth: number, textLength: number): boolean {
  const size = Array.isArray(value) ? value.length : Object.keys(value).length;
  if (size > MANY_ENTRIES) return true;
  return depth >= (textLength > LARGE_TEXT ? 1 : FOLD_DEPTH);
}

/** JSON.stringify(value, null, 2) as it appears nested at `depth`: every line after the first indented. */
export function textAt(value: unknown, depth: number): string {
  // Strings inside JSON text never hold a raw newline, so every "\n" is a line break.
  return (JSON.stringify(value, null, 2) ?? 'null').replaceAll('\n', `\n${indent(depth)}`);
}

export function indent(depth: number): string {
  return '  '.repeat(depth);
}

/** A path of keys as one string (keys may hold any character, so JSON-encode them). */
export function pathKey(path: readonly string[]): string {
  return JSON.stringify(path);
}
