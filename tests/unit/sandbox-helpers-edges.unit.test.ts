// Sandbox helpers at their edges, found by a review: run in the real sandbox (QuickJS on the worker pool; needs
// `npm run build` for the thread script).
// - `$math.round` goes through the number's decimal text (`${value}e${decimals}`): for a number whose
//   text is already in exponent form (|x| < 1e-6 or ≥ 1e21) that text is "1e-7e2", which is NaN. So
//   `$math.round(0.0000001, 2)` and `$math.percent(1, 1e9)` give NaN (null once in JSON) instead of
//   0; a money or ratio calculation silently yields null.
// - `$date.diff`'s unit lookup reads inherited keys: `$date.diff(a, b, 'toString')` divides by a
//   function and answers NaN instead of refusing the unknown unit as it does for 'y'.
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxPool } from '../../engine/sandbox/index.js';

const sandbox = new SandboxPool({ threads: 1 });
afterAll(() => sandbox.dispose());

const run = (source: string) =>
  sandbox.evaluate({
    source,
    input: null,
    mode: 'function',
    timeoutMs: 2000,
    memoryLimitBytes: 32 * 1024 * 1024,
    maxOutputBytes: 1 << 20,
    now: Date.UTC(2024, 0, 1),
  });

describe('sandbox helpers at their edges', () => {
  it('$math.round and $math.percent give numbers for very small and very large values', async () => {
    await expect(run('return $math.round(0.0000001, 2);')).resolves.toBe(0);
    await expect(run('return $math.round(-0.00000042, 3);')).resolves.toBe(0);
    await expect(run('return $math.round(1e21, 2);')).resolves.toBe(1e21);
    // 1 of a billion is 0.0000001 %: rounded to 2 decimals, 0.
    await expect(run('return $math.percent(1, 1e9);')).resolves.toBe(0);
  });

  it('$date.diff refuses a unit that is not one of ms, s, m, h, d, w (inherited names too)', async () => {
    await expect(run("return $date.diff(0, 1000, 'y');")).rejects.toThrow(/unknown unit/);
    await expect(run("return $date.diff(0, 1000, 'toString');")).rejects.toThrow(/unknown unit/);
  });
});
