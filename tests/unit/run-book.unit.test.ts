// The run book's cache bound: the least recently used runs go, except those pinned — a run whose
// state exists only in memory (the group commit's deferred pure work) cannot be read back.
import { afterAll, describe, expect, it } from 'vitest';
import { initialState } from '../../engine/journal/state.js';
import { compileWorkflow } from '../../engine/orchestrator/compile.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { RunBook, type LoadedRun } from '../../engine/runtime/run-book.js';
import { SqliteStore } from '../../engine/store/index.js';
import { chain, node } from '../support/harness.js';

const store = new SqliteStore(':memory:');
afterAll(() => store.close());
const graph = chain('b', [node('a', 'code', { code: 'return 1;' })]);
const workflow = compileWorkflow({ workflowId: graph.id, version: 1, graph }, defaultRegistry());
const loaded = (runId: string): [string, LoadedRun] => [runId, { state: initialState(runId), workflow }];

describe('the run book', () => {
  it('evicts the least recently used runs beyond its size', () => {
    const book = new RunBook(store, defaultRegistry(), { maxCachedRuns: 2 });
    book.adopt([loaded('r1'), loaded('r2'), loaded('r3')]);
    expect(['r1', 'r2', 'r3'].map((runId) => book.get(runId) !== undefined)).toEqual([false, true, true]);
  });

  it('never evicts a pinned run', () => {
    const book = new RunBook(store, defaultRegistry(), { maxCachedRuns: 2 });
    const pinned = new Set(['r1']);
    book.pin((runId) => pinned.has(runId));
    book.adopt([loaded('r1'), loaded('r2'), loaded('r3'), loaded('r4')]);
    expect(['r1', 'r2', 'r3', 'r4'].map((runId) => book.get(runId) !== undefined)).toEqual([true, false, false, true]);
    // Once its writes are durable it is an ordinary cached run again.
    pinned.clear();
    book.adopt([loaded('r5')]);
    expect(['r1', 'r4', 'r5'].map((runId) => book.get(runId) !== undefined)).toEqual([false, true, true]);
  });
});
