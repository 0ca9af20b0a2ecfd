// Crash test: real worker processes are killed with SIGKILL at random moments while 40 runs
// of an http + code + timer workflow execute against a real HTTP sink. Afterwards every run
// must have the right output, no completed activation may have run again (neither in the
// journal nor at the sink: no request for a node after its NodeCompleted), and the sink must
// have applied each Idempotency-Key's effect exactly once.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayJournal } from '../../engine/replay/index.js';
import { defaultRegistry, Engine } from '../../engine/runtime/engine.js';
import { assertNoCompletedNodeRanAgain, killWorkerAfter, lateRequests, seeded, startRuns } from '../support/chaos.js';
import { chain, node, runCli, startHttpSink, tempDir, type HttpSink } from '../support/harness.js';

const RUNS = 40;
const KILLS = 24;
const fastRetry = { maxAttempts: 20, initialIntervalMs: 20, backoffCoefficient: 2, maxIntervalMs: 300, jitter: 0.3 };

function paymentWorkflow(sinkUrl: string) {
  return chain('payments', [
    node('prepare', 'code', { code: 'return { order: input.n, amount: input.n * 10 + 5 };' }),
    node('charge', 'http.request', { method: 'POST', url: `${sinkUrl}/charge`, timeoutMs: 2000 }, { retry: fastRetry }),
    node('receipt', 'code', { code: 'return { order: input.body.echo.order, charged: input.body.echo.amount };' }),
    node('cool-off', 'wait.timer', { duration: '300ms' }),
    node('notify', 'http.request', { method: 'POST', url: `${sinkUrl}/notify`, timeoutMs: 2000 }, { retry: fastRetry }),
    node('summary', 'code', {
      code: 'let s = 0; for (let i = 0; i < 20000; i++) s = (s + i * input.body.echo.order) % 1000003; return { order: input.body.echo.order, charged: input.body.echo.charged, checksum: s };',
    }),
  ]);
}

function expectedOutput(n: number) {
  let checksum = 0;
  for (let i = 0; i < 20000; i += 1) checksum = (checksum + i * n) % 1000003;
  return { order: n, charged: n * 10 + 5, checksum };
}

describe('crash recovery under SIGKILL', () => {
  const dir = tempDir('stepwise-chaos-');
  let sink: HttpSink;
  beforeAll(async () => {
    sink = await startHttpSink({ failRate: 0.3, maxDelayMs: 150, seed: 7 });
  });
  afterAll(async () => {
    await sink.close();
    dir.cleanup();
  });

  it('finishes every run exactly once after 20+ kills', { timeout: 240_000 }, async () => {
    const file = join(dir.path, 'payments.stepwise.json');
    writeFileSync(file, JSON.stringify(paymentWorkflow(sink.url)));
    let runs = 0;
    const startBatch = async (count: number): Promise<void> => {
      await startRuns(file, dir.db, runs, count);
      runs += count;
    };
    await startBatch(RUNS);

    let kills = 0;
    const next = seeded(12345);
    const countCompletions = (path: string): number => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM events WHERE type = 'NodeCompleted'").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const unfinished = (): number => {
      const db = new Database(dir.db, { readonly: true });
      try {
        return (
          db.prepare("SELECT count(*) AS n FROM runs WHERE status NOT IN ('completed', 'failed')").get() as {
            n: number;
          }
        ).n;
      } finally {
        db.close();
      }
    };
    // Kill only while there is work left, so that every kill can interrupt something; on a fast
    // machine that finishes early, add runs until there have been enough kills.
    while (kills < KILLS) {
      if (unfinished() === 0) await startBatch(10);
      await killWorkerAfter(dir.db, 4, 100 + Math.floor(next() * 500));
      kills += 1;
    }
    // Most of the work must have happened in the workers that were killed, not the last one.
    const completedBeforeFinal = countCompletions(dir.db);

    const final = await runCli(['worker', '--until-idle', '--json'], { db: dir.db });
    expect(final.code, final.stderr).toBe(0);

    const engine = Engine.open({ dbPath: dir.db });
    try {
      const { runs: all } = await engine.queries.list({}, { limit: 10_000 });
      expect(all).toHaveLength(runs);
      let recoveredStarts = 0;
      /** Idempotency key (`runId:activationId`) → when its NodeCompleted was journaled. */
      const completedAt = new Map<string, number>();
      for (const run of all) {
        const n = (run.input as { n: number }).n;
        expect(run.status, `run ${run.runId} (n=${n}): ${JSON.stringify(run.error)}`).toBe('completed');
        expect(run.output).toEqual(expectedOutput(n));
        const events = await engine.queries.events(run.runId);
        recoveredStarts += events.filter((event) => event.type === 'NodeStarted' && event.data.recovered).length;
        assertNoCompletedNodeRanAgain(events);
        for (const event of events)
          if (event.type === 'NodeCompleted') completedAt.set(`${run.runId}:${event.activationId}`, event.at);
        const version = await engine.workflows.version(run.workflowId, run.version);
        expect(version).toBeDefined();
        if (version) expect(replayJournal(run.runId, version, events, defaultRegistry())).toMatchObject({ ok: true });
        for (const path of ['charge', 'notify']) {
          const key = `${run.runId}:${path}`;
          expect(sink.applied.get(key), `effect of ${key}`).toBe(1);
        }
      }
      // The sink answers a repeated key from its cache, so only its raw request log shows an
      // execution after completion.
      expect(lateRequests(sink, completedAt), 'requests after their node completed (or for no completed node)').toEqual(
        [],
      );
      // Every applied effect belongs to a run (no stray keys) and none applied twice.
      expect(sink.applied.size).toBe(runs * 2);
      expect([...sink.applied.values()].every((count) => count === 1)).toBe(true);
      // The kills really interrupted work: some activations were started again after a crash,
      // and retries (503s) happened.
      expect(recoveredStarts).toBeGreaterThan(0);
      // The killed workers did real work (the last worker did not do everything). Loose on
      // purpose: how much they get done depends on the machine's load.
      expect(completedBeforeFinal, 'activations completed by the workers that were killed').toBeGreaterThanOrEqual(
        runs,
      );
      if (process.env.STEPWISE_TEST_VERBOSE)
        console.log({ completedBeforeFinal, recoveredStarts, requests: sink.requests.length, kills });
      expect(sink.requests.length).toBeGreaterThan(runs * 2);
    } finally {
      await engine.close();
    }
  });
});
