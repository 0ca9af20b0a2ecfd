// Crash test for deferred pure work: real workers are killed with SIGKILL while runs go through a
// chain of pure code nodes (journaled in memory until the chain reaches its HTTP node; half of
// them answered directly, inside the batch that schedules them) followed by an HTTP call to a
// real sink. A kill loses only pure work, redone from the last commit: every run still completes
// with the right output, the HTTP node's effect is applied once per run, no request arrives
// after its node's completion, and every journal replays.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayJournal } from '../../engine/replay/index.js';
import { defaultRegistry, Engine } from '../../engine/runtime/engine.js';
import { assertNoCompletedNodeRanAgain, killWorkerAfter, lateRequests, seeded, startRuns } from '../support/chaos.js';
import { chain, node, runCli, startHttpSink, tempDir, type HttpSink } from '../support/harness.js';

const RUNS = 16;
const KILLS = 10;
const PURE = 8;

/**
 * Eight code nodes, then the charge, then a last code node. The odd ones loop for a few
 * milliseconds on the pool; the even ones are answered directly, inside the batch of the outcome
 * before them — so a kill lands among deferred batches of both kinds.
 */
function pureThenHttp(sinkUrl: string) {
  const pure = Array.from({ length: PURE }, (_, index) =>
    node(`p${index + 1}`, 'code', {
      code:
        index % 2 === 0
          ? 'let s = 0; for (let i = 0; i < 60000; i++) s = (s + i) % 1009; return { n: input.n, step: (input.step ?? 0) + 1, s };'
          : 'return { n: input.n, step: (input.step ?? 0) + 1, s: input.s };',
    }),
  );
  return chain('pure-then-http', [
    ...pure,
    node('charge', 'http.request', { method: 'POST', url: `${sinkUrl}/charge`, body: '{{ input }}', timeoutMs: 2000 }),
    node('done', 'code', { code: 'return { n: input.body.echo.n, steps: input.body.echo.step };' }),
  ]);
}

describe('a worker killed in the middle of a chain of pure nodes', () => {
  const dir = tempDir('stepwise-chaos-pure-');
  let sink: HttpSink;
  beforeAll(async () => {
    sink = await startHttpSink({ maxDelayMs: 20, seed: 11 });
  });
  afterAll(async () => {
    await sink.close();
    dir.cleanup();
  });

  it('redoes only pure work: the HTTP node runs once per completion', { timeout: 240_000 }, async () => {
    const file = join(dir.path, 'pure.stepwise.json');
    writeFileSync(file, JSON.stringify(pureThenHttp(sink.url)));
    let runs = 0;
    const startBatch = async (count: number): Promise<void> => {
      await startRuns(file, dir.db, runs, count);
      runs += count;
    };
    await startBatch(RUNS);
    const next = seeded(4242);
    const engine = Engine.open({ dbPath: dir.db, readonly: true });
    const unfinished = async (): Promise<number> =>
      (await engine.queries.list({}, { limit: 10_000 })).runs.filter((run) => run.status !== 'completed').length;
    try {
      for (let kills = 0; kills < KILLS; kills += 1) {
        if ((await unfinished()) === 0) await startBatch(4);
        await killWorkerAfter(dir.db, 2, 60 + Math.floor(next() * 300));
      }
    } finally {
      await engine.close();
    }
    const final = await runCli(['worker', '--until-idle', '--json'], { db: dir.db });
    expect(final.code, final.stderr).toBe(0);

    const check = Engine.open({ dbPath: dir.db });
    try {
      const { runs: all } = await check.queries.list({}, { limit: 10_000 });
      expect(all).toHaveLength(runs);
      let pureRecovered = 0;
      const completedAt = new Map<string, number>();
      for (const run of all) {
        const n = (run.input as { n: number }).n;
        expect(run.status, `run ${run.runId}: ${JSON.stringify(run.error)}`).toBe('completed');
        expect(run.output).toEqual({ n, steps: PURE });
        const events = await check.queries.events(run.runId);
        pureRecovered += events.filter(
          (event) => event.type === 'NodeStarted' && event.data.recovered && event.nodeId?.startsWith('p'),
        ).length;
        assertNoCompletedNodeRanAgain(events);
        for (const event of events)
          if (event.type === 'NodeCompleted') completedAt.set(`${run.runId}:${event.activationId}`, event.at);
        const version = await check.workflows.version(run.workflowId, run.version);
        if (!version) throw new Error(`no version for ${run.runId}`);
        expect(replayJournal(run.runId, version, events, defaultRegistry())).toMatchObject({ ok: true });
        expect(sink.applied.get(`${run.runId}:charge`), `effect of ${run.runId}`).toBe(1);
      }
      // A request may be in flight when its worker dies (then it is sent again with the same
      // key); none may arrive after the node's completion was journaled.
      expect(lateRequests(sink, completedAt), 'requests after their node completed (or for no completed node)').toEqual(
        [],
      );
      expect(sink.applied.size).toBe(runs);
      // The kills landed in pure chains: pure nodes were started again from the last commit.
      expect(pureRecovered).toBeGreaterThan(0);
      if (process.env.STEPWISE_TEST_VERBOSE) console.log({ pureRecovered, requests: sink.requests.length, runs });
    } finally {
      await check.close();
    }
  });
});
