// Direct evaluation (engine/sandbox/direct.ts) answers a plain expression over `input` on the
// engine thread: every answer it gives must be the one QuickJS, in the pool, gives for the same
// request, and everything outside its subset must be handed over. Checked against a real pool:
// listed cases, listed hand-overs, and random expressions over random inputs.
import { afterAll, describe, expect, it } from 'vitest';
import { DirectEvaluator, directFirst, SandboxPool } from '../../engine/sandbox/index.js';
import type { SandboxRequest } from '../../engine/sdk/index.js';

const pool = new SandboxPool({ threads: 2 });
afterAll(() => pool.dispose());

function request(source: string, input: unknown, mode: SandboxRequest['mode'] = 'function'): SandboxRequest {
  return { source, mode, input, timeoutMs: 2000, memoryLimitBytes: 64 << 20, maxOutputBytes: 1 << 20 };
}

/** What the pool says: its value, or its error's kind and message. */
async function inPool(req: SandboxRequest): Promise<{ value: unknown } | { error: string }> {
  try {
    return { value: await pool.evaluate(req) };
  } catch (error) {
    return { error: String(error) };
  }
}

describe('direct evaluation', () => {
  const direct = new DirectEvaluator();

  it.each([
    ['return { n: input.n + 1 };', { n: 41 }],
    ['return input.a?.b ?? 5', {}],
    ['return input.a?.b.c', { a: null }],
    ['return {...input, x: [1, ...input.list, ], s: "a" + input.n, \'q\': 1, 2: input.n}', { n: 2.5, list: [3] }],
    ['return (input.a || input.b) ?? "none"', { b: 0 }],
    ['return input.s[1] + input.s.length + input.s["0"]', { s: 'abc' }],
    ['return input.missing', { present: 1 }],
    ['return -input.n * 2 % 3 / 4 - +input.n', { n: 5 }],
    ['return input.a / input.b', { a: 1, b: 0 }],
    ['return input.a < input.b === !(input.a >= input.b)', { a: 'apple', b: 'apples' }],
    ['return "" + 0.1 + 1e21 + 123456789.125 + 5e-7 + -0 + (0.1 + 0.2)', null],
    [
      'return { total: input.items[0].price * input.items[0].qty, id: input.id, ok: input.ok !== false }',
      { id: 'x', items: [{ price: 9.99, qty: 3 }], ok: true },
    ],
    ['return /* why */ input // the whole input\n', { a: [1, { b: null }] }],
    ['return input.n > 100 ? "big" : input.n > 10 ? "medium" : "small";', { n: 50 }],
    ['return undefined', 1],
    ['return input', undefined],
    ['return [input.a, input.b, undefined, null, true]', { a: Number.NaN }],
    ['return input.list[input.i]', { list: ['x', 'y'], i: 1 }],
    ['return { __proto: 1, constructor_: input.constructor_ }', {}],
  ])('answers %j as QuickJS does', async (source, input) => {
    const answer = direct.answer(request(source, input));
    expect(answer, 'answered directly').toBeDefined();
    expect({ value: answer?.value }).toEqual(await inPool(request(source, input)));
  });

  it('answers a branch condition (expression mode) as QuickJS does', async () => {
    const req = request(
      'input.amount > 100 && input.currency === "EUR"',
      { amount: 120, currency: 'EUR' },
      'expression',
    );
    expect(direct.answer(req)).toEqual({ value: true });
    expect(await inPool(req)).toEqual({ value: true });
  });

  it.each([
    ['a call', 'return Math.max(1, input.n)'],
    ['a method', 'return input.s.toUpperCase()'],
    ['a helper', 'return $date.now()'],
    ['console', 'return console'],
    ['a global', 'return globalThis'],
    ['an inherited field', 'return input.toString'],
    ['an array method', 'return input.list.map'],
    ['an index past a string', 'return input.s[10]'],
    ['a field of null', 'return input.none.x'],
    ['**', 'return input.n ** 2'],
    ['==', 'return input.n == "5"'],
    ['a bit operator', 'return input.n | 0'],
    ['arithmetic on a string', 'return input.s * 2'],
    ['+ on an object', 'return input.list + 1'],
    ['?? mixed with ||', 'return input.a || input.b ?? 1'],
    ['a line break after return', 'return\ninput'],
    ['a second statement', 'return input; input'],
    ['a loop', 'for (;;) {} return 1'],
    ['an assignment', 'return input.n = 1'],
    ['an increment', 'return input.n++'],
    ['a template', 'return `${input.n}`'],
    ['a tagged template', 'return input.f`x`'],
    ['a regex', 'return /a/.test(input.s)'],
    ['an escape', 'return "\\u0041"'],
    ['an HTML comment', 'return input.n <!-- x\n'],
    ['an unterminated comment', 'return input /* x'],
    ['a hex number', 'return 0x10'],
    ['a legacy octal', 'return 010'],
    ['a BigInt', 'return 1n'],
    ['a numeric separator', 'return 1_000'],
    ['a getter', 'return { get x() { return 1 } }'],
    ['a __proto__ key', 'return { __proto__: input }'],
    ['a computed key', 'return { [input.k]: 1 }'],
    ['a hole', 'return [1, , 2]'],
    ['a spread of a string', 'return [...input.s]'],
    ['an arrow', 'return (input) => input'],
    ['typeof', 'return typeof input'],
    ['in', 'return "n" in input'],
    ['a non-ASCII name', 'return inputé'],
    ['a syntax error', 'return input.'],
  ])('hands over %s', (_what, source) => {
    expect(direct.answer(request(source, { n: 5, s: 'abc', list: [1], k: 'x', f: null }))).toBeUndefined();
  });

  it('hands over what its bounds cannot promise: a big or deep input, a small limit, an own __proto__', () => {
    const source = 'return { a: input, b: input }';
    expect(direct.answer(request(source, { n: 1 }))).toBeDefined();
    expect(direct.answer(request(source, { s: 'x'.repeat(40_000) }))).toBeUndefined();
    let deep: unknown = 1;
    for (let level = 0; level < 40; level += 1) deep = [deep];
    expect(direct.answer(request(source, deep))).toBeUndefined();
    expect(direct.answer({ ...request(source, { n: 1 }), maxOutputBytes: 20 })).toBeUndefined();
    expect(direct.answer({ ...request(source, { n: 1 }), memoryLimitBytes: 256 << 10 })).toBeUndefined();
    expect(direct.answer(request('return { ...input }', JSON.parse('{"__proto__": {"x": 1}}')))).toBeUndefined();
  });

  it('hands over a big source or input before reading it whole, and a value that is not plain data', () => {
    const table = `return { ${Array.from({ length: 20_000 }, (_, index) => `"k${index}": ${index}`).join(', ')} }[input.k]`;
    expect(direct.answer(request(table, { k: 'k5' }))).toBeUndefined();
    expect(
      direct.answer(request('return input.list.length', { list: Array.from({ length: 1e6 }, () => 0) })),
    ).toBeUndefined();
    expect(direct.answer(request('return input.s.length', { s: 'x'.repeat(9000) }))).toBeUndefined();
    const cycle: unknown[] = [];
    cycle.push(cycle);
    expect(direct.answer(request('return 1', cycle))).toBeUndefined();
    expect(direct.answer(request('return input.at', { at: new Date(0) }))).toBeUndefined();
    expect(direct.answer(request('return input.s.length', { s: 'x'.repeat(1000) }))).toEqual({ value: 1000 });
  });

  it('leaves a cancelled request to the pool, which refuses it', async () => {
    const sandbox = directFirst(pool);
    await expect(sandbox.evaluate({ ...request('return 1', null), cancelled: () => true })).rejects.toThrow(
      /cancelled/,
    );
    await expect(sandbox.evaluate(request('return 1', null))).resolves.toBe(1);
  });

  it('gives the answers QuickJS gives for random expressions over random inputs', { timeout: 120_000 }, async () => {
    const random = seeded(20261122);
    let answered = 0;
    const total = 1500;
    for (let index = 0; index < total; index += 1) {
      const input = randomInput(random, 3);
      const source = `return ${randomExpression(random, 4)};`;
      const req = request(source, input);
      const answer = direct.answer(req);
      if (answer === undefined) continue;
      answered += 1;
      expect({ source, input, ...(await inPool(req)) }).toEqual({ source, input, value: answer.value });
    }
    // A fair share is in the subset (most hand-overs are operands of another type): not vacuous.
    expect(answered).toBeGreaterThan(total / 5);
  });
});

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const NUMBERS = [0, -0, 1, -1, 0.1, 0.2, 1 / 3, 2 ** 53, 1e21, 1e-7, 123.456, -5.5e-300, Number.MAX_VALUE, 7];
const STRINGS = ['', 'a', 'abc', '10', '9', 'Zed', 'é', '😀', ' '];
const KEYS = ['a', 'b', 'n', 's', 'list', 'x'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function randomInput(random: () => number, depth: number): unknown {
  const roll = random();
  if (depth === 0 || roll < 0.3) return pick(random, [...NUMBERS.slice(0, 8), ...STRINGS, true, false, null]);
  if (roll < 0.5) return Array.from({ length: Math.floor(random() * 4) }, () => randomInput(random, depth - 1));
  return Object.fromEntries(
    Array.from({ length: 1 + Math.floor(random() * 4) }, () => [pick(random, KEYS), randomInput(random, depth - 1)]),
  );
}

function literal(random: () => number): string {
  const roll = random();
  if (roll < 0.5)
    return String(
      pick(
        random,
        NUMBERS.filter((value) => value >= 0),
      ),
    );
  if (roll < 0.8) return JSON.stringify(pick(random, STRINGS));
  return pick(random, ['true', 'false', 'null', 'undefined']);
}

function randomPath(random: () => number): string {
  let path = 'input';
  const steps = Math.floor(random() * 3);
  for (let step = 0; step < steps; step += 1) {
    const roll = random();
    path +=
      roll < 0.5
        ? `.${pick(random, KEYS)}`
        : roll < 0.7
          ? `?.${pick(random, KEYS)}`
          : roll < 0.85
            ? `[${Math.floor(random() * 3)}]`
            : '.length';
  }
  return path;
}

function randomExpression(random: () => number, depth: number): string {
  const roll = random();
  if (depth === 0 || roll < 0.25) return random() < 0.6 ? randomPath(random) : literal(random);
  const next = (): string => randomExpression(random, depth - 1);
  if (roll < 0.6) {
    const op = pick(random, ['+', '+', '-', '*', '/', '%', '<', '>=', '===', '!==', '&&', '||', '??']);
    return op === '??' ? `(${next()}) ?? (${next()})` : `(${next()} ${op} ${next()})`;
  }
  if (roll < 0.7) return `${pick(random, ['!', '-', '+'])}(${next()})`;
  if (roll < 0.8) return `(${next()} ? ${next()} : ${next()})`;
  if (roll < 0.9) return `{ k: ${next()}, ...(${next()}) }`;
  return `[${next()}, ${next()}]`;
}
