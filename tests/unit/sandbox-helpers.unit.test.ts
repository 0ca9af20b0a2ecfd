// The sandbox helpers ($date, $text, $math, $data), each run in the real QuickJS sandbox, their
// declarations checked against what the sandbox has, and their fences (clock, freezing).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../../engine/model/duration.js';
import { HELPER_DECLARATIONS, HELPER_NAMESPACES, helperDeclarations } from '../../engine/model/sandbox-helpers.js';
import { SandboxPool } from '../../engine/sandbox/index.js';
import { NodeError, type SandboxRequest } from '../../engine/sdk/index.js';
import { ROOT } from '../support/harness.js';

const sandbox = new SandboxPool({ threads: 1 });
afterAll(() => sandbox.dispose());

const NOW = Date.UTC(2026, 10, 22, 15, 30, 45, 123); // 2026-11-22T15:30:45.123Z

const run = (source: string, input: unknown = null, extra: Partial<SandboxRequest> = {}) =>
  sandbox.evaluate({
    source,
    input,
    mode: 'function',
    timeoutMs: 2000,
    memoryLimitBytes: 32 * 1024 * 1024,
    maxOutputBytes: 1 << 20,
    now: NOW,
    ...extra,
  });
/** One expression's value in the sandbox. */
const value = (expression: string, input: unknown = null) => run(`return (${expression});`, input);

async function failure(promise: Promise<unknown>): Promise<NodeError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NodeError);
  return error as NodeError;
}

describe('$date', () => {
  it('now() is the activation time passed in, not the wall clock', async () => {
    await expect(value('$date.now()')).resolves.toBe('2026-11-22T15:30:45.123Z');
    await expect(value('$date.now()', null)).resolves.toBe(new Date(NOW).toISOString());
    const other = await run('return $date.now();', null, { now: 0 });
    expect(other).toBe('1970-01-01T00:00:00.000Z');
  });

  it('now() without an activation time is an error, never the wall clock', async () => {
    const error = await failure(run('return $date.now();', null, { now: undefined }));
    expect(error.message).toContain('the time of this activation is not known');
  });

  it('parse normalises ISO strings and milliseconds; null for what is not a date', async () => {
    await expect(value('$date.parse("2026-01-02T03:04:05+02:00")')).resolves.toBe('2026-01-02T01:04:05.000Z');
    await expect(value('$date.parse(0)')).resolves.toBe('1970-01-01T00:00:00.000Z');
    await expect(value('[$date.parse("yesterday"), $date.parse(null), $date.parse(1e20)]')).resolves.toEqual([
      null,
      null,
      null,
    ]);
  });

  it('toMillis, and a clear error for a non-date', async () => {
    await expect(value('$date.toMillis("1970-01-01T00:00:01Z")')).resolves.toBe(1000);
    const error = await failure(value('$date.toMillis("soon")'));
    expect(error.message).toContain('$date.toMillis: "soon" is not a date');
  });

  it('add and subtract durations in the workflow grammar', async () => {
    await expect(value('$date.add("2026-01-31T00:00:00Z", "3d")')).resolves.toBe('2026-02-03T00:00:00.000Z');
    await expect(value('$date.add("2026-01-01T00:00:00Z", "1h30m")')).resolves.toBe('2026-01-01T01:30:00.000Z');
    await expect(value('$date.add("2026-01-01T00:00:00Z", "-2h")')).resolves.toBe('2025-12-31T22:00:00.000Z');
    await expect(value('$date.add(0, 1500)')).resolves.toBe('1970-01-01T00:00:01.500Z');
    await expect(value('$date.subtract("2026-01-01T00:00:00Z", "1w")')).resolves.toBe('2025-12-25T00:00:00.000Z');
    const error = await failure(value('$date.add(0, "3 days")'));
    expect(error.message).toContain('is not a duration');
  });

  it('reads durations as parseDuration does elsewhere in a workflow', async () => {
    const texts = ['500ms', '90s', '2h', '3d', '1h30m', '1.5h', '2w 1d'];
    const helper = (await value(
      `${JSON.stringify(texts)}.map((text) => $date.toMillis($date.add(0, text)))`,
    )) as number[];
    expect(helper).toEqual(texts.map((text) => parseDuration(text)));
  });

  it('diff in a unit', async () => {
    await expect(value('$date.diff("2026-01-03T12:00:00Z", "2026-01-01T00:00:00Z", "d")')).resolves.toBe(2.5);
    await expect(value('$date.diff(2000, 500)')).resolves.toBe(1500);
    await expect(value('$date.diff(0, 3600000, "h")')).resolves.toBe(-1);
    const error = await failure(value('$date.diff(0, 0, "years")'));
    expect(error.message).toContain('unknown unit');
  });

  it('startOfDay is midnight UTC', async () => {
    await expect(value('$date.startOfDay($date.now())')).resolves.toBe('2026-11-22T00:00:00.000Z');
    await expect(value('$date.startOfDay("2026-03-01T23:59:59.999-01:00")')).resolves.toBe('2026-03-02T00:00:00.000Z');
  });

  it('format in UTC', async () => {
    await expect(value('$date.format($date.now(), "yyyy-MM-dd HH:mm:ss.SSS")')).resolves.toBe(
      '2026-11-22 15:30:45.123',
    );
    await expect(value('$date.format("2026-02-03T04:05:06Z", "dd/MM/yyyy")')).resolves.toBe('03/02/2026');
  });
});

describe('$text', () => {
  it('slugify', async () => {
    await expect(value('$text.slugify("  Crème Brûlée: 2 cups!  ")')).resolves.toBe('creme-brulee-2-cups');
  });
  it('truncate', async () => {
    await expect(value('$text.truncate("abcdefgh", 5)')).resolves.toBe('abcd…');
    await expect(value('$text.truncate("abcdefgh", 5, "...")')).resolves.toBe('ab...');
    await expect(value('$text.truncate("abc", 5)')).resolves.toBe('abc');
  });
  it('words', async () => {
    await expect(value('$text.words("It\'s 3 o\'clock, déjà-vu!")')).resolves.toEqual([
      "It's",
      '3',
      "o'clock",
      'déjà',
      'vu',
    ]);
    await expect(value('$text.words("  ")')).resolves.toEqual([]);
  });
  it('capitalize and titleCase', async () => {
    await expect(value('$text.capitalize("hello world")')).resolves.toBe('Hello world');
    await expect(value('$text.titleCase("hello big world")')).resolves.toBe('Hello Big World');
  });
  it('normalizeWhitespace', async () => {
    await expect(value('$text.normalizeWhitespace("  a \\n\\t b   c ")')).resolves.toBe('a b c');
  });
});

describe('$math', () => {
  it('round to decimals, half away from zero, as written', async () => {
    await expect(
      value('[$math.round(1.005, 2), $math.round(2.5), $math.round(-2.5), $math.round(1234.5678, -2)]'),
    ).resolves.toEqual([1.01, 3, -3, 1200]);
  });
  it('sum, avg, min, max (empty: 0 or null)', async () => {
    await expect(
      value('[$math.sum([1, 2, 3.5]), $math.avg([1, 2, 3, 4]), $math.min([3, -1, 2]), $math.max([3, -1, 2])]'),
    ).resolves.toEqual([6.5, 2.5, -1, 3]);
    await expect(value('[$math.sum([]), $math.avg([]), $math.min([]), $math.max([])]')).resolves.toEqual([
      0,
      null,
      null,
      null,
    ]);
    const error = await failure(value('$math.sum([1, "2"])'));
    expect(error.message).toContain('$math.sum: item 1 ("2") is not a finite number');
  });
  it('clamp and percent', async () => {
    await expect(value('[$math.clamp(15, 0, 10), $math.clamp(-1, 0, 10), $math.clamp(5, 0, 10)]')).resolves.toEqual([
      10, 0, 5,
    ]);
    await expect(value('[$math.percent(1, 3), $math.percent(1, 3, 0), $math.percent(1, 0)]')).resolves.toEqual([
      33.33,
      33,
      null,
    ]);
  });
});

describe('$data', () => {
  it('parse with a fallback', async () => {
    await expect(value('$data.parse(\'{"a":1}\', {})')).resolves.toEqual({ a: 1 });
    await expect(value('$data.parse("not json", { broken: true })')).resolves.toEqual({ broken: true });
    await expect(value('$data.parse("{")')).resolves.toBeNull();
  });
  it('stringify with sorted keys at every level', async () => {
    await expect(value('$data.stringify({ b: 1, a: { d: [ { z: 1, y: 2 } ], c: null } })')).resolves.toBe(
      '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
    );
    await expect(value('$data.stringify({ b: 1, a: 2 }) === $data.stringify({ a: 2, b: 1 })')).resolves.toBe(true);
    await expect(value('$data.stringify(undefined)')).resolves.toBe('null');
    const error = await failure(run('const a = {}; a.self = a; return $data.stringify(a);'));
    expect(error.message).toContain('cycle');
  });
  it('get by path with a fallback', async () => {
    const input = { order: { lines: [{ sku: 'A' }, { sku: 'B' }] } };
    await expect(value('$data.get(input, "order.lines[1].sku")', input)).resolves.toBe('B');
    await expect(value('$data.get(input, "order.lines[5].sku", "none")', input)).resolves.toBe('none');
    await expect(value('$data.get(input, "order.missing")', input)).resolves.toBeNull();
    await expect(value('$data.get(input, "order.constructor", "own only")', input)).resolves.toBe('own only');
  });
});

describe('the helpers as a whole', () => {
  it('every helper in the sandbox has a declaration and every declaration a helper', async () => {
    const inSandbox = (await value(
      `Object.fromEntries(${JSON.stringify(HELPER_NAMESPACES)}.map((name) => [name, Object.keys(globalThis[name]).sort()]))`,
    )) as Record<string, string[]>;
    const declared = Object.fromEntries(
      Object.entries(HELPER_DECLARATIONS).map(([name, members]) => [name, Object.keys(members).sort()]),
    );
    expect(inSandbox).toEqual(declared);
  });

  it('the declaration file is valid TypeScript and types each helper', () => {
    const file = 'helpers.d.ts';
    const use =
      'const s: string = $date.add($date.now(), "1d"); const n: number | null = $math.avg([1]); void s; void n;\nconst bad: number = $text.slugify("x");';
    const sources: Record<string, string> = { [file]: helperDeclarations(), 'use.ts': use };
    const host = ts.createCompilerHost({});
    const original = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version) =>
      name in sources ? ts.createSourceFile(name, sources[name] ?? '', version) : original(name, version);
    const program = ts.createProgram(
      [file, 'use.ts'],
      { lib: ['lib.es2022.d.ts'], types: [], strict: true, noEmit: true },
      host,
    );
    const messages = ts
      .getPreEmitDiagnostics(program)
      .map(
        (diagnostic) =>
          `${diagnostic.file?.fileName}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
      );
    // Only the deliberate mistake: a string is not a number.
    expect(messages).toEqual([expect.stringMatching(/^use\.ts: Type 'string' is not assignable to type 'number'/)]);
  });

  it('are frozen: user code cannot replace or change them for the next activation', async () => {
    for (const attempt of [
      '$date.now = () => "forged"',
      '$date = { now: () => "forged" }',
      'Object.defineProperty($math, "sum", { value: () => 0 })',
      'globalThis.$text = {}',
      'delete globalThis.$data',
    ]) {
      const error = await failure(run(`${attempt}; return 1;`));
      expect(error.message).toMatch(/TypeError/);
    }
    await expect(value('[$date.now(), $math.sum([1, 2]), typeof $text.slugify, typeof $data.get]')).resolves.toEqual([
      '2026-11-22T15:30:45.123Z',
      3,
      'function',
      'function',
    ]);
  });

  it('reach nothing outside: no host clock, no fs, network or process through them', async () => {
    // The helpers' one clock is the time passed in: two activations at different times see each
    // their own, whatever the host's clock says.
    await expect(run('return $date.now();', null, { now: 1 })).resolves.toBe('1970-01-01T00:00:00.001Z');
    await expect(run('return $date.now();', null, { now: 2 })).resolves.toBe('1970-01-01T00:00:00.002Z');
    // Their functions close over nothing a user can use to get out.
    await expect(
      value('[typeof require, typeof process, typeof fetch, $date.now.constructor("return typeof process")()]'),
    ).resolves.toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
  });
});

describe('the global object between activations', () => {
  // QuickJS lets Object.defineProperty replace a frozen global's value: refused, and an environment
  // whose globals changed anyway is not reused.
  it('user code cannot replace a global for the next activation', async () => {
    for (const attempt of [
      'Object.defineProperty(globalThis, "$text", { value: {} })',
      'Object.defineProperty(globalThis, "JSON", { value: {} })',
      'Object.defineProperties(globalThis, { $math: { value: {} } })',
      'if (!Reflect.defineProperty(globalThis, "$date", { value: {} })) throw new TypeError("refused")',
      'globalThis.__defineGetter__("$data", () => ({}))',
      'Object.getOwnPropertyDescriptor(Object, "defineProperty").value.call(null, globalThis, "$text", { value: {} })',
      // What the check after each activation does not look at, QuickJS refuses itself (global-guard.ts).
      'Object.defineProperty(new Proxy(globalThis, {}), "JSON", { get: () => ({}) })',
      'Object.defineProperty(new Proxy(globalThis, {}), "JSON", { value: JSON, enumerable: true })',
      'Object.defineProperty(new Proxy(globalThis, {}), "$extra", { value: {} })',
      'delete globalThis.JSON',
      'class Base { constructor() { return globalThis; } }; new (class extends Base { JSON = {} })()',
    ]) {
      const error = await failure(run(`${attempt}; return 1;`));
      expect(error.message).toMatch(/TypeError/);
      await expect(
        value('[typeof $text.slugify, typeof JSON.stringify, typeof $math.sum, typeof $date.now, typeof $data.get]'),
      ).resolves.toEqual(['function', 'function', 'function', 'function', 'function']);
    }
  });

  it('a global replaced through a way the define functions cannot see is not seen by the next activation', async () => {
    // A proxy's own [[DefineOwnProperty]] reaches the global without passing the guarded functions:
    // the replacement holds inside its activation, and the environment is retired after it.
    await expect(
      value(
        '(Object.defineProperty(new Proxy(globalThis, {}), "$text", { value: { tampered: true } }), $text.tampered)',
      ),
    ).resolves.toBe(true);
    await expect(value('[typeof $text.slugify, typeof $text.tampered]')).resolves.toEqual(['function', 'undefined']);
  });
});

describe('docs/nodes.md', () => {
  it('lists every helper', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'nodes.md'), 'utf8');
    const missing = Object.entries(HELPER_DECLARATIONS).flatMap(([namespace, members]) =>
      Object.keys(members).filter((name) => !doc.includes(`\`${namespace}.${name}(`)),
    );
    expect(missing).toEqual([]);
  });
});
