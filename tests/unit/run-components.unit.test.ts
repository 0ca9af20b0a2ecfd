// The Timeline and the Gantt rendered to static markup: the current step is marked, only a
// window of a long journal is in the DOM, and the Gantt draws each segment kind it is given.
import { createElement, type ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { ActivationState, JournalEvent } from '../../engine/api/index.js';
import { activation } from '../support/activation.js';

// .tsx modules: loaded at run time (vitest compiles them) so the Node-side typecheck does not
// follow them into JSX; the props types are the components' own.
const timelineModule = '../../renderer/src/runs/Timeline.tsx';
const ganttModule = '../../renderer/src/runs/Gantt.tsx';
const { Timeline } = (await import(/* @vite-ignore */ timelineModule)) as {
  Timeline: (props: {
    events: readonly JournalEvent[];
    position: number;
    nodeNames: ReadonlyMap<string, string>;
    onSeek: (seq: number) => void;
  }) => ReactElement;
};
const { Gantt } = (await import(/* @vite-ignore */ ganttModule)) as {
  Gantt: (props: {
    activations: readonly ActivationState[];
    startedAt: number;
    endAt: number;
    nodeNames: ReadonlyMap<string, string>;
    selectedNodeId: string | null;
    onSelectNode: (nodeId: string) => void;
  }) => ReactElement;
};

function events(count: number): JournalEvent[] {
  return Array.from({ length: count }, (_, index): JournalEvent => {
    const seq = index + 1;
    const base = { seq, at: 1000 + seq * 10, activationId: 'fetch', nodeId: 'fetch', attempt: 1 };
    return seq % 2 === 0
      ? { ...base, type: 'NodeFailed', data: { error: { message: 'boom', kind: 'http', retryable: true } } }
      : { ...base, type: 'NodeStarted', data: { worker: 'w', recovered: false } };
  });
}

describe('Timeline', () => {
  it('marks the current step and names the node', () => {
    const html = renderToStaticMarkup(
      createElement(Timeline, {
        events: events(10),
        position: 4,
        nodeNames: new Map([['fetch', 'Fetch order']]),
        onSeek: () => {},
      }),
    );
    const current = html.match(/<div[^>]*aria-current="step"[^>]*>/g) ?? [];
    expect(current).toHaveLength(1);
    expect(current[0]).toContain('data-seq="4"');
    expect(html).toContain('Fetch order');
    expect(html).toContain('tone-failure');
    expect(html).toContain('✗ boom [http, retryable]');
  });

  it('puts only a window of 100,000 events in the DOM', () => {
    const html = renderToStaticMarkup(
      createElement(Timeline, { events: events(100_000), position: 1, nodeNames: new Map(), onSeek: () => {} }),
    );
    const rows = html.match(/role="option"/g) ?? [];
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(60);
    expect(html).toContain(`height:${100_000 * 26}px`);
  });
});

describe('Gantt', () => {
  it('draws a lane per activation with its segments, the selected one marked', () => {
    const pay = activation({
      activationId: 'pay',
      nodeId: 'pay',
      attempt: 2,
      finishedAt: 1000,
      resolvedSeq: 5,
      attempts: [
        {
          attempt: 1,
          startedAt: 0,
          finishedAt: 200,
          error: { message: 'HTTP 503', kind: 'http', retryable: true },
          recoveries: 0,
        },
        { attempt: 2, startedAt: 600, finishedAt: 1000, error: null, recoveries: 0 },
      ],
    });
    const html = renderToStaticMarkup(
      createElement(Gantt, {
        activations: [pay],
        startedAt: 0,
        endAt: 1000,
        nodeNames: new Map([['pay', 'Pay refund']]),
        selectedNodeId: 'pay',
        onSelectNode: () => {},
      }),
    );
    expect(html).toContain('Pay refund');
    expect(html).toMatch(/class="gantt-lane lane-completed selected"/);
    expect(html.match(/data-kind="(\w[\w-]*)"/g)).toEqual([
      'data-kind="failed"',
      'data-kind="retry-gap"',
      'data-kind="attempt"',
    ]);
    expect(html).toContain('Failed attempt 1, 200ms: HTTP 503 [http]');
  });
});
