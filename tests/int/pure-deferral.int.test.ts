// Effect classes decide the commit: a chain of pure nodes waits in memory for one commit, while a
// node with an outside effect still finds its start durable before its effect, on real files.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayJournal } from '../../engine/replay/index.js';
import { defaultRegistry, Engine } from '../../engine/runtime/engine.js';
import { dbPathOf, readDb, testEngine } from '../support/engine.js';
import { chain, edge, node, workflow } from '../support/harness.js';

/** Code nodes direct evaluation answers: each runs inside the commit that schedules it. */
const pureChain = (count: number) =>
  Array.from({ length: count }, (_, index) =>
    node(`c${index + 1}`, 'code', { code: 'return { n: (input.n ?? 0) + 1 };' }),
  );

/** Code nodes of a few milliseconds each: a chain long enough to act on while it runs. */
const slowChain = (count: number) =>
  Array.from({ length: count }, (_, index) =>
    node(`s${index + 1}`, 'code', {
      code: 'let s = 0; for (let i = 0; i < 300000; i++) s = (s + i) % 7; return { s };',
    }),
  );

describe('pure work and the commit', () => {
  /** Whether, when a request arrived, the database held a NodeStarted for the http node. */
  const startedBeforeEffect: boolean[] = [];
  let server: Server;
  let url = '';
  let dbPath = '';
  beforeAll(async () => {
    server = createServer((request, response) => {
      const key = request.headers['idempotency-key'];
      const [runId] = typeof key === 'string' ? key.split(':') : [''];
      // A second, read-only connection: what a crash at this instant would leave.
      const started = readDb(dbPath, (db) =>
        db
          .prepare("SELECT count(*) AS n FROM events WHERE run_id = ? AND type = 'NodeStarted' AND node_id = 'call'")
          .get(runId),
      ) as { n: number };
      startedBeforeEffect.push(started.n > 0);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/effect`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // Direct evaluation answers `input.n + 1` at once: each node runs inside the commit that
  // schedules it. A call (`Math.max`) sends the code to the pool: each node is dispatched, and its
  // completion deferred to the chain's last commit.
  it.each([
    ['answered directly', 1, 'return { n: (input.n ?? 0) + 1 };'],
    ['run on the pool', 2, 'return { n: Math.max(input.n ?? 0, 0) + 1 };'],
  ] as const)(
    'a sequential chain of ten code nodes %s costs at most %i commit(s), and journals every step',
    async (_how, commits, code) => {
      // A budget no load can use up: the count below is exact.
      const engine = testEngine({ answerNowMs: 60_000 });
      const nodes = Array.from({ length: 10 }, (_, index) => node(`c${index + 1}`, 'code', { code }));
      const { workflowId } = await engine.saveWorkflow(chain('pure10', nodes));
      const worker = engine.startWorker();
      await worker.started;
      // A warm-up run: the sandbox threads start with the first code nodes (slower than the bound).
      const warm = await engine.startRun(workflowId, { input: { n: 0 } });
      await engine.waitForRun(warm.runId, { timeoutMs: 10_000 });
      await worker.settled();
      const before = engine.stats().commits;
      const { runId } = await engine.startRun(workflowId, { input: { n: 0 } });
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      expect(run.status).toBe('completed');
      expect(run.output).toEqual({ n: 10 });
      // Without deferral: one commit for the start, then one per code node (11).
      expect(engine.stats().commits - before).toBeLessThanOrEqual(commits);
      // The journal's shape is the one every recorded run has: each code node started and completed.
      const events = await engine.queries.events(runId);
      for (let index = 1; index <= 10; index += 1) {
        const types = events.filter((event) => event.nodeId === `c${index}`).map((event) => event.type);
        expect(types, `c${index}`).toEqual(['NodeScheduled', 'NodeStarted', 'NodeCompleted']);
      }
      const version = await engine.workflows.version(workflowId, run.version);
      if (!version) throw new Error('no version');
      expect(replayJournal(runId, version, events, defaultRegistry())).toMatchObject({ ok: true });
    },
  );

  it('nodes answered directly take no execution slot, and run as soon as they are ready', async () => {
    // One slot, held for 400 ms by `q` (a loop: the pool's); beside it a chain of 30 direct code
    // nodes and a branch.if. The chain is done in the run's first commit, not one node per slot.
    const engine = testEngine({ concurrency: 1, answerNowMs: 60_000 });
    const direct = Array.from({ length: 30 }, (_, index) =>
      node(`d${index + 1}`, 'code', { code: 'return { n: input.n + 1, big: input.n >= 20 };' }),
    );
    const ids = direct.map((spec) => spec.id);
    const graph = workflow(
      'slots',
      [
        node('start', 'trigger.manual'),
        node('q', 'code', { code: 'const end = Date.now() + 400; while (Date.now() < end); return { q: 1 };' }),
        ...direct,
        node('if', 'branch.if', { condition: 'input.big && input.n === 30' }),
        node('m', 'merge'),
        node('end', 'output'),
      ],
      [
        edge('start', 'q'),
        edge('q', 'm'),
        edge('start', ids[0] as string),
        ...ids.slice(1).map((id, index) => edge(ids[index] as string, id)),
        edge(ids.at(-1) as string, 'if'),
        edge('if:true', 'm'),
        edge('m', 'end'),
      ],
    );
    const { workflowId } = await engine.saveWorkflow(graph);
    const worker = engine.startWorker();
    await worker.started;
    const { runId } = await engine.startRun(workflowId, { input: { n: 0 } });
    const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
    expect(run.status).toBe('completed');
    const events = await engine.queries.events(runId);
    const startedAt = events[0]?.at;
    for (const id of [...ids, 'if']) {
      const own = events.filter((event) => event.nodeId === id);
      expect(
        own.map((event) => event.type),
        id,
      ).toEqual(['NodeScheduled', 'NodeStarted', 'NodeCompleted']);
      expect(
        own.every((event) => event.at === startedAt),
        `${id} ran in the run's first commit`,
      ).toBe(true);
    }
    expect(events.find((event) => event.nodeId === 'if' && event.type === 'NodeCompleted')?.data).toMatchObject({
      port: 'true',
    });
    const qDone = events.find((event) => event.nodeId === 'q' && event.type === 'NodeCompleted');
    expect(qDone?.at).toBeGreaterThan(startedAt ?? Infinity);
  });

  it('a commit stops answering nodes at once past its time budget: the rest are dispatched', async () => {
    // A fan-out of 40 code nodes direct evaluation answers, into a merge.
    const fan = Array.from({ length: 40 }, (_, index) => node(`f${index + 1}`, 'code', { code: `return ${index};` }));
    const graph = workflow(
      'fan-out',
      [node('start', 'trigger.manual'), ...fan, node('m', 'merge'), node('end', 'output')],
      [...fan.flatMap((spec) => [edge('start', spec.id), edge(spec.id, 'm')]), edge('m', 'end')],
    );
    const outcome = async (answerNowMs: number) => {
      const engine = testEngine({ answerNowMs });
      const { workflowId } = await engine.saveWorkflow(graph);
      const worker = engine.startWorker();
      await worker.started;
      const before = engine.stats().commits;
      const { runId } = await engine.startRun(workflowId, {});
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      const events = await engine.queries.events(runId);
      const firstCommit = events.filter((event) => event.type === 'NodeCompleted' && event.at === events[0]?.at);
      return { run, commits: engine.stats().commits - before, inFirstCommit: firstCommit.length };
    };
    const within = await outcome(60_000);
    const none = await outcome(0);
    const expected = Object.fromEntries(fan.map((spec, index) => [spec.id, index]));
    expect(within.run).toMatchObject({ status: 'completed', output: expected });
    expect(none.run).toMatchObject({ status: 'completed', output: expected });
    // Within the budget: the trigger, the 40 nodes, the merge and the output in the start's commit.
    expect(within).toMatchObject({ commits: 1, inFirstCommit: 43 });
    // Budget 0: only the inline trigger there; the 40 were dispatched, their outcomes committed later.
    expect(none.inFirstCommit).toBe(1);
    expect(none.commits).toBeGreaterThan(1);
  });

  it('a chain longer than one batch goes on: what is left ready is claimed at once, not at a poll', async () => {
    // One batch takes each run at most 1,000 nodes along; the 1,001st is claimed by the next
    // cycle. With a poll a minute away, waiting for it would time the run out.
    const engine = testEngine({ answerNowMs: 60_000, pollMs: 60_000 });
    const nodes = Array.from({ length: 1100 }, (_, index) =>
      node(`c${index + 1}`, 'code', { code: 'return input + 1;' }),
    );
    const { workflowId } = await engine.saveWorkflow(chain('long', nodes));
    const { workflowId: short } = await engine.saveWorkflow(chain('short', nodes.slice(0, 3)));
    const worker = engine.startWorker();
    await worker.started;
    // Settled first, so the worker is not already claiming when the long run starts.
    const warm = await engine.startRun(short, { input: 0 });
    await engine.waitForRun(warm.runId, { timeoutMs: 10_000 });
    await worker.settled();
    const { runId } = await engine.startRun(workflowId, { input: 0 });
    const run = await engine.waitForRun(runId, { timeoutMs: 20_000 });
    expect(run).toMatchObject({ status: 'completed', output: 1100 });
  });

  it('a run answered directly journals what the pool would: the same steps, ports and outputs', async () => {
    const graph = workflow(
      'priced',
      [
        node('start', 'trigger.manual'),
        node('total', 'code', { code: 'return { ...input, total: input.price * input.qty };' }),
        node('if', 'branch.if', { condition: 'input.total > 100' }),
        node('high', 'code', { code: 'return { ...input, band: "high" };' }),
        node('low', 'code', { code: 'return { ...input, band: input.total > 10 ? "mid" : "low" };' }),
        node('m', 'merge'),
        node('end', 'output'),
      ],
      [
        edge('start', 'total'),
        edge('total', 'if'),
        edge('if:true', 'high'),
        edge('if:false', 'low'),
        edge('high', 'm'),
        edge('low', 'm'),
        edge('m', 'end'),
      ],
    );
    const inputs = [
      { price: 30, qty: 5 },
      { price: 3, qty: 7 },
      { price: 1.5, qty: 2 },
    ];
    const journals = async (directEvaluation: boolean): Promise<{ steps: unknown[]; commits: number }> => {
      const engine = testEngine({ directEvaluation, answerNowMs: 60_000 });
      const { workflowId } = await engine.saveWorkflow(graph);
      const worker = engine.startWorker();
      await worker.started;
      const before = engine.stats().commits;
      const steps: unknown[] = [];
      for (const input of inputs) {
        const { runId } = await engine.startRun(workflowId, { input });
        expect(await engine.waitForRun(runId, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed' });
        for (const event of await engine.queries.events(runId)) {
          const data = event.data as { port?: unknown; output?: unknown };
          steps.push([event.type, event.nodeId, event.attempt, data.port, data.output]);
        }
      }
      return { steps, commits: engine.stats().commits - before };
    };
    const direct = await journals(true);
    const pooled = await journals(false);
    expect(direct.steps).toEqual(pooled.steps);
    expect(direct.steps).toContainEqual([
      'NodeCompleted',
      'end',
      1,
      null,
      { low: { price: 3, qty: 7, total: 21, band: 'mid' } },
    ]);
    // Every run answered directly is one commit; on the pool each takes more.
    expect(direct.commits).toBe(inputs.length);
    expect(pooled.commits).toBeGreaterThan(inputs.length);
  });

  it('the start of a node with an outside effect is durable before its effect', async () => {
    const engine = testEngine();
    dbPath = dbPathOf(engine);
    const middle = [
      ...pureChain(5),
      node('call', 'http.request', { method: 'POST', url }),
      node('after', 'code', { code: 'return { done: true };' }),
    ];
    const { workflowId } = await engine.saveWorkflow(chain('pure-then-http', middle));
    const worker = engine.startWorker();
    await worker.started;
    // One at a time: each chain alone in its commits, as in a sequential run.
    for (let index = 0; index < 5; index += 1) {
      const { runId } = await engine.startRun(workflowId, { input: { n: index } });
      expect(await engine.waitForRun(runId, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed' });
    }
    expect(startedBeforeEffect).toEqual([true, true, true, true, true]);
  });

  it('a cancel stops a pure chain: nothing completes after the run is cancelled', async () => {
    const engine = testEngine();
    const { workflowId } = await engine.saveWorkflow(chain('slow-pure', slowChain(40)));
    const worker = engine.startWorker();
    await worker.started;
    const { runId } = await engine.startRun(workflowId, {});
    await new Promise((resolve) => setTimeout(resolve, 150));
    await engine.commands.cancel(runId);
    await worker.settled();
    const events = await engine.queries.events(runId);
    const cancelled = events.findIndex((event) => event.type === 'RunCancelled');
    expect(cancelled).toBeGreaterThan(0);
    expect(events.slice(cancelled + 1).filter((event) => event.type === 'NodeCompleted')).toEqual([]);
    expect(events.filter((event) => event.type === 'NodeCompleted').length).toBeLessThan(40);
  });

  it('a run another process moved on drops the deferred pure work; the worker carries on', async () => {
    const errors: string[] = [];
    const logger = {
      info: () => {},
      warn: () => {},
      error: (message: string, fields?: Record<string, unknown>) => errors.push(`${message} ${JSON.stringify(fields)}`),
    };
    const engine = testEngine({ logger });
    const { workflowId } = await engine.saveWorkflow(chain('slow-pure-2', slowChain(40)));
    const { workflowId: quick } = await engine.saveWorkflow(chain('quick-pure', pureChain(3)));
    const worker = engine.startWorker();
    await worker.started;
    const { runId } = await engine.startRun(workflowId, {});
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Another process cancels it: this worker's next commit of the run finds it moved on.
    const other = Engine.open({ dbPath: dbPathOf(engine), synchronous: 'NORMAL' });
    await other.commands.cancel(runId);
    await other.close();
    const next = await engine.startRun(quick, { input: { n: 1 } });
    expect(await engine.waitForRun(next.runId, { timeoutMs: 10_000 })).toMatchObject({ output: { n: 4 } });
    await worker.settled();
    const events = await engine.queries.events(runId);
    const cancelled = events.findIndex((event) => event.type === 'RunCancelled');
    expect(cancelled).toBeGreaterThan(0);
    expect(events.slice(cancelled + 1)).toEqual([]);
    expect((await engine.queries.get(runId))?.status).toBe('cancelled');
    // Dropped at the first conflict: no commit kept failing on it.
    expect(errors).toEqual([]);
  });

  it('a run moved on (not ended) by another process: the dropped pure work is redone at once', async () => {
    // start → (wait.signal "go" ‖ a 1.5 s code node ‖ 40 slow code nodes) → merge → output.
    // Another process delivers "go" while the chain runs: this worker's deferred writes of the run
    // are dropped; the pure node whose start is durable (leased to this worker until its deadline)
    // must be taken up again now, not when its lease lapses, and the 1.5 s node, started durably,
    // runs on.
    const engine = testEngine();
    const slow = slowChain(40);
    const ids = slow.map((spec) => spec.id);
    const graph = workflow(
      'moved-on',
      [
        node('start', 'trigger.manual'),
        node('w', 'wait.signal', { name: 'go' }),
        // Started by the run's first (durable) commit, still running when the deferred writes go.
        node('q', 'code', { code: 'const end = Date.now() + 1500; while (Date.now() < end); return 1;' }),
        ...slow,
        node('m', 'merge'),
        node('end', 'output'),
      ],
      [
        edge('start', 'w'),
        edge('w', 'm'),
        edge('start', 'q'),
        edge('q', 'm'),
        edge('start', ids[0] as string),
        ...ids.slice(1).map((id, index) => edge(ids[index] as string, id)),
        edge(ids.at(-1) as string, 'm'),
        edge('m', 'end'),
      ],
    );
    const { workflowId } = await engine.saveWorkflow(graph);
    const worker = engine.startWorker();
    await worker.started;
    const { runId } = await engine.startRun(workflowId, {});
    await new Promise((resolve) => setTimeout(resolve, 150));
    const other = Engine.open({ dbPath: dbPathOf(engine), synchronous: 'NORMAL' });
    await other.commands.sendSignal(runId, 'go', { ok: true });
    await other.close();
    const run = await engine.waitForRun(runId, { timeoutMs: 8_000 });
    expect(run.status).toBe('completed');
    const events = await engine.queries.events(runId);
    const completed = events.filter((event) => event.type === 'NodeCompleted').map((event) => event.nodeId);
    // Every node completed once in the journal, whatever was redone in memory.
    for (const id of [...ids, 'w', 'q', 'm']) expect(completed.filter((nodeId) => nodeId === id)).toHaveLength(1);
    expect(events.filter((event) => event.type === 'NodeFailed')).toEqual([]);
    const version = await engine.workflows.version(workflowId, run.version);
    if (!version) throw new Error('no version');
    expect(replayJournal(runId, version, events, defaultRegistry())).toMatchObject({ ok: true });
  });
});
