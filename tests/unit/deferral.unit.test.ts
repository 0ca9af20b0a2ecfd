// Deferred writes merged into the commit that carries them: what the merged commit asks the store
// to check and to write must be what the separate commits would have left.
import { describe, expect, it } from 'vitest';
import { mergeCommits } from '../../engine/runtime/deferral.js';
import { emptyWrite, noWork, type CommitBatch, type ReadyRecord, type RunWrite } from '../../engine/store/index.js';

const row = (activationId: string, leaseOwner: string | null, attempt = 1): ReadyRecord => ({
  runId: 'r',
  activationId,
  nodeId: activationId,
  attempt,
  availableAt: 0,
  leaseOwner,
  leaseUntil: leaseOwner === null ? null : 10_000,
  deadline: leaseOwner === null ? null : 20_000,
});

const write = (over: Partial<RunWrite>): RunWrite => ({ ...emptyWrite('r'), ...over });

const commit = (...runs: RunWrite[]): CommitBatch => ({ workerId: 'w1', at: 0, runs });

describe('merging deferred writes', () => {
  // First: c1 completes (its lease is in the store), c2 is scheduled and started here.
  const first = write({
    expectedLastSeq: 6,
    leases: [{ activationId: 'c1', attempt: 1 }],
    work: { ...noWork(), readyDelete: ['c1'], readyPut: [row('c2', 'w1')] },
    projection: { status: 'running', output: null, error: null, lastSeq: 9, finishedAt: null },
  });

  it('checks only leases the store holds, and leaves each ready row as the last write had it', () => {
    // Next: c2 completes, c3 starts.
    const next = write({
      expectedLastSeq: 9,
      leases: [{ activationId: 'c2', attempt: 1 }],
      work: { ...noWork(), readyDelete: ['c2'], readyPut: [row('c3', 'w1')] },
      projection: { status: 'running', output: null, error: null, lastSeq: 12, finishedAt: null },
    });
    const [merged] = mergeCommits(commit(first), commit(next)).runs;
    // c2's row never reached the store: its lease is this worker's by construction.
    expect(merged?.leases).toEqual([{ activationId: 'c1', attempt: 1 }]);
    expect(merged?.expectedLastSeq).toBe(6);
    expect(merged?.projection?.lastSeq).toBe(12);
    expect(merged?.work.readyDelete.sort()).toEqual(['c1', 'c2']);
    expect(merged?.work.readyPut.map((ready) => ready.activationId)).toEqual(['c3']);
  });

  it('keeps a lease the deferred writes did not give this worker (another attempt, another owner)', () => {
    const next = write({
      leases: [
        { activationId: 'c2', attempt: 2 },
        { activationId: 'x', attempt: 1 },
      ],
    });
    const [merged] = mergeCommits(commit(first), commit(next)).runs;
    expect(merged?.leases).toEqual([
      { activationId: 'c1', attempt: 1 },
      { activationId: 'c2', attempt: 2 },
      { activationId: 'x', attempt: 1 },
    ]);
  });

  it('a run the next write ends drops the ready rows the deferred writes put', () => {
    const [merged] = mergeCommits(commit(first), commit(write({ clear: true }))).runs;
    expect(merged?.clear).toBe(true);
    expect(merged?.work.readyPut).toEqual([]);
  });

  it('runs only one side touches pass through unchanged', () => {
    const other = write({ runId: 'o', expectedLastSeq: 3 });
    const merged = mergeCommits(commit(first), {
      ...commit(other),
      claim: { workerId: 'w1', now: 0, leaseUntil: 1, limit: 2 },
    });
    expect(merged.runs.map((run) => run.runId)).toEqual(['r', 'o']);
    expect(merged.runs[1]).toBe(other);
    expect(merged.claim?.limit).toBe(2);
  });
});
