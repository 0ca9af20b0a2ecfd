// How deeply nested a JSON value may be (run input, node config, node output). Pure.
//
// Everything that walks a value recursively — JSON.stringify, zod, canonical JSON,
// structuredClone — overflows the stack somewhere past a few thousand levels and throws a
// RangeError from deep inside the engine. The check here is iterative, so it can run first on a
// value of any depth and refuse it by name.

/** Levels of nested objects and arrays a value may have: `{}` is 1, `{"a": []}` is 2. */
export const MAX_JSON_DEPTH = 64;

export interface DepthExcess {
  /** Where the value first goes deeper than the limit, e.g. `["a", 0, "b"]`. */
  path: (string | number)[];
  /** The nesting comes back to an object that contains it (only possible before serialisation). */
  circular: boolean;
}

interface Frame {
  value: object;
  depth: number;
  key: string | number | null;
  parent: Frame | null;
}

/** The first place where `value` nests deeper than `maxDepth` levels, or null when it does not. */
export function jsonDepthExcess(value: unknown, maxDepth = MAX_JSON_DEPTH): DepthExcess | null {
  if (value === null || typeof value !== 'object') return null;
  const stack: Frame[] = [{ value, depth: 1, key: null, parent: null }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if (frame.depth > maxDepth) return excess(frame);
    const { value: container } = frame;
    if (Array.isArray(container))
      for (let index = 0; index < container.length; index += 1) pushChild(stack, frame, container[index], index);
    else
      for (const key of Object.keys(container))
        pushChild(stack, frame, (container as Record<string, unknown>)[key], key);
  }
  return null;
}

function pushChild(stack: Frame[], parent: Frame, child: unknown, key: string | number): void {
  if (child !== null && typeof child === 'object') stack.push({ value: child, depth: parent.depth + 1, key, parent });
}

function excess(deepest: Frame): DepthExcess {
  const path: (string | number)[] = [];
  const seen = new Set<object>();
  let circular = false;
  for (let frame: Frame | null = deepest; frame !== null; frame = frame.parent) {
    if (seen.has(frame.value)) circular = true;
    seen.add(frame.value);
    if (frame.key !== null) path.unshift(frame.key);
  }
  return { path, circular };
}

/** Why a value is refused for its depth, as a predicate: "is nested more than 64 levels deep (at input.a.a…)". */
export function depthExcessReason(root: string, found: DepthExcess, maxDepth = MAX_JSON_DEPTH): string {
  return found.circular
    ? `is circular (it contains itself at ${formatPath(root, found.path)})`
    : `is nested more than ${maxDepth} levels deep (at ${formatPath(root, found.path)}); flatten it`;
}

/** `what` (e.g. "run input") refused for its depth, as a sentence. */
export function describeDepthExcess(what: string, root: string, found: DepthExcess, maxDepth = MAX_JSON_DEPTH): string {
  return `${what} ${depthExcessReason(root, found, maxDepth)}`;
}

/** A path as `root.a[0].b`, eliding the middle of a long one. */
export function formatPath(root: string, path: readonly (string | number)[]): string {
  const step = (key: string | number): string =>
    typeof key === 'number'
      ? `[${key}]`
      : /^[A-Za-z_$][\w$]*$/.test(key)
        ? `.${key}`
        : `[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}]`;
  const steps = path.map(step);
  const shown = steps.length > 12 ? [...steps.slice(0, 6), '…', ...steps.slice(-4)] : steps;
  return root + shown.join('');
}
