// The pure rules of a `loop.map` fan-out (engine/waits/child.ts): which items are started and
// running given the ends journaled so far, and what one more end does.
import { describe, expect, it } from 'vitest';
import {
  carriedEnds,
  childrenStep,
  itemIndexOf,
  itemRunId,
  runningItems,
  startedItems,
  type ChildrenWaitRecord,
  type ChildrenWaitRequest,
} from '../../engine/waits/index.js';

function request(count: number, concurrency: number, onItemError: 'fail' | 'collect' = 'fail'): ChildrenWaitRequest {
  return {
    kind: 'children',
    workflowId: 'item',
    version: 1,
    concurrency,
    onItemError,
    items: Array.from({ length: count }, (_, index) => ({
      runId: itemRunId('000000001abc', 'map', 1, index),
      input: index,
    })),
  };
}

const LIMIT = 1024 * 1024;

const ended = (wait: ChildrenWaitRequest, indexes: number[]): ChildrenWaitRecord[] =>
  indexes.map((index) => ({
    wait: 'children',
    by: 'test',
    index,
    runId: wait.items[index]?.runId ?? '',
    status: 'completed',
    output: index * 10,
    error: null,
    size: String(index * 10).length,
  }));

describe('children wait', () => {
  it('names each item a distinct, stable run, and finds the item of a run', () => {
    const wait = request(5, 2);
    const ids = wait.items.map((item) => item.runId);
    expect(new Set(ids).size).toBe(5);
    expect(itemRunId('000000001abc', 'map', 1, 3)).toBe(ids[3]);
    expect(itemRunId('000000001abc', 'map', 2, 3)).not.toBe(ids[3]);
    // Distinct by construction, for the largest fan-out there may be.
    const many = new Set(Array.from({ length: 10_000 }, (_, index) => itemRunId('000000001abc', 'map', 1, index)));
    expect(many.size).toBe(10_000);
    expect(itemIndexOf(wait, ids[4] ?? '')).toBe(4);
    expect(itemIndexOf(wait, 'elsewhere')).toBe(-1);
  });

  it('starts `concurrency` items, then one per end; running = started and not ended', () => {
    const wait = request(6, 3);
    expect(startedItems(wait, [])).toEqual([0, 1, 2]);
    expect(runningItems(wait, [])).toEqual([0, 1, 2]);
    // Item 1 ended: item 3 started.
    expect(runningItems(wait, ended(wait, [1]))).toEqual([0, 2, 3]);
    expect(runningItems(wait, ended(wait, [1, 3, 2, 4]))).toEqual([0, 5]);
    expect(startedItems(wait, ended(wait, [1, 3, 2, 4, 0]))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a new attempt carries the items an earlier one completed: they do not start again', () => {
    const first = request(6, 2);
    // Attempt 1: items 0, 1 and 3 completed, item 2 failed, the rest never started.
    const failed = { ...ended(first, [2])[0], status: 'failed' } as ChildrenWaitRecord;
    const previous = [...ended(first, [0, 1, 3]), failed];
    const again = { ...first, items: first.items.map((item, index) => ({ ...item, runId: `attempt2-${index}` })) };
    const carried = carriedEnds(previous, again);
    expect(carried.map((record) => record.index)).toEqual([0, 1, 3]);
    expect(carriedEnds(previous, { kind: 'approval' })).toEqual([]);
    // Started in index order, skipping the carried ones: 2 and 4 first (concurrency 2).
    expect(startedItems(again, carried)).toEqual([2, 4]);
    expect(runningItems(again, carried)).toEqual([2, 4]);
    // Item 4 ends: item 5 starts; 2 and 5 run.
    const step = childrenStep(
      again,
      carried,
      4,
      { runId: 'attempt2-4', status: 'completed', output: 40, error: null },
      LIMIT,
    );
    expect(step).toMatchObject({ done: false, start: [5] });
    const four = { ...(ended(again, [4])[0] as ChildrenWaitRecord) };
    expect(runningItems(again, [...carried, four])).toEqual([2, 5]);
  });

  it('an end before the last is progress that starts the next item; the last resolves in item order', () => {
    const wait = request(3, 2);
    const end = (index: number) =>
      ({ runId: wait.items[index]?.runId ?? '', status: 'completed', output: index * 10, error: null }) as const;
    const first = childrenStep(wait, [], 1, end(1), LIMIT);
    expect(first).toMatchObject({ done: false, start: [2], record: { index: 1, output: 10 } });
    const second = childrenStep(wait, ended(wait, [1]), 2, end(2), LIMIT);
    expect(second).toMatchObject({ done: false, start: [] });
    const last = childrenStep(wait, ended(wait, [1, 2]), 0, end(0), LIMIT);
    if (!last.done) throw new Error('not done');
    expect(last.outcome.ended.map((record) => record.output)).toEqual([0, 10, 20]);
    expect(last.cancel).toEqual([]);
  });

  it('a failed item ends the wait at once and names the running others to cancel, unless collected', () => {
    const failure = { status: 'failed', output: null, error: { message: 'boom', kind: 'fail' } } as const;
    const wait = request(5, 3);
    const step = childrenStep(wait, [], 1, { runId: wait.items[1]?.runId ?? '', ...failure }, LIMIT);
    expect(step).toMatchObject({ done: true, cancel: [0, 2], record: { index: 1, status: 'failed' } });
    const collecting = request(5, 3, 'collect');
    expect(
      childrenStep(collecting, [], 1, { runId: collecting.items[1]?.runId ?? '', ...failure }, LIMIT),
    ).toMatchObject({
      done: false,
      start: [3],
    });
  });

  it("stops once the outputs so far cannot fit in the node's output limit, naming the running items to cancel", () => {
    const wait = request(10, 2);
    const big = (index: number) =>
      ({ runId: wait.items[index]?.runId ?? '', status: 'completed', output: 'x'.repeat(40), error: null }) as const;
    const first = childrenStep(wait, [], 0, big(0), 80);
    expect(first).toMatchObject({ done: false, record: { size: 42 } });
    const records = first.done ? [] : [first.record];
    const second = childrenStep(wait, records, 1, big(1), 80);
    expect(second).toMatchObject({ done: true, cancel: [2], outcome: { overLimit: { size: 86, limitBytes: 80 } } });
  });
});
