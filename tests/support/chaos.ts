// What the crash tests share: runs started through the CLI, workers killed with SIGKILL at
// reproducible moments, and the checks that no completed activation ran again.
import { expect } from 'vitest';
import type { JournalEvent } from '../../engine/journal/events.js';
import { finished, printed, runCli, sleep, spawnCli, type HttpSink } from './harness.js';

/** A reproducible sequence in [0, 1): the kills land at the same moments in every run of a test. */
export function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 0x100000000;
  };
}

/** Starts `count` runs of the workflow file through the CLI, with inputs `{ n }` from `from` on. */
export async function startRuns(file: string, db: string, from: number, count: number): Promise<void> {
  for (let n = from; n < from + count; n += 1) {
    const started = await runCli(['start', file, '--input', JSON.stringify({ n }), '--json'], { db });
    expect(started.code, started.stderr).toBe(0);
  }
}

/**
 * Starts a worker and kills it with SIGKILL `ms` after it says it runs (counted from then, not
 * from the spawn: on a loaded machine starting Node takes longer than the whole window).
 */
export async function killWorkerAfter(db: string, concurrency: number, ms: number): Promise<void> {
  const worker = spawnCli(['worker', '--concurrency', String(concurrency)], { db });
  const exit = finished(worker);
  await printed(worker, 'stepwise worker: running');
  await sleep(ms);
  worker.kill('SIGKILL');
  const result = await exit;
  expect(result.signal, result.stderr).toBe('SIGKILL');
}

/** Per activation: at most one NodeCompleted, and nothing started it after it completed. */
export function assertNoCompletedNodeRanAgain(events: readonly JournalEvent[]): void {
  const completed = new Set<string>();
  for (const event of events) {
    if (event.activationId === null) continue;
    if (event.type === 'NodeStarted' || event.type === 'NodeCompleted')
      expect(completed.has(event.activationId), `${event.type} of ${event.activationId} after it completed`).toBe(
        false,
      );
    if (event.type === 'NodeCompleted') completed.add(event.activationId);
  }
}

/**
 * The sink's requests that arrived after their node's completion was journaled, or for no
 * completed node. `completedAt`: idempotency key (`runId:activationId`) → when its NodeCompleted
 * was journaled. A request may arrive before NodeCompleted and its answer after (a response in
 * flight); none may arrive after it. Both clocks are this machine's.
 */
export function lateRequests(sink: HttpSink, completedAt: ReadonlyMap<string, number>) {
  return sink.requests
    .map((request) => ({ key: request.key, at: request.at, completedAt: completedAt.get(request.key ?? '') }))
    .filter((request) => request.completedAt === undefined || request.at > request.completedAt);
}
