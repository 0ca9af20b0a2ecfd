// User code against the sandbox, as a workflow author could write it: real runs on a real engine
// (its sandbox threads run the built dist/), each test with its own engine and database.
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dbPathOf, runWorkflow, testEngine } from '../support/engine.js';
import { chain, node } from '../support/harness.js';

const MiB = 1024 * 1024;

/** A workflow of one code node. */
const codeFlow = (id: string, code: string, config: Record<string, unknown> = {}) =>
  chain(id, [node('c', 'code', { code, ...config })]);

// Run A: hooks the ways iteration reaches user data and returns what earlier activations left
// behind. What it keeps lives on the intrinsics themselves (the one place a frozen globalThis
// leaves), and it reads them without iterating (slice, apply), so its own hooks see nothing.
const SPY = `
  const seen = [];
  const hook = (proto, key) => {
    try {
      if (proto.__stash) return seen.push.apply(seen, proto.__stash.slice());
      const original = proto[key];
      const stash = [];
      Object.defineProperty(proto, '__stash', { value: stash });
      proto[key] = function () {
        const step = original.apply(this, arguments);
        if (step && typeof step === 'object' && step.value !== undefined) stash.push(step.value);
        return step;
      };
    } catch {}
  };
  const mark = (target) => {
    try {
      if (target.__mark) seen.push(target.__mark);
      else target.__mark = 'left by an earlier run';
    } catch {}
  };
  hook(Object.getPrototypeOf([][Symbol.iterator]()), 'next');
  hook(Object.getPrototypeOf(Object.getPrototypeOf((function* () {})())), 'next');
  mark(Object.getPrototypeOf(async function () {}));
  mark(globalThis);
  mark(Array.prototype);
  return { seen };
`;

// Run B: processes secret data by every kind of iteration.
const VICTIM = `
  let digits = 0;
  for (const card of input.cards) digits += card.length;
  const copy = [...input.cards];
  function* each() { yield* input.cards; }
  for (const card of each()) digits += card.length;
  return { digits, copied: copy.length };
`;

describe('sandbox', () => {
  it('keeps what one run sees from every later run (pristine intrinsics per activation)', async () => {
    const engine = testEngine();
    const armed = await runWorkflow(engine, codeFlow('spy', SPY));
    expect(armed.status).toBe('completed');
    const victim = await runWorkflow(engine, codeFlow('victim', VICTIM), { cards: ['4111-1111', '5500-0000'] });
    expect(victim.status).toBe('completed');
    const spied = await runWorkflow(engine, codeFlow('spy', SPY));
    expect(spied.status).toBe('completed');
    expect(spied.output).toEqual({ seen: [] });
  });

  it('freezes every intrinsic user code can reach, including those only syntax reaches', async () => {
    const engine = testEngine();
    // Walks from globalThis and from what syntax alone creates; lists what is not frozen.
    const walk = `
      const roots = {
        globalThis, arrayIterator: [][Symbol.iterator](), mapIterator: new Map().entries(),
        setIterator: new Set().values(), stringIterator: ''[Symbol.iterator](),
        regexpIterator: /a/[Symbol.matchAll]('a'), generatorFunction: function* () {},
        generator: (function* () {})(), asyncFunction: async function () {},
        asyncGeneratorFunction: async function* () {}, asyncGenerator: (async function* () {})(),
        typedArray: Object.getPrototypeOf(Int8Array), promise: Promise.resolve(),
        sloppyArguments: Function('return arguments')(), strictArguments: (function () { return arguments; })(),
      };
      // What this activation made itself (a function's own prototype object too) may be open.
      const own = new Set(Object.values(roots).filter((value) => value !== globalThis));
      for (const fn of [roots.generatorFunction, roots.asyncGeneratorFunction, roots.sloppyArguments.callee])
        own.add(fn).add(fn.prototype);
      for (const made of [roots.generator, roots.asyncGenerator]) own.add(Object.getPrototypeOf(made));
      const seen = new Set();
      const open = [];
      const visit = (value, path) => {
        if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
        seen.add(value);
        if (!Object.isFrozen(value) && !own.has(value)) open.push(path);
        for (const key of Reflect.ownKeys(value)) {
          const d = Object.getOwnPropertyDescriptor(value, key);
          const name = path + '.' + String(key);
          if ('value' in d) visit(d.value, name); else { visit(d.get, name + '[get]'); visit(d.set, name + '[set]'); }
        }
        visit(Object.getPrototypeOf(value), path + '.[[Prototype]]');
      };
      for (const [name, value] of Object.entries(roots)) visit(value, name);
      return { checked: seen.size, open, eval: typeof eval };
    `;
    const run = await runWorkflow(engine, codeFlow('walk', walk));
    expect(run.status).toBe('completed');
    const found = run.output as { checked: number; open: string[]; eval: string };
    expect(found.open).toEqual([]);
    expect(found.checked).toBeGreaterThan(300);
    expect(found.eval).toBe('undefined');
  });

  it('leaves no global binding one run could declare for a later run to read', async () => {
    const engine = testEngine();
    const leave = `
      const tried = [];
      for (const attempt of [
        () => (0, globalThis['ev' + 'al'])('let leakedLet = input.secret'),
        () => Function('leakedVar = ' + JSON.stringify(input.secret))(),
        () => Function('this.leakedThis = 1')(),
        () => Object.defineProperty(globalThis, 'leakedProp', { value: input.secret }),
        () => { Symbol.prototype.leaked = input.secret; },
      ]) {
        try { attempt(); tried.push('succeeded'); } catch (error) { tried.push(error.name); }
      }
      return tried;
    `;
    const left = await runWorkflow(engine, codeFlow('leave', leave), { secret: 'card 4111' });
    expect(left.status).toBe('completed');
    // eval is gone; the rest throw, or (sloppy code) fail silently: either way nothing is left.
    expect((left.output as string[])[0]).toBe('TypeError');
    const read = `
      const found = [];
      for (const name of ['leakedLet', 'leakedVar', 'leakedThis', 'leakedProp'])
        try { found.push(Function('return typeof ' + name)()); } catch (error) { found.push(error.name); }
      found.push(typeof Symbol.prototype.leaked);
      return found;
    `;
    const later = await runWorkflow(engine, codeFlow('read', read));
    expect(later.output).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
  });

  it("gives no run a way to predict another run's Math.random draws", async () => {
    // QuickJS's own generator (xorshift64*) is one state per context; two draws give it away, and
    // with it the draws of whatever runs next in the same context.
    const predict = `
      const M = (1n << 64n) - 1n, C = 0x2545F4914F6CDD1Dn;
      let inv = 1n; for (let i = 0; i < 7; i++) inv = (inv * (2n - C * inv)) & M;
      const xs = (x) => { x ^= x >> 12n; x ^= (x << 25n) & M; x ^= x >> 27n; return x; };
      const top = (d) => BigInt(Math.round(d * 2 ** 52));
      const d1 = Math.random(), d2 = Math.random();
      for (let low = 0n; low < 4096n; low++) {
        let s = xs(((top(d1) << 12n | low) * inv) & M);
        if ((((s * C) & M) >> 12n) === top(d2)) {
          const next = [];
          for (let k = 0; k < 2; k++) { s = xs(s); next.push(Number(((s * C) & M) >> 12n) / 2 ** 52); }
          return next;
        }
      }
      return null;
    `;
    const engine = testEngine({ sandboxThreads: 1 });
    const predicted = await runWorkflow(engine, codeFlow('spy', predict));
    expect(predicted.status).toBe('completed');
    const drawn = await runWorkflow(engine, codeFlow('victim', 'return [Math.random(), Math.random()];'));
    const draws = drawn.output as number[];
    expect(draws.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(draws).not.toEqual(predicted.output);
  });

  it("does not let one run's garbage make the next run's node run out of memory", async () => {
    const engine = testEngine({ sandboxThreads: 1 });
    // Cycles QuickJS does not collect in a context that is kept, filling most of 64 MiB.
    const litter =
      'const a = []; for (let i = 0; i < 600000; i++) { const o = { i, s: "y" + i }; o.self = o; a.push(o); } a.push(a); return 1;';
    const needs = 'const a = []; for (let i = 0; i < 600000; i++) a.push({ i, s: "x" + i }); return a.length;';
    const alone = await runWorkflow(engine, codeFlow('needs-alone', needs));
    expect(alone.output).toBe(600000);
    const littered = await runWorkflow(engine, codeFlow('litter', litter));
    expect(littered.status).toBe('completed');
    const after = await runWorkflow(engine, codeFlow('needs-after', needs));
    expect(after.error ?? null).toBeNull();
    expect(after.output).toBe(600000);
  });

  it('stops the code of a run that is cancelled, freeing its sandbox thread at once', async () => {
    const engine = testEngine({ sandboxThreads: 1 });
    const worker = engine.startWorker();
    await worker.started;
    const { workflowId } = await engine.saveWorkflow(codeFlow('endless', 'while (true) {}', { timeoutMs: 60_000 }));
    const { runId } = await engine.startRun(workflowId, {});
    while (!(await engine.queries.events(runId)).some((event) => event.type === 'NodeStarted' && event.nodeId === 'c'))
      await new Promise((resolve) => setTimeout(resolve, 20));
    await engine.commands.cancel(runId);
    // The only thread was running the loop: this one runs only once that thread has gone.
    const started = Date.now();
    const { workflowId: quick } = await engine.saveWorkflow(codeFlow('quick', 'return 7;'));
    const next = await engine.startRun(quick, {});
    expect(await engine.waitForRun(next.runId, { timeoutMs: 10_000 })).toMatchObject({ output: 7 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await engine.queries.get(runId))?.status).toBe('cancelled');
  });

  it('stops a node over its time limit within its timeout plus one second, even while it allocates', async () => {
    const engine = testEngine();
    // Warm: the thread and its WebAssembly instance exist, so what is timed is the limit.
    await runWorkflow(engine, codeFlow('warm', 'return 1;', { memoryLimitMb: 1024 }));
    // One native call that allocates for seconds: QuickJS's interrupt handler is not reached in it.
    const started = Date.now();
    const run = await runWorkflow(
      engine,
      codeFlow('split', 'const s = "x".repeat(2e7); return s.split("").length;', {
        timeoutMs: 1000,
        memoryLimitMb: 1024,
      }),
    );
    const elapsed = Date.now() - started;
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'code.timeout', retryable: false });
    expect(elapsed).toBeLessThan(1000 + 1000);
    const next = await runWorkflow(engine, codeFlow('after', 'return "fine";'));
    expect(next.output).toBe('fine');
  });

  it('bounds the real memory of the process by the node memory limit', { timeout: 60_000 }, async () => {
    const engine = testEngine();
    await runWorkflow(engine, codeFlow('warm', 'return 1;', { memoryLimitMb: 64 }));
    const greedy = {
      strings: 'const kept = []; let n = 0; while (true) kept.push("x".repeat(1 << 16) + n++);',
      arrays: 'const kept = []; while (true) kept.push([1, 2, 3, 4, 5, 6, 7, 8]);',
      typedArrays: 'const kept = []; while (true) kept.push(new Float64Array(1 << 17));',
    };
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      for (const [name, code] of Object.entries(greedy)) {
        const started = Date.now();
        const run = await runWorkflow(engine, codeFlow(name, code, { memoryLimitMb: 64, timeoutMs: 5000 }));
        expect(run.status, name).toBe('failed');
        expect(['code.memory', 'code.timeout'], name).toContain(run.error?.kind);
        // Stopped by the limit, not left to run: the margin is for a loaded machine (an unbounded
        // loop would run until the test's own timeout).
        expect(Date.now() - started, name).toBeLessThan(5000 + 3000);
      }
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    // The limit, plus a margin for the thread's own heap and the engine's work meanwhile.
    expect((peak - baseline) / MiB).toBeLessThan(64 + 64);
  });

  it('refuses a huge string output inside the sandbox, naming the limit and how to raise it', async () => {
    const engine = testEngine();
    const run = await runWorkflow(
      engine,
      codeFlow('huge', 'return "x".repeat(40_000_000);', { memoryLimitMb: 256, timeoutMs: 20_000 }),
    );
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'node.output-too-large', retryable: false });
    expect(run.error?.message).toMatch(/output is 40000002 bytes, over this node's output limit of 1048576 bytes/);
    expect(run.error?.message).toMatch(/raise the node's Output limit \(maxOutputBytes, up to 16 MiB\)/);
    expect(statSync(dbPathOf(engine)).size).toBeLessThan(4 * MiB);
  });

  it('fails a deeply nested output with a clear error that is not retried, and keeps working', async () => {
    const engine = testEngine();
    const run = await runWorkflow(
      engine,
      codeFlow('deep', 'let value = {}; for (let i = 0; i < 100000; i++) value = { value }; return value;'),
    );
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ kind: 'node.output-too-deep', retryable: false });
    expect(run.error?.message).toMatch(/nested too deeply/);
    expect(run.activations.find((activation) => activation.nodeId === 'c')?.attempts).toHaveLength(1);
    const next = await runWorkflow(engine, codeFlow('after', 'return { nested: { ok: true } };'));
    expect(next.output).toEqual({ nested: { ok: true } });
  });

  it('measures an output by its UTF-8 bytes, not its characters', async () => {
    const engine = testEngine();
    // 600,000 three-byte characters: 1.8 MB of JSON, though only 600,002 characters.
    const run = await runWorkflow(engine, codeFlow('wide', 'return "€".repeat(600_000);'));
    expect(run.status).toBe('failed');
    expect(run.error?.message).toMatch(/output is 1800002 bytes, over this node's output limit of 1048576 bytes/);
  });
});
