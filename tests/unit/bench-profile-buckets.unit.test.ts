// The profile bench's attribution (tests/bench/profile-buckets.ts) on a synthetic `.cpuprofile`:
// self time goes to the bucket of the store method, the transaction wrapper, QuickJS or our own
// code nearest the sampled frame, and only samples inside the window count.
import { describe, expect, it } from 'vitest';
import { bucketOf, bucketProfile, type CpuProfile } from '../bench/profile-buckets.js';

const STORE = 'file:///repo/dist/engine/store/sqlite/sqlite-store.js';
const VALUES = 'file:///repo/dist/engine/store/sqlite/large-values.js';
const TRANSACTION = 'file:///repo/node_modules/better-sqlite3/lib/methods/transaction.js';
const WORKER = 'file:///repo/dist/engine/runtime/worker.js';

/**
 * root → flush (runtime) → sqliteTransaction → commit's body (store, anonymous) → #insertEvents →
 * data (large-values) → stringify (native); #updateRunRow; root → (garbage collector), (idle);
 * root → processTicksAndRejections (node) → flush; a wasm frame.
 */
const profile: CpuProfile = {
  startTime: 1_000,
  endTime: 2_000,
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 9, 10, 11, 13] },
    { id: 2, callFrame: { functionName: 'flush', url: WORKER }, children: [3] },
    { id: 3, callFrame: { functionName: 'sqliteTransaction', url: TRANSACTION }, children: [4] },
    { id: 4, callFrame: { functionName: '', url: STORE }, children: [5, 8] },
    { id: 5, callFrame: { functionName: '#insertEvents', url: STORE }, children: [6] },
    { id: 6, callFrame: { functionName: 'data', url: VALUES }, children: [7] },
    { id: 7, callFrame: { functionName: 'stringify', url: '' } },
    { id: 8, callFrame: { functionName: '#updateRunRow', url: STORE } },
    { id: 9, callFrame: { functionName: '(garbage collector)', url: '' } },
    { id: 10, callFrame: { functionName: '(idle)', url: '' } },
    {
      id: 11,
      callFrame: { functionName: 'processTicksAndRejections', url: 'node:internal/process/task_queues' },
      children: [12],
    },
    { id: 12, callFrame: { functionName: 'postMessage', url: '' } },
    { id: 13, callFrame: { functionName: 'wasm-function[221]', url: 'wasm://wasm/001eb57a' } },
  ],
  // Each sample stands for the delta before it: node 3 10 µs, node 5 20 µs, …
  samples: [3, 5, 7, 8, 4, 2, 9, 10, 12, 13, 1, 3],
  timeDeltas: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 500],
};

describe('profile buckets', () => {
  it('gives each sample its self time in the bucket of the nearest frame that names one', () => {
    const totals = Object.fromEntries(bucketProfile(profile));
    expect(totals).toEqual({
      // The wrapper's own time is BEGIN and COMMIT: 10 + 500.
      'BEGIN/COMMIT (fsync at FULL)': 510,
      // #insertEvents itself and the JSON it calls for (through large-values): 20 + 30.
      'SQLite: event append': 50,
      'SQLite: run-row update': 40,
      // Store code outside a statement method stays with the store, not with the transaction.
      'SQLite: timers, waits, other': 50,
      'runtime bookkeeping': 60,
      GC: 70,
      idle: 80,
      'sandbox hand-offs (postMessage)': 90,
      QuickJS: 100,
      // (root) itself: nothing of ours on its stack.
      other: 110,
    });
  });

  it('counts only the samples inside the window', () => {
    // Samples at 1010, 1030, 1060, 1100, 1150, …: the window [1025, 1100] holds the 2nd to 4th.
    const totals = Object.fromEntries(bucketProfile(profile, { from: 1_025, to: 1_100 }));
    expect(totals).toEqual({ 'SQLite: event append': 50, 'SQLite: run-row update': 40 });
  });

  it('falls back to our own code, then to "other"', () => {
    const json = { functionName: 'stringify', url: '' };
    expect(bucketOf([json, { functionName: 'record', url: 'file:///repo/dist/engine/runtime/batch.js' }])).toBe(
      'runtime bookkeeping',
    );
    expect(bucketOf([json, { functionName: 'listOnTimeout', url: 'node:internal/timers' }])).toBe('other');
    // Store code called by the runtime outside a statement method is still the store's.
    expect(
      bucketOf([
        { functionName: 'column', url: VALUES },
        { functionName: 'flush', url: WORKER },
      ]),
    ).toBe('SQLite: timers, waits, other');
    // A frame named like a store method outside the store is not a statement.
    expect(bucketOf([{ functionName: '#insertEvents', url: WORKER }])).toBe('runtime bookkeeping');
  });
});
