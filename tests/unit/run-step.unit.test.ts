// The run view's step model: a step's node statuses and decorations from a RunTimeline, kept by
// identity while a node is unchanged (so the canvas skips it), and seeking between failures.
import { describe, expect, it } from 'vitest';
import { RunTimeline, type JournalEvent } from '../../engine/api/index.js';
import { indexOfSeq, seekEvent, StepViews } from '../../renderer/src/runs/view/run-step.js';
import { chain, node } from '../support/harness.js';

const graph = chain('w', [node('a', 'code', { code: 'return 1;' })]);
const at = (seq: number) => 1_800_000_000_000 + seq * 10;
const on = (nodeId: string, attempt: number | null = 1) => ({ activationId: nodeId, nodeId, attempt });
const events: JournalEvent[] = [
  {
    seq: 1,
    at: at(1),
    type: 'RunStarted',
    activationId: null,
    nodeId: null,
    attempt: null,
    data: { workflowId: 'w', version: 1, input: { n: 1 }, triggerNodeId: 'start', parentRunId: null },
  },
  { seq: 2, at: at(2), type: 'NodeScheduled', ...on('start', null), data: { input: { n: 1 } } },
  { seq: 3, at: at(3), type: 'NodeStarted', ...on('start'), data: { worker: 'w1', recovered: false } },
  { seq: 4, at: at(4), type: 'NodeCompleted', ...on('start'), data: { port: 'out', output: { n: 1 } } },
  { seq: 5, at: at(5), type: 'NodeScheduled', ...on('a', null), data: { input: { n: 1 } } },
  { seq: 6, at: at(6), type: 'NodeStarted', ...on('a'), data: { worker: 'w1', recovered: false } },
  {
    seq: 7,
    at: at(7),
    type: 'NodeFailed',
    ...on('a'),
    data: { error: { message: 'boom', kind: 'code.error', retryable: true } },
  },
  { seq: 8, at: at(8), type: 'RetryScheduled', ...on('a'), data: { dueAt: at(9), delayMs: 10 } },
];

describe('the run view step model', () => {
  const timeline = new RunTimeline('r', events);

  it('finds a step index by seq and the nearest failures', () => {
    expect(indexOfSeq(events, 0)).toBe(0);
    expect(indexOfSeq(events, 4)).toBe(4);
    expect(indexOfSeq(events, 99)).toBe(events.length);
    expect(seekEvent(events, 1, 'failure', 1)).toBe(7);
    expect(seekEvent(events, 7, 'failure', 1)).toBeNull();
    expect(seekEvent(events, 8, 'failure', -1)).toBe(7);
    expect(seekEvent(events, 8, 'wait', -1)).toBeNull();
  });

  it('gives each node its status at the step, the step mark, the edges that carried items', () => {
    const views = new StepViews(graph);
    const start = views.at(timeline.at(1), events[0], null);
    expect(start.status.nodes.get('start')?.status).toBe('pending');
    expect(start.status.kind).toBe('run-status');

    const completed = views.at(timeline.at(5), events[4], null);
    expect(completed.status.nodes.get('start')?.status).toBe('completed');
    expect(completed.status.nodes.get('a')?.status).toBe('scheduled');
    expect(completed.marks.nodes.get('a')?.status).toBe('changed');
    expect(completed.status.edges?.get('start-out-a')?.status).toBe('carried');
    expect(completed.status.edges?.has('a-out-end')).toBe(false);

    const failed = views.at(timeline.at(7), events[6], 'a');
    expect(failed.status.nodes.get('a')).toMatchObject({ status: 'failed', error: expect.stringContaining('boom') });
    expect(failed.marks.nodes.get('a')?.status).toBe('diverged');
    // A retry due is scheduled again, in the node vocabulary.
    expect(views.at(timeline.at(8), events[7], null).nodes.a?.status).toBe('scheduled');
  });

  it('keeps an unchanged node decoration object from one step to the next', () => {
    const views = new StepViews(graph);
    const before = views.at(timeline.at(5), events[4], null);
    const after = views.at(timeline.at(6), events[5], null);
    expect(after.status.nodes.get('start')).toBe(before.status.nodes.get('start'));
    expect(after.status.nodes.get('end')).toBe(before.status.nodes.get('end'));
    expect(after.status.nodes.get('a')).not.toBe(before.status.nodes.get('a'));
  });
});
