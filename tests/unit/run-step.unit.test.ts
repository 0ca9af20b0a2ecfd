// The run view's step model: a step's node statuses and decorations from a RunTimeline, kept by
// identity while a node is unchanged (so the canvas skips it), what changed at a step (on the
// canvas and in the inspector), seeking between failures and waits, and inherited activations.
import { describe, expect, it } from 'vitest';
import { RunTimeline, type JournalEvent } from '../../engine/api/index.js';
import {
  changedParts,
  indexOfSeq,
  inheritancesOf,
  landmarksOf,
  seeksAround,
  StepViews,
} from '../../renderer/src/runs/view/run-step.js';
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
    const landmarks = landmarksOf(events);
    expect(landmarks).toEqual({ failure: [7], wait: [] });
    expect(seeksAround(landmarks, 1).failure).toEqual({ previous: null, next: 7 });
    // At a landmark, previous and next are the others, never the landmark itself.
    expect(seeksAround(landmarks, 7).failure).toEqual({ previous: null, next: null });
    expect(seeksAround(landmarks, 8)).toEqual({
      failure: { previous: 7, next: null },
      wait: { previous: null, next: null },
    });
  });

  it('seeks between several failures and waits, before, at and after each', () => {
    const landmarks = { failure: [3, 9, 20], wait: [5, 12] };
    expect(seeksAround(landmarks, 0)).toEqual({
      failure: { previous: null, next: 3 },
      wait: { previous: null, next: 5 },
    });
    expect(seeksAround(landmarks, 9)).toEqual({ failure: { previous: 3, next: 20 }, wait: { previous: 5, next: 12 } });
    expect(seeksAround(landmarks, 10)).toEqual({ failure: { previous: 9, next: 20 }, wait: { previous: 5, next: 12 } });
    expect(seeksAround(landmarks, 12).wait).toEqual({ previous: 5, next: null });
    expect(seeksAround(landmarks, 99).failure).toEqual({ previous: 20, next: null });
  });

  it('gives each node its status at the step, the step mark, the edges that carried items', () => {
    const views = new StepViews(graph);
    const start = views.at(timeline.at(1), timeline.at(0), events[0], null);
    expect(start.status.nodes.get('start')?.status).toBe('pending');
    expect(start.status.kind).toBe('run-status');

    const completed = views.at(timeline.at(5), timeline.at(4), events[4], null);
    expect(completed.status.nodes.get('start')?.status).toBe('completed');
    expect(completed.status.nodes.get('a')?.status).toBe('scheduled');
    expect(completed.marks.nodes.get('a')?.status).toBe('changed');
    // One item passed: the edge is labelled with it, as with any count.
    expect(completed.status.edges?.get('start-out-a')).toEqual({ status: 'carried', label: '1' });
    expect(completed.status.edges?.has('a-out-end')).toBe(false);

    const failed = views.at(timeline.at(7), timeline.at(6), events[6], 'a');
    expect(failed.status.nodes.get('a')).toMatchObject({ status: 'failed', error: expect.stringContaining('boom') });
    expect(failed.marks.nodes.get('a')?.status).toBe('diverged');
    // A retry due is scheduled again, in the node vocabulary.
    expect(views.at(timeline.at(8), timeline.at(7), events[7], null).nodes.a?.status).toBe('scheduled');
  });

  it('keeps an unchanged node decoration object from one step to the next', () => {
    const views = new StepViews(graph);
    const before = views.at(timeline.at(5), timeline.at(4), events[4], null);
    const after = views.at(timeline.at(6), timeline.at(5), events[5], null);
    expect(after.status.nodes.get('start')).toBe(before.status.nodes.get('start'));
    expect(after.status.nodes.get('end')).toBe(before.status.nodes.get('end'));
    expect(after.status.nodes.get('a')).not.toBe(before.status.nodes.get('a'));
  });

  it('marks every node whose status changed at the step, and which parts of a node changed', () => {
    const views = new StepViews(graph);
    // NodeCompleted of start: start's status and output changed; a's nothing.
    const completedStart = views.at(timeline.at(4), timeline.at(3), events[3], null);
    expect([...completedStart.marks.nodes.keys()]).toEqual(['start']);
    expect([...changedParts(completedStart, 'start')].sort()).toEqual(['output', 'status', 'attempts'].sort());
    expect(changedParts(completedStart, 'a').size).toBe(0);
    // NodeScheduled of a: a appears (status, input); NodeFailed: status, error, attempts.
    const scheduled = views.at(timeline.at(5), timeline.at(4), events[4], null);
    expect([...changedParts(scheduled, 'a')].sort()).toEqual(['input', 'status']);
    const failed = views.at(timeline.at(7), timeline.at(6), events[6], null);
    expect([...changedParts(failed, 'a')].sort()).toEqual(['attempts', 'error', 'status']);
    expect(changedParts(failed, 'start').size).toBe(0);

    // A cancellation changes several nodes at once: each is marked, not only the event's (none).
    const cancelled: JournalEvent = {
      seq: 9,
      at: at(9),
      type: 'RunCancelled',
      activationId: null,
      nodeId: null,
      attempt: null,
      data: { by: 'test', reason: null },
    };
    const more = new RunTimeline('r', [...events, cancelled]);
    const view = views.at(more.at(9), more.at(8), cancelled, null);
    expect(view.nodes.a?.status).toBe('skipped');
    expect([...view.marks.nodes.keys()]).toEqual(['a']);
    expect(view.marks.nodes.get('a')?.status).toBe('changed');
  });

  it('finds the activations a fork inherited, with their origin run and step', () => {
    const inherited: JournalEvent = {
      seq: 3,
      at: at(3),
      type: 'NodeInherited',
      ...on('start', null),
      data: { from: { runId: 'origin', seq: 4 }, port: 'out', output: { n: 1 }, edited: false },
    };
    const found = inheritancesOf([events[0] as JournalEvent, events[1] as JournalEvent, inherited]);
    expect(found.get('start')).toEqual({ runId: 'origin', seq: 4, inheritedAt: 3 });
    expect(found.has('a')).toBe(false);
  });
});
