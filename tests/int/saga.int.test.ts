// Saga compensation on a real engine, a real SQLite file and a real HTTP server on 127.0.0.1
// standing in for a payments/CRM service: create customer → charge → provision. When provisioning
// fails (or the run is cancelled), the charge is refunded and then the customer deleted — in the
// reverse order of completion, once each, each with its own idempotency key; a compensation that
// keeps failing ends the run `compensation_failed` naming it; a crash mid-compensation resumes
// without re-running the finished ones; every journal replays.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Engine, type RunDetail } from '../../engine/runtime/engine.js';
import { dbPathOf, testEngine } from '../support/engine.js';
import { edge, node, readBody, until, workflow } from '../support/harness.js';

const quickRetry = { maxAttempts: 2, initialIntervalMs: 10, backoffCoefficient: 1, maxIntervalMs: 10, jitter: 0 };

interface Call {
  path: string;
  key: string | null;
  body: unknown;
}

/** The service: answers 200 with `{ id, path, echo }`, except where the test says otherwise. */
const service = {
  url: '',
  calls: [] as Call[],
  /** Per path: a status to answer, or 'hold' (answered by the test through `held`). */
  behaviour: new Map<string, number | 'hold'>(),
  held: [] as { path: string; response: ServerResponse; aborted: boolean }[],
};

const server = createServer((request, response) => {
  void readBody(request).then((text) => {
    const path = request.url ?? '';
    const key = request.headers['idempotency-key'];
    service.calls.push({ path, key: typeof key === 'string' ? key : null, body: text ? JSON.parse(text) : null });
    const behaviour = service.behaviour.get(path);
    if (behaviour === 'hold') {
      const entry = { path, response, aborted: false };
      // The client went away before an answer: its execution was aborted.
      response.on('close', () => {
        if (!response.writableEnded) entry.aborted = true;
      });
      service.held.push(entry);
      return;
    }
    const status = behaviour ?? 200;
    response
      .writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify(status === 200 ? { id: `${path.slice(1)}-1`, path } : { error: `refused ${path}` }));
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);
beforeEach(() => {
  service.calls = [];
  service.behaviour = new Map();
  service.held = [];
});

function post(id: string, path: string, extra: Record<string, unknown> = {}) {
  return node(id, 'http.request', { method: 'POST', url: `${service.url}${path}` }, { retry: quickRetry, ...extra });
}

/** create customer → charge → provision → output; undo: charge → refund, customer → delete. */
function signup(id: string, options: { undo?: boolean; provision?: ReturnType<typeof node> } = {}) {
  const undo = options.undo ?? true;
  return workflow(
    id,
    [
      node('start', 'trigger.manual'),
      post('customer', '/customers'),
      post('charge', '/charges'),
      options.provision ?? post('provision', '/provision'),
      node('end', 'output'),
      ...(undo ? [post('deleteCustomer', '/customers/delete'), post('refund', '/refunds')] : []),
    ],
    [
      edge('start', 'customer'),
      edge('customer', 'charge'),
      edge('charge', 'provision'),
      edge('provision', 'end'),
      ...(undo ? [edge('customer:undo', 'deleteCustomer'), edge('charge:undo', 'refund')] : []),
    ],
  );
}

async function start(engine: Engine, graph: ReturnType<typeof workflow>, input: unknown = { plan: 'pro' }) {
  const saved = await engine.workflows.save(graph);
  const run = await engine.commands.start(saved.workflowId, { input, version: saved.version });
  engine.startWorker();
  return run.runId;
}

const paths = () => service.calls.map((call) => call.path);
const types = (detail: RunDetail | undefined) => detail?.events.map((event) => event.type) ?? [];

describe('saga compensation', () => {
  it('a failed step undoes the completed ones in reverse order, once each, each with its own key', async () => {
    service.behaviour.set('/provision', 400);
    const engine = testEngine();
    const runId = await start(engine, signup('signup'));
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('compensated');
    // The run's error is still the failure that started the compensation.
    expect(done.error).toMatchObject({ nodeId: 'provision', kind: 'http.4xx' });
    expect(paths()).toEqual(['/customers', '/charges', '/provision', '/refunds', '/customers/delete']);
    const keys = service.calls.map((call) => call.key);
    expect(new Set(keys).size).toBe(5);
    expect(keys.slice(3)).toEqual([`${runId}:refund`, `${runId}:deleteCustomer`]);
    // Each compensation gets the output of the node it undoes.
    const refund = service.calls[3]?.body as { body: unknown };
    const deleted = service.calls[4]?.body as { body: unknown };
    expect(refund.body).toEqual({ id: 'charges-1', path: '/charges' });
    expect(deleted.body).toEqual({ id: 'customers-1', path: '/customers' });
    const detail = await engine.queries.get(runId);
    expect(types(detail).slice(-9)).toEqual([
      'NodeFailed',
      'CompensationStarted',
      'NodeScheduled',
      'NodeStarted',
      'NodeCompleted',
      'NodeScheduled',
      'NodeStarted',
      'NodeCompleted',
      'RunCompensated',
    ]);
    expect(detail?.events.find((event) => event.type === 'CompensationStarted')?.data).toMatchObject({
      cause: 'failed',
      error: { nodeId: 'provision' },
    });
    expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);
    // The work lists are empty: nothing is left to run.
    const listed = await engine.queries.list({ status: ['compensated'] });
    expect(listed.runs.map((run) => run.runId)).toEqual([runId]);
  });

  it('a compensation that fails after its retries ends the run compensation_failed, naming it', async () => {
    service.behaviour.set('/provision', 400);
    service.behaviour.set('/refunds', 503);
    const engine = testEngine();
    const runId = await start(engine, signup('signup-refund-down'));
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('compensation_failed');
    expect(done.error).toMatchObject({ nodeId: 'refund', kind: 'http.5xx' });
    // Retried by its own policy (2 attempts, the same key); the customer is not deleted after it.
    expect(paths()).toEqual(['/customers', '/charges', '/provision', '/refunds', '/refunds']);
    expect(service.calls[3]?.key).toBe(service.calls[4]?.key);
    const detail = await engine.queries.get(runId);
    expect(detail?.events.at(-1)).toMatchObject({
      type: 'RunCompensationFailed',
      data: { error: { nodeId: 'refund' }, compensates: 'charge' },
    });
    expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);
  });

  it('a cancelled run compensates what it completed; its open step is cut off', async () => {
    service.behaviour.set('/provision', 'hold');
    const engine = testEngine();
    const runId = await start(engine, signup('signup-cancel'));
    await until(() => service.held.length === 1, 'provisioning to be called');
    await engine.commands.cancel(runId, { by: 'ops', reason: 'customer changed their mind' });
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('compensated');
    expect(done.error).toBeNull();
    expect(paths()).toEqual(['/customers', '/charges', '/provision', '/refunds', '/customers/delete']);
    expect(done.activations.find((activation) => activation.nodeId === 'provision')?.status).toBe('cancelled');
    const detail = await engine.queries.get(runId);
    expect(detail?.events.find((event) => event.type === 'CompensationStarted')?.data).toEqual({
      cause: 'cancelled',
      error: null,
    });
    // The cut-off call was aborted, and a compensating run cannot be cancelled again.
    await until(() => service.held[0]?.aborted === true, 'the provisioning call to be aborted');
    expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);
  });

  it('cancelling a compensating run is refused: its compensations finish first', async () => {
    service.behaviour.set('/provision', 400);
    service.behaviour.set('/refunds', 'hold');
    const engine = testEngine();
    const runId = await start(engine, signup('signup-cancel-late'));
    await until(() => service.held.length === 1, 'the refund to be called');
    expect((await engine.queries.get(runId))?.status).toBe('compensating');
    await expect(engine.commands.cancel(runId)).rejects.toThrow(/is compensating: its compensations finish first/);
    service.held[0]?.response.writeHead(200, { 'content-type': 'application/json' }).end('{"refunded":true}');
    expect((await engine.waitForRun(runId, { timeoutMs: 15_000 })).status).toBe('compensated');
  });

  it('a failure cuts off a branch still running: its call is aborted and its late answer ignored', async () => {
    service.behaviour.set('/provision', 400);
    service.behaviour.set('/slow', 'hold');
    const engine = testEngine();
    const graph = signup('signup-parallel');
    graph.nodes.push({
      ...post('slow', '/slow'),
      typeVersion: 1,
      position: { x: 0, y: 300 },
      config: { method: 'POST', url: `${service.url}/slow` },
    });
    graph.edges.push(edge('start', 'slow'));
    const runId = await start(engine, graph);
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('compensated');
    expect(done.activations.find((activation) => activation.nodeId === 'slow')?.status).toBe('cancelled');
    await until(() => service.held[0]?.aborted === true, 'the slow call to be aborted');
    const detail = await engine.queries.get(runId);
    expect(detail?.events.filter((event) => event.nodeId === 'slow').map((event) => event.type)).toEqual([
      'NodeScheduled',
      'NodeStarted',
    ]);
    expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);
  });

  it('a run without undo edges fails exactly as before', async () => {
    service.behaviour.set('/provision', 400);
    const engine = testEngine();
    const runId = await start(engine, signup('signup-plain', { undo: false }));
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('failed');
    expect(paths()).toEqual(['/customers', '/charges', '/provision']);
    const detail = await engine.queries.get(runId);
    expect(types(detail).at(-1)).toBe('RunFailed');
    expect(types(detail).some((type) => type.startsWith('Compensation') || type.startsWith('RunCompensat'))).toBe(
      false,
    );
  });

  it('a failure before any compensable step completed fails plainly', async () => {
    service.behaviour.set('/customers', 400);
    const engine = testEngine();
    const runId = await start(engine, signup('signup-early'));
    expect((await engine.waitForRun(runId, { timeoutMs: 15_000 })).status).toBe('failed');
    expect(paths()).toEqual(['/customers']);
  });

  it('exports and imports a compensated run; time travel tells the compensations apart', async () => {
    service.behaviour.set('/provision', 400);
    const engine = testEngine();
    const runId = await start(engine, signup('signup-export'));
    expect((await engine.waitForRun(runId, { timeoutMs: 15_000 })).status).toBe('compensated');
    const file = await engine.queries.export(runId);
    const elsewhere = testEngine();
    const { run } = await elsewhere.commands.import(JSON.parse(JSON.stringify(file)));
    expect(run).toMatchObject({ runId, status: 'compensated', imported: true });
    expect((await elsewhere.queries.verifyReplay(runId)).ok).toBe(true);
    // At CompensationStarted the run is compensating and nothing is undone yet; at the end both are.
    const detail = await engine.queries.get(runId);
    const startedAt = detail?.events.find((event) => event.type === 'CompensationStarted')?.seq ?? 0;
    const before = await engine.queries.state(runId, startedAt);
    expect(before).toMatchObject({ status: 'compensating' });
    expect(before.nodes.refund?.status).toBe('pending');
    const after = await engine.queries.state(runId, detail?.lastSeq ?? 0);
    expect(after.nodes.refund?.status).toBe('completed');
    expect(after.nodes.deleteCustomer?.status).toBe('completed');
  });

  it('a compensated child run is a failed child to its parent', async () => {
    service.behaviour.set('/provision', 400);
    const engine = testEngine();
    await engine.workflows.save(signup('child-signup'));
    const parent = workflow(
      'parent',
      [
        node('start', 'trigger.manual'),
        node('sub', 'subworkflow', { workflowId: 'child-signup' }),
        node('end', 'output'),
      ],
      [edge('start', 'sub'), edge('sub', 'end')],
    );
    const runId = await start(engine, parent);
    const done = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 15_000 });
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ nodeId: 'sub' });
    const childId = done.children[0]?.runId ?? '';
    expect((await engine.queries.get(childId))?.status).toBe('compensated');
    expect(paths()).toEqual(['/customers', '/charges', '/provision', '/refunds', '/customers/delete']);
  });

  it('a crash mid-compensation resumes it without running the finished compensation again', async () => {
    service.behaviour.set('/provision', 400);
    service.behaviour.set('/customers/delete', 'hold');
    const engine = testEngine();
    const runId = await start(engine, signup('signup-crash'));
    await until(() => service.held.length === 1, 'the customer deletion to be called');
    // The refund finished; the deletion is under way when the engine goes away.
    await engine.close();
    const again = Engine.open({ dbPath: dbPathOf(engine), synchronous: 'NORMAL', pollMs: 20 });
    try {
      service.behaviour.set('/customers/delete', 200);
      again.startWorker();
      const done = await again.waitForRun(runId, { timeoutMs: 15_000 });
      expect(done.status).toBe('compensated');
      expect(paths()).toEqual([
        '/customers',
        '/charges',
        '/provision',
        '/refunds',
        '/customers/delete',
        '/customers/delete',
      ]);
      // The interrupted deletion ran again with the same key; the refund never did.
      expect(service.calls[4]?.key).toBe(service.calls[5]?.key);
      const detail = await again.queries.get(runId);
      const deletions = detail?.events.filter(
        (event) => event.type === 'NodeStarted' && event.nodeId === 'deleteCustomer',
      );
      expect(deletions?.map((event) => event.type === 'NodeStarted' && event.data.recovered)).toEqual([false, true]);
      expect(
        detail?.events.filter((event) => event.type === 'NodeCompleted' && event.nodeId === 'refund'),
      ).toHaveLength(1);
      expect((await again.queries.verifyReplay(runId)).ok).toBe(true);
    } finally {
      await again.close();
    }
  }, 40_000);
});
