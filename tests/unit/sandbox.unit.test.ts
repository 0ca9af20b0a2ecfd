import { afterAll, describe, expect, it } from 'vitest';
import { SandboxPool } from '../../engine/sandbox/index.js';
import { NodeError, type SandboxRequest } from '../../engine/sdk/index.js';

const sandbox = new SandboxPool({ threads: 1 });
afterAll(() => sandbox.dispose());

const run = (source: string, input: unknown = null, extra: Partial<SandboxRequest> = {}) =>
  sandbox.evaluate({
    source,
    input,
    mode: 'function',
    timeoutMs: 1000,
    memoryLimitBytes: 32 * 1024 * 1024,
    maxOutputBytes: 1 << 20,
    ...extra,
  });

async function failure(promise: Promise<unknown>): Promise<NodeError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NodeError);
  return error as NodeError;
}

describe('QuickJS sandbox', () => {
  it('runs a function body over the input and returns JSON', async () => {
    await expect(run('return { doubled: input.n * 2, list: [1, "a", null] };', { n: 21 })).resolves.toEqual({
      doubled: 42,
      list: [1, 'a', null],
    });
    await expect(run('return;')).resolves.toBeNull();
  });

  it('evaluates expressions', async () => {
    await expect(
      sandbox.evaluate({
        source: 'input.amount > 100',
        input: { amount: 150 },
        mode: 'expression',
        timeoutMs: 100,
        memoryLimitBytes: 16 << 20,
        maxOutputBytes: 1 << 20,
      }),
    ).resolves.toBe(true);
  });

  it('has no process, require, fetch, timers or file system', async () => {
    await expect(
      run(
        'return [typeof process, typeof require, typeof fetch, typeof setTimeout, typeof XMLHttpRequest, typeof std];',
      ),
    ).resolves.toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
  });

  it('stops an endless loop with a clear error, and keeps working afterwards', async () => {
    const started = Date.now();
    const error = await failure(run('while (true) {}', null, { timeoutMs: 200 }));
    expect(error.kind).toBe('code.timeout');
    expect(error.message).toMatch(/did not finish within 200 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(run('return 1 + 1;')).resolves.toBe(2);
  });

  it('stops code that exhausts its memory limit', async () => {
    const error = await failure(
      run('const a = []; while (true) a.push("x".repeat(1024) + a.length);', null, {
        memoryLimitBytes: 8 << 20,
        // Generous: this is about memory; on a loaded machine filling 8 MiB can take seconds.
        timeoutMs: 25_000,
      }),
    );
    expect(error.kind).toBe('code.memory');
    expect(error.message).toMatch(/memory limit of 8 MiB/);
    await expect(run('return "still alive";', null, { memoryLimitBytes: 8 << 20 })).resolves.toBe('still alive');
  });

  it('reports thrown errors with their line', async () => {
    const error = await failure(run('const a = 1;\nthrow new TypeError("bad input " + a);'));
    expect(error.kind).toBe('code.error');
    expect(error.message).toBe('TypeError: bad input 1 (line 2)');
    expect(error.retryable).toBe(false);
  });

  it('does not let one activation leave state for the next', async () => {
    // Every intrinsic is frozen: the writes fail, by name, and nothing is left behind.
    expect((await failure(run('globalThis.leak = 1; return 1;'))).message).toMatch(/not extensible/);
    expect((await failure(run('Array.prototype.evil = 1; return 1;'))).message).toMatch(/not extensible/);
    await expect(run('return [typeof globalThis.leak, typeof [].evil];')).resolves.toEqual(['undefined', 'undefined']);
  });

  it('overflows the guest stack cleanly on deep recursion', async () => {
    const error = await failure(run('function f(n) { return f(n + 1) + 1; } return f(0);'));
    expect(error.message).toMatch(/stack overflow/);
  });
});

describe('sandbox pool', () => {
  const request = { input: null, mode: 'function', memoryLimitBytes: 16 << 20, maxOutputBytes: 1 << 20 } as const;

  /** A pool of `threads` for one test, disposed after it. */
  async function withPool(threads: number, use: (pool: SandboxPool) => Promise<void>): Promise<void> {
    const pool = new SandboxPool({ threads });
    try {
      await use(pool);
    } finally {
      await pool.dispose();
    }
  }

  it('queues requests while every thread is busy, and never runs one cancelled while queued', async () => {
    await withPool(1, async (pool) => {
      const busy = pool.evaluate({
        ...request,
        source: 'const end = Date.now() + 300; while (Date.now() < end); return 1;',
        timeoutMs: 5000,
      });
      const controller = new AbortController();
      const queued = pool.evaluate({
        ...request,
        source: 'while (true) {}',
        timeoutMs: 5000,
        signal: controller.signal,
      });
      const after = pool.evaluate({ ...request, source: 'return 2;', timeoutMs: 5000 });
      controller.abort();
      const started = Date.now();
      expect((await failure(queued)).kind).toBe('node.cancelled');
      await expect(busy).resolves.toBe(1);
      // Had the cancelled loop run, this would wait for its 5 s timeout.
      await expect(after).resolves.toBe(2);
      expect(Date.now() - started).toBeLessThan(4000);
    });
  });

  it('hands a job waiting in a thread that is replaced (a timeout, a cancel) to another thread', async () => {
    // One thread: the second request is handed to it while the first runs (pool.ts, PIPELINED).
    await withPool(1, async (pool) => {
      const endless = pool.evaluate({ ...request, source: 'while (true) {}', timeoutMs: 200 });
      const behindTimeout = pool.evaluate({ ...request, source: 'return 2;', timeoutMs: 5000 });
      expect((await failure(endless)).kind).toBe('code.timeout');
      await expect(behindTimeout).resolves.toBe(2);

      const controller = new AbortController();
      const cancelled = pool.evaluate({
        ...request,
        source: 'while (true) {}',
        timeoutMs: 5000,
        signal: controller.signal,
      });
      const behindCancel = pool.evaluate({ ...request, source: 'return 3;', timeoutMs: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort();
      expect((await failure(cancelled)).kind).toBe('node.cancelled');
      await expect(behindCancel).resolves.toBe(3);
    });
  });

  it('takes a job back from behind a long one when another thread is free', async () => {
    await withPool(2, async (pool) => {
      await Promise.all([pool.evaluate({ ...request, source: 'return 0;', timeoutMs: 5000 })]); // a thread is warm
      const started = Date.now();
      const long = pool.evaluate({ ...request, source: 'while (true) {}', timeoutMs: 3000 });
      const short = pool.evaluate({
        ...request,
        source: 'const end = Date.now() + 200; while (Date.now() < end); return 1;',
        timeoutMs: 5000,
      });
      // Both threads busy: this one is handed to one of them, maybe behind the endless loop.
      const behind = pool.evaluate({ ...request, source: 'return 2;', timeoutMs: 5000 });
      await expect(behind).resolves.toBe(2);
      expect(Date.now() - started).toBeLessThan(2000);
      await expect(short).resolves.toBe(1);
      expect((await failure(long)).kind).toBe('code.timeout');
    });
  });

  it('stops a job cancelled while it waited in a thread, even if the thread had started it', async () => {
    await withPool(1, async (pool) => {
      await pool.evaluate({ ...request, source: 'return 0;', timeoutMs: 5000 }); // the thread is warm
      const first = pool.evaluate({
        ...request,
        source: 'const end = Date.now() + 100; while (Date.now() < end); return 1;',
        timeoutMs: 5000,
      });
      const controller = new AbortController();
      // Its rejection is awaited after the blocking below: handled from now on.
      const endless = failure(
        pool.evaluate({ ...request, source: 'while (true) {}', timeoutMs: 5000, signal: controller.signal }),
      );
      const after = pool.evaluate({ ...request, source: 'return 3;', timeoutMs: 5000 });
      // The engine thread is busy (a commit): the thread ends the first job and starts the endless
      // one before this side hears of it. Blocked in the check phase, so that the next loop turn
      // runs the pool's cancel poll (timers) before the thread's answer (poll): the cancel finds
      // the endless job still waiting, as far as this side knows.
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          const blockUntil = Date.now() + 400;
          while (Date.now() < blockUntil);
          controller.abort();
          resolve();
        }),
      );
      const cancelledAt = Date.now();
      await expect(first).resolves.toBe(1);
      expect((await endless).kind).toBe('node.cancelled');
      await expect(after).resolves.toBe(3);
      expect(Date.now() - cancelledAt).toBeLessThan(2000);
    });
  });

  it('settles every job exactly as it should under a random mix of quick, slow, endless and cancelled ones', async () => {
    // The hand-over, the take-back and the skip together: nothing hangs, nothing is lost, every
    // answer is the job's own.
    let random = 2026;
    const next = (): number => {
      random = (Math.imul(random, 1103515245) + 12345) >>> 0;
      return random / 0x100000000;
    };
    await withPool(2, async (pool) => {
      const jobs = Array.from({ length: 120 }, (_, index) => {
        const kind = next();
        const controller = new AbortController();
        const cancelAfter = next() < 0.2 ? Math.floor(next() * 60) : null;
        const source =
          kind < 0.1
            ? 'while (true) {}'
            : kind < 0.3
              ? `const end = Date.now() + ${Math.floor(next() * 30)}; while (Date.now() < end); return input;`
              : 'return input;';
        const promise = pool.evaluate({
          ...request,
          input: index,
          source,
          timeoutMs: kind < 0.1 ? 300 : 5000,
          signal: controller.signal,
        });
        if (cancelAfter !== null) setTimeout(() => controller.abort(), cancelAfter);
        return { index, endless: kind < 0.1, cancelled: cancelAfter !== null, promise };
      });
      const started = Date.now();
      const outcomes = await Promise.all(
        jobs.map(({ promise }) =>
          promise.then(
            (value) => ({ value }),
            (error: unknown) => ({ kind: (error as NodeError).kind }),
          ),
        ),
      );
      // 12 endless ones at 300 ms each on two threads, the rest small: far under this bound.
      expect(Date.now() - started).toBeLessThan(15_000);
      jobs.forEach(({ index, endless, cancelled }, position) => {
        const outcome = outcomes[position];
        if (outcome && 'value' in outcome) expect(outcome.value, `job ${index}`).toBe(index);
        else if (cancelled) expect(outcome?.kind, `job ${index}`).toMatch(/^(node\.cancelled|code\.timeout)$/);
        else expect(endless ? outcome?.kind : `job ${index} failed: ${outcome?.kind}`).toBe('code.timeout');
      });
      await expect(pool.evaluate({ ...request, source: 'return "still here";', timeoutMs: 5000 })).resolves.toBe(
        'still here',
      );
    });
  });

  it('stops a running activation when its signal is aborted, and keeps working', async () => {
    await withPool(1, async (pool) => {
      const controller = new AbortController();
      const running = pool.evaluate({
        ...request,
        source: 'while (true) {}',
        timeoutMs: 20_000,
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      expect((await failure(running)).kind).toBe('node.cancelled');
      expect(Date.now() - started).toBeLessThan(5000);
      await expect(run('return "still here";')).resolves.toBe('still here');
    });
  });
});
