// loop.map × redrive, found by a review: real engine, real SQLite file, real HTTP server on
// 127.0.0.1 that the child runs call.
// 1. A failed item's child run is a failed run, but its parent already took its end: redriving it
//    would journal a second end of the same item (the fan-out counted one item too many, broke its
//    concurrency and misplaced outputs). It is refused, naming the parent.
// 2. Redriving a parent whose loop.map failed ran the completed items again as new child runs with
//    new idempotency keys. The new attempt carries the completed items; only the others run.
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/runtime/engine.js';
import { testEngine } from '../support/engine.js';
import { chain, edge, node, sleep, until, workflow } from '../support/harness.js';
import { startItemServer, type ItemServer } from '../support/item-server.js';

/** Each call with its idempotency key, in arrival order. */
const callsWithKeys = (server: ItemServer) => server.calls.map((i, n) => ({ i, key: server.keys[n] }));

function itemWorkflow(url: string) {
  return chain('item', [
    node(
      'call',
      'http.request',
      { method: 'POST', url: `${url}/item`, timeoutMs: 20_000 },
      { retry: { maxAttempts: 1 } },
    ),
  ]);
}

function mapWorkflow(config: Record<string, unknown>) {
  return workflow(
    'fan',
    [
      node('start', 'trigger.manual'),
      node('map', 'loop.map', { items: '{{ input.items }}', workflowId: 'item', ...config }),
      node('end', 'output'),
    ],
    [edge('start', 'map'), edge('map', 'end')],
  );
}

const items = (count: number) => Array.from({ length: count }, (_, i) => ({ i }));

async function start(engine: Engine, input: unknown): Promise<string> {
  const run = await engine.commands.start('fan', { input });
  engine.startWorker();
  return run.runId;
}

describe('loop.map and redrive', () => {
  it('redriving a failed item\'s child run is refused, naming its parent; the open "collect" fan-out goes on in item order', async () => {
    const server = await startItemServer();
    // Item 0 fails at once (and again when redriven); items 1 and 2 are held until released.
    server.failing = (i) => i === 0;
    server.answerNow = (i) => i === 0;
    const engine = testEngine();
    await engine.workflows.save(itemWorkflow(server.url));
    await engine.workflows.save(mapWorkflow({ concurrency: 1, onItemError: 'collect' }));
    const runId = await start(engine, { items: items(3) });
    // Item 0 failed, item 1 started (concurrency 1) and is held.
    await until(() => server.calls.includes(1), 'item 1 called');
    const parked = await engine.queries.get(runId);
    const failedChild = parked?.children.find((child) => child.index === 0);
    expect(failedChild?.status).toBe('failed');

    // Somebody tries to redrive the failed child (the runs list offers it: it is a failed run): it is
    // refused, naming the parent, and the fan-out goes on undisturbed.
    await expect(engine.commands.redrive(failedChild?.runId ?? '', { by: 'ops' })).rejects.toThrow(
      `is a child of run ${runId}, which already took its end`,
    );
    await sleep(300);
    // Concurrency 1: item 2 must not start while item 1 is still running.
    expect(server.calls).not.toContain(2);
    expect(server.maxInFlight).toBe(1);

    server.release();
    const done = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 30_000 });
    expect(done.status).toBe('completed');
    const output = done.output as { index?: number; body?: { i: number } }[];
    // One place per item, in item order: [error of item 0, item 1's answer, item 2's answer].
    expect(output).toHaveLength(3);
    expect(output[0]).toMatchObject({ index: 0 });
    expect(output[1]).toMatchObject({ body: { i: 1 } });
    expect(output[2]).toMatchObject({ body: { i: 2 } });
    expect(done.children.map((child) => [child.index, child.status])).toEqual([
      [0, 'failed'],
      [1, 'completed'],
      [2, 'completed'],
    ]);
  }, 60_000);

  it('redriving a run whose loop.map failed on its last item keeps the completed items: only the failed one runs again', async () => {
    const server = await startItemServer();
    server.failing = (i) => i === 2;
    const engine = testEngine();
    await engine.workflows.save(itemWorkflow(server.url));
    await engine.workflows.save(mapWorkflow({ concurrency: 1 }));
    const runId = await start(engine, { items: items(3) });
    const failed = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 30_000 });
    expect(failed.status).toBe('failed');
    expect(failed.error?.kind).toBe('loop.map.item-failed');
    const before = callsWithKeys(server);
    expect(before.map((call) => call.i)).toEqual([0, 1, 2]);

    // The item is fixed on the server side; the run is redriven from its failed node.
    server.failing = () => false;
    await engine.commands.redrive(runId, { by: 'ops' });
    const done = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 30_000 });
    expect(done.status).toBe('completed');
    // Items 0 and 1 had completed (their charges, e-mails… happened): they must not be paid again —
    // or, at the very least, be sent again with the same idempotency keys so the target dedupes.
    const again = callsWithKeys(server).slice(before.length);
    for (const call of again.filter((entry) => entry.i !== 2)) {
      const first = before.find((entry) => entry.i === call.i);
      expect(call.key, `item ${call.i} was called again with a new idempotency key`).toBe(first?.key);
    }
    expect(again.map((call) => call.i)).toEqual([2]);
    // The output holds every item in order (0 and 1 from the first attempt's children), and the
    // journal replays: the carried items are the fold's, not a decision of the moment.
    expect((done.output as { body: { i: number } }[]).map((entry) => entry.body.i)).toEqual([0, 1, 2]);
    expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);
    expect(done.children.map((child) => [child.index, child.status])).toEqual([
      [0, 'completed'],
      [1, 'completed'],
      [2, 'failed'],
      [2, 'completed'],
    ]);
  }, 60_000);
});
