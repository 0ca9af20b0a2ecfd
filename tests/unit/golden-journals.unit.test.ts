// Replays recorded journals (tests/fixtures/journals) through the orchestrator of today, and checks
// that each recording still shows what it was recorded for.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayExport } from '../../engine/replay/index.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { ROOT } from '../support/harness.js';

const folder = join(ROOT, 'tests', 'fixtures', 'journals');
const files = readdirSync(folder).filter((name) => name.endsWith('.json'));

/** An export as stored: its own shape, so that these checks read the file, not today's types. */
interface Recorded {
  run: { status: string };
  events: RecordedEvent[];
}
interface RecordedEvent {
  seq: number;
  type: string;
  nodeId: string | null;
  attempt: number | null;
  data: unknown;
}

/** Matches an event whose fields equal these; `data` only needs to contain what is given. */
interface EventPattern {
  type: string;
  nodeId?: string | null;
  attempt?: number;
  data?: Record<string, unknown>;
}

interface Point {
  /** What the recording is there to show (also in the fixtures README). */
  shows: string;
  /** Events that must appear in this order (others may come between). */
  inOrder: EventPattern[];
  /** Events that must not appear at all. */
  absent?: EventPattern[];
  /** The last event, and the run status it leaves. */
  ends: 'RunCompleted' | 'RunFailed' | 'RunCancelled' | 'RunCompensated';
}

// Every fixture needs an entry: a re-recording that loses its point (the worker was not killed in
// time, the approval was decided before the timeout) fails here instead of silently replaying.
const POINTS: Record<string, Point> = {
  'hello-branch-timer-merge.json': {
    shows: 'a branch taken, a durable timer fired, a merge',
    inOrder: [
      { type: 'NodeCompleted', nodeId: 'is-vip', data: { port: 'true' } },
      { type: 'WaitCreated', nodeId: 'pause', data: { wait: { kind: 'timer' } } },
      { type: 'TimerFired', nodeId: 'pause', data: { purpose: 'wait' } },
      { type: 'NodeCompleted', nodeId: 'pause' },
      { type: 'NodeCompleted', nodeId: 'join' },
    ],
    ends: 'RunCompleted',
  },
  'approval-approved.json': {
    shows: 'an approval decided by a person, the branch not taken skipped',
    inOrder: [
      { type: 'WaitCreated', nodeId: 'ok', data: { wait: { kind: 'approval' } } },
      { type: 'SignalReceived', nodeId: 'ok', data: { decision: 'approved', by: 'alice' } },
      { type: 'NodeCompleted', nodeId: 'ok', data: { port: 'approved' } },
      { type: 'NodeSkipped', nodeId: 'no' },
    ],
    ends: 'RunCompleted',
  },
  'retry-then-error-port.json': {
    shows: 'two retries on durable timers, then the error port',
    inOrder: [
      { type: 'NodeFailed', nodeId: 'call', attempt: 1, data: { error: { retryable: true } } },
      // A retry is scheduled (and its timer fires) for the attempt it starts.
      { type: 'RetryScheduled', nodeId: 'call', attempt: 2 },
      { type: 'TimerFired', nodeId: 'call', attempt: 2, data: { purpose: 'retry' } },
      { type: 'NodeFailed', nodeId: 'call', attempt: 2 },
      { type: 'RetryScheduled', nodeId: 'call', attempt: 3 },
      { type: 'TimerFired', nodeId: 'call', attempt: 3, data: { purpose: 'retry' } },
      { type: 'NodeFailed', nodeId: 'call', attempt: 3 },
      { type: 'NodeCompleted', nodeId: 'handled' },
    ],
    absent: [{ type: 'RetryScheduled', attempt: 4 }],
    ends: 'RunCompleted',
  },
  'run-failed.json': {
    shows: 'a node failing for good with no error port fails the run',
    inOrder: [
      { type: 'NodeCompleted', nodeId: 'over-limit', data: { port: 'true' } },
      { type: 'NodeSkipped', nodeId: 'out' },
      { type: 'NodeFailed', nodeId: 'refuse', data: { error: { kind: 'fail', retryable: false } } },
      { type: 'RunFailed', nodeId: null, data: { error: { nodeId: 'refuse', kind: 'fail' } } },
    ],
    ends: 'RunFailed',
  },
  'run-cancelled.json': {
    shows: 'a run cancelled while parked on a timer and an approval',
    inOrder: [
      { type: 'WaitCreated', nodeId: 'cool-off', data: { wait: { kind: 'timer' } } },
      { type: 'WaitCreated', nodeId: 'ok', data: { wait: { kind: 'approval' } } },
      { type: 'RunCancelled', data: { reason: 'customer withdrew the request', by: 'support-desk' } },
    ],
    absent: [{ type: 'TimerFired' }, { type: 'SignalReceived' }, { type: 'NodeCompleted', nodeId: 'both' }],
    ends: 'RunCancelled',
  },
  'recovered-start.json': {
    shows: 'an activation whose worker was SIGKILLed mid-call, started again by the next worker',
    inOrder: [
      { type: 'NodeStarted', nodeId: 'charge', attempt: 1, data: { recovered: false } },
      { type: 'NodeStarted', nodeId: 'charge', attempt: 1, data: { recovered: true } },
      { type: 'NodeCompleted', nodeId: 'charge', data: { port: 'out' } },
    ],
    // The crash is not a failure: no attempt was used up.
    absent: [{ type: 'NodeFailed' }, { type: 'RetryScheduled' }],
    ends: 'RunCompleted',
  },
  'approval-timeout.json': {
    shows: 'an approval nobody decided: its timeout fires and the timeout port is taken',
    inOrder: [
      { type: 'WaitCreated', nodeId: 'ok', data: { wait: { kind: 'approval' } } },
      { type: 'TimerFired', nodeId: 'ok', data: { purpose: 'wait-timeout' } },
      { type: 'SignalReceived', nodeId: 'ok', data: { decision: 'timeout', by: 'system' } },
      { type: 'NodeCompleted', nodeId: 'ok', data: { port: 'timeout' } },
      { type: 'NodeSkipped', nodeId: 'pay' },
      { type: 'NodeCompleted', nodeId: 'escalate' },
    ],
    ends: 'RunCompleted',
  },
  'code-console-playback.json': {
    shows: "a playback run; a code node's console lines journaled (NodeNoted) just before its completion",
    inOrder: [
      { type: 'RunStarted', data: { playback: true } },
      { type: 'NodeStarted', nodeId: 'tally' },
      {
        type: 'NodeNoted',
        nodeId: 'tally',
        data: {
          notes: [
            { level: 'info', kind: 'console', message: 'items 2 total 225' },
            { level: 'warn', kind: 'console', message: '{"over":125}' },
          ],
        },
      },
      { type: 'NodeCompleted', nodeId: 'tally', data: { output: { total: 225 } } },
    ],
    ends: 'RunCompleted',
  },
  'run-compensated.json': {
    shows: 'a saga: provisioning fails, the charge is refunded, then the customer deleted',
    inOrder: [
      { type: 'NodeCompleted', nodeId: 'customer' },
      { type: 'NodeCompleted', nodeId: 'charge' },
      { type: 'NodeFailed', nodeId: 'provision', data: { error: { kind: 'http.4xx' } } },
      { type: 'CompensationStarted', data: { cause: 'failed', error: { nodeId: 'provision' } } },
      { type: 'NodeCompleted', nodeId: 'refund' },
      { type: 'NodeCompleted', nodeId: 'delete-customer' },
    ],
    absent: [{ type: 'RunFailed' }, { type: 'NodeScheduled', nodeId: 'end' }],
    ends: 'RunCompensated',
  },
};

const STATUS_AFTER = {
  RunCompleted: 'completed',
  RunFailed: 'failed',
  RunCancelled: 'cancelled',
  RunCompensated: 'compensated',
} as const;

function read(name: string): Recorded {
  return JSON.parse(readFileSync(join(folder, name), 'utf8')) as Recorded;
}

/** `pattern` is contained in `value`: equal primitives, and every key of an object pattern. */
function contains(value: unknown, pattern: unknown): boolean {
  if (typeof pattern !== 'object' || pattern === null) return Object.is(value, pattern);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([key, part]) => contains((value as Record<string, unknown>)[key], part));
}

describe('golden journals', () => {
  it('has a fixture for every point, and a point for every fixture', () => {
    expect(files.toSorted()).toEqual(Object.keys(POINTS).toSorted());
  });

  it.each(files)('%s replays without divergence', (name) => {
    const result = replayExport(read(name), defaultRegistry());
    expect(result.ok ? 'ok' : result.divergence.message).toBe('ok');
  });

  it.each(files)('%s still shows what it was recorded for', (name) => {
    const point = POINTS[name];
    if (!point) throw new Error(`${name}: add what it shows to POINTS`);
    const { run, events } = read(name);
    let from = 0;
    for (const pattern of point.inOrder) {
      const index = events.findIndex((event, at) => at >= from && contains(event, pattern));
      expect(
        index,
        `${point.shows}: ${JSON.stringify(pattern)} after event #${events[from - 1]?.seq ?? 0}`,
      ).toBeGreaterThanOrEqual(0);
      from = index + 1;
    }
    for (const pattern of point.absent ?? [])
      expect(
        events.filter((event) => contains(event, pattern)).map((event) => event.seq),
        `${point.shows}: no ${JSON.stringify(pattern)}`,
      ).toEqual([]);
    expect(events.at(-1)?.type, point.shows).toBe(point.ends);
    expect(run.status).toBe(STATUS_AFTER[point.ends]);
  });

  it('detects a journal whose recorded decision was altered', () => {
    const exported = JSON.parse(readFileSync(join(folder, 'retry-then-error-port.json'), 'utf8')) as {
      events: { type: string; data: { delayMs?: number; dueAt?: number } }[];
    };
    const retry = exported.events.find((event) => event.type === 'RetryScheduled');
    if (retry?.data.dueAt !== undefined) retry.data.dueAt += 1;
    const result = replayExport(exported, defaultRegistry());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.divergence.message).toMatch(/^the journal records RetryScheduled of "call"/);
  });
});
