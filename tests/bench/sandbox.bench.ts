// `npm run bench` (sandbox table): code-node throughput of this build's engine with its sandbox
// pool at one thread per core against a single sandbox thread, in one run. The workload is CPU
// bound on purpose (each code node computes for a few milliseconds), so what the table shows is
// how much of the machine user code can use; each round measures both, alternating.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workflow } from '../../engine/model/workflow.js';
import { Engine } from '../../engine/runtime/engine.js';
import { median, printTable } from './table.js';

const RUNS = Number(process.env.BENCH_SANDBOX_RUNS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** About 5 ms of QuickJS arithmetic: heavy enough that the engine's own work is not what is measured. */
const WORK = 'let x = 0; for (let i = 0; i < 100000; i++) x += Math.sqrt(i + input.n); return { n: input.n, x };';

const graph: Workflow = {
  format: 'stepwise/workflow@1',
  id: 'bench-code',
  name: 'Benchmark: code nodes',
  nodes: [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: { x: 0, y: 0 }, config: {} },
    { id: 'work', type: 'code', typeVersion: 1, position: { x: 200, y: 0 }, config: { code: WORK } },
    { id: 'end', type: 'output', typeVersion: 1, position: { x: 400, y: 0 }, config: {} },
  ],
  edges: [
    { id: 'e0', source: 'start', sourceHandle: 'out', target: 'work', targetHandle: 'in' },
    { id: 'e1', source: 'work', sourceHandle: 'out', target: 'end', targetHandle: 'in' },
  ],
};

/** Code nodes completed per second, RUNS runs started at once, with `threads` sandbox threads. */
async function measure(threads: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-sandbox-'));
  const engine = Engine.open({ dbPath: join(dir, 'bench.db'), synchronous: 'NORMAL', sandboxThreads: threads });
  try {
    const saved = await engine.workflows.save(graph);
    // Warm: every thread started, with its WebAssembly instance.
    await Promise.all(
      Array.from({ length: threads * 2 }, (_, n) => engine.commands.start(saved.workflowId, { input: { n } })),
    );
    await engine.runUntilIdle();
    const runs = await Promise.all(
      Array.from({ length: RUNS }, (_, n) => engine.commands.start(saved.workflowId, { input: { n } })),
    );
    const started = performance.now();
    await engine.runUntilIdle();
    const seconds = (performance.now() - started) / 1000;
    for (const run of runs) {
      const detail = await engine.queries.get(run.runId);
      if (detail?.status !== 'completed') throw new Error(`benchmark run ${run.runId} ended ${detail?.status}`);
    }
    return RUNS / seconds;
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const cores = availableParallelism();
const single: number[] = [];
const pooled: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  single.push(await measure(1));
  pooled.push(await measure(cores));
}
const one = median(single);
const all = median(pooled);
console.log(
  `\nSandbox: ${RUNS} runs of one CPU-bound code node, all started at once; median of ${ROUNDS} rounds ` +
    `(${cores} cores, load ${loadavg()[0]?.toFixed(1)})\n`,
);
printTable([
  ['sandbox threads', 'code nodes/s', 'vs one thread'],
  ['1', one.toFixed(0), '1.00×'],
  [`${cores} (one per core, the default)`, all.toFixed(0), `${(all / one).toFixed(2)}×`],
]);
