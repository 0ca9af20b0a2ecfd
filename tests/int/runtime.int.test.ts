// The runtime's seams on real database files, driven by a manual clock (no sleeps for timers,
// leases or limits): timers, lease takeover, start-to-close limits, group-commit isolation,
// optimistic checks between processes, and the run watch.
import { describe, expect, it } from 'vitest';
import { Engine, ManualClock } from '../../engine/runtime/engine.js';
import { dbPathOf, holdingServer, testEngine } from '../support/engine.js';
import { chain, node, refundFlow, until } from '../support/harness.js';

/** An HTTP endpoint that holds each request until the test answers it. */
const http = holdingServer();

describe('the runtime on a manual clock', () => {
  it('a timer fires when the clock reaches it, recorded with how late it was', async () => {
    const clock = new ManualClock();
    const engine = testEngine({ clock });
    const { workflowId } = await engine.saveWorkflow(chain('nap', [node('w', 'wait.timer', { duration: '1h' })]));
    const run = await engine.startRun(workflowId, { input: 'zzz' });
    const worker = engine.startWorker();
    await worker.started;
    await worker.settled();
    expect((await engine.queries.get(run.runId))?.status).toBe('waiting');

    clock.advance(59 * 60_000);
    await worker.settled();
    expect((await engine.queries.get(run.runId))?.status).toBe('waiting');

    clock.advance(61 * 60_000);
    await worker.settled();
    const done = await engine.queries.get(run.runId);
    expect(done).toMatchObject({ status: 'completed', output: 'zzz' });
    const fired = done?.events.find((event) => event.type === 'TimerFired');
    expect(fired?.type === 'TimerFired' && fired.data.lateMs).toBeGreaterThanOrEqual(60 * 60_000 - 100);
  });

  it('a node past its start-to-close limit fails as engine.timeout, its execution is aborted, and it is retried', async () => {
    const clock = new ManualClock();
    const engine = testEngine({ clock });
    const retry = { maxAttempts: 2, initialIntervalMs: 1000, backoffCoefficient: 1, maxIntervalMs: 1000, jitter: 0 };
    const graph = chain('slow', [
      node('call', 'http.request', { url: `${http.server.url}/slow`, timeoutMs: 600_000 }, { timeoutMs: 5000, retry }),
    ]);
    const { workflowId } = await engine.saveWorkflow(graph);
    const run = await engine.startRun(workflowId);
    const worker = engine.startWorker();
    await worker.started;
    const first = http.server.held.length;
    await until(() => http.server.held.length === first + 1, 'the first attempt to call');

    clock.advance(6000);
    await until(() => http.server.held[first]?.closed === true, 'the abandoned attempt to be aborted');
    await until(() => worker.executing === 0, 'the attempt to be abandoned');
    await worker.settled();
    clock.advance(1000);
    await until(() => http.server.held.length === first + 2, 'the retry');
    http.server.answer(first + 1, { ok: true });
    await worker.settled();
    const done = await engine.queries.get(run.runId);
    expect(done?.status).toBe('completed');
    const call = done?.activations.find((activation) => activation.nodeId === 'call');
    expect(call?.attempts.map((attempt) => attempt.error?.kind ?? null)).toEqual(['engine.timeout', null]);
    expect(call?.attempts[0]?.error?.message).toMatch(/start-to-close limit of 5s; the attempt was abandoned/);
    // Both attempts sent the same idempotency key.
    expect(http.server.held[first]?.key).toBe(`${run.runId}:call`);
    expect(http.server.held[first + 1]?.key).toBe(`${run.runId}:call`);
  });

  it('a worker that went silent loses its activation to another after the lease; its late outcome is refused', async () => {
    const engine = testEngine({ clock: new ManualClock(), leaseMs: 10_000 });
    const path = dbPathOf(engine);
    const { workflowId } = await engine.saveWorkflow(
      chain('lease', [node('call', 'http.request', { url: `${http.server.url}/x` })]),
    );
    const run = await engine.startRun(workflowId, { input: { n: 1 } });
    const silent = engine.startWorker();
    await silent.started;
    const first = http.server.held.length;
    await until(() => http.server.held.length === first + 1, 'the first worker to call');

    // Another process whose clock is past the lease: the first worker's heartbeat is 11 s old.
    const later = new ManualClock(engine.clock.now() + 11_000);
    const other = Engine.open({ dbPath: path, synchronous: 'NORMAL', clock: later, pollMs: 20 });
    try {
      const takeover = other.startWorker();
      await takeover.started;
      await until(() => http.server.held.length === first + 2, 'the second worker to call again');
      http.server.answer(first + 1, { by: 'second' });
      await takeover.settled();
      http.server.answer(first, { by: 'first' });
      await silent.settled();
      const done = await other.queries.get(run.runId);
      expect(done).toMatchObject({ status: 'completed', output: { status: 200, body: { by: 'second' } } });
      const starts = done?.events.filter((event) => event.type === 'NodeStarted' && event.nodeId === 'call') ?? [];
      expect(starts.map((event) => event.type === 'NodeStarted' && [event.attempt, event.data.recovered])).toEqual([
        [1, false],
        [1, true],
      ]);
      expect(done?.events.filter((event) => event.type === 'NodeCompleted' && event.nodeId === 'call')).toHaveLength(1);
      expect(http.server.held[first]?.key).toBe(http.server.held[first + 1]?.key);
    } finally {
      await other.close();
    }
  });

  it('a decision another process made meanwhile is caught by the commit: the second is refused, naming the first', async () => {
    const engine = testEngine();
    const { workflowId } = await engine.saveWorkflow(refundFlow());
    const run = await engine.startRun(workflowId, { input: { amount: 3 } });
    const worker = engine.startWorker();
    await worker.started;
    await engine.waitForRun(run.runId, { timeoutMs: 5000 });
    const other = Engine.open({ dbPath: dbPathOf(engine), synchronous: 'NORMAL' });
    try {
      await other.commands.decide(run.runId, 'rejected', { by: 'bob' });
    } finally {
      await other.close();
    }
    // This engine's cached state still says "waiting": the commit finds the run moved on.
    await expect(engine.commands.decide(run.runId, 'approved', { by: 'alice' })).rejects.toThrow(
      /approval "ok" of run .* was already decided: rejected by bob at .*; a decision is recorded once/,
    );
    const done = await engine.waitForRun(run.runId, { timeoutMs: 5000 });
    expect(done.events.filter((event) => event.type === 'SignalReceived')).toHaveLength(1);
  });

  it('an item that is refused does not hold back the others in its commit', async () => {
    const engine = testEngine();
    const { workflowId } = await engine.saveWorkflow(chain('c', [node('x', 'code', { code: 'return input * 2;' })]));
    const worker = engine.startWorker();
    await worker.started;
    const results = await Promise.allSettled([
      engine.commands.cancel('no-such-run'),
      engine.startRun(workflowId, { input: 21 }),
      engine.commands.decide('no-such-run', 'approved'),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
    const started = results[1];
    if (started?.status !== 'fulfilled') throw new Error('expected the start to commit');
    expect((await engine.waitForRun(started.value.runId, { timeoutMs: 5000 })).output).toBe(42);
    expect(engine.stats().commits).toBeLessThan(10);
  });

  it('watchRuns reports changes made by another process', async () => {
    const engine = testEngine();
    const { workflowId } = await engine.saveWorkflow(refundFlow());
    const run = await engine.startRun(workflowId, { input: { amount: 3 } });
    const seen: string[] = [];
    const stop = engine.watchRuns(
      (changes) => {
        for (const change of changes) if (change.runId === run.runId) seen.push(change.status);
      },
      { pollMs: 10 },
    );
    try {
      const other = Engine.open({ dbPath: dbPathOf(engine), synchronous: 'NORMAL' });
      try {
        await other.commands.cancel(run.runId, { reason: 'from the CLI' });
      } finally {
        await other.close();
      }
      await until(() => seen.includes('cancelled'), 'the change by the other process');
    } finally {
      stop();
    }
  });
});
