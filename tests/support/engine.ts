// Opens engines on temporary database files for integration tests.
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Workflow } from '../../engine/model/workflow.js';
import { Engine, type EngineOptions, type RunDetail } from '../../engine/runtime/engine.js';
import { startHoldingServer, tempDir, type HoldingServer } from './harness.js';

const open: { engine: Engine; cleanup: () => void }[] = [];
const paths = new WeakMap<Engine, string>();

afterEach(async () => {
  for (const { engine, cleanup } of open.splice(0)) {
    await engine.close();
    cleanup();
  }
});

export function testEngine(options: Partial<EngineOptions> = {}): Engine {
  const dir = tempDir();
  const engine = Engine.open({ dbPath: dir.db, synchronous: 'NORMAL', pollMs: 20, ...options });
  open.push({ engine, cleanup: dir.cleanup });
  paths.set(engine, dir.db);
  return engine;
}

/** The database file of an engine from `testEngine`. */
export function dbPathOf(engine: Engine): string {
  const path = paths.get(engine);
  if (path === undefined) throw new Error('not an engine from testEngine()');
  return path;
}

/** Reads the database file directly (a second, read-only connection), e.g. to see the work tables. */
export function readDb<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Saves the workflow, starts a run, executes it until it finishes or parks. */
export async function runWorkflow(engine: Engine, graph: Workflow, input: unknown = null): Promise<RunDetail> {
  const saved = await engine.workflows.save(graph);
  const run = await engine.commands.start(saved.workflowId, { input, version: saved.version });
  engine.startWorker();
  return engine.waitForRun(run.runId, { timeoutMs: 15_000 });
}

/**
 * A run of `pinned`, as an older Stepwise would have saved it (validation of the day bypassed):
 * a valid stand-in is saved, its version's graph replaced in the database, and a run started on it.
 */
export async function runPinnedVersion(engine: Engine, standIn: Workflow, pinned: Workflow): Promise<RunDetail> {
  // Saved by another engine on the file: this one must not have compiled (and cached) the
  // stand-in before its graph is replaced, as saving does (schedule triggers are synced from it).
  const saver = Engine.open({ dbPath: dbPathOf(engine), synchronous: 'NORMAL' });
  const saved = await saver.workflows.save(standIn).finally(() => saver.close());
  const db = new Database(dbPathOf(engine));
  try {
    db.prepare('UPDATE workflow_versions SET graph = ? WHERE workflow_id = ? AND version = ?').run(
      JSON.stringify(pinned),
      saved.workflowId,
      saved.version,
    );
  } finally {
    db.close();
  }
  const run = await engine.commands.start(saved.workflowId, { input: null, version: saved.version });
  engine.startWorker();
  return engine.waitForRun(run.runId, { timeoutMs: 15_000 });
}

/** A holding HTTP server (see `startHoldingServer`) for the tests of this file, started before them. */
export function holdingServer(): { readonly server: HoldingServer } {
  const fixture = {} as { server: HoldingServer };
  beforeAll(async () => {
    fixture.server = await startHoldingServer();
  });
  afterAll(() => fixture.server.close());
  return fixture;
}
