import { describe, expect, it } from 'vitest';
import type { JournalEvent, NewEvent } from '../../engine/journal/events.js';
import { initialState, type RunState } from '../../engine/journal/state.js';
import { compileWorkflow, type CompiledWorkflow } from '../../engine/orchestrator/compile.js';
import { retryDelay } from '../../engine/orchestrator/decide.js';
import { record as recordEvent } from '../../engine/orchestrator/step.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { edge, node, workflow } from '../support/harness.js';

const registry = defaultRegistry();

/** A tiny in-memory journal: runtime events in, the orchestrator's decisions folded in (one `record` step). */
function harness(graph: ReturnType<typeof workflow>) {
  const compiled: CompiledWorkflow = compileWorkflow({ workflowId: graph.id, version: 1, graph }, registry);
  const run: { state: RunState } = { state: initialState('run-1') };
  const journal: JournalEvent[] = [];
  let clock = 1000;
  /** Returns the decisions that followed `event`, as the orchestrator made them. */
  const record = (event: NewEvent): NewEvent[] => {
    const { state, appended } = recordEvent(compiled, run.state, event, clock);
    run.state = state;
    journal.push(...appended);
    return appended.slice(1).map(({ seq: _seq, at: _at, ...decision }) => decision);
  };
  const complete = (nodeId: string, output: unknown, port: string | null = 'out') =>
    record({ type: 'NodeCompleted', activationId: nodeId, nodeId, attempt: 1, data: { port, output } });
  const start = (input: unknown = null) =>
    record({
      type: 'RunStarted',
      activationId: null,
      nodeId: null,
      attempt: null,
      data: { workflowId: graph.id, version: 1, input, triggerNodeId: 'start', parentRunId: null },
    });
  return {
    compiled,
    get state() {
      return run.state;
    },
    journal,
    record,
    complete,
    start,
    tick: (ms: number) => (clock += ms),
  };
}

const summary = (decisions: readonly NewEvent[]) =>
  decisions.map((decision) => `${decision.type}:${decision.nodeId ?? ''}`);

describe('orchestrator', () => {
  const branching = workflow(
    'branching',
    [
      node('start', 'trigger.manual'),
      node('check', 'branch.if', { condition: 'input.big' }),
      node('slow', 'code', { code: 'return 1' }),
      node('fast', 'code', { code: 'return 2' }),
      node('after-slow', 'code', { code: 'return 3' }),
      node('join', 'merge'),
      node('end', 'output'),
      node('island', 'code', { code: 'return 4' }),
    ],
    [
      edge('start', 'check'),
      edge('check:true', 'slow'),
      edge('check:false', 'fast'),
      edge('slow', 'after-slow'),
      edge('after-slow', 'join'),
      edge('fast', 'join'),
      edge('join', 'end'),
    ],
  );

  it('schedules the trigger with the run input and skips other entry points', () => {
    const run = harness(branching);
    expect(summary(run.start({ big: false }))).toEqual(['NodeScheduled:start', 'NodeSkipped:island']);
    expect(run.state.activations.get('start')?.input).toEqual({ big: false });
  });

  it('skips the branch not taken (and everything only it feeds), and merge gets the live inputs', () => {
    const run = harness(branching);
    run.start({ big: false });
    run.complete('start', { big: false });
    expect(summary(run.complete('check', { big: false }, 'false'))).toEqual([
      'NodeSkipped:slow',
      'NodeScheduled:fast',
      'NodeSkipped:after-slow',
    ]);
    const merged = run.complete('fast', 2);
    expect(merged).toEqual([
      { type: 'NodeScheduled', activationId: 'join', nodeId: 'join', attempt: 1, data: { input: { fast: 2 } } },
    ]);
    run.complete('join', { fast: 2 });
    expect(summary(run.complete('end', { fast: 2 }, null))).toEqual(['RunCompleted:']);
    expect(run.state.status).toBe('completed');
    expect(run.state.output).toEqual({ fast: 2 });
  });

  it('waits for every live input of a merge', () => {
    const graph = workflow(
      'fan',
      [
        node('start', 'trigger.manual'),
        node('a', 'code', { code: 'return 1' }),
        node('b', 'code', { code: 'return 2' }),
        node('join', 'merge'),
      ],
      [edge('start', 'a'), edge('start', 'b'), edge('a', 'join'), edge('b', 'join')],
    );
    const run = harness(graph);
    run.start();
    expect(summary(run.complete('start', null))).toEqual(['NodeScheduled:a', 'NodeScheduled:b']);
    expect(run.complete('b', 'B')).toEqual([]);
    expect(run.complete('a', 'A')[0]).toMatchObject({ nodeId: 'join', data: { input: { a: 'A', b: 'B' } } });
  });

  const retrying = workflow(
    'retrying',
    [
      node('start', 'trigger.manual'),
      node(
        'call',
        'http.request',
        { url: 'http://127.0.0.1:9/x' },
        {
          retry: { maxAttempts: 3, initialIntervalMs: 100, backoffCoefficient: 2, jitter: 0 },
        },
      ),
    ],
    [edge('start', 'call')],
  );
  const fail = (attempt: number, retryable = true, kind = 'http.5xx'): NewEvent => ({
    type: 'NodeFailed',
    activationId: 'call',
    nodeId: 'call',
    attempt,
    data: { error: { message: 'boom', kind, retryable } },
  });

  it('schedules retries with exponential backoff, then fails the run', () => {
    const run = harness(retrying);
    run.start();
    run.complete('start', null);
    expect(run.record(fail(1))).toEqual([
      { type: 'RetryScheduled', activationId: 'call', nodeId: 'call', attempt: 2, data: { dueAt: 1100, delayMs: 100 } },
    ]);
    run.record({
      type: 'TimerFired',
      activationId: 'call',
      nodeId: 'call',
      attempt: 2,
      data: { purpose: 'retry', dueAt: 1100, firedAt: 1100, lateMs: 0 },
    });
    expect(run.record(fail(2))[0]).toMatchObject({ type: 'RetryScheduled', attempt: 3, data: { delayMs: 200 } });
    const final = run.record(fail(3));
    expect(final).toEqual([
      {
        type: 'RunFailed',
        activationId: null,
        nodeId: null,
        attempt: null,
        data: { error: { message: 'boom', kind: 'http.5xx', retryable: true, nodeId: 'call' } },
      },
    ]);
    expect(run.state.status).toBe('failed');
  });

  it('does not retry non-retryable errors or kinds the policy names', () => {
    const run = harness(retrying);
    run.start();
    run.complete('start', null);
    expect(summary(run.record(fail(1, false)))).toEqual(['RunFailed:']);
    const other = harness(retrying);
    other.start();
    other.complete('start', null);
    expect(summary(other.record(fail(1, true, 'http.4xx')))).toEqual(['RunFailed:']);
  });

  it('routes a final failure to the error port when it is connected', () => {
    const graph = workflow(
      'handled',
      [node('start', 'trigger.manual'), node('c', 'code', { code: 'throw 1' }), node('recover', 'output')],
      [edge('start', 'c'), edge('c:error', 'recover')],
    );
    const run = harness(graph);
    run.start();
    run.complete('start', { id: 7 });
    const decisions = run.record({
      type: 'NodeFailed',
      activationId: 'c',
      nodeId: 'c',
      attempt: 1,
      data: { error: { message: 'bad', kind: 'code.error', retryable: false } },
    });
    expect(decisions).toEqual([
      {
        type: 'NodeScheduled',
        activationId: 'recover',
        nodeId: 'recover',
        attempt: 1,
        data: { input: { error: { message: 'bad', kind: 'code.error' }, input: { id: 7 } } },
      },
    ]);
  });

  it('computes deterministic jittered backoff, capped by the max interval', () => {
    const policy = {
      maxAttempts: 10,
      initialIntervalMs: 1000,
      backoffCoefficient: 2,
      maxIntervalMs: 5000,
      jitter: 0.2,
      nonRetryableErrorKinds: [],
    };
    const first = retryDelay(policy, 1, 'r:a:1');
    expect(retryDelay(policy, 1, 'r:a:1')).toBe(first);
    expect(first).toBeGreaterThanOrEqual(800);
    expect(first).toBeLessThanOrEqual(1200);
    expect(retryDelay({ ...policy, jitter: 0 }, 8, 'x')).toBe(5000);
  });
});
