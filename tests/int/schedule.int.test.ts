// trigger.schedule on a manual clock: fires at the rule's times and starts runs on the latest
// version; fires missed while nothing ran follow once / skip / all; two workers on one database
// never fire one occurrence twice; a dropped trigger or a deleted workflow stops firing.
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, ManualClock } from '../../engine/runtime/engine.js';
import type { Workflow } from '../../engine/model/workflow.js';
import { openStore } from '../../engine/store/index.js';
import { dbPathOf, readDb, testEngine } from '../support/engine.js';
import { faultyStore } from '../support/faulty-store.js';
import { edge, node, until, workflow } from '../support/harness.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);

const extra: Engine[] = [];
afterEach(async () => {
  for (const engine of extra.splice(0)) await engine.close();
});

/** Another engine (process) on the same database file. */
function reopen(path: string, clock: ManualClock): Engine {
  const engine = Engine.open({ dbPath: path, synchronous: 'NORMAL', pollMs: 20, clock });
  extra.push(engine);
  return engine;
}

function scheduled(config: Record<string, unknown>, label = 'end'): Workflow {
  return workflow(
    'tick',
    [node('every', 'trigger.schedule', { timezone: 'UTC', ...config }), node('end', 'output', {}, { name: label })],
    [edge('every', 'end')],
  );
}

interface RunRow {
  version: number;
  status: string;
  input: { scheduledAt: string; firedAt: string; lateMs: number };
}

function runsOf(path: string): RunRow[] {
  return readDb(path, (db) =>
    db
      .prepare<[], { version: number; status: string; input: string }>(
        "SELECT version, status, input FROM runs WHERE workflow_id = 'tick' ORDER BY created_at, id",
      )
      .all()
      .map((row) => ({ ...row, input: JSON.parse(row.input) as RunRow['input'] })),
  ).sort((a, b) => a.input.scheduledAt.localeCompare(b.input.scheduledAt));
}

function scheduleRows(path: string): { node_id: string; next_at: number }[] {
  return readDb(path, (db) =>
    db.prepare<[], { node_id: string; next_at: number }>('SELECT node_id, next_at FROM schedules').all(),
  );
}

const at = (minutes: number): string => new Date(START + minutes * MINUTE).toISOString();

describe('trigger.schedule', () => {
  it('fires at the rule’s times, on the latest saved version, until the version drops it', async () => {
    const clock = new ManualClock(START);
    const engine = testEngine({ clock });
    const path = dbPathOf(engine);
    await engine.saveWorkflow(scheduled({ cron: '*/15 * * * *' }));
    expect(scheduleRows(path)).toEqual([{ node_id: 'every', next_at: START + 15 * MINUTE }]);
    const worker = engine.startWorker();
    await worker.started;
    await worker.settled();

    clock.advance(14 * MINUTE);
    await worker.settled();
    expect(runsOf(path)).toEqual([]);

    clock.advance(MINUTE);
    await worker.settled();
    const [first] = runsOf(path);
    expect(first).toEqual({
      version: 1,
      status: 'completed',
      input: { scheduledAt: at(15), firedAt: at(15), lateMs: 0 },
    });
    const detail = await engine.queries.get((await engine.queries.list({ workflowId: 'tick' })).runs[0]?.runId ?? '');
    expect(detail?.output).toEqual(first?.input);
    const started = detail?.events.find((event) => event.type === 'RunStarted');
    expect(started?.type === 'RunStarted' && started.data).toMatchObject({
      triggerNodeId: 'every',
      startedBy: 'schedule',
    });

    // A new version with the same rule: the next fire keeps its time and runs on version 2.
    await engine.saveWorkflow(scheduled({ cron: '*/15 * * * *' }, 'End v2'));
    clock.advance(15 * MINUTE);
    await worker.settled();
    expect(runsOf(path).map((run) => [run.version, run.input.scheduledAt])).toEqual([
      [1, at(15)],
      [2, at(30)],
    ]);

    // The latest version has no schedule trigger: the row goes and nothing fires any more.
    await engine.saveWorkflow(
      workflow('tick', [node('start', 'trigger.manual'), node('end', 'output')], [edge('start', 'end')]),
    );
    expect(scheduleRows(path)).toEqual([]);
    clock.advance(60 * MINUTE);
    await worker.settled();
    expect(runsOf(path)).toHaveLength(2);
  });

  it('a changed rule takes effect from the save', async () => {
    const clock = new ManualClock(START);
    const engine = testEngine({ clock });
    await engine.saveWorkflow(scheduled({ cron: '@hourly' }));
    clock.advance(10 * MINUTE);
    await engine.saveWorkflow(scheduled({ cron: '*/20 * * * *' }));
    expect(scheduleRows(dbPathOf(engine))).toEqual([{ node_id: 'every', next_at: START + 20 * MINUTE }]);
  });

  it('deleting the workflow stops it', async () => {
    const clock = new ManualClock(START);
    const engine = testEngine({ clock });
    const path = dbPathOf(engine);
    const { workflowId } = await engine.saveWorkflow(scheduled({ cron: '* * * * *' }));
    const worker = engine.startWorker();
    await worker.started;
    clock.advance(MINUTE);
    await worker.settled();
    expect(runsOf(path)).toHaveLength(1);
    await engine.workflows.delete(workflowId);
    expect(scheduleRows(path)).toEqual([]);
    clock.advance(10 * MINUTE);
    await worker.settled();
    expect(runsOf(path)).toHaveLength(1);
  });

  describe('fires missed while nothing ran (hourly; closed from 00:00 to 04:30)', () => {
    /** Saves the workflow with no worker, then a new engine on the file starts at 04:30. */
    async function missed(
      config: Record<string, unknown>,
    ): Promise<{ path: string; engine: Engine; clock: ManualClock }> {
      const saver = testEngine({ clock: new ManualClock(START) });
      const path = dbPathOf(saver);
      await saver.saveWorkflow(scheduled({ cron: '0 * * * *', ...config }));
      await saver.close();
      const clock = new ManualClock(START + 270 * MINUTE);
      const engine = reopen(path, clock);
      const worker = engine.startWorker();
      await worker.started;
      await worker.settled();
      return { path, engine, clock };
    }

    it('once: one late run for the latest, saying how late', async () => {
      const { path } = await missed({ misfire: 'once' });
      expect(runsOf(path).map((run) => run.input)).toEqual([
        { scheduledAt: at(240), firedAt: at(270), lateMs: 30 * MINUTE },
      ]);
      expect(scheduleRows(path)).toEqual([{ node_id: 'every', next_at: START + 300 * MINUTE }]);
    });

    it('skip: none; the next fire comes on time', async () => {
      const { path, engine, clock } = await missed({ misfire: 'skip' });
      expect(runsOf(path)).toEqual([]);
      clock.advance(30 * MINUTE);
      await engine.worker?.settled();
      expect(runsOf(path).map((run) => run.input)).toEqual([{ scheduledAt: at(300), firedAt: at(300), lateMs: 0 }]);
    });

    it('all: one run per missed fire, at most maxCatchUp (the latest)', async () => {
      const { path } = await missed({ misfire: 'all', maxCatchUp: 3 });
      expect(runsOf(path).map((run) => [run.input.scheduledAt, run.input.lateMs, run.status])).toEqual([
        [at(120), 150 * MINUTE, 'completed'],
        [at(180), 90 * MINUTE, 'completed'],
        [at(240), 30 * MINUTE, 'completed'],
      ]);
    });

    it('all: every missed fire when they are fewer than maxCatchUp', async () => {
      const { path } = await missed({ misfire: 'all' });
      expect(runsOf(path).map((run) => run.input.scheduledAt)).toEqual([at(60), at(120), at(180), at(240)]);
    });
  });

  it('two workers on one database never fire the same occurrence twice', async () => {
    const clockA = new ManualClock(START);
    const a = testEngine({ clock: clockA });
    const path = dbPathOf(a);
    await a.saveWorkflow(scheduled({ cron: '* * * * *', misfire: 'all' }));
    const clockB = new ManualClock(START);
    const b = reopen(path, clockB);
    const workers = [a.startWorker(), b.startWorker()];
    await Promise.all(workers.map((worker) => worker.started));
    for (let minute = 1; minute <= 20; minute += 1) {
      // Both come due together: each reads the row before either has committed the fire.
      clockA.advance(MINUTE);
      clockB.advance(MINUTE);
      await Promise.all(workers.map((worker) => worker.settled()));
    }
    const scheduledAts = runsOf(path).map((run) => run.input.scheduledAt);
    expect(scheduledAts).toEqual(Array.from({ length: 20 }, (_, index) => at(index + 1)));
  });

  it('a worker whose fire commits second is refused: the occurrence has one run', async () => {
    const clockA = new ManualClock(START);
    const seed = testEngine({ clock: clockA });
    const path = dbPathOf(seed);
    await seed.saveWorkflow(scheduled({ cron: '* * * * *', misfire: 'all' }));
    // A's commits of fires wait at a gate: B reads the same due row and commits its fire first.
    let gate: Promise<void> = Promise.resolve();
    let open = (): void => {};
    let held = 0;
    const store = faultyStore(openStore({ kind: 'sqlite', path, synchronous: 'NORMAL' }), {
      commit: async (batch) => {
        if ((batch.schedules?.length ?? 0) === 0) return;
        held += 1;
        await gate;
      },
    });
    const a = Engine.open({ store, clock: clockA, pollMs: 20 });
    extra.push(a);
    const clockB = new ManualClock(START);
    const b = reopen(path, clockB);
    const workerA = a.startWorker();
    const workerB = b.startWorker();
    await Promise.all([workerA.started, workerB.started]);
    for (let minute = 1; minute <= 5; minute += 1) {
      gate = new Promise((resolve) => (open = resolve));
      const heldBefore = held;
      clockA.advance(MINUTE);
      clockB.advance(MINUTE);
      await until(() => held > heldBefore, 'A to try committing its fire');
      await workerB.settled();
      open();
      await workerA.settled();
    }
    expect(runsOf(path).map((run) => run.input.scheduledAt)).toEqual([1, 2, 3, 4, 5].map(at));
  });

  it('a bad rule or time zone is a config problem naming the field', () => {
    const engine = testEngine();
    const result = engine.workflows.validate(scheduled({ cron: '0 25 * * *', timezone: 'Europe/Atlantis' }));
    expect(result.ok).toBe(false);
    expect(result.problems.map((problem) => [problem.nodeId, problem.field, problem.message])).toEqual([
      ['every', 'cron', expect.stringMatching(/config\.cron: hour: 25 is outside 0-23$/)],
      ['every', 'timezone', expect.stringMatching(/"Europe\/Atlantis" is not a time zone/)],
    ]);
  });
});
