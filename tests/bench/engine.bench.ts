// `npm run bench`: engine throughput and latency on a 10-node linear workflow of trivial code
// nodes, at synchronous=FULL and NORMAL. Prints a table; targets are in docs/benchmarks.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workflow } from '../../engine/model/workflow.js';
import { Engine } from '../../engine/runtime/engine.js';
import type { Synchronous } from '../../engine/store/index.js';
import { percentile, printTable } from './table.js';

const CODE_NODES = 10;
const ACTIVATIONS_PER_RUN = CODE_NODES + 2; // + trigger + output
const THROUGHPUT_RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const IN_FLIGHT = 50;
const SEQUENTIAL_RUNS = Number(process.env.BENCH_SEQUENTIAL ?? 300);
const THROUGHPUT_REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

function linearWorkflow(): Workflow {
  const ids = ['start', ...Array.from({ length: CODE_NODES }, (_, index) => `step${index + 1}`), 'end'];
  return {
    format: 'stepwise/workflow@1',
    id: 'bench-linear',
    name: 'Benchmark: linear',
    nodes: ids.map((id, index) => ({
      id,
      type: index === 0 ? 'trigger.manual' : index === ids.length - 1 ? 'output' : 'code',
      typeVersion: 1,
      position: { x: index * 200, y: 0 },
      config: index === 0 || index === ids.length - 1 ? {} : { code: 'return { n: input.n + 1 };' },
    })),
    edges: ids.slice(1).map((id, index) => ({
      id: `e${index}`,
      source: ids[index] as string,
      sourceHandle: 'out',
      target: id,
      targetHandle: 'in',
    })),
  };
}

interface Row {
  mode: Synchronous;
  throughput: number;
  runsPerSecond: number;
  perNodeP50: number;
  perNodeP99: number;
  runP50: number;
  runP99: number;
  commitsPerNode: number;
}

async function measure(mode: Synchronous): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-'));
  const engine = Engine.open({ dbPath: join(dir, 'bench.db'), synchronous: mode, concurrency: IN_FLIGHT });
  try {
    const { workflowId } = await engine.saveWorkflow(linearWorkflow());
    const worker = engine.startWorker();

    // Warm-up: QuickJS load, statement preparation, JIT.
    await runSequential(engine, worker, workflowId, 20);

    // Throughput: 1,000 runs, 50 in flight (a new run starts when one finishes); the median of
    // THROUGHPUT_REPEATS repetitions, as one repetition lasts about a second on a noisy machine.
    const repetitions: number[] = [];
    for (let repeat = 0; repeat < THROUGHPUT_REPEATS; repeat += 1) {
      const throughputStart = performance.now();
      await new Promise<void>((resolve, reject) => {
        let started = 0;
        let finished = 0;
        const active = new Set<string>();
        const startOne = (): void => {
          started += 1;
          engine.startRun(workflowId, { input: { n: 0 } }).then((run) => active.add(run.runId), reject);
        };
        const unsubscribe = worker.onCommit((changes) => {
          for (const { runId, status } of changes) {
            if (!active.has(runId) || (status !== 'completed' && status !== 'failed')) continue;
            if (status === 'failed') reject(new Error(`benchmark run ${runId} failed`));
            active.delete(runId);
            finished += 1;
            if (started < THROUGHPUT_RUNS) startOne();
          }
          if (finished === THROUGHPUT_RUNS) {
            unsubscribe();
            resolve();
          }
        });
        for (let index = 0; index < IN_FLIGHT; index += 1) startOne();
      });
      repetitions.push((performance.now() - throughputStart) / 1000);
    }
    repetitions.sort((a, b) => a - b);
    const throughputSeconds = repetitions[Math.floor(repetitions.length / 2)] ?? Number.NaN;

    // Sequential: one run at a time, start to completion.
    const commitsBefore = engine.stats().commits;
    const latencies = await runSequential(engine, worker, workflowId, SEQUENTIAL_RUNS);
    const commits = engine.stats().commits - commitsBefore;
    latencies.sort((a, b) => a - b);
    const perNode = latencies.map((ms) => ms / ACTIVATIONS_PER_RUN);
    return {
      mode,
      throughput: (THROUGHPUT_RUNS * ACTIVATIONS_PER_RUN) / throughputSeconds,
      runsPerSecond: THROUGHPUT_RUNS / throughputSeconds,
      perNodeP50: percentile(perNode, 0.5) * 1000,
      perNodeP99: percentile(perNode, 0.99) * 1000,
      runP50: percentile(latencies, 0.5),
      runP99: percentile(latencies, 0.99),
      commitsPerNode: commits / (SEQUENTIAL_RUNS * ACTIVATIONS_PER_RUN),
    };
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runSequential(
  engine: Engine,
  worker: ReturnType<Engine['startWorker']>,
  workflowId: string,
  count: number,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const started = performance.now();
    let runId = '';
    const done = new Promise<void>((resolve, reject) => {
      const unsubscribe = worker.onCommit((changes) => {
        const change = changes.find((item) => item.runId === runId);
        if (change?.status === 'completed') {
          unsubscribe();
          resolve();
        } else if (change?.status === 'failed') reject(new Error(`run ${runId} failed`));
      });
    });
    runId = (await engine.startRun(workflowId, { input: { n: 0 } })).runId;
    await done;
    latencies.push(performance.now() - started);
  }
  return latencies;
}

const rows: Row[] = [];
const modes = (process.env.BENCH_MODES ?? 'FULL,NORMAL').split(',') as Synchronous[];
for (const mode of modes) rows.push(await measure(mode));

const table = [
  ['synchronous', 'node completions/s', 'runs/s', 'per-node p50', 'per-node p99', 'run p50', 'run p99', 'commits/node'],
  ...rows.map((row) => [
    row.mode,
    row.throughput.toFixed(0),
    row.runsPerSecond.toFixed(0),
    `${row.perNodeP50.toFixed(0)} µs`,
    `${row.perNodeP99.toFixed(0)} µs`,
    `${row.runP50.toFixed(2)} ms`,
    `${row.runP99.toFixed(2)} ms`,
    row.commitsPerNode.toFixed(2),
  ]),
];
console.log(
  `\nStepwise engine benchmark — ${CODE_NODES} code nodes + trigger + output = ${ACTIVATIONS_PER_RUN} activations per run; ` +
    `${THROUGHPUT_RUNS} runs with ${IN_FLIGHT} in flight (median of ${THROUGHPUT_REPEATS}); ${SEQUENTIAL_RUNS} sequential runs.\n`,
);
printTable(table);
console.log(
  '\nTargets (2 cores): ≥ 10,000 node completions/s at FULL with 50 in flight; a sequential 10-node run < 2 ms at NORMAL; ≤ 1 commit (fsync) per node at FULL.',
);
