// The timeline's windowing and the Gantt's geometry: pure functions behind the run view's
// event list and activation chart.
import { describe, expect, it } from 'vitest';
import type { ActivationState } from '../../engine/api/index.js';
import { activation } from '../support/activation.js';
import { ganttGeometry, ticks, tickLabel } from '../../renderer/src/runs/gantt-geometry.js';
import { eventTone, formatOffset, indexAtSeq } from '../../renderer/src/runs/timeline-window.js';
import { scrollToKeep, visibleRange } from '../../renderer/src/ui/windowing.js';

const failure = { message: 'boom', kind: 'http', retryable: true };

describe('timeline windowing', () => {
  it('renders only the rows in view plus the overscan, at any length', () => {
    expect(visibleRange(0, 260, 26, 100_000, 5)).toEqual({ start: 0, end: 15 });
    expect(visibleRange(26 * 50_000, 260, 26, 100_000, 5)).toEqual({ start: 49_995, end: 50_015 });
    expect(visibleRange(26 * 99_995, 260, 26, 100_000, 5)).toEqual({ start: 99_990, end: 100_000 });
    expect(visibleRange(0, 260, 26, 0)).toEqual({ start: 0, end: 0 });
  });

  it('scrolls the least needed to keep a row in view', () => {
    expect(scrollToKeep(5, 0, 260, 26)).toBe(0);
    expect(scrollToKeep(20, 0, 260, 26)).toBe(21 * 26 - 260);
    expect(scrollToKeep(2, 26 * 10, 260, 26)).toBe(52);
  });

  it('finds the row of a step by seq, also between paged events', () => {
    const events = [{ seq: 1 }, { seq: 2 }, { seq: 5 }, { seq: 9 }];
    expect(indexAtSeq(events, 5)).toBe(2);
    expect(indexAtSeq(events, 7)).toBe(2);
    expect(indexAtSeq(events, 0)).toBe(-1);
    expect(indexAtSeq(events, 100)).toBe(3);
  });

  it('formats offsets from the run start and gives failures, waits and retries their tone', () => {
    expect(formatOffset(350)).toBe('+0.350s');
    expect(formatOffset(12_000)).toBe('+12.0s');
    expect(formatOffset(185_000)).toBe('+3m05s');
    expect(formatOffset(2 * 3_600_000 + 4 * 60_000)).toBe('+2h04m');
    expect(eventTone('NodeFailed')).toBe('failure');
    expect(eventTone('WaitCreated')).toBe('wait');
    expect(eventTone('RetryScheduled')).toBe('retry');
    expect(eventTone('SignalReceived')).toBe('decision');
  });
});

describe('Gantt geometry', () => {
  it('draws attempts, a failed one with its error, and the retry gap between them', () => {
    const retried = activation({
      activationId: 'fetch',
      nodeId: 'fetch',
      scheduledAt: 0,
      finishedAt: 1000,
      attempts: [
        { attempt: 1, startedAt: 0, finishedAt: 200, error: failure, recoveries: 0 },
        { attempt: 2, startedAt: 600, finishedAt: 1000, error: null, recoveries: 0 },
      ],
    });
    const { lanes } = ganttGeometry([retried], 0, 1000, new Map([['fetch', 'Fetch']]));
    expect(lanes[0]?.label).toBe('Fetch');
    expect(lanes[0]?.segments.map((s) => [s.kind, +s.left.toFixed(3), +s.width.toFixed(3)])).toEqual([
      ['failed', 0, 0.2],
      ['retry-gap', 0.2, 0.4],
      ['attempt', 0.6, 0.4],
    ]);
    expect(lanes[0]?.segments[0]?.error).toEqual({ message: 'boom', kind: 'http' });
  });

  it('runs an open attempt and a pending retry to the end of the axis', () => {
    const running = activation({
      activationId: 'a',
      nodeId: 'a',
      status: 'running',
      attempts: [{ attempt: 1, startedAt: 100, finishedAt: null, error: null, recoveries: 0 }],
    });
    const retrying = activation({
      activationId: 'b',
      nodeId: 'b',
      status: 'retrying',
      attempts: [{ attempt: 1, startedAt: 0, finishedAt: 500, error: failure, recoveries: 0 }],
    });
    const { lanes } = ganttGeometry([running, retrying], 0, 1000, new Map());
    expect(lanes[0]?.segments.map((s) => [s.kind, +s.left.toFixed(3), +s.width.toFixed(3)])).toEqual([
      ['queued', 0, 0.1],
      ['open', 0.1, 0.9],
    ]);
    expect(lanes[1]?.segments.map((s) => [s.kind, +s.left.toFixed(3), +s.width.toFixed(3)])).toEqual([
      ['failed', 0, 0.5],
      ['retry-gap', 0.5, 0.5],
    ]);
  });

  it('hatches a wait from the attempt start to the signal, then the rest of the attempt', () => {
    const approval = activation({
      activationId: 'ok',
      nodeId: 'ok',
      status: 'completed',
      wait: { kind: 'approval' } as unknown as ActivationState['wait'],
      signal: { at: 800 } as unknown as ActivationState['signal'],
      finishedAt: 900,
      attempts: [{ attempt: 1, startedAt: 200, finishedAt: 900, error: null, recoveries: 0 }],
    });
    const waiting = activation({
      activationId: 'w',
      nodeId: 'w',
      status: 'waiting',
      wait: { kind: 'approval' } as unknown as ActivationState['wait'],
      attempts: [{ attempt: 1, startedAt: 500, finishedAt: null, error: null, recoveries: 0 }],
    });
    const { lanes } = ganttGeometry([approval, waiting], 0, 1000, new Map());
    expect(lanes[0]?.segments.map((s) => [s.kind, +s.left.toFixed(3), +s.width.toFixed(3)])).toEqual([
      ['queued', 0, 0.2],
      ['wait', 0.2, 0.6],
      ['attempt', 0.8, 0.1],
    ]);
    expect(lanes[1]?.segments.map((s) => [s.kind, +s.left.toFixed(3), +s.width.toFixed(3)])).toEqual([
      ['queued', 0, 0.5],
      ['wait', 0.5, 0.5],
    ]);
  });

  it('numbers the lanes of a node that ran more than once, and clamps to the axis', () => {
    const loop = [1, 2].map((i) =>
      activation({
        activationId: `item[${i}]`,
        nodeId: 'item',
        attempts: [{ attempt: 1, startedAt: -50, finishedAt: 5000, error: null, recoveries: 0 }],
      }),
    );
    const once = activation({ activationId: 'end', nodeId: 'end', status: 'skipped' });
    const { lanes } = ganttGeometry([...loop, once], 0, 1000, new Map([['item', 'Item']]));
    expect(lanes.map((lane) => lane.label)).toEqual(['Item #1', 'Item #2', 'end']);
    expect(lanes[0]?.segments.at(-1)).toMatchObject({ left: 0, width: 1 });
    expect(lanes[2]?.segments).toEqual([]);
  });

  it('puts round-numbered ticks on the axis', () => {
    expect(ticks(0, 10_000, 8).map((t) => t.label)).toEqual(['0', '2s', '4s', '6s', '8s', '10s']);
    expect(ticks(1000, 90 * 60_000, 8).map((t) => t.label)).toEqual(['0', '15m', '30m', '45m', '1h', '1h15m', '1h30m']);
    expect(ticks(0, 0 + 1, 8)).toHaveLength(2);
    expect(tickLabel(90_000)).toBe('1m30s');
  });
});
