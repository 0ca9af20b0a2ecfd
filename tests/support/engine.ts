// Opens engines on temporary database files for integration tests.
import { afterEach } from 'vitest';
import type { Workflow } from '../../engine/model/workflow.js';
import { Engine, type EngineOptions, type RunDetail } from '../../engine/runtime/engine.js';
import { tempDir } from './harness.js';

const open: { engine: Engine; cleanup: () => void }[] = [];

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
  return engine;
}

/** Saves the workflow, starts a run, executes it until it finishes or parks. */
export async function runWorkflow(engine: Engine, graph: Workflow, input: unknown = null): Promise<RunDetail> {
  const saved = engine.saveWorkflow(graph);
  const run = await engine.startRun(saved.workflowId, { input, version: saved.version });
  engine.startWorker();
  return engine.waitForRun(run.runId, { timeoutMs: 15_000 });
}
