// The engine on real database files: versions, pinning, database guards, timers across restarts,
// cancellation, export and replay.
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replayExport } from '../../engine/replay/index.js';
import { DatabaseError, defaultRegistry, Engine, ManualClock } from '../../engine/runtime/engine.js';
import { WorkflowInvalidError } from '../../engine/validate/index.js';
import { chain, edge, node, refundFlow, tempDir, workflow } from '../support/harness.js';
import { runWorkflow, testEngine } from '../support/engine.js';

describe('versions', () => {
  it('adds a version only when the content changes', async () => {
    const engine = testEngine();
    const v1 = await engine.saveWorkflow(chain('w', [node('a', 'code', { code: 'return 1' })]));
    const again = await engine.saveWorkflow(
      JSON.stringify(chain('w', [node('a', 'code', { code: 'return 1' })]), null, 4),
    );
    const v2 = await engine.saveWorkflow(chain('w', [node('a', 'code', { code: 'return 2' })]), { note: 'two' });
    expect(v1).toMatchObject({ workflowId: 'w', version: 1, created: true });
    expect(again).toMatchObject({ version: 1, created: false });
    expect(v2).toMatchObject({ version: 2, created: true });
    expect((await engine.workflows.versions('w')).map((version) => [version.version, version.note])).toEqual([
      [1, null],
      [2, 'two'],
    ]);
  });

  it('refuses an invalid workflow and keeps what is stored', async () => {
    const engine = testEngine();
    await engine.saveWorkflow(chain('w', [node('a', 'code', { code: 'return 1' })]));
    await expect(engine.saveWorkflow(chain('w', [node('a', 'nope')]))).rejects.toThrow(WorkflowInvalidError);
    await expect(engine.saveWorkflow('{"format":')).rejects.toThrow(/not valid JSON/);
    expect(await engine.workflows.versions('w')).toHaveLength(1);
  });
});

describe('pinned versions', () => {
  it('a run parked on v1 finishes with v1 after v2 is saved; a new run uses v2', async () => {
    const v1 = refundFlow('return { refunded: input.amount, by: "v1" };');
    const v2 = workflow(
      'refund',
      [
        node('start', 'trigger.manual'),
        node('ok', 'approval', { title: 'Refund?' }),
        node('pay', 'code', { code: 'return { refunded: input.amount * 2, by: "v2" };' }),
        node('audit', 'code', { code: 'return { ...input, audited: true };' }),
        node('end', 'output'),
      ],
      [edge('start', 'ok'), edge('ok:approved', 'pay'), edge('pay', 'audit'), edge('audit', 'end')],
    );
    const engine = testEngine();
    const first = await runWorkflow(engine, v1, { amount: 10 });
    expect(first).toMatchObject({ status: 'waiting', version: 1 });
    expect(await engine.saveWorkflow(v2)).toMatchObject({ version: 2, created: true });

    await engine.commands.decide(first.runId, 'approved', { by: 'manager' });
    const finished = await engine.waitForRun(first.runId, { timeoutMs: 5000 });
    expect(finished).toMatchObject({ status: 'completed', version: 1, output: { refunded: 10, by: 'v1' } });
    expect(finished.activations.map((activation) => activation.nodeId)).not.toContain('audit');

    const second = await engine.startRun('refund', { input: { amount: 10 } });
    expect(second.version).toBe(2);
    await engine.waitForRun(second.runId, { timeoutMs: 5000 });
    await engine.commands.decide(second.runId, 'approved');
    const newer = await engine.waitForRun(second.runId, { timeoutMs: 5000 });
    expect(newer.output).toEqual({ refunded: 20, by: 'v2', audited: true });
  });
});

describe('database guards', () => {
  it('refuses a database from a newer schema without modifying it', async () => {
    const dir = tempDir();
    try {
      const engine = Engine.open({ dbPath: dir.db });
      await engine.close();
      const raw = new Database(dir.db);
      raw.pragma('user_version = 99');
      raw.close();
      const before = readFileSync(dir.db);
      expect(() => Engine.open({ dbPath: dir.db })).toThrow(/written by a newer Stepwise \(schema 99.*not modified/);
      expect(readFileSync(dir.db).equals(before)).toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it('refuses a file that is not a database, and another application’s database', () => {
    const dir = tempDir();
    try {
      writeFileSync(dir.db, 'this is not sqlite at all, just some text that happens to be long enough'.repeat(20));
      const before = readFileSync(dir.db);
      expect(() => Engine.open({ dbPath: dir.db })).toThrow(DatabaseError);
      expect(() => Engine.open({ dbPath: dir.db })).toThrow(/not a Stepwise database or is corrupt/);
      expect(readFileSync(dir.db).equals(before)).toBe(true);

      const other = `${dir.path}/other.db`;
      const raw = new Database(other);
      raw.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY)');
      raw.close();
      expect(() => Engine.open({ dbPath: other })).toThrow(/another application/);
    } finally {
      dir.cleanup();
    }
  });
});

describe('durability across restarts', () => {
  it('keeps runs and fires timers that came due while the engine was closed, recorded as late', async () => {
    const dir = tempDir();
    try {
      const clock = new ManualClock();
      const first = Engine.open({ dbPath: dir.db, clock, parkHorizonMs: 50 });
      const saved = await first.saveWorkflow(chain('nap', [node('w', 'wait.timer', { duration: '1h' })]));
      const run = await first.startRun(saved.workflowId, { input: 'zzz' });
      const worker = first.startWorker();
      await worker.started;
      await worker.settled();
      expect((await first.queries.get(run.runId))?.status).toBe('waiting');
      await first.close();

      // The app was closed for a day.
      const second = Engine.open({ dbPath: dir.db, clock: new ManualClock(clock.now() + 86_400_000) });
      try {
        const later = second.startWorker();
        await later.started;
        await later.settled();
        const done = await second.queries.get(run.runId);
        expect(done).toMatchObject({ status: 'completed', output: 'zzz' });
        const fired = done?.events.find((event) => event.type === 'TimerFired');
        expect(fired?.type === 'TimerFired' && fired.data.lateMs).toBe(86_400_000 - 3_600_000);
      } finally {
        await second.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});

describe('cancellation', () => {
  it('cancels a parked run and refuses decisions on it', async () => {
    const engine = testEngine();
    const run = await runWorkflow(
      engine,
      workflow('c', [node('start', 'trigger.manual'), node('ok', 'approval')], [edge('start', 'ok')]),
    );
    const cancelled = await engine.commands.cancel(run.runId, { reason: 'duplicate', by: 'ops' });
    expect(cancelled.status).toBe('cancelled');
    expect(await engine.queries.inbox()).toEqual([]);
    await expect(engine.commands.decide(run.runId, 'approved')).rejects.toThrow(
      /is cancelled; there is nothing to decide/,
    );
    await expect(engine.commands.cancel(run.runId)).rejects.toThrow(/already cancelled/);
  });
});

describe('export and replay', () => {
  it('replays an exported journal, and names the first divergence of a tampered one', async () => {
    const engine = testEngine();
    const graph = workflow(
      'r',
      [
        node('start', 'trigger.manual'),
        node('check', 'branch.if', { condition: 'input > 1' }),
        node('big', 'code', { code: 'return "big";' }),
        node('small', 'code', { code: 'return "small";' }),
        node('end', 'output'),
      ],
      [
        edge('start', 'check'),
        edge('check:true', 'big'),
        edge('check:false', 'small'),
        edge('big', 'end'),
        edge('small', 'end'),
      ],
    );
    const run = await runWorkflow(engine, graph, 5);
    const exported = await engine.queries.export(run.runId);
    expect(replayExport(JSON.parse(JSON.stringify(exported)), defaultRegistry())).toEqual({
      ok: true,
      runId: run.runId,
      events: exported.events.length,
    });

    // Replaying the same journal against a changed graph must diverge where the decision changes.
    const changed = structuredClone(exported);
    const bigNode = changed.version.graph.edges.find((item) => item.id === 'check-true-big');
    if (bigNode) bigNode.target = 'small';
    const smallEdge = changed.version.graph.edges.find((item) => item.id === 'check-false-small');
    if (smallEdge) smallEdge.target = 'big';
    const result = replayExport(changed, defaultRegistry());
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.divergence.message).toMatch(
        /^the journal records NodeScheduled of "big" .*, but the orchestrator decides NodeScheduled of "small"/,
      );
      expect(result.divergence.seq).toBeGreaterThan(1);
    }
    expect(() => replayExport({ hello: 1 }, defaultRegistry())).toThrow(/not a Stepwise run export/);
  });
});
