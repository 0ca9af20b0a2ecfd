// The Store conformance suite: what every store implementation must do, run against each one
// (tests/int/*-store.int.test.ts). Claims never overlap (also across processes), commits are all
// or nothing, optimistic checks refuse stale writes, leases expire and are taken over, silent
// workers are expired, and the read queries agree with what was written.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../engine/journal/events.js';
import {
  noWork,
  type CommitBatch,
  type ReadyRecord,
  type RunWrite,
  type Store,
  type StoreLocation,
} from '../../engine/store/index.js';
import { chain, node, ROOT } from './harness.js';
import { PLAIN_CARD } from '../../engine/waits/index.js';

export interface StoreFactory {
  /** A new, empty store. */
  open(): Promise<Store>;
  /** Another connection to the same store (another worker). */
  reopen(location: StoreLocation): Promise<Store>;
  /** Closes what `open` made and removes its data. */
  cleanup(): Promise<void>;
  /**
   * A store written by the previous schema, holding run `r1` of workflow `w` v1 (status running,
   * input `{"n":1}`) with its `RunStarted` as that schema wrote it: opening it must migrate it and
   * keep everything.
   */
  legacy(): Promise<StoreLocation>;
}

const T0 = 1_800_000_000_000;
const graph = chain('conformance', [node('a', 'code', { code: 'return 1' })]);

function started(runId: string, at: number): JournalEvent {
  return {
    seq: 1,
    at,
    type: 'RunStarted',
    activationId: null,
    nodeId: null,
    attempt: null,
    data: { workflowId: graph.id, version: 1, input: { runId }, triggerNodeId: 'start', parentRunId: null },
  };
}

function scheduled(seq: number, activationId: string, at: number): JournalEvent {
  return { seq, at, type: 'NodeScheduled', activationId, nodeId: activationId, attempt: 1, data: { input: null } };
}

function ready(
  runId: string,
  activationId: string,
  at: number,
  lease: { leaseOwner?: string; leaseUntil?: number; deadline?: number } = {},
): ReadyRecord {
  return {
    runId,
    activationId,
    nodeId: activationId,
    attempt: 1,
    availableAt: at,
    leaseOwner: lease.leaseOwner ?? null,
    leaseUntil: lease.leaseUntil ?? null,
    deadline: lease.deadline ?? null,
  };
}

/** A new run with its start and one ready activation `a` (the shape the runtime writes). */
function newRun(runId: string, at: number, extra: Partial<RunWrite> = {}): RunWrite {
  return {
    runId,
    create: { runId, workflowId: graph.id, version: 1, input: { runId }, parentRunId: null },
    expectedLastSeq: 0,
    events: [started(runId, at), scheduled(2, 'a', at)],
    projection: { status: 'running', output: null, error: null, lastSeq: 2, finishedAt: null },
    clear: false,
    work: { ...noWork(), readyPut: [ready(runId, 'a', at)] },
    leases: [],
    ...extra,
  };
}

function batch(runs: RunWrite[], workerId: string | null = null, at = T0): CommitBatch {
  return { workerId, at, runs };
}

async function seed(store: Store, count: number, at = T0): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, index) => `run-${String(index).padStart(4, '0')}`);
  for (let start = 0; start < ids.length; start += 50)
    expect(await store.commit(batch(ids.slice(start, start + 50).map((id) => newRun(id, at))))).toEqual({
      ok: true,
      claimed: [],
    });
  return ids;
}

export function storeConformance(name: string, factory: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    const withStore = (title: string, body: (store: Store) => Promise<void>, timeout?: number): void => {
      it(title, { timeout: timeout ?? 30_000 }, async () => {
        const store = await factory.open();
        try {
          await store.workflows.saveVersion(graph, null, T0);
          await body(store);
        } finally {
          await factory.cleanup();
        }
      });
    };

    withStore('a commit writes runs, events, projections and work rows; reads give them back', async (store) => {
      await seed(store, 3);
      const run = await store.getRun('run-0001');
      expect(run).toMatchObject({ runId: 'run-0001', status: 'running', lastSeq: 2, input: { runId: 'run-0001' } });
      expect(await store.readEvents('run-0001', 0)).toEqual([started('run-0001', T0), scheduled(2, 'a', T0)]);
      expect(await store.readEvents('run-0001', 1)).toEqual([scheduled(2, 'a', T0)]);
      expect(await store.readEvents('run-0001', 0, 1)).toHaveLength(1);
      expect(await store.pending(T0, 0)).toEqual({ ready: 3, leased: 0, timers: 0 });
      expect(await store.findRunIds('run-000', 10)).toEqual(['run-0000', 'run-0001', 'run-0002']);
      expect(await store.hasClaimable(T0)).toBe(true);
      expect(await store.hasClaimable(T0 - 1)).toBe(false);
    });

    withStore('a batch of many runs and events reads back run by run, in order', async (store) => {
      // 30 + 50 + 1 + 64 events: a store that writes them in chunks (a multi-row INSERT) crosses one inside a run.
      const sizes = [30, 50, 1, 64];
      const journal = (runId: string, count: number, at: number): JournalEvent[] => [
        started(runId, at),
        ...Array.from({ length: count - 1 }, (_, index) => scheduled(index + 2, `n${index}`, at)),
      ];
      const writes = sizes.map((count, index) => {
        const runId = `run-many-${index}`;
        return newRun(runId, T0, {
          events: journal(runId, count, T0),
          projection: { status: 'running', output: null, error: null, lastSeq: count, finishedAt: null },
        });
      });
      expect(await store.commit(batch(writes))).toEqual({ ok: true, claimed: [] });
      for (const [index, count] of sizes.entries()) {
        const runId = `run-many-${index}`;
        expect(await store.readEvents(runId, 0)).toEqual(journal(runId, count, T0));
        expect((await store.getRun(runId))?.lastSeq).toBe(count);
      }
      // The next commit appends after them.
      const more: RunWrite = {
        ...newRun('run-many-2', T0 + 1, { create: null, expectedLastSeq: 1 }),
        events: [scheduled(2, 'later', T0 + 1)],
        projection: { status: 'running', output: null, error: null, lastSeq: 2, finishedAt: null },
        work: noWork(),
      };
      expect(await store.commit(batch([more]))).toEqual({ ok: true, claimed: [] });
      expect(await store.readEvents('run-many-2', 1)).toEqual([scheduled(2, 'later', T0 + 1)]);
    });

    withStore(
      'schedules: a save keeps an unchanged row’s time; a fire is claimed once, all or nothing',
      async (store) => {
        const hourly = {
          cron: '0 * * * *',
          timeZone: 'UTC',
          misfire: 'once' as const,
          maxCatchUp: 100,
          graceMs: 60_000,
        };
        const row = (nodeId: string, nextAt: number, schedule = hourly) => ({
          workflowId: graph.id,
          nodeId,
          schedule,
          nextAt,
        });
        await store.syncSchedules(graph.id, [row('a', T0 + 100), row('b', T0 + 200)]);
        // Saved again (same rules, a later "now"): the times stand; a changed rule takes the new time.
        await store.syncSchedules(graph.id, [
          row('a', T0 + 999),
          row('b', T0 + 300, { ...hourly, cron: '*/5 * * * *' }),
        ]);
        expect(await store.schedules(graph.id)).toEqual([
          row('a', T0 + 100),
          row('b', T0 + 300, { ...hourly, cron: '*/5 * * * *' }),
        ]);
        expect(await store.dueSchedules(T0 + 100, 10)).toEqual([row('a', T0 + 100)]);
        expect(await store.nextScheduleDue(T0 + 100)).toBe(T0 + 300);
        expect(await store.nextScheduleDue(Number.NEGATIVE_INFINITY)).toBe(T0 + 100);

        const fire = (runId: string): CommitBatch => ({
          ...batch([newRun(runId, T0 + 100)], 'w1', T0 + 100),
          schedules: [{ workflowId: graph.id, nodeId: 'a', expectedNextAt: T0 + 100, nextAt: T0 + 3_600_100 }],
        });
        expect(await store.commit(fire('run-first'))).toEqual({ ok: true, claimed: [] });
        // A second worker that read the same row: refused, and its run is not written.
        expect(await store.commit(fire('run-second'))).toEqual({
          ok: false,
          conflicts: [{ kind: 'schedule-moved', runId: null, workflowId: graph.id, nodeId: 'a' }],
        });
        expect(await store.getRun('run-second')).toBeUndefined();
        expect((await store.schedules(graph.id)).find((r) => r.nodeId === 'a')).toEqual(row('a', T0 + 3_600_100));
        // A stale run in the batch refuses the schedule's move too.
        const stale = { ...newRun('run-first', T0 + 2, { create: null, expectedLastSeq: 1 }), events: [] };
        expect(
          await store.commit({
            ...batch([stale], 'w1'),
            schedules: [{ workflowId: graph.id, nodeId: 'a', expectedNextAt: T0 + 3_600_100, nextAt: null }],
          }),
        ).toMatchObject({ ok: false });
        expect(await store.schedules(graph.id)).toHaveLength(2);
        // Dropped from the latest version: the row goes; deleting the workflow takes the rest.
        await store.syncSchedules(graph.id, [row('b', T0)]);
        expect((await store.schedules()).map((r) => r.nodeId)).toEqual(['b']);
        await store.workflows.delete(graph.id, T0);
        expect(await store.schedules()).toEqual([]);
      },
    );

    withStore('commits are all or nothing: one stale run refuses the whole batch', async (store) => {
      await seed(store, 1);
      const fresh = newRun('run-new', T0 + 1);
      const stale: RunWrite = {
        ...newRun('run-0000', T0 + 1, { create: null, expectedLastSeq: 1 }),
        events: [scheduled(3, 'b', T0 + 1)],
      };
      const result = await store.commit(batch([fresh, stale]));
      expect(result).toEqual({
        ok: false,
        conflicts: [{ kind: 'run-moved', runId: 'run-0000', expectedLastSeq: 1, lastSeq: 2 }],
      });
      expect(await store.getRun('run-new')).toBeUndefined();
      expect(await store.readEvents('run-0000', 2)).toEqual([]);
      expect(await store.pending(T0 + 1, 0)).toEqual({ ready: 1, leased: 0, timers: 0 });
    });

    withStore('a stale run whose events overlap the stored ones is a conflict, not an error', async (store) => {
      await seed(store, 1);
      // Computed on seq 1: its next event is seq 2, which the store holds already.
      const stale: RunWrite = {
        ...newRun('run-0000', T0 + 1, { create: null, expectedLastSeq: 1 }),
        events: [scheduled(2, 'b', T0 + 1)],
      };
      expect(await store.commit(batch([stale]))).toEqual({
        ok: false,
        conflicts: [{ kind: 'run-moved', runId: 'run-0000', expectedLastSeq: 1, lastSeq: 2 }],
      });
    });

    withStore('commits are all or nothing when a write fails half-way', async (store) => {
      await seed(store, 1);
      const unserialisable = { ...scheduled(3, 'b', T0 + 1), data: { input: 10n } } as unknown as JournalEvent;
      const failing: RunWrite = {
        ...newRun('run-0000', T0 + 1, { create: null, expectedLastSeq: 2 }),
        events: [scheduled(3, 'c', T0 + 1), unserialisable],
      };
      await expect(store.commit(batch([newRun('run-new', T0 + 1), failing]))).rejects.toThrow();
      expect(await store.getRun('run-new')).toBeUndefined();
      expect(await store.readEvents('run-0000', 2)).toEqual([]);
      expect((await store.getRun('run-0000'))?.lastSeq).toBe(2);
    });

    withStore('an imported run is stored with its journal, marked imported, with no work; once', async (store) => {
      const events = [started('run-imported', T0), scheduled(2, 'a', T0)];
      const record = {
        runId: 'run-imported',
        workflowId: graph.id,
        version: 1,
        status: 'running' as const,
        input: { runId: 'run-imported' },
        output: null,
        error: null,
        parentRunId: null,
        forkOf: null,
        lastSeq: 2,
        createdAt: T0,
        updatedAt: T0,
        finishedAt: null,
      };
      expect(await store.importRun({ record, events })).toBe(true);
      expect(await store.getRun('run-imported')).toMatchObject({ runId: 'run-imported', imported: true, lastSeq: 2 });
      expect(await store.readEvents('run-imported', 0)).toEqual(events);
      expect((await store.listRuns({}, { limit: 10 })).runs.map((run) => [run.runId, run.imported])).toEqual([
        ['run-imported', true],
      ]);
      // Nothing to execute: an imported run is never claimed, whatever its status says.
      expect(await store.pending(T0 + 1_000_000, 0)).toEqual({ ready: 0, leased: 0, timers: 0 });
      expect(await store.hasClaimable(T0 + 1_000_000)).toBe(false);
      // Its id is taken: a second import writes nothing, nor does a new run of the same id.
      expect(await store.importRun({ record: { ...record, status: 'failed' }, events })).toBe(false);
      expect((await store.getRun('run-imported'))?.status).toBe('running');
      expect(await store.commit(batch([newRun('run-imported', T0 + 1)]))).toEqual({
        ok: false,
        conflicts: [{ kind: 'run-exists', runId: 'run-imported' }],
      });
    });

    withStore('a run is created once', async (store) => {
      await seed(store, 1);
      expect(await store.commit(batch([newRun('run-0000', T0 + 1)]))).toEqual({
        ok: false,
        conflicts: [{ kind: 'run-exists', runId: 'run-0000' }],
      });
    });

    withStore('of two workers writing the same run version, the second is refused', async (store) => {
      await seed(store, 1);
      const other = await factory.reopen(store.location);
      try {
        const write = (activationId: string): RunWrite => ({
          ...newRun('run-0000', T0 + 1, { create: null, expectedLastSeq: 2 }),
          events: [scheduled(3, activationId, T0 + 1)],
          projection: { status: 'running', output: null, error: null, lastSeq: 3, finishedAt: null },
          work: noWork(),
        });
        expect(await store.commit(batch([write('b')]))).toEqual({ ok: true, claimed: [] });
        expect(await other.commit(batch([write('c')]))).toEqual({
          ok: false,
          conflicts: [{ kind: 'run-moved', runId: 'run-0000', expectedLastSeq: 2, lastSeq: 3 }],
        });
        expect((await other.readEvents('run-0000', 2)).map((event) => event.activationId)).toEqual(['b']);
      } finally {
        await other.close();
      }
    });

    withStore('claims by two workers never overlap (interleaved)', async (store) => {
      const ids = await seed(store, 120);
      const other = await factory.reopen(store.location);
      try {
        const claimed = new Map<string, string>();
        const claimer = async (which: Store, workerId: string): Promise<void> => {
          for (;;) {
            const rows = await which.claim({ workerId, now: T0, leaseUntil: T0 + 60_000, limit: 7 });
            if (rows.length === 0) return;
            for (const row of rows) {
              expect(claimed.get(row.runId), `${row.runId} claimed twice`).toBeUndefined();
              expect(row.leaseOwner).toBe(workerId);
              claimed.set(row.runId, workerId);
            }
          }
        };
        await Promise.all([claimer(store, 'w1'), claimer(other, 'w2')]);
        expect([...claimed.keys()].sort()).toEqual(ids);
        expect(new Set(claimed.values())).toEqual(new Set(['w1', 'w2']));
        expect(await store.pending(T0, 0)).toEqual({ ready: 0, leased: 120, timers: 0 });
      } finally {
        await other.close();
      }
    });

    withStore(
      'claims by workers in separate processes never overlap',
      async (store) => {
        const ids = await seed(store, 300);
        // Each process opens the store, says it is ready, and claims only once all are: a real race.
        const script = `
          const { openStore } = await import(${JSON.stringify(`${ROOT}/dist/engine/store/index.js`)});
          const store = openStore(JSON.parse(process.argv[1]));
          process.stdout.write('ready\\n');
          await new Promise((resolve) => process.stdin.once('data', resolve));
          const mine = [];
          for (;;) {
            const rows = await store.claim({ workerId: process.argv[2], now: ${T0}, leaseUntil: ${T0 + 60_000}, limit: 2 });
            if (rows.length === 0) break;
            mine.push(...rows.map((row) => row.runId));
            // A worker executes what it claimed before it claims again.
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
          await store.close();
          process.stdout.write(JSON.stringify(mine));`;
        const children = ['p1', 'p2', 'p3'].map((workerId) => {
          const child = spawn(
            process.execPath,
            ['--input-type=module', '-e', script, JSON.stringify(store.location), workerId],
            { stdio: ['pipe', 'pipe', 'pipe'] },
          );
          let out = '';
          let err = '';
          const ready = new Promise<void>((resolve) =>
            child.stdout.on('data', (chunk: Buffer) => {
              out += chunk.toString();
              if (out.startsWith('ready\n')) resolve();
            }),
          );
          child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
          const done = new Promise<string[]>((resolve, reject) =>
            child.on('close', (code) =>
              code === 0
                ? resolve(JSON.parse(out.slice('ready\n'.length)) as string[])
                : reject(new Error(`claimer ${workerId}: ${err}`)),
            ),
          );
          return { child, ready, done };
        });
        await Promise.all(children.map((claimer) => claimer.ready));
        for (const { child } of children) child.stdin.end('go\n');
        const claimers = children.map((claimer) => claimer.done);
        const results = await Promise.all(claimers);
        const all = results.flat();
        expect(all.length, 'an activation was claimed by two processes').toBe(new Set(all).size);
        expect([...all].sort()).toEqual(ids);
        expect(results.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
      },
      60_000,
    );

    withStore('a commit may claim in the same transaction; a refused commit claims nothing', async (store) => {
      await seed(store, 3);
      const claim = { workerId: 'w1', now: T0, leaseUntil: T0 + 1000, limit: 2 };
      const stale = newRun('run-0000', T0, {
        create: null,
        expectedLastSeq: 1,
        events: [],
        projection: null,
        work: noWork(),
      });
      expect(await store.commit({ ...batch([stale], 'w1'), claim })).toMatchObject({ ok: false });
      expect(await store.pending(T0, 0)).toEqual({ ready: 3, leased: 0, timers: 0 });
      const result = await store.commit({ ...batch([newRun('run-new', T0)], 'w1'), claim: { ...claim, limit: 10 } });
      if (!result.ok) throw new Error('expected the commit to go through');
      // What the commit itself made ready is claimable in it too.
      expect(result.claimed.map((row) => [row.runId, row.leaseOwner]).sort()).toEqual([
        ['run-0000', 'w1'],
        ['run-0001', 'w1'],
        ['run-0002', 'w1'],
        ['run-new', 'w1'],
      ]);
    });

    withStore('a lease keeps others off until it expires; then it is taken over', async (store) => {
      await seed(store, 1);
      const claim = (workerId: string, now: number) =>
        store.claim({ workerId, now, leaseUntil: now + 1000, limit: 10 });
      expect(await claim('w1', T0)).toHaveLength(1);
      expect(await claim('w2', T0 + 500)).toEqual([]);
      expect(await store.pending(T0 + 500, 0)).toEqual({ ready: 0, leased: 1, timers: 0 });
      const [taken] = await claim('w2', T0 + 1001);
      expect(taken).toMatchObject({ runId: 'run-0000', activationId: 'a', leaseOwner: 'w2' });
      // The first worker's outcome is refused: its lease is gone.
      const outcome = (workerId: string): CommitBatch =>
        batch(
          [
            {
              ...newRun('run-0000', T0 + 1100, { create: null, expectedLastSeq: 2 }),
              events: [],
              projection: null,
              work: { ...noWork(), readyDelete: ['a'] },
              leases: [{ activationId: 'a', attempt: 1 }],
            },
          ],
          workerId,
          T0 + 1100,
        );
      expect(await store.commit(outcome('w1'))).toEqual({
        ok: false,
        conflicts: [{ kind: 'lease-lost', runId: 'run-0000', activationId: 'a', attempt: 1 }],
      });
      expect(await store.commit(outcome('w2'))).toEqual({ ok: true, claimed: [] });
    });

    withStore(
      'heartbeats renew the leases of started activations until their deadline; a claim never started lapses',
      async (store) => {
        await seed(store, 3);
        const worker = { id: 'w1', host: 'test', pid: 1, startedAt: T0, heartbeatAt: T0, leaseMs: 1000 };
        await store.registerWorker(worker);
        const claimed = await store.claim({ workerId: 'w1', now: T0, leaseUntil: T0 + 1000, limit: 3 });
        // A claim is not renewed until the worker starts the activation.
        expect(claimed.map((row) => [row.runId, row.leaseOwner, row.deadline])).toEqual([
          ['run-0000', 'w1', T0],
          ['run-0001', 'w1', T0],
          ['run-0002', 'w1', T0],
        ]);
        // The worker starts two of them: one with a start-to-close deadline at T0 + 1500, one far away.
        const start = (runId: string, deadline: number): RunWrite => ({
          ...newRun(runId, T0, { create: null, expectedLastSeq: 2 }),
          events: [],
          projection: null,
          work: {
            ...noWork(),
            readyPut: [ready(runId, 'a', T0, { leaseOwner: 'w1', leaseUntil: T0 + 1000, deadline })],
          },
          leases: [{ activationId: 'a', attempt: 1 }],
        });
        expect(await store.commit(batch([start('run-0001', T0 + 1500), start('run-0002', T0 + 60_000)], 'w1'))).toEqual(
          { ok: true, claimed: [] },
        );
        await store.heartbeat(worker, T0 + 900);
        await store.heartbeat(worker, T0 + 1600);
        // At T0 + 1950: run-0000 (never started) lapsed at T0 + 1000; run-0001 was last renewed at
        // T0 + 900 (its deadline had passed at T0 + 1600), so it lapsed at T0 + 1900; run-0002 holds.
        const taken = await store.claim({ workerId: 'w2', now: T0 + 1950, leaseUntil: T0 + 3000, limit: 10 });
        expect(taken.map((row) => row.runId).sort()).toEqual(['run-0000', 'run-0001']);
        expect(await store.leasesOf('w1')).toEqual([{ runId: 'run-0002', activationId: 'a', attempt: 1 }]);
        expect((await store.leasesOf('w2')).map((lease) => lease.runId).sort()).toEqual(['run-0000', 'run-0001']);
        expect((await store.workers()).map((row) => [row.id, row.heartbeatAt])).toEqual([['w1', T0 + 1600]]);
      },
    );

    withStore('silent workers are expired and their leases freed at once', async (store) => {
      await seed(store, 3);
      await store.registerWorker({ id: 'w1', host: 'h', pid: 1, startedAt: T0, heartbeatAt: T0, leaseMs: 1000 });
      await store.registerWorker({ id: 'w2', host: 'h', pid: 2, startedAt: T0, heartbeatAt: T0, leaseMs: 60_000 });
      await store.claim({ workerId: 'w1', now: T0, leaseUntil: T0 + 60_000, limit: 2 });
      // Each worker's own lease length says how long it may stay silent.
      expect(await store.expireWorkers(T0 + 1000)).toEqual([]);
      expect(await store.expireWorkers(T0 + 1001)).toEqual([{ workerId: 'w1', released: 2 }]);
      expect((await store.workers()).map((worker) => worker.id)).toEqual(['w2']);
      expect(await store.claim({ workerId: 'w2', now: T0 + 2, leaseUntil: T0 + 60_000, limit: 10 })).toHaveLength(3);
      await store.removeWorker('w2');
      expect(await store.workers()).toEqual([]);
      expect(await store.pending(T0 + 3, 0)).toEqual({ ready: 3, leased: 0, timers: 0 });
    });

    withStore('timers: due, next due, consumed by a commit; an ended run keeps no work', async (store) => {
      await seed(store, 1);
      const timer = (purpose: 'retry' | 'wait', dueAt: number) => ({
        runId: 'run-0000',
        activationId: 'a',
        purpose,
        nodeId: 'a',
        attempt: 2,
        dueAt,
      });
      const write = (extra: Partial<RunWrite>, expectedLastSeq: number): RunWrite => ({
        ...newRun('run-0000', T0, { create: null, expectedLastSeq }),
        events: [],
        projection: null,
        work: noWork(),
        ...extra,
      });
      expect(
        await store.commit(
          batch([write({ work: { ...noWork(), timerPut: [timer('retry', T0 + 100), timer('wait', T0 + 50)] } }, 2)]),
        ),
      ).toEqual({ ok: true, claimed: [] });
      expect(await store.nextTimerDue(Number.NEGATIVE_INFINITY)).toBe(T0 + 50);
      expect(await store.nextTimerDue(T0 + 50)).toBe(T0 + 100);
      expect((await store.dueTimers(T0 + 60, 10)).map((due) => due.purpose)).toEqual(['wait']);
      expect(await store.dueTimers(T0 + 60, 10, 'another-run')).toEqual([]);
      expect(await store.pending(T0, 100)).toMatchObject({ timers: 2 });
      const ended = write(
        {
          events: [
            {
              seq: 3,
              at: T0 + 200,
              type: 'RunCancelled',
              activationId: null,
              nodeId: null,
              attempt: null,
              data: { reason: null, by: 'test' },
            },
          ],
          projection: { status: 'cancelled', output: null, error: null, lastSeq: 3, finishedAt: T0 + 200 },
          clear: true,
        },
        2,
      );
      expect(await store.commit(batch([ended]))).toEqual({ ok: true, claimed: [] });
      expect(await store.pending(T0, Number.MAX_SAFE_INTEGER / 2)).toEqual({ ready: 0, leased: 0, timers: 0 });
      expect(await store.getRun('run-0000')).toMatchObject({ status: 'cancelled', finishedAt: T0 + 200, lastSeq: 3 });
    });

    withStore(
      'a clear keeps the ready rows and timers written with it (a run starting its compensations)',
      async (store) => {
        await seed(store, 1);
        const compensating = {
          ...newRun('run-0000', T0, { create: null, expectedLastSeq: 2 }),
          events: [],
          projection: null,
          clear: true,
          work: {
            ...noWork(),
            readyPut: [ready('run-0000', 'refund', T0 + 5)],
            timerPut: [
              {
                runId: 'run-0000',
                activationId: 'refund',
                purpose: 'retry' as const,
                nodeId: 'refund',
                attempt: 2,
                dueAt: T0 + 9,
              },
            ],
          },
        };
        expect(await store.commit(batch([compensating]))).toEqual({ ok: true, claimed: [] });
        // The seeded row of activation "a" went; the compensation's row and timer stay.
        expect(await store.pending(T0 + 10, 100)).toEqual({ ready: 1, leased: 0, timers: 1 });
        expect((await store.dueTimers(T0 + 10, 10)).map((due) => due.activationId)).toEqual(['refund']);
      },
    );

    withStore('inbox rows: opened, decided once; an ended run cancels its open ones', async (store) => {
      await seed(store, 2);
      const wait = (runId: string) => ({
        runId,
        activationId: 'a',
        nodeId: 'a',
        kind: 'approval',
        status: 'open' as const,
        title: 'Refund?',
        instructions: '',
        input: { amount: 5 },
        createdAt: T0,
        timeoutAt: null,
        decision: null,
        decidedBy: null,
        decidedAt: null,
        comment: null,
        card: PLAIN_CARD,
        votes: [],
      });
      const write = (runId: string, extra: Partial<RunWrite>): RunWrite => ({
        ...newRun(runId, T0, { create: null, expectedLastSeq: 2 }),
        events: [],
        projection: null,
        work: noWork(),
        ...extra,
      });
      await store.commit(
        batch([
          write('run-0000', { work: { ...noWork(), waitOpen: [wait('run-0000')] } }),
          write('run-0001', { work: { ...noWork(), waitOpen: [wait('run-0001')] } }),
        ]),
      );
      expect((await store.waits({ status: 'open', limit: 10 })).map((row) => row.runId)).toEqual([
        'run-0000',
        'run-0001',
      ]);
      expect(await store.waits({ status: 'open', limit: 1, newestFirst: true })).toHaveLength(1);
      expect(await store.countWaits('open')).toBe(2);
      const decide = { activationId: 'a', decision: 'approved', by: 'alice', comment: 'ok', at: T0 + 1 };
      await store.commit(batch([write('run-0000', { work: { ...noWork(), waitDecide: [decide] } })]));
      // A decided row is not decided again, nor cancelled when its run ends.
      await store.commit(
        batch([
          write('run-0000', {
            work: { ...noWork(), waitDecide: [{ ...decide, decision: 'rejected', by: 'bob' }] },
            clear: true,
          }),
          write('run-0001', { clear: true }),
        ]),
      );
      expect(await store.waits({ runId: 'run-0000', limit: 10 })).toEqual([
        expect.objectContaining({ status: 'decided', decision: 'approved', decidedBy: 'alice', comment: 'ok' }),
      ]);
      expect(await store.waits({ runId: 'run-0001', limit: 10 })).toEqual([
        expect.objectContaining({ status: 'cancelled', decision: null }),
      ]);
    });

    withStore('inbox rows keep their card, gather votes while open, and start over when reopened', async (store) => {
      await seed(store, 1);
      const card = { ...PLAIN_CARD, quorum: 2, assignees: ['alice', 'bob'], remindAt: T0 + 60_000 };
      const row = {
        runId: 'run-0000',
        activationId: 'a',
        nodeId: 'a',
        kind: 'approval',
        status: 'open' as const,
        title: 'Refund?',
        instructions: '',
        input: null,
        createdAt: T0,
        timeoutAt: null,
        decision: null,
        decidedBy: null,
        decidedAt: null,
        comment: null,
        card,
        votes: [],
      };
      const write = (work: Partial<ReturnType<typeof noWork>>): RunWrite => ({
        ...newRun('run-0000', T0, { create: null, expectedLastSeq: 2 }),
        events: [],
        projection: null,
        work: { ...noWork(), ...work },
      });
      const vote = { activationId: 'a', decision: 'approved', by: 'alice', comment: null, at: T0 + 1 };
      await store.commit(batch([write({ waitOpen: [row] })]));
      await store.commit(batch([write({ waitVote: [vote] })]));
      await store.commit(batch([write({ waitVote: [{ ...vote, by: 'carol', comment: 'fine', at: T0 + 2 }] })]));
      const [open] = await store.waits({ runId: 'run-0000', limit: 1 });
      expect(open).toMatchObject({ status: 'open', card });
      expect(open?.votes).toEqual([
        { decision: 'approved', by: 'alice', comment: null, at: T0 + 1 },
        { decision: 'approved', by: 'carol', comment: 'fine', at: T0 + 2 },
      ]);
      // The same activation waiting again (a new wait) starts with no votes.
      await store.commit(batch([write({ waitOpen: [{ ...row, createdAt: T0 + 3 }] })]));
      expect((await store.waits({ runId: 'run-0000', limit: 1 }))[0]?.votes).toEqual([]);
      // A decided row takes no more votes.
      await store.commit(
        batch([
          write({ waitDecide: [{ activationId: 'a', decision: 'rejected', by: 'bob', comment: null, at: T0 + 4 }] }),
        ]),
      );
      await store.commit(batch([write({ waitVote: [{ ...vote, by: 'dan' }] })]));
      expect((await store.waits({ runId: 'run-0000', limit: 1 }))[0]).toMatchObject({ status: 'decided', votes: [] });
    });

    withStore('lists runs newest first, a page at a time, filtered, with counts by status', async (store) => {
      for (let index = 0; index < 25; index += 1)
        await store.commit(batch([newRun(`run-${String(index).padStart(2, '0')}`, T0 + index)], null, T0 + index));
      const seen: string[] = [];
      let after = null;
      for (;;) {
        const page = await store.listRuns({}, { after, limit: 10 });
        seen.push(...page.runs.map((run) => run.runId));
        if (page.next === null) break;
        after = page.next;
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, index) => `run-${String(24 - index).padStart(2, '0')}`));
      expect((await store.listRuns({ idPrefix: 'run-1' }, { limit: 100 })).runs).toHaveLength(10);
      expect((await store.listRuns({ status: ['completed'] }, { limit: 100 })).runs).toEqual([]);
      expect((await store.listRuns({ workflowId: graph.id, version: 1 }, { limit: 100 })).runs).toHaveLength(25);
      expect(await store.countRuns({ workflowId: graph.id })).toEqual({
        running: 25,
        waiting: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
        compensating: 0,
        compensated: 0,
        compensation_failed: 0,
      });
    });

    withStore('the change feed reports commits of every connection, in order', async (store) => {
      const start = await store.changesSince(null, 100);
      expect(start.changes).toEqual([]);
      await seed(store, 2);
      const other = await factory.reopen(store.location);
      try {
        await other.commit(batch([newRun('run-other', T0 + 5)], null, T0 + 5));
        const { changes, cursor } = await other.changesSince(start.cursor, 100);
        expect(changes.map((change) => change.runId).sort()).toEqual(['run-0000', 'run-0001', 'run-other']);
        expect(changes.at(-1)).toMatchObject({ runId: 'run-other', status: 'running', lastSeq: 2, updatedAt: T0 + 5 });
        expect((await store.changesSince(cursor, 100)).changes).toEqual([]);
      } finally {
        await other.close();
      }
    });

    withStore('the change feed pages through one commit of many runs without losing any', async (store) => {
      const start = await store.changesSince(null, 100);
      // One commit touching 7 runs: every change has the same commit, pages of 3 cut through it.
      const ids = Array.from({ length: 7 }, (_, index) => `run-${index}`);
      expect(await store.commit(batch(ids.map((id) => newRun(id, T0))))).toEqual({ ok: true, claimed: [] });
      const seen: string[] = [];
      let cursor = start.cursor;
      for (let page = 0; page < 10; page += 1) {
        const next = await store.changesSince(cursor, 3);
        seen.push(...next.changes.map((change) => change.runId));
        cursor = next.cursor;
        if (next.changes.length < 3) break;
      }
      expect(seen.sort()).toEqual(ids);
      // A reader that starts now sees only what comes next.
      const now = await store.changesSince(null, 100);
      await store.commit(batch([newRun('run-later', T0 + 1)]));
      expect((await store.changesSince(now.cursor, 100)).changes.map((change) => change.runId)).toEqual(['run-later']);
    });

    withStore('large values read back as written, wherever they are held', async (store) => {
      // Sizes on both sides of any sensible "store once" threshold, text that is not ASCII, and
      // small values that look like what a store might use to refer to a large one.
      const big = { rows: Array.from({ length: 4000 }, (_, index) => ({ index, text: 'é✓ row' })) };
      const values: unknown[] = [
        big,
        'x'.repeat(16 * 1024 - 3),
        'x'.repeat(16 * 1024 - 2),
        'x'.repeat(16 * 1024),
        'y'.repeat(200_000),
        { $ref: 'sha256:0123' },
        null,
      ];
      for (const [index, value] of values.entries()) {
        const runId = `run-large-${index}`;
        const base = newRun(runId, T0, {
          create: { runId, workflowId: graph.id, version: 1, input: value, parentRunId: null },
        });
        const events: JournalEvent[] = [
          {
            seq: 1,
            at: T0,
            type: 'RunStarted',
            activationId: null,
            nodeId: null,
            attempt: null,
            data: { workflowId: graph.id, version: 1, input: value, triggerNodeId: 'start', parentRunId: null },
          },
          { seq: 2, at: T0, type: 'NodeScheduled', activationId: 'a', nodeId: 'a', attempt: 1, data: { input: value } },
          {
            seq: 3,
            at: T0,
            type: 'NodeCompleted',
            activationId: 'a',
            nodeId: 'a',
            attempt: 1,
            data: { port: 'out', output: value },
          },
          {
            seq: 4,
            at: T0,
            type: 'NodeCompleted',
            activationId: 'b',
            nodeId: 'b',
            attempt: 1,
            data: { port: null, output: value },
          },
        ];
        const wait = {
          runId,
          activationId: 'a',
          nodeId: 'a',
          kind: 'approval',
          status: 'open' as const,
          title: 'Large?',
          instructions: '',
          input: value,
          createdAt: T0,
          timeoutAt: null,
          decision: null,
          decidedBy: null,
          decidedAt: null,
          comment: null,
          card: PLAIN_CARD,
          votes: [],
        };
        const write: RunWrite = {
          ...base,
          events,
          projection: { status: 'waiting', output: value, error: null, lastSeq: 4, finishedAt: null },
          work: { ...noWork(), waitOpen: [wait] },
        };
        expect(await store.commit(batch([write]))).toEqual({ ok: true, claimed: [] });
        expect(await store.readEvents(runId, 0)).toEqual(events);
        expect(await store.getRun(runId)).toMatchObject({ input: value, output: value });
        expect((await store.listRuns({ idPrefix: runId }, { limit: 1 })).runs[0]).toMatchObject({ input: value });
        expect(await store.waits({ runId, limit: 1 })).toEqual([expect.objectContaining({ input: value })]);
      }
      // The same value held by another run is still its own: each reads back whole.
      const again = await store.getRun('run-large-4');
      expect(again?.output).toBe('y'.repeat(200_000));
    });

    it('opens a store written by the previous schema: migrated, its runs and journal kept', async () => {
      const location = await factory.legacy();
      const store = await factory.reopen(location);
      try {
        expect(await store.getRun('r1')).toMatchObject({ status: 'running', input: { n: 1 }, lastSeq: 1 });
        expect(await store.readEvents('r1', 0)).toEqual([
          {
            seq: 1,
            at: 5,
            type: 'RunStarted',
            activationId: null,
            nodeId: null,
            attempt: null,
            data: { workflowId: 'w', version: 1, input: { n: 1 }, triggerNodeId: 'start', parentRunId: null },
          },
        ]);
        // And it works as a store of today's schema.
        expect((await store.changesSince(null, 10)).cursor.runId).toBe('r1');
        expect(await store.pending(5, 0)).toEqual({ ready: 0, leased: 0, timers: 0 });
      } finally {
        await store.close();
        await factory.cleanup();
      }
    });

    withStore(
      'the node cache gives back what was put, and past its cap drops the least recently used',
      async (store) => {
        expect(await store.cacheGet('k1', T0)).toBeUndefined();
        await store.cachePut('k1', '{"text":"one"}', T0, 2);
        await store.cachePut('k2', '{"text":"two"}', T0 + 1, 2);
        expect(await store.cacheGet('k1', T0 + 2)).toBe('{"text":"one"}'); // k1 is now the more recently used
        await store.cachePut('k3', '{"text":"three"}', T0 + 3, 2);
        expect(await store.cacheGet('k2', T0 + 4)).toBeUndefined();
        expect(await store.cacheGet('k1', T0 + 4)).toBe('{"text":"one"}');
        await store.cachePut('k3', '{"text":"three again"}', T0 + 5, 2);
        expect(await store.cacheGet('k3', T0 + 6)).toBe('{"text":"three again"}');
      },
    );

    withStore('workflow versions are content-addressed; the draft follows unedited versions', async (store) => {
      const edited = chain('conformance', [node('a', 'code', { code: 'return 2' })]);
      expect((await store.workflows.saveVersion(graph, null, T0)).created).toBe(false);
      const second = await store.workflows.saveVersion(edited, 'two', T0 + 1);
      expect(second).toMatchObject({ created: true, version: { version: 2, note: 'two' } });
      expect(await store.workflows.draftChanged(graph.id, edited)).toBe(false);
      expect(await store.workflows.draftChanged(graph.id, graph)).toBe(true);
      expect((await store.workflows.get(graph.id))?.draft).toEqual(edited);
      expect((await store.workflows.listVersions(graph.id)).map((version) => version.version)).toEqual([1, 2]);
    });
  });
}
