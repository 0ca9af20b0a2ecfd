// The runs API of the EngineApi, end to end: a real served host on 127.0.0.1, a real client over
// the WebSocket (validating every answer and event against the contract), and the real CLI as
// another process changing runs behind the host's back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  ApiError,
  EngineClient,
  formatWorkflowFile,
  WebSocketConnection,
  type EventData,
  type RunSummary,
} from '../../engine/api/index.js';
import { serve, type ServedApp } from '../../engine/host/serve.js';
import { chain, node, refundFlow, runCli, tempDir } from '../support/harness.js';

const dir = tempDir('stepwise-runs-api-');
let app: ServedApp;
let client: EngineClient;
const changes: EventData<'runsChanged'>['runs'] = [];

beforeAll(async () => {
  app = await serve({ dbPath: dir.db, port: 0 });
  const url = `ws://127.0.0.1:${app.port}/api/ws?token=${app.token}`;
  client = new EngineClient(new WebSocketConnection(url, (address) => new WebSocket(address)));
  client.on('runsChanged', (data) => changes.push(...data.runs));
  await client.api.importWorkflow({ text: formatWorkflowFile(refundFlow()) });
  await client.api.importWorkflow({
    text: formatWorkflowFile(chain('double', [node('x', 'code', { code: 'return input * 2;' })])),
  });
});
afterAll(async () => {
  client.stop();
  await app.close();
  dir.cleanup();
});

async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}

const settled = (runId: string, status: RunSummary['status']) =>
  until(
    () => client.api.getRun({ runId }),
    (run) => run.status === status,
    `run ${runId} to be ${status}`,
  );

describe('the runs API', () => {
  it('starts a run with an input; the run, its activations and its approval are readable', async () => {
    const run = await client.api.startRun({ workflowId: 'refund', input: { amount: 12 } });
    expect(run).toMatchObject({ workflowId: 'refund', version: 1, status: 'running', input: { amount: 12 } });
    const parked = await settled(run.runId, 'waiting');
    expect(parked).toMatchObject({ settled: 'parked', latestVersion: 1, error: null });
    expect(parked.activations.map((activation) => [activation.nodeId, activation.status])).toEqual([
      ['start', 'completed'],
      ['ok', 'waiting'],
    ]);
    expect(parked.activations[1]?.wait).toEqual({
      kind: 'approval',
      title: 'Refund?',
      instructions: '',
      timeoutAt: null,
    });
    expect(parked.approvals).toEqual([
      expect.objectContaining({ nodeId: 'ok', status: 'open', title: 'Refund?', input: { amount: 12 } }),
    ]);
  });

  it('approves once, and refuses a second decision naming the first', async () => {
    const run = await client.api.startRun({ workflowId: 'refund', input: { amount: 7 } });
    await settled(run.runId, 'waiting');
    const decided = await client.api.decide({ runId: run.runId, decision: 'approved', by: 'alice', comment: 'fine' });
    expect(decided.runId).toBe(run.runId);
    const done = await settled(run.runId, 'completed');
    expect(done.output).toEqual({ refunded: 7 });
    expect(done.approvals[0]).toMatchObject({
      status: 'decided',
      decision: 'approved',
      decidedBy: 'alice',
      comment: 'fine',
    });
    const again = client.api.decide({ runId: run.runId, decision: 'rejected', by: 'mallory' });
    await expect(again).rejects.toBeInstanceOf(ApiError);
    await expect(again).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/already decided: approved by alice at .*; a decision is recorded once/),
    });
    await expect(client.api.decide({ runId: 'no-such-run', decision: 'approved' })).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('cancels a parked run, and refuses to cancel it twice', async () => {
    const run = await client.api.startRun({ workflowId: 'refund', input: { amount: 1 } });
    await settled(run.runId, 'waiting');
    expect(await client.api.cancelRun({ runId: run.runId, reason: 'duplicate' })).toMatchObject({
      status: 'cancelled',
    });
    const cancelled = await client.api.getRun({ runId: run.runId });
    expect(cancelled.approvals[0]?.status).toBe('cancelled');
    await expect(client.api.cancelRun({ runId: run.runId })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/already cancelled/),
    });
  });

  it('reads the journal a page at a time from a sequence number', async () => {
    const run = await client.api.startRun({ workflowId: 'double', input: 21 });
    const done = await settled(run.runId, 'completed');
    expect(done.output).toBe(42);
    const all = await client.api.getRunEvents({ runId: run.runId });
    expect(all.more).toBe(false);
    expect(all.events.map((event) => event.seq)).toEqual(Array.from({ length: done.lastSeq }, (_, index) => index + 1));
    expect(all.events[0]).toMatchObject({ type: 'RunStarted', data: { input: 21 } });
    expect(all.events.at(-1)).toMatchObject({ type: 'RunCompleted', data: { output: 42 } });
    const first = await client.api.getRunEvents({ runId: run.runId, limit: 3 });
    expect(first).toMatchObject({ more: true });
    const rest = await client.api.getRunEvents({ runId: run.runId, afterSeq: 3 });
    expect([...first.events, ...rest.events]).toEqual(all.events);
    await expect(client.api.getRunEvents({ runId: 'nope' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('lists runs newest first, filtered, a page at a time, with counts by status', async () => {
    const started = [];
    for (let n = 0; n < 5; n += 1) started.push(await client.api.startRun({ workflowId: 'double', input: n }));
    for (const run of started) await settled(run.runId, 'completed');
    const page1 = await client.api.listRuns({ workflowId: 'double', limit: 3 });
    expect(page1.runs).toHaveLength(3);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await client.api.listRuns({ workflowId: 'double', limit: 3, cursor: page1.nextCursor ?? '' });
    const listed = [...page1.runs, ...page2.runs].map((run) => run.runId);
    expect(listed.slice(0, 5)).toEqual(started.map((run) => run.runId).reverse());
    expect(new Set(listed).size).toBe(listed.length);
    expect(page1.counts).toMatchObject({ completed: 6, running: 0, waiting: 0, failed: 0, cancelled: 0 });

    const refunds = await client.api.listRuns({ workflowId: 'refund', status: ['cancelled', 'waiting'] });
    expect(refunds.runs.map((run) => run.status).sort()).toEqual(['cancelled', 'waiting']);
    expect(refunds.counts).toMatchObject({ completed: 1, waiting: 1, cancelled: 1 });
    const one = started[2] as RunSummary;
    expect((await client.api.listRuns({ idPrefix: one.runId.slice(0, 16) })).runs.map((run) => run.runId)).toContain(
      one.runId,
    );
    expect((await client.api.listRuns({ workflowId: 'double', version: 2 })).runs).toEqual([]);
    await expect(client.api.listRuns({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(client.api.listRuns({ status: ['bogus' as 'running'] })).rejects.toMatchObject({
      code: 'bad-request',
    });
  });

  it('pushes run changes to every client, also those another process made (the CLI)', async () => {
    const run = await client.api.startRun({ workflowId: 'refund', input: { amount: 99 } });
    await settled(run.runId, 'waiting');
    expect(changes.some((change) => change.runId === run.runId && change.status === 'waiting')).toBe(true);
    const rejected = await runCli(['reject', run.runId, '--by', 'carol', '--json'], { db: dir.db });
    expect(rejected.code, rejected.stderr).toBe(0);
    const pushed = await until(
      () => changes.filter((change) => change.runId === run.runId),
      (seen) => seen.some((change) => change.status === 'completed'),
      'the CLI decision to be pushed',
    );
    expect(pushed.at(-1)).toMatchObject({ workflowId: 'refund', version: 1, status: 'completed' });
  });

  it('tells the run after any event, per node of its pinned version', async () => {
    const run = await client.api.startRun({ workflowId: 'double', input: 21 });
    const done = await settled(run.runId, 'completed');
    const { events } = await client.api.getRunEvents({ runId: run.runId });
    const completedX = events.find((event) => event.type === 'NodeCompleted' && event.nodeId === 'x');
    if (!completedX) throw new Error('x never completed');
    const before = await client.api.getRunState({ runId: run.runId, seq: completedX.seq - 1 });
    const at = await client.api.getRunState({ runId: run.runId, seq: completedX.seq });
    expect(before.nodes.x).toMatchObject({ status: 'running', output: null, attempts: 1 });
    expect(at.nodes.x).toEqual({ status: 'completed', output: 42, error: null, attempts: 1 });
    expect(await client.api.getRunState({ runId: run.runId })).toMatchObject({
      seq: done.lastSeq,
      status: 'completed',
    });
    const outside = await client.api
      .getRunState({ runId: run.runId, seq: done.lastSeq + 1 })
      .catch((error: unknown) => error);
    expect(outside).toBeInstanceOf(ApiError);
    expect((outside as ApiError).message).toContain(`has no event #${done.lastSeq + 1}`);
  });

  it('exports a run, verifies its replay, and imports the export as a read-only run elsewhere', async () => {
    const run = await client.api.startRun({ workflowId: 'double', input: 5 });
    await settled(run.runId, 'completed');
    expect(await client.api.verifyReplay({ runId: run.runId })).toEqual({
      ok: true,
      events: expect.any(Number),
      divergence: null,
    });
    const file = await client.api.exportRun({ runId: run.runId });
    expect(file.fileName).toBe(`run-${run.runId}.json`);
    expect(JSON.parse(file.text)).toMatchObject({ format: 'stepwise/run-export@2', run: { runId: run.runId } });

    const other = tempDir('stepwise-runs-api-import-');
    const elsewhere = await serve({ dbPath: other.db, port: 0 });
    const there = new EngineClient(
      new WebSocketConnection(
        `ws://127.0.0.1:${elsewhere.port}/api/ws?token=${elsewhere.token}`,
        (url) => new WebSocket(url),
      ),
    );
    try {
      const imported = await there.api.importRun({ text: file.text });
      expect(imported.run).toMatchObject({ runId: run.runId, status: 'completed', imported: true, output: 10 });
      const events = await there.api.getRunEvents({ runId: run.runId });
      expect(events.events.length).toBe((await client.api.getRunEvents({ runId: run.runId })).events.length);
      expect((await there.api.listRuns({})).runs.map((listed) => [listed.runId, listed.imported])).toEqual([
        [run.runId, true],
      ]);
      const redrive = await there.api.redriveRun({ runId: run.runId }).catch((error: unknown) => error);
      expect(redrive).toBeInstanceOf(ApiError);

      const tampered = JSON.parse(file.text) as { events: { data?: { output?: unknown } }[] };
      const completion = tampered.events.find((event) => event.data?.output === 10);
      if (!completion?.data) throw new Error('no completion with output 10 in the export');
      completion.data.output = 11;
      const refused = await there.api.importRun({ text: JSON.stringify(tampered) }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).message).toMatch(/import refused/);
      // An older, unchained export of another graph: imported with a warning, and verify replay
      // names the first event the orchestrator decides differently on the graph the file holds.
      const other = JSON.parse(file.text) as {
        format: string;
        chain?: unknown;
        version: {
          graph: {
            id: string;
            nodes: {
              id: string;
              type: string;
              typeVersion: number;
              position: { x: number; y: number };
              config: unknown;
            }[];
            edges: { id: string; source: string; sourceHandle: string; target: string; targetHandle: string }[];
          };
        };
        run: { runId: string };
      };
      other.format = 'stepwise/run-export@1';
      delete other.chain;
      other.version.graph.id = 'double-elsewhere';
      other.run.runId = `${run.runId}-copy`;
      // x → y → end where the run went x → end: after x, the orchestrator now schedules y.
      const graph = other.version.graph;
      graph.nodes.push({
        id: 'y',
        type: 'code',
        typeVersion: 1,
        position: { x: 0, y: 0 },
        config: { code: 'return input;' },
      });
      graph.edges = graph.edges.map((entry) => (entry.target === 'end' ? { ...entry, target: 'y' } : entry));
      graph.edges.push({ id: 'y-end', source: 'y', sourceHandle: 'out', target: 'end', targetHandle: 'in' });
      const unchained = await there.api.importRun({ text: JSON.stringify(other) });
      expect(unchained.warnings.join('\n')).toMatch(/no hash chain/);
      const check = await there.api.verifyReplay({ runId: `${run.runId}-copy` });
      const scheduledEnd = (await there.api.getRunEvents({ runId: `${run.runId}-copy` })).events.find(
        (event) => event.type === 'NodeScheduled' && event.nodeId === 'end',
      );
      expect(check).toMatchObject({
        ok: false,
        divergence: {
          seq: scheduledEnd?.seq,
          nodeId: 'end',
          expected: expect.stringContaining('NodeScheduled of "y"'),
        },
      });
      const notJson = await there.api.importRun({ text: '{"format":' }).catch((error: unknown) => error);
      expect((notJson as ApiError).message).toMatch(/not a run export: the file is not JSON/);
    } finally {
      there.stop();
      await elsewhere.close();
      other.cleanup();
    }
  });

  it("tells which version a draft with an older version's content is, and runs it pinned there", async () => {
    const one = chain('restored', [node('x', 'code', { code: 'return 1;' })]);
    await client.api.importWorkflow({ text: formatWorkflowFile(one) });
    const two = chain('restored', [node('x', 'code', { code: 'return 2;' })]);
    await client.api.importWorkflow({ text: formatWorkflowFile(two) });
    expect(await client.api.getWorkflow({ workflowId: 'restored' })).toMatchObject({
      latestVersion: 2,
      draftChanged: false,
      draftVersion: 2,
    });
    const restored = await client.api.restoreVersion({ workflowId: 'restored', version: 1 });
    expect(restored).toMatchObject({ latestVersion: 2, draftChanged: true, draftVersion: 1 });
    const started = await client.api.runDraft({ workflowId: 'restored', input: null });
    expect(started).toMatchObject({ versionCreated: false, run: { version: 1 } });
  });

  it('counts the whole inbox, whatever page of it is read', async () => {
    const before = (await client.api.listInbox({ limit: 1 })).total;
    for (const amount of [1, 2, 3]) {
      const run = await client.api.startRun({ workflowId: 'refund', input: { amount } });
      await settled(run.runId, 'waiting');
    }
    const page = await client.api.listInbox({ limit: 2 });
    expect(page.total).toBe(before + 3);
    expect(page.items).toHaveLength(2);
    // Newest first: the last run parked is the first item.
    expect(page.items[0]?.input).toEqual({ amount: 3 });
  });
});
