// Fork and redrive, end to end on real database files: a local HTTP server counts the requests
// each node makes, so "not executed again" is proven by the server, not by the journal.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { replayExport } from '../../engine/replay/index.js';
import { defaultRegistry, type Engine, type RunDetail } from '../../engine/runtime/engine.js';
import { chain, edge, node, runCli, tempDir, workflow, type CliResult } from '../support/harness.js';
import { startScriptedServer, type ScriptedServer } from '../support/http-server.js';
import { testEngine } from '../support/engine.js';

let server: ScriptedServer;
/** While true, /c answers 404 (a failure that is not retried). */
let broken = true;

beforeAll(async () => {
  server = await startScriptedServer((request, response) => {
    if (request.path === '/c' && broken) response.writeHead(404).end('not yet');
    else
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ path: request.path, got: request.body ? (JSON.parse(request.body) as unknown) : null }));
  });
});
afterAll(() => server.close());
beforeEach(() => {
  broken = true;
});

/** start → a → b → c → end: three HTTP nodes; c fails while the server is broken. */
function threeCalls(id = 'three') {
  const call = (nodeId: string) =>
    node(nodeId, 'http.request', { url: `${server.url}/${nodeId}`, method: 'POST' }, { retry: { maxAttempts: 1 } });
  return chain(id, [call('a'), call('b'), call('c')]);
}

/** Requests for `path` made by `runId`'s activations (their idempotency key starts with the run id). */
function calls(path: string, runId?: string): number {
  return server.requests.filter(
    (request) =>
      request.path === path &&
      (runId === undefined || String(request.headers['idempotency-key']).startsWith(`${runId}:`)),
  ).length;
}

/** The run's export replays: every recorded decision is the one the orchestrator makes now. */
async function expectReplays(engine: Engine, runId: string): Promise<void> {
  const exported = JSON.parse(JSON.stringify(await engine.queries.export(runId))) as unknown;
  expect(replayExport(exported, defaultRegistry())).toMatchObject({ ok: true, runId });
}

async function failedRun(engine: Engine, id = 'three'): Promise<RunDetail> {
  const saved = await engine.workflows.save(threeCalls(id));
  const started = await engine.commands.start(saved.workflowId, { input: { order: 7 }, version: saved.version });
  engine.startWorker();
  const run = await engine.waitForRun(started.runId, { timeoutMs: 15_000 });
  expect(run.status).toBe('failed');
  expect(run.error).toMatchObject({ nodeId: 'c', kind: 'http.4xx' });
  return run;
}

describe('fork', () => {
  it('forks from the failed step with an edited output: nodes 1–2 are inherited, not executed again', async () => {
    const engine = testEngine();
    const origin = await failedRun(engine, 'edit');
    const failedAt = origin.lastSeq;
    broken = false;
    const fork = await engine.commands.fork(origin.runId, { seq: failedAt, setOutput: { b: { patched: true } } });
    expect(fork.forkOf).toEqual({ runId: origin.runId, seq: failedAt });
    expect(fork.runId).not.toBe(origin.runId);
    const done = await engine.waitForRun(fork.runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('completed');
    // a and b ran once, in the origin only; c ran in the origin and once in the fork, under the fork's own key.
    expect([calls('/a'), calls('/b')]).toEqual([1, 1]);
    expect(calls('/a', fork.runId) + calls('/b', fork.runId)).toBe(0);
    const forkCalls = server.requests.filter((request) => request.headers['idempotency-key'] === `${fork.runId}:c`);
    expect(forkCalls).toHaveLength(1);
    expect(JSON.parse(forkCalls[0]?.body ?? 'null')).toEqual({ patched: true });
    // The fork explains itself: what it inherited, from where, and which output was edited.
    const inherited = done.events.filter((event) => event.type === 'NodeInherited');
    expect(inherited.map((event) => [event.nodeId, event.data.edited, event.data.from])).toEqual([
      ['start', false, { runId: origin.runId, seq: failedAt }],
      ['a', false, { runId: origin.runId, seq: failedAt }],
      ['b', true, { runId: origin.runId, seq: failedAt }],
    ]);
    expect(done.events.filter((event) => event.type === 'NodeStarted').map((event) => event.nodeId)).toEqual([
      'c',
      'end',
    ]);
    await expectReplays(engine, fork.runId);
    // Origin and fork link to each other.
    expect((await engine.queries.get(origin.runId))?.forks).toEqual([{ runId: fork.runId, seq: failedAt }]);
    expect((await engine.queries.get(fork.runId))?.forkOf).toEqual({ runId: origin.runId, seq: failedAt });
  });

  it('forks a run a webhook started from its webhook trigger (a workflow with no manual trigger)', async () => {
    const engine = testEngine();
    const graph = workflow(
      'hooked',
      [
        node('hook', 'trigger.webhook', { path: 'in' }),
        node('double', 'code', { code: 'return { n: input.body.n * 2 };' }),
        node('end', 'output'),
      ],
      [edge('hook', 'double'), edge('double', 'end')],
    );
    const saved = await engine.workflows.save(graph);
    const started = await engine.commands.start(saved.workflowId, { input: { body: { n: 4 } }, trigger: 'hook' });
    engine.startWorker();
    const origin = await engine.waitForRun(started.runId, { timeoutMs: 15_000 });
    expect(origin.output).toEqual({ n: 8 });
    const hookDone = origin.events.find((event) => event.type === 'NodeCompleted' && event.nodeId === 'hook');
    const fork = await engine.commands.fork(origin.runId, { seq: hookDone?.seq ?? 0 });
    const done = await engine.waitForRun(fork.runId, { timeoutMs: 15_000 });
    expect(done.output).toEqual({ n: 8 });
    const first = done.events[0];
    expect(first?.type === 'RunStarted' && first.data.triggerNodeId).toBe('hook');
  });

  it('forks at an earlier step: only what had completed by then is inherited', async () => {
    const engine = testEngine();
    const origin = await failedRun(engine, 'early');
    const aDone = origin.events.find((event) => event.type === 'NodeCompleted' && event.nodeId === 'a');
    broken = false;
    const fork = await engine.commands.fork(origin.runId, { seq: aDone?.seq ?? 0 });
    const done = await engine.waitForRun(fork.runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('completed');
    expect([calls('/a', fork.runId), calls('/b', fork.runId), calls('/c', fork.runId)]).toEqual([0, 1, 1]);
  });

  it('refuses a fork on the latest version when inherited nodes are missing there, naming them', async () => {
    const engine = testEngine();
    const origin = await failedRun(engine, 'moved');
    const renamed = threeCalls('moved');
    renamed.nodes = renamed.nodes.map((item) => (item.id === 'b' ? { ...item, id: 'b2' } : item));
    renamed.edges = renamed.edges.map((item) => ({
      ...item,
      source: item.source === 'b' ? 'b2' : item.source,
      target: item.target === 'b' ? 'b2' : item.target,
    }));
    expect((await engine.workflows.save(renamed)).version).toBe(2);
    await expect(engine.commands.fork(origin.runId, { seq: origin.lastSeq, on: 'latest' })).rejects.toThrow(
      /version 2 of "moved" has no node "b"/,
    );
    // On its own version the same fork is fine.
    const same = await engine.commands.fork(origin.runId, { seq: origin.lastSeq, on: 'same' });
    expect(same.version).toBe(1);
  });

  it('forks on the latest version and on a numbered one when they have the inherited nodes', async () => {
    const engine = testEngine();
    const origin = await failedRun(engine, 'onward');
    // v2: c calls another path (the fix); a and b are the same nodes.
    const fixed = threeCalls('onward');
    fixed.nodes = fixed.nodes.map((item) =>
      item.id === 'c' ? { ...item, config: { ...item.config, url: `${server.url}/c-fixed` } } : item,
    );
    expect((await engine.workflows.save(fixed)).version).toBe(2);
    for (const on of ['latest', 2] as const) {
      const fork = await engine.commands.fork(origin.runId, { seq: origin.lastSeq, on });
      expect(fork.version).toBe(2);
      const done = await engine.waitForRun(fork.runId, { timeoutMs: 15_000 });
      expect(done.status).toBe('completed');
      expect([calls('/a', fork.runId), calls('/b', fork.runId), calls('/c', fork.runId)]).toEqual([0, 0, 0]);
      expect(calls('/c-fixed', fork.runId)).toBe(1);
      expect(done.events.filter((event) => event.type === 'NodeInherited').map((event) => event.nodeId)).toEqual([
        'start',
        'a',
        'b',
      ]);
    }
    // And back on a numbered older version: v1, whose c still fails.
    const back = await engine.commands.fork(origin.runId, { seq: origin.lastSeq, on: 1 });
    expect(back.version).toBe(1);
  });

  it('an output set to what it already was is no edit: what is downstream is inherited, not run again', async () => {
    const engine = testEngine();
    const origin = await failedRun(engine, 'same-output');
    const a = origin.activations.find((activation) => activation.nodeId === 'a');
    broken = false;
    const fork = await engine.commands.fork(origin.runId, { seq: origin.lastSeq, setOutput: { a: a?.output } });
    const done = await engine.waitForRun(fork.runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('completed');
    expect([calls('/a', fork.runId), calls('/b', fork.runId), calls('/c', fork.runId)]).toEqual([0, 0, 1]);
    const inherited = done.events.filter((event) => event.type === 'NodeInherited');
    expect(inherited.map((event) => [event.nodeId, event.data.edited])).toEqual([
      ['start', false],
      ['a', false],
      ['b', false],
    ]);
  });

  it('refuses to edit the output of a node that had not completed by the step, and a step outside the journal', async () => {
    const engine = testEngine();
    const origin = await failedRun(engine, 'refused');
    await expect(
      engine.commands.fork(origin.runId, { seq: origin.lastSeq, setOutput: { c: { fixed: true } } }),
    ).rejects.toThrow(/cannot set the output of node "c": not completed by step/);
    await expect(engine.commands.fork(origin.runId, { seq: origin.lastSeq + 1 })).rejects.toThrow(/no step/);
  });
});

describe('redrive', () => {
  it('continues the failed run itself after the server is fixed; earlier nodes are not run again', async () => {
    const engine = testEngine();
    const origin = await failedRun(engine, 'redrive');
    broken = false;
    const redriven = await engine.commands.redrive(origin.runId, { by: 'ops' });
    expect(redriven.runId).toBe(origin.runId);
    expect(redriven.status).toBe('running');
    const done = await engine.waitForRun(origin.runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('completed');
    expect(done.error).toBeNull();
    expect([calls('/a', origin.runId), calls('/b', origin.runId), calls('/c', origin.runId)]).toEqual([1, 1, 2]);
    // A new attempt with the same idempotency key; the journal records who redrove it.
    const c = done.activations.find((activation) => activation.nodeId === 'c');
    expect(c?.attempts.map((attempt) => attempt.attempt)).toEqual([1, 2]);
    expect(
      server.requests.filter((request) => request.path === '/c').map((r) => r.headers['idempotency-key']),
    ).toContain(`${origin.runId}:c`);
    const event = done.events.find((item) => item.type === 'RunRedriven');
    expect(event).toMatchObject({ data: { by: 'ops', activationIds: ['c'] } });
    await expectReplays(engine, origin.runId);
  });

  it('redrives an approval the failure cancelled: one open inbox row again, and the decision completes the run', async () => {
    const engine = testEngine();
    const saved = await engine.workflows.save(
      workflow(
        'redrive-approval',
        [
          node('start', 'trigger.manual'),
          node('c', 'http.request', { url: `${server.url}/c`, method: 'POST' }, { retry: { maxAttempts: 1 } }),
          node('ok', 'approval', { title: 'Ship?' }),
          node('end', 'output'),
        ],
        [edge('start', 'c'), edge('start', 'ok'), edge('c', 'end'), edge('ok:approved', 'end')],
      ),
    );
    const started = await engine.commands.start(saved.workflowId, { input: {}, version: saved.version });
    engine.startWorker();
    const failed = await engine.waitForRun(started.runId, { timeoutMs: 15_000 });
    expect(failed.status).toBe('failed');
    expect(failed.approvals.map((approval) => [approval.nodeId, approval.status])).toEqual([['ok', 'cancelled']]);

    broken = false;
    await engine.commands.redrive(started.runId);
    const parked = await engine.waitForRun(started.runId, { timeoutMs: 15_000 });
    expect(parked.status).toBe('waiting');
    expect(parked.approvals.map((approval) => [approval.nodeId, approval.status])).toEqual([['ok', 'open']]);
    expect((await engine.queries.inbox()).filter((row) => row.runId === started.runId)).toHaveLength(1);
    await engine.commands.decide(started.runId, 'approved', { by: 'ops' });
    expect((await engine.waitForRun(started.runId, { timeoutMs: 15_000 })).status).toBe('completed');
    await expectReplays(engine, started.runId);
  });

  it('refuses to redrive a run that did not fail', async () => {
    const engine = testEngine();
    const origin = await failedRun(engine, 'twice');
    broken = false;
    await engine.commands.redrive(origin.runId);
    await engine.waitForRun(origin.runId, { timeoutMs: 15_000 });
    await expect(engine.commands.redrive(origin.runId)).rejects.toThrow(
      /is completed; only a failed run can be redriven/,
    );
  });
});

describe('fork and redrive through the CLI', () => {
  const dir = tempDir('stepwise-fork-cli-');
  afterAll(() => dir.cleanup());
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { db: dir.db });
  const json = (result: CliResult): Record<string, unknown> => {
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  it('fork --at with --set-output, redrive, and the refusals', async () => {
    const flow = join(dir.path, 'three.json');
    writeFileSync(flow, JSON.stringify(threeCalls('cli-three')));
    const failed = await cli('run', flow, '--input', '{"order":1}', '--json');
    expect(failed.code).toBe(1);
    const origin = JSON.parse(failed.stdout) as { runId: string };
    const shown = json(await cli('show', origin.runId, '--json')) as { events: { seq: number }[] };
    const failedAt = shown.events.at(-1)?.seq ?? 0;

    broken = false;
    const forked = json(
      await cli('fork', origin.runId, '--at', String(failedAt), '--set-output', 'b={"x":1}', '--json'),
    );
    expect(forked).toMatchObject({ forkOf: { runId: origin.runId, seq: failedAt }, version: 1 });
    const forkId = forked.runId as string;
    json(await cli('worker', '--until-idle', '--json'));
    expect(json(await cli('show', forkId, '--json'))).toMatchObject({
      status: 'completed',
      forkOf: { runId: origin.runId, seq: failedAt },
    });
    expect(json(await cli('show', origin.runId, '--json'))).toMatchObject({
      forks: [{ runId: forkId, seq: failedAt }],
    });
    expect([calls('/a', forkId), calls('/b', forkId), calls('/c', forkId)]).toEqual([0, 0, 1]);
    expect((await cli('show', forkId)).stdout).toContain(`fork of   ${origin.runId} at #${failedAt}`);

    const notCompleted = await cli('fork', origin.runId, '--at', '1', '--set-output', 'c={}');
    expect(notCompleted.code).toBe(1);
    expect(notCompleted.stderr).toMatch(/cannot set the output of node "c"/);

    // Redrive the (still failed) origin: the same run id, then it completes; a and b not called again.
    const redriven = json(await cli('redrive', origin.runId, '--json'));
    expect(redriven).toMatchObject({ runId: origin.runId, status: 'running' });
    json(await cli('worker', '--until-idle', '--json'));
    expect(json(await cli('show', origin.runId, '--json'))).toMatchObject({ status: 'completed' });
    expect([calls('/a', origin.runId), calls('/b', origin.runId), calls('/c', origin.runId)]).toEqual([1, 1, 2]);

    const again = await cli('redrive', origin.runId, '--json');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/only a failed run can be redriven/);
  });
});

describe('import', () => {
  it('keeps an imported version apart when the workflow here has another history, and reuses it', async () => {
    broken = true;
    const origin = testEngine();
    const run = await failedRun(origin, 'shared');
    const exported = JSON.parse(JSON.stringify(await origin.queries.export(run.runId))) as {
      run: { runId: string };
    };

    // Here, "shared" is another workflow with a history of its own.
    const here = testEngine();
    const mine = chain('shared', [node('mine', 'code', { code: 'return 1;' })]);
    await here.workflows.save(mine);
    const before = await here.workflows.versions('shared');

    const first = await here.commands.import(exported);
    expect(first.warnings.join('\n')).toMatch(/workflow "shared" here has no version with this content/);
    expect(first.run.workflowId).toMatch(/^shared\.imported-[0-9a-f]{12}$/);
    // The local workflow is as it was: no new version, same name and draft; the apart one is not listed.
    expect(await here.workflows.versions('shared')).toEqual(before);
    expect((await here.workflows.list()).map((workflow) => workflow.id)).toEqual(['shared']);
    const detail = await here.queries.get(run.runId);
    expect(detail).toMatchObject({
      imported: true,
      status: 'failed',
      latestVersion: 1,
      versionHash: expect.any(String),
    });
    expect((await here.queries.verifyReplay(run.runId)).ok).toBe(true);

    // Another run of the same foreign content lands in the same place.
    const second = await failedRun(origin, 'shared');
    const again = await here.commands.import(
      JSON.parse(JSON.stringify(await origin.queries.export(second.runId))) as unknown,
    );
    expect(again.run.workflowId).toBe(first.run.workflowId);
    expect(again.run.version).toBe(first.run.version);

    // A database where "shared" has the very same content takes the version as it is.
    const same = testEngine();
    await same.workflows.save(threeCalls('shared'));
    const plain = await same.commands.import(exported);
    expect(plain.warnings).toEqual([]);
    expect(plain.run.workflowId).toBe('shared');
  });
});
