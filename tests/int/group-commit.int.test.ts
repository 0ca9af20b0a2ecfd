// The group commit's failure paths and the races between processes, on real database files: an
// unreadable run, a write that breaks the store, a busy store, a conflict whose run cannot be
// re-read, a worker stopping while a commit is under way, two workers firing one timer, a command
// on a run another worker moved on, and a lease another worker took over.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Engine, ManualClock } from '../../engine/runtime/engine.js';
import { GroupCommit } from '../../engine/runtime/group-commit.js';
import { RunBook } from '../../engine/runtime/run-book.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { SqliteStore, type CommitBatch } from '../../engine/store/index.js';
import { dbPathOf, holdingServer, readDb, testEngine } from '../support/engine.js';
import { busyError, faultyStore, type Faults } from '../support/faulty-store.js';
import { chain, node, refundFlow, tempDir, until } from '../support/harness.js';

/** An HTTP endpoint that holds each request until the test answers it. */
const http = holdingServer();

const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** An engine on a file of `testEngine`'s, its store wrapped with faults. */
function faultyEngine(path: string, faults: Faults, options: { clock?: ManualClock } = {}): Engine {
  const store = faultyStore(new SqliteStore(path, { synchronous: 'NORMAL' }), faults);
  return Engine.open({ store, pollMs: 20, ...options });
}

async function parkedRefunds(count: number): Promise<{ path: string; runIds: string[] }> {
  const engine = testEngine();
  const { workflowId } = await engine.saveWorkflow(refundFlow());
  const runIds: string[] = [];
  for (let index = 0; index < count; index += 1)
    runIds.push((await engine.startRun(workflowId, { input: { amount: index } })).runId);
  const worker = engine.startWorker();
  await worker.started;
  for (const runId of runIds) await engine.waitForRun(runId, { timeoutMs: 5000 });
  await engine.stopWorker();
  return { path: dbPathOf(engine), runIds };
}

describe('the group commit when something fails', () => {
  it('a run whose journal cannot be read is refused alone; the others commit, and closing does not hang', async () => {
    const { path, runIds } = await parkedRefunds(2);
    const [broken, healthy] = runIds as [string, string];
    const raw = new Database(path);
    raw.prepare('UPDATE events SET v = 9 WHERE run_id = ? AND seq = 1').run(broken);
    raw.close();
    const engine = Engine.open({ dbPath: path, synchronous: 'NORMAL' });
    const results = await Promise.allSettled([
      engine.commands.decide(broken, 'approved'),
      engine.commands.decide(healthy, 'approved'),
    ]);
    expect(results[0]).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/written by a newer Stepwise/) },
    });
    expect(results[1]).toMatchObject({ status: 'fulfilled' });
    await engine.close();
  });

  it('a write that breaks the store refuses only the item that made it', async () => {
    const { path, runIds } = await parkedRefunds(2);
    const [bad, good] = runIds as [string, string];
    const engine = faultyEngine(path, {
      commit: (batch) => {
        if (batch.runs.some((write) => write.runId === bad)) throw new Error('disk I/O error');
      },
    });
    try {
      const results = await Promise.allSettled([
        engine.commands.decide(bad, 'approved'),
        engine.commands.decide(good, 'approved'),
      ]);
      expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled']);
      expect((await engine.queries.get(good))?.approvals[0]?.status).toBe('decided');
      expect((await engine.queries.get(bad))?.approvals[0]?.status).toBe('open');
    } finally {
      await engine.close();
    }
  });

  it('a busy store is tried again: the command goes through', async () => {
    const { path, runIds } = await parkedRefunds(1);
    let busy = 2;
    const engine = faultyEngine(path, {
      commit: () => {
        if (busy-- > 0) throw busyError();
      },
    });
    try {
      const started = Date.now();
      expect(await engine.commands.decide(runIds[0] as string, 'rejected')).toMatchObject({ runId: runIds[0] });
      expect(busy).toBe(-1);
      // Backing off: 200 ms, then 400 ms.
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    } finally {
      await engine.close();
    }
  });

  it('a conflict whose run cannot be re-read refuses the items on that run only', async () => {
    const { path, runIds } = await parkedRefunds(2);
    const [moved, other] = runIds as [string, string];
    const store = new SqliteStore(path, { synchronous: 'NORMAL' });
    let failRefresh = false;
    const faulty = faultyStore(store, {
      readEvents: (runId, afterSeq) => {
        if (failRefresh && runId === moved && afterSeq > 0) throw new Error('cannot read the journal');
      },
    });
    const book = new RunBook(faulty, defaultRegistry());
    const commits = new GroupCommit(faulty, book, new ManualClock(Date.now()), silent);
    await book.ensure([moved, other]);
    // Another process moves `moved` on after this book read it.
    const otherEngine = Engine.open({ dbPath: path, synchronous: 'NORMAL' });
    await otherEngine.commands.cancel(moved, { reason: 'elsewhere' });
    await otherEngine.close();
    failRefresh = true;
    const note = (runId: string) => ({
      runIds: [runId],
      apply: (batch: Parameters<Parameters<typeof commits.run>[0]['apply']>[0]) => {
        batch.record(runId, {
          type: 'RunCancelled',
          activationId: null,
          nodeId: null,
          attempt: null,
          data: { reason: 'here', by: 'test' },
        });
      },
    });
    const results = await Promise.allSettled([commits.run(note(moved)), commits.run(note(other))]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { message: 'cannot read the journal' } });
    expect(results[1]).toMatchObject({ status: 'fulfilled' });
    await commits.idle();
    await store.close();
  });
});

describe('races between workers and processes', () => {
  it('a worker stopping while a commit is under way dispatches nothing; another worker recovers the activation', async () => {
    const engine = testEngine();
    const path = dbPathOf(engine);
    const { workflowId } = await engine.saveWorkflow(
      chain('stop', [node('call', 'http.request', { url: `${http.server.url}/stop` })]),
    );
    await engine.startRun(workflowId);
    await engine.close();

    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let gated = false;
    const stopping = faultyEngine(path, {
      commit: async (batch: CommitBatch) => {
        // Hold the commit that starts the HTTP node.
        if (
          batch.runs.some((write) =>
            write.events.some((event) => event.type === 'NodeStarted' && event.nodeId === 'call'),
          )
        ) {
          gated = true;
          await gate;
        }
      },
    });
    const first = http.server.held.length;
    const worker = stopping.startWorker();
    await worker.started;
    await until(() => gated, 'the commit that starts the node');
    const stopped = stopping.stopWorker();
    release();
    await stopped;
    await stopping.close();
    expect(http.server.held.length, 'a request sent after the worker stopped').toBe(first);
    const lease = readDb(path, (db) => db.prepare("SELECT lease_owner FROM ready WHERE activation_id = 'call'").get());
    expect(lease).toEqual({ lease_owner: null });

    const next = Engine.open({ dbPath: path, synchronous: 'NORMAL', pollMs: 20 });
    try {
      next.startWorker();
      await until(() => http.server.held.length === first + 1, 'the next worker to call');
      http.server.answer(first, {});
      const [run] = (await next.queries.list()).runs;
      const done = await next.waitForRun(run?.runId ?? '', { until: 'finished', timeoutMs: 5000 });
      const starts = done.events.filter((event) => event.type === 'NodeStarted' && event.nodeId === 'call');
      expect(starts.map((event) => event.type === 'NodeStarted' && event.data.recovered)).toEqual([false, true]);
    } finally {
      await next.close();
    }
  });

  it('two workers firing the same due timer: it fires once', async () => {
    const clock = new ManualClock();
    const engine = testEngine({ clock });
    const { workflowId } = await engine.saveWorkflow(chain('nap', [node('w', 'wait.timer', { duration: '1m' })]));
    const run = await engine.startRun(workflowId, { input: 1 });
    const worker = engine.startWorker();
    await worker.started;
    await worker.settled();
    await engine.stopWorker();
    const later = clock.now() + 120_000;
    const a = Engine.open({ dbPath: dbPathOf(engine), synchronous: 'NORMAL', clock: new ManualClock(later) });
    const b = Engine.open({ dbPath: dbPathOf(engine), synchronous: 'NORMAL', clock: new ManualClock(later) });
    try {
      const [wa, wb] = [a.startWorker(), b.startWorker()];
      await Promise.all([wa.started, wb.started]);
      await Promise.all([wa.settled(), wb.settled()]);
      const done = await a.queries.get(run.runId);
      expect(done?.status).toBe('completed');
      expect(done?.events.filter((event) => event.type === 'TimerFired')).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a command on a run another worker took to its approval meanwhile is decided, not refused', async () => {
    const dir = tempDir();
    try {
      const host = Engine.open({ dbPath: dir.db, synchronous: 'NORMAL' });
      const { workflowId } = await host.saveWorkflow(refundFlow());
      const run = await host.startRun(workflowId, { input: { amount: 4 } });
      // The host caches the run at its start; another process's worker runs it to the approval.
      const other = Engine.open({ dbPath: dir.db, synchronous: 'NORMAL', pollMs: 20 });
      other.startWorker();
      await other.waitForRun(run.runId, { timeoutMs: 5000 });
      await other.close();
      expect(await host.commands.decide(run.runId, 'approved', { by: 'alice' })).toMatchObject({ runId: run.runId });
      await host.close();
    } finally {
      dir.cleanup();
    }
  });

  it('an execution whose lease another worker took over is aborted', async () => {
    const engine = testEngine({ clock: new ManualClock(), leaseMs: 10_000 });
    const clock = engine.clock as ManualClock;
    const { workflowId } = await engine.saveWorkflow(
      chain('lost', [node('call', 'http.request', { url: `${http.server.url}/lost` })]),
    );
    await engine.startRun(workflowId);
    const first = http.server.held.length;
    const slow = engine.startWorker();
    await slow.started;
    await until(() => http.server.held.length === first + 1, 'the first worker to call');
    const other = Engine.open({
      dbPath: dbPathOf(engine),
      synchronous: 'NORMAL',
      clock: new ManualClock(clock.now() + 11_000),
      pollMs: 20,
    });
    try {
      const takeover = other.startWorker();
      await takeover.started;
      await until(() => http.server.held.length === first + 2, 'the second worker to take over');
      // The first worker's next heartbeat finds the lease gone, and stops its execution.
      clock.advance(1000);
      await until(() => http.server.held[first]?.closed === true, 'the first execution to be aborted');
      http.server.answer(first + 1, {});
      await takeover.settled();
    } finally {
      await other.close();
    }
  });
});
