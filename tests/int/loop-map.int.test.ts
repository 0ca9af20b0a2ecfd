// The `loop.map` node on a real engine and a real SQLite file: one child run per item, never more
// than `concurrency` at once (counted by a real HTTP server the child calls), outputs in item
// order; a failed item fails the node naming it (or is collected); cancelling the parent cancels
// the running children; "latest" is pinned and journaled; the parent's journal replays. And the
// crash: a real worker process killed with SIGKILL after 3 of 12 items finished; after a restart
// only the 9 others run.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { eventDetail } from '../../engine/journal/describe.js';
import { replayExport } from '../../engine/replay/index.js';
import { defaultRegistry, Engine } from '../../engine/runtime/engine.js';
import { testEngine } from '../support/engine.js';
import { startItemServer } from '../support/item-server.js';
import {
  chain,
  edge,
  finished,
  node,
  printed,
  runCli,
  spawnCli,
  tempDir,
  until,
  workflow,
} from '../support/harness.js';

/** Child: trigger → POST {i} to the item server → output (`{status, headers, body}`). */
function itemWorkflow(url: string) {
  return chain('item', [node('call', 'http.request', { method: 'POST', url: `${url}/item`, timeoutMs: 20_000 })]);
}

/** Parent: trigger → loop.map over `input.items` → output; `error` → "handled" when asked. */
function mapWorkflow(config: Record<string, unknown>, withError = false) {
  return workflow(
    'fan',
    [
      node('start', 'trigger.manual'),
      node('map', 'loop.map', { items: '{{ input.items }}', workflowId: 'item', ...config }),
      node('end', 'output'),
      ...(withError ? [node('handled', 'output')] : []),
    ],
    [edge('start', 'map'), edge('map', 'end'), ...(withError ? [edge('map:error', 'handled')] : [])],
  );
}

const items = (count: number) => Array.from({ length: count }, (_, i) => ({ i }));
const bodies = (output: unknown) => (output as { body: unknown }[]).map((entry) => entry.body);
const expected = (count: number) => Array.from({ length: count }, (_, i) => ({ i, doubled: i * 2 }));

async function start(engine: Engine, input: unknown): Promise<string> {
  const run = await engine.commands.start('fan', { input });
  engine.startWorker();
  return run.runId;
}

describe('loop.map', () => {
  it('runs 12 items, never more than 3 at once, and emits their outputs in item order; the parent replays', async () => {
    const server = await startItemServer({ delayMs: 30 });
    // Later items answer faster, so children end out of item order.
    server.answerNow = () => true;
    const engine = testEngine();
    await engine.workflows.save(itemWorkflow(server.url));
    await engine.workflows.save(mapWorkflow({ concurrency: 3 }));
    const runId = await start(engine, { items: items(12) });
    const done = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 30_000 });
    expect(done.error).toBeNull();
    expect(done.status).toBe('completed');
    expect(bodies(done.output)).toEqual(expected(12));
    expect(server.maxInFlight).toBe(3);
    expect([...server.calls].sort((a, b) => a - b)).toEqual(items(12).map(({ i }) => i));
    // Every item is a child run linked both ways, listed with its index.
    expect(done.children.map((child) => [child.index, child.status])).toEqual(
      items(12).map(({ i }) => [i, 'completed']),
    );
    const child = await engine.queries.get(done.children[5]?.runId ?? '');
    expect(child?.parentRunId).toBe(runId);
    expect(child?.input).toEqual({ i: 5 });
    // 11 ends journaled while the fan-out went on, the 12th ended it.
    const ends = done.events.filter((event) => event.type === 'SignalReceived');
    expect(ends.filter((event) => event.data.pending === true)).toHaveLength(11);
    expect(ends.at(-1)?.data).toMatchObject({ signal: { wait: 'children', status: 'completed' } });
    expect(ends.at(-1)?.data.pending).toBeUndefined();
    const first = ends[0];
    if (first?.type !== 'SignalReceived' || first.data.signal.wait !== 'children') throw new Error('no end recorded');
    expect(eventDetail(first)).toBe(
      `progress: item ${first.data.signal.index}: child run ${first.data.signal.runId} completed`,
    );
    expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);
    const exported = await engine.queries.export(runId);
    expect(replayExport(JSON.parse(JSON.stringify(exported)), defaultRegistry())).toMatchObject({ ok: true });
  }, 60_000);

  it('pins "latest" when the node runs and journals it; an empty list emits [] without children', async () => {
    const server = await startItemServer();
    const engine = testEngine();
    await engine.workflows.save(itemWorkflow(server.url));
    await engine.workflows.save(itemWorkflow(server.url)); // the same content: still v1
    await engine.workflows.save({ ...itemWorkflow(server.url), name: 'item v2' });
    await engine.workflows.save(mapWorkflow({ concurrency: 2 }));
    const runId = await start(engine, { items: items(3) });
    const done = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 30_000 });
    expect(done.status).toBe('completed');
    const created = done.events.find((event) => event.type === 'WaitCreated');
    expect(created?.data.wait).toMatchObject({ kind: 'children', workflowId: 'item', version: 2, concurrency: 2 });
    expect(done.children.every((child) => child.version === 2)).toBe(true);

    const empty = await engine.waitForRun(await start(engine, { items: [] }), { until: 'finished', timeoutMs: 30_000 });
    expect(empty.status).toBe('completed');
    expect(empty.output).toEqual([]);
    expect(empty.children).toEqual([]);
  }, 60_000);

  it('a failed item fails the node naming its index and run, cancels the running items, or takes `error`; "collect" keeps going', async () => {
    const server = await startItemServer();
    server.failing = (i) => i === 1;
    // Item 1 fails at once; 0 and 2 are held, so they are running when it does.
    server.answerNow = (i) => i === 1;
    const engine = testEngine();
    await engine.workflows.save(itemWorkflow(server.url));
    await engine.workflows.save(mapWorkflow({ concurrency: 3 }));
    const runId = await start(engine, { items: items(6) });
    const failed = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 30_000 });
    const failedChild = failed.children.find((child) => child.index === 1);
    expect(failed.status).toBe('failed');
    expect(failed.error?.kind).toBe('loop.map.item-failed');
    expect(failed.error?.message).toMatch(new RegExp(`^item 1 \\(child run ${failedChild?.runId}\\) failed: `));
    expect(failed.error?.message).toContain('400');
    // Only the first three started; the two still running were cancelled by the parent.
    expect(failed.children.map((child) => [child.index, child.status])).toEqual([
      [0, 'cancelled'],
      [1, 'failed'],
      [2, 'cancelled'],
    ]);
    const sibling = await engine.queries.get(failed.children[0]?.runId ?? '');
    expect(sibling?.events.at(-1)).toMatchObject({ type: 'RunCancelled', data: { by: `run ${runId}` } });
    expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);

    // With `error` connected the run goes on: the node's failure must cancel the running items itself.
    await engine.workflows.save(mapWorkflow({ concurrency: 3 }, true));
    const handled = await engine.waitForRun(await start(engine, { items: items(3) }), {
      until: 'finished',
      timeoutMs: 30_000,
    });
    expect(handled.status).toBe('completed');
    expect(handled.output).toMatchObject({ error: { kind: 'loop.map.item-failed' } });
    expect(handled.children.map((child) => child.status)).toEqual(['cancelled', 'failed', 'cancelled']);

    server.release();
    await engine.workflows.save(mapWorkflow({ concurrency: 2, onItemError: 'collect' }));
    const collected = await engine.waitForRun(await start(engine, { items: items(4) }), {
      until: 'finished',
      timeoutMs: 30_000,
    });
    expect(collected.status).toBe('completed');
    const output = collected.output as unknown[];
    expect(output).toHaveLength(4);
    expect(output[1]).toMatchObject({ index: 1, runId: collected.children[1]?.runId, error: { kind: 'http.4xx' } });
    expect(bodies([output[0], output[2], output[3]])).toEqual([expected(4)[0], expected(4)[2], expected(4)[3]]);
  }, 60_000);

  it('a worker scoped to the parent run (stepwise run) does its children too, past its own capacity', async () => {
    // One slot, four items at a time, each on the pool: the items it cannot start at once wait
    // in the ready table under their own run ids, which the scoped worker must claim.
    const engine = testEngine({ concurrency: 1 });
    await engine.workflows.save(
      chain('item', [node('c', 'code', { code: 'return { doubled: Math.abs(input.i) * 2 };' })]),
    );
    await engine.workflows.save(mapWorkflow({ concurrency: 4 }));
    const { runId } = await engine.commands.start('fan', { input: { items: items(6) } });
    engine.startWorker({ runId });
    const done = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 15_000 });
    expect(done.status).toBe('completed');
    expect(done.output).toEqual(Array.from({ length: 6 }, (_, i) => ({ doubled: i * 2 })));
  });

  it('cancelling the parent cancels the running children and starts no more', async () => {
    const server = await startItemServer();
    server.answerNow = () => false;
    const engine = testEngine();
    await engine.workflows.save(itemWorkflow(server.url));
    await engine.workflows.save(mapWorkflow({ concurrency: 2 }));
    const runId = await start(engine, { items: items(5) });
    await until(() => server.calls.length === 2, 'two items called');
    await engine.commands.cancel(runId, { by: 'tester' });
    const detail = await engine.queries.get(runId);
    expect(detail?.status).toBe('cancelled');
    expect(detail?.children.map((child) => child.status)).toEqual(['cancelled', 'cancelled']);
    server.release();
    await engine.runUntilIdle();
    expect(server.calls).toHaveLength(2);
    expect((await engine.queries.list({}, { limit: 100 })).runs).toHaveLength(3);
  }, 60_000);

  it('refuses more than 10,000 items, and an output over the node limit, by name', async () => {
    const server = await startItemServer();
    const engine = testEngine();
    await engine.workflows.save(itemWorkflow(server.url));
    await engine.workflows.save(mapWorkflow({ concurrency: 2 }));
    const tooMany = await engine.waitForRun(await start(engine, { items: new Array(10_001).fill(0) }), {
      until: 'finished',
      timeoutMs: 30_000,
    });
    expect(tooMany.status).toBe('failed');
    expect(tooMany.error?.kind).toBe('node.config');
    expect(tooMany.error?.message).toBe(
      'config.items: 10001 items, more than 10000; split the list into batches (after evaluating its {{ }} expressions)',
    );
    expect(tooMany.children).toEqual([]);

    await engine.workflows.save({
      ...mapWorkflow({ concurrency: 2 }),
      nodes: mapWorkflow({ concurrency: 2 }).nodes.map((entry) =>
        entry.id === 'map' ? { ...entry, maxOutputBytes: 1024 } : entry,
      ),
    });
    const large = await engine.waitForRun(await start(engine, { items: items(12) }), {
      until: 'finished',
      timeoutMs: 30_000,
    });
    expect(large.status).toBe('failed');
    expect(large.error?.kind).toBe('node.output-too-large');
    expect(large.error?.message).toMatch(
      /^the outputs of the first \d+ items: output is at least \d+ bytes, over this node's output limit of 1024 bytes/,
    );
    // It stopped as soon as the outputs could not fit: the other items never ran.
    const ran = large.children.filter((child) => child.status === 'completed').length;
    expect(ran).toBeGreaterThan(1);
    expect(ran).toBeLessThan(12);
    expect(large.children.length).toBeLessThan(12);
  }, 60_000);
});

describe('loop.map killed mid-fan-out', () => {
  it('SIGKILL after 3 of 12 items finished: after a restart only the 9 others run, and the output is in item order', async () => {
    const dir = tempDir('stepwise-map-kill-');
    const server = await startItemServer();
    // Items 0–2 answer; every later one is held, so exactly 3 children can finish.
    server.answerNow = (i) => i < 3;
    try {
      const setup = Engine.open({ dbPath: dir.db });
      let runId: string;
      try {
        await setup.workflows.save(itemWorkflow(server.url));
        await setup.workflows.save(mapWorkflow({ concurrency: 3 }));
        runId = (await setup.commands.start('fan', { input: { items: items(12) } })).runId;
      } finally {
        await setup.close();
      }
      const worker = spawnCli(['worker', '--concurrency', '8'], { db: dir.db });
      const exit = finished(worker);
      await printed(worker, 'stepwise worker: running');
      // Three ends are journaled on the parent (and with them items 3–5 started and called).
      const ends = (): number => {
        const db = new Database(dir.db, { readonly: true });
        try {
          return (
            db.prepare("SELECT count(*) AS n FROM events WHERE run_id = ? AND type = 'SignalReceived'").get(runId) as {
              n: number;
            }
          ).n;
        } finally {
          db.close();
        }
      };
      await until(() => ends() === 3 && server.calls.length === 6, '3 items finished and 3 more called', 30_000);
      worker.kill('SIGKILL');
      expect((await exit).signal).toBe('SIGKILL');
      expect(ends()).toBe(3);

      server.release();
      const final = await runCli(['worker', '--until-idle', '--json'], { db: dir.db });
      expect(final.code, final.stderr).toBe(0);

      const engine = Engine.open({ dbPath: dir.db });
      try {
        const done = await engine.queries.get(runId);
        expect(done?.status, JSON.stringify(done?.error)).toBe('completed');
        expect(bodies(done?.output)).toEqual(expected(12));
        // The 3 finished items were called once; 3–5 were running (called again on recovery,
        // with the same idempotency key); the other 6 once, after the restart.
        const calls = new Map<number, number>();
        for (const i of server.calls) calls.set(i, (calls.get(i) ?? 0) + 1);
        for (const i of [0, 1, 2]) expect(calls.get(i), `item ${i}`).toBe(1);
        for (let i = 6; i < 12; i += 1) expect(calls.get(i), `item ${i}`).toBe(1);
        expect(done?.children).toHaveLength(12);
        // No item's child run was started twice (ids are per item), and the parent replays.
        expect((await engine.queries.list({}, { limit: 100 })).runs).toHaveLength(13);
        expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);
      } finally {
        await engine.close();
      }
    } finally {
      dir.cleanup();
    }
  }, 120_000);
});
