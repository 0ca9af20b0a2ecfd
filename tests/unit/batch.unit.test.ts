// A batch: events recorded through the pure step, their work-list effects coalesced to each row's
// final state, items undone alone, and what it hands the store.
import { afterAll, describe, expect, it } from 'vitest';
import { initialState } from '../../engine/journal/state.js';
import { compileWorkflow } from '../../engine/orchestrator/compile.js';
import { Batch } from '../../engine/runtime/batch.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { RunBook } from '../../engine/runtime/run-book.js';
import { SqliteStore } from '../../engine/store/index.js';
import { chain, node } from '../support/harness.js';

const store = new SqliteStore(':memory:');
afterAll(() => store.close());
const book = new RunBook(store, defaultRegistry());
const graph = chain('b', [node('a', 'code', { code: 'return 1;' }), node('w', 'wait.timer', { duration: '1h' })]);
const workflow = compileWorkflow({ workflowId: graph.id, version: 1, graph }, defaultRegistry());

function started(batch: Batch, runId: string): void {
  batch.create({ runId, workflowId: graph.id, version: 1, input: 5, parentRunId: null }, workflow, initialState(runId));
  batch.record(runId, {
    type: 'RunStarted',
    activationId: null,
    nodeId: null,
    attempt: null,
    data: { workflowId: graph.id, version: 1, input: 5, triggerNodeId: 'start', parentRunId: null },
  });
}

const ref = (nodeId: string, attempt = 1) => ({ activationId: nodeId, nodeId, attempt });

describe('a batch', () => {
  it('records a new run through the step, with its decisions, and the ready row they make', () => {
    const batch = new Batch(book, 1000, 'w1');
    started(batch, 'r1');
    const [write] = batch.toCommit().runs;
    expect(write?.create).toMatchObject({ runId: 'r1', input: 5 });
    expect(write?.expectedLastSeq).toBe(0);
    expect(write?.events.map((event) => [event.seq, event.type, event.nodeId])).toEqual([
      [1, 'RunStarted', null],
      [2, 'NodeScheduled', 'start'],
    ]);
    expect(write?.work.readyPut).toEqual([
      expect.objectContaining({ activationId: 'start', leaseOwner: null, attempt: 1 }),
    ]);
    expect(write?.projection).toMatchObject({ status: 'running', lastSeq: 2 });
    expect([...batch.unclaimed()].map(({ row }) => row.activationId)).toEqual(['start']);
  });

  it("commits each row's final state: a row made and finished in one batch is a delete, a timer replaces a ready row", () => {
    const batch = new Batch(book, 1000, 'w1');
    started(batch, 'r2');
    batch.record('r2', { ...ref('start'), type: 'NodeStarted', data: { worker: 'w1', recovered: false } });
    batch.record('r2', { ...ref('start'), type: 'NodeCompleted', data: { port: 'out', output: 5 } });
    batch.record('r2', { ...ref('a'), type: 'NodeStarted', data: { worker: 'w1', recovered: false } });
    batch.record('r2', { ...ref('a'), type: 'NodeCompleted', data: { port: 'out', output: 1 } });
    batch.record('r2', { ...ref('w'), type: 'NodeStarted', data: { worker: 'w1', recovered: false } });
    batch.record('r2', { ...ref('w'), type: 'WaitCreated', data: { wait: { kind: 'timer', dueAt: 5000 } } });
    const [write] = batch.toCommit().runs;
    expect(write?.work.readyPut).toEqual([]);
    expect([...(write?.work.readyDelete ?? [])].sort()).toEqual(['a', 'start', 'w']);
    expect(write?.work.timerPut).toEqual([
      expect.objectContaining({ activationId: 'w', purpose: 'wait', dueAt: 5000 }),
    ]);
    expect(write?.projection).toMatchObject({ status: 'waiting' });
    expect([...batch.unclaimed()]).toEqual([]);
  });

  it('an ended run drops the rows it made, keeps its inbox history and clears the rest', () => {
    const batch = new Batch(book, 1000, null);
    started(batch, 'r3');
    batch.record('r3', {
      type: 'RunCancelled',
      activationId: null,
      nodeId: null,
      attempt: null,
      data: { reason: null, by: 'x' },
    });
    const [write] = batch.toCommit().runs;
    expect(write?.clear).toBe(true);
    expect(write?.work.readyPut).toEqual([]);
    expect(write?.projection).toMatchObject({ status: 'cancelled' });
  });

  it('an item that throws is undone alone, a run it created included', () => {
    const batch = new Batch(book, 1000, null);
    expect(batch.isolate(() => started(batch, 'r4'))).toBeNull();
    const error = batch.isolate(() => {
      batch.record('r4', { ...ref('start'), type: 'NodeStarted', data: { worker: 'w1', recovered: false } });
      started(batch, 'r5');
      throw new Error('refused');
    });
    expect(error).toEqual(new Error('refused'));
    expect(batch.runIds()).toEqual(['r4']);
    const [write] = batch.toCommit().runs;
    expect(write?.events.map((event) => event.type)).toEqual(['RunStarted', 'NodeScheduled']);
    expect(batch.run('r4')?.state.lastSeq).toBe(2);
    expect(batch.run('r5')).toBeUndefined();
  });

  it('builds on the run book without changing what it holds', () => {
    const batch = new Batch(book, 1000, null);
    started(batch, 'r6');
    book.adopt(batch.states());
    const before = book.get('r6')?.state;
    const next = new Batch(book, 2000, 'w1');
    next.record('r6', { ...ref('start'), type: 'NodeStarted', data: { worker: 'w1', recovered: false } });
    next.requireLease('r6', 'start', 1);
    expect(book.get('r6')?.state).toBe(before);
    const [write] = next.toCommit().runs;
    expect(write).toMatchObject({ create: null, expectedLastSeq: 2, leases: [{ activationId: 'start', attempt: 1 }] });
  });
});
