// The `subworkflow` node on a real engine and a real SQLite file: the child runs on the pinned
// version and its output flows to the parent; "latest" is resolved once and journaled, so a version
// saved meanwhile changes nothing, even across a restart; a failed child fails the parent or takes
// `error`; cancelling the parent cancels the child; parent and child are linked both ways; the
// parent's journal replays.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../engine/runtime/engine.js';
import { dbPathOf, testEngine } from '../support/engine.js';
import { chain, edge, node, workflow } from '../support/harness.js';

/** Child: trigger → wait.signal "go" → output (the signal's payload). Parks until it is sent. */
const waitingChild = chain('child', [node('go', 'wait.signal', { name: 'go' })]);
/** Child: trigger → output (the input, at once). */
const echoChild = chain('echo', []);
/** Child: trigger → fail. */
const failingChild = workflow(
  'broken',
  [node('start', 'trigger.manual'), node('boom', 'fail', { message: 'card declined' })],
  [edge('start', 'boom')],
);

function parent(id: string, config: Record<string, unknown>, withError = false) {
  return workflow(
    id,
    [
      node('start', 'trigger.manual'),
      node('sub', 'subworkflow', config),
      node('end', 'output'),
      ...(withError ? [node('handled', 'output')] : []),
    ],
    [edge('start', 'sub'), edge('sub', 'end'), ...(withError ? [edge('sub:error', 'handled')] : [])],
  );
}

async function start(engine: Engine, id: string, input: unknown): Promise<string> {
  const run = await engine.commands.start(id, { input });
  engine.startWorker();
  return run.runId;
}

async function waitingChildOf(engine: Engine, parentId: string): Promise<string> {
  const detail = await engine.waitForRun(parentId, { timeoutMs: 10_000 });
  expect(detail.status).toBe('waiting');
  const [child] = detail.children;
  if (!child) throw new Error('no child');
  await engine.waitForRun(child.runId, { timeoutMs: 10_000 });
  return child.runId;
}

describe('subworkflow', () => {
  it("runs the child on the pinned version, with a {{ }} input, and emits the child's output; the two are linked and both replay", async () => {
    const engine = testEngine();
    await engine.workflows.save(echoChild);
    await engine.workflows.save({ ...echoChild, name: 'echo v2', nodes: [...echoChild.nodes] });
    // v2 exists, but the parent pins v1.
    await engine.workflows.save(
      parent('p', { workflowId: 'echo', version: 1, input: { doubled: '{{ input.n * 2 }}' } }),
    );
    const runId = await start(engine, 'p', { n: 21 });
    const done = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 15_000 });
    expect(done.error).toBeNull();
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ doubled: 42 });
    expect(done.children).toHaveLength(1);
    const link = done.children[0];
    expect(link).toMatchObject({ nodeId: 'sub', workflowId: 'echo', version: 1, status: 'completed' });
    const child = await engine.queries.get(link?.runId ?? '');
    expect(child?.parentRunId).toBe(runId);
    expect(child?.version).toBe(1);
    expect(child?.input).toEqual({ doubled: 42 });
    const waitCreated = done.events.find((event) => event.type === 'WaitCreated');
    expect(waitCreated?.data).toMatchObject({
      wait: { kind: 'child', workflowId: 'echo', version: 1, runId: link?.runId },
    });
    expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);
    expect((await engine.queries.verifyReplay(link?.runId ?? '')).ok).toBe(true);
  }, 30_000);

  it('"latest" is resolved when the node runs and kept: a version saved meanwhile changes nothing, across a restart of the engine', async () => {
    const engine = testEngine();
    await engine.workflows.save(waitingChild);
    await engine.workflows.save(parent('p', { workflowId: 'child', version: 'latest' }));
    const runId = await start(engine, 'p', { order: 7 });
    const childId = await waitingChildOf(engine, runId);
    // A v2 that would fail, saved while the child runs.
    await engine.workflows.save(
      workflow(
        'child',
        [node('start', 'trigger.manual'), node('boom', 'fail', { message: 'v2 ran' })],
        [edge('start', 'boom')],
      ),
    );
    await engine.close();

    // A new engine on the same file: the child's end, committed here, resumes the parent.
    const again = Engine.open({ dbPath: dbPathOf(engine), synchronous: 'NORMAL', pollMs: 20 });
    try {
      again.startWorker();
      expect((await again.queries.get(runId))?.children[0]).toMatchObject({
        runId: childId,
        version: 1,
        status: 'waiting',
      });
      await again.commands.sendSignal(childId, 'go', { paid: true });
      const done = await again.waitForRun(runId, { until: 'finished', timeoutMs: 15_000 });
      expect(done.status).toBe('completed');
      expect(done.output).toEqual({ paid: true });
      expect(done.children).toEqual([
        { runId: childId, nodeId: 'sub', workflowId: 'child', version: 1, status: 'completed' },
      ]);
      const received = done.events.find((event) => event.type === 'SignalReceived');
      expect(received?.data).toMatchObject({ signal: { wait: 'child', runId: childId, status: 'completed' } });
      expect((await again.queries.verifyReplay(runId)).ok).toBe(true);
    } finally {
      await again.close();
    }
  }, 30_000);

  it('a failed child fails the parent with its message and run id, or takes the error port', async () => {
    const engine = testEngine();
    await engine.workflows.save(failingChild);
    await engine.workflows.save(parent('unhandled', { workflowId: 'broken' }));
    await engine.workflows.save(parent('handled', { workflowId: 'broken' }, true));

    const failedId = await start(engine, 'unhandled', {});
    const failed = await engine.waitForRun(failedId, { until: 'finished', timeoutMs: 15_000 });
    const childId = failed.children[0]?.runId ?? '';
    expect(failed.children[0]?.status).toBe('failed');
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toBe(`child run ${childId} failed: card declined`);
    expect(failed.error?.kind).toBe('subworkflow.failed');

    const handledId = await start(engine, 'handled', { order: 1 });
    const handled = await engine.waitForRun(handledId, { until: 'finished', timeoutMs: 15_000 });
    expect(handled.status).toBe('completed');
    expect(handled.output).toMatchObject({
      error: {
        message: `child run ${handled.children[0]?.runId ?? ''} failed: card declined`,
        kind: 'subworkflow.failed',
      },
      input: { order: 1 },
    });
    expect((await engine.queries.verifyReplay(failedId)).ok).toBe(true);
  }, 30_000);

  it('cancelling the parent cancels its open child; a missing child workflow fails the node', async () => {
    const engine = testEngine();
    await engine.workflows.save(waitingChild);
    await engine.workflows.save(parent('p', { workflowId: 'child' }));
    const runId = await start(engine, 'p', {});
    const childId = await waitingChildOf(engine, runId);
    await engine.commands.cancel(runId, { by: 'tester' });
    const child = await engine.queries.get(childId);
    expect(child?.status).toBe('cancelled');
    expect(child?.events.at(-1)).toMatchObject({ type: 'RunCancelled', data: { by: `run ${runId}` } });
    expect((await engine.queries.get(runId))?.children[0]?.status).toBe('cancelled');
    // A child cancelled on its own fails its parent instead.
    const second = await start(engine, 'p', {});
    const secondChild = await waitingChildOf(engine, second);
    await engine.commands.cancel(secondChild);
    const failed = await engine.waitForRun(second, { until: 'finished', timeoutMs: 15_000 });
    expect(failed.error?.message).toMatch(new RegExp(`^child run ${secondChild} cancelled`));

    await engine.workflows.save(parent('nowhere', { workflowId: 'child', version: 9 }));
    const missing = await engine.waitForRun(await start(engine, 'nowhere', {}), {
      until: 'finished',
      timeoutMs: 15_000,
    });
    expect(missing.error).toMatchObject({
      kind: 'subworkflow.not-found',
      message: 'workflow "child" has no version 9',
    });
    expect(missing.children).toEqual([]);
  }, 30_000);
});
