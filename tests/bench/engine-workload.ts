// One engine measurement in a fresh process. engine.bench.ts forks this once per build, mode and
// round, so JIT and heap state never carry over between builds. It loads the build's Engine by
// path and uses only the facade every build since e6e7772 has (`BenchEngine` below), nothing else
// from engine/, so that one driver runs the identical workload against the old and the new engine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENGINE_MODULE } from './builds.js';
import { percentile } from './table.js';

/** W10, issue 11's workload: 10 sequential steps (`code` nodes, n → n+1) per workflow. */
export const CODE_NODES = 10;
/** The steps counted per workflow: the code nodes; the trigger and output are not steps. */
export const STEPS_PER_RUN = CODE_NODES;

export interface WorkloadRequest {
  buildDir: string;
  /** SQLite `synchronous`: FULL or NORMAL; `/pool` after it: no direct evaluation (see measure). */
  mode: string;
  /** Throughput: this many runs, `inFlight` at a time. */
  runs: number;
  inFlight: number;
  /** Latency: this many runs one after another. */
  sequential: number;
  /**
   * Profile: stop after the throughput phase and report its window on the profiler's clock (the
   * process runs under `--cpu-prof`; profile.bench.ts keeps only that window's samples).
   */
  profile?: boolean;
}

export interface WorkloadResult {
  /** Throughput phase: steps (code nodes) completed durably per second. */
  stepsPerSecond: number;
  runsPerSecond: number;
  /** Process CPU (all threads, user + system) per step in the throughput phase, in µs. */
  cpuPerStep: number;
  /** Sequential phase: mean, p50 and p99 of a run's latency, from `startRun` to its terminal commit. */
  runMean: number;
  runP50: number;
  runP99: number;
  /** Sequential phase: store commits (each one fsync at FULL) per run. */
  commitsPerRun: number;
  /** The throughput phase on `process.hrtime`'s clock, in µs (the CPU profile's clock). */
  window: { from: number; to: number };
}

/** Awaited everywhere: the reworked engine makes some of these async. */
interface BenchEngine {
  saveWorkflow(graph: unknown): { workflowId: string } | Promise<{ workflowId: string }>;
  startWorker(): BenchWorker;
  startRun(workflowId: string, options: { input: unknown }): Promise<{ runId: string }>;
  stats(): { commits: number } | Promise<{ commits: number }>;
  close(): Promise<void>;
}

interface BenchWorker {
  onCommit(listener: (changes: readonly { runId: string; status: string }[]) => void): () => unknown;
}

interface BenchEngineClass {
  open(options: {
    dbPath: string;
    synchronous: string;
    concurrency: number;
    directEvaluation?: boolean;
  }): BenchEngine | Promise<BenchEngine>;
}

/** Before the measured phases: QuickJS load, statement preparation, JIT of both paths. */
const WARMUP_SEQUENTIAL = 20;
const WARMUP_CONCURRENT = 100;

/** Plain data in the file format, so no engine type ties this driver to one build. */
function linearWorkflow(): unknown {
  const ids = ['start', ...Array.from({ length: CODE_NODES }, (_, index) => `step${index + 1}`), 'end'];
  const last = ids.length - 1;
  return {
    format: 'stepwise/workflow@1',
    id: 'bench-linear',
    name: 'Benchmark: linear',
    nodes: ids.map((id, index) => ({
      id,
      type: index === 0 ? 'trigger.manual' : index === last ? 'output' : 'code',
      typeVersion: 1,
      position: { x: index * 200, y: 0 },
      config: index === 0 || index === last ? {} : { code: 'return { n: input.n + 1 };' },
    })),
    edges: ids.slice(1).map((id, index) => ({
      id: `e${index}`,
      source: ids[index],
      sourceHandle: 'out',
      target: id,
      targetHandle: 'in',
    })),
  };
}

async function loadEngine(buildDir: string): Promise<BenchEngineClass> {
  const path = join(buildDir, ENGINE_MODULE);
  const loaded: unknown = await import(pathToFileURL(path).href);
  const engine = (loaded as { Engine?: { open?: unknown } }).Engine;
  if (typeof engine?.open !== 'function') throw new Error(`${path} exports no Engine.open`);
  return engine as BenchEngineClass;
}

/**
 * Runs `count` runs, `inFlight` at a time (a new one starts when one finishes), and returns each
 * run's latency from `startRun` to its terminal commit.
 */
function runMany(
  engine: BenchEngine,
  worker: BenchWorker,
  workflowId: string,
  count: number,
  inFlight: number,
): Promise<number[]> {
  if (count === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const startedAt = new Map<string, number>();
    // A run may finish in a commit whose listeners fire before its `startRun` promise settles
    // (the start joins the worker's group commit): remember such endings until the id is known.
    const endedEarly = new Map<string, string>();
    let started = 0;
    const finish = (runId: string, status: string, at: number): void => {
      const start = startedAt.get(runId);
      if (start === undefined) return;
      startedAt.delete(runId);
      if (status !== 'completed') {
        unsubscribe();
        reject(new Error(`benchmark run ${runId} ended ${status}`));
        return;
      }
      latencies.push(at - start);
      if (latencies.length === count) {
        unsubscribe();
        resolve(latencies);
      } else if (started < count) startOne();
    };
    const startOne = (): void => {
      started += 1;
      const start = performance.now();
      engine.startRun(workflowId, { input: { n: 0 } }).then(({ runId }) => {
        startedAt.set(runId, start);
        const status = endedEarly.get(runId);
        if (status !== undefined) {
          endedEarly.delete(runId);
          finish(runId, status, performance.now());
        }
      }, reject);
    };
    const unsubscribe = worker.onCommit((changes) => {
      const at = performance.now();
      for (const { runId, status } of changes) {
        if (status !== 'completed' && status !== 'failed' && status !== 'cancelled') continue;
        if (startedAt.has(runId)) finish(runId, status, at);
        else endedEarly.set(runId, status);
      }
    });
    for (let index = 0; index < Math.min(inFlight, count); index += 1) startOne();
  });
}

/** `process.hrtime` in µs: CLOCK_MONOTONIC, the clock V8's CPU profiler stamps its samples with. */
function microseconds(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

async function measure(request: WorkloadRequest): Promise<WorkloadResult> {
  const Engine = await loadEngine(request.buildDir);
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-'));
  // `FULL/pool`: FULL with every code node run on a sandbox thread, none answered directly (a
  // build from before direct evaluation ignores the option: its `/pool` row is its plain one).
  const [synchronous = '', variant] = request.mode.split('/');
  const engine = await Engine.open({
    dbPath: join(dir, 'bench.db'),
    synchronous,
    concurrency: request.inFlight,
    ...(variant === 'pool' && { directEvaluation: false }),
  });
  try {
    const { workflowId } = await engine.saveWorkflow(linearWorkflow());
    const worker = engine.startWorker();
    await runMany(engine, worker, workflowId, WARMUP_SEQUENTIAL, 1);
    await runMany(engine, worker, workflowId, WARMUP_CONCURRENT, request.inFlight);

    const from = microseconds();
    const throughputStart = performance.now();
    const cpuStart = process.cpuUsage();
    await runMany(engine, worker, workflowId, request.runs, request.inFlight);
    const cpu = process.cpuUsage(cpuStart);
    const seconds = (performance.now() - throughputStart) / 1000;
    const window = { from, to: microseconds() };
    const steps = request.runs * STEPS_PER_RUN;

    const sequential = request.profile ? 0 : request.sequential;
    const commitsBefore = (await engine.stats()).commits;
    const latencies = await runMany(engine, worker, workflowId, sequential, 1);
    const commits = (await engine.stats()).commits - commitsBefore;
    latencies.sort((a, b) => a - b);
    return {
      stepsPerSecond: steps / seconds,
      runsPerSecond: request.runs / seconds,
      cpuPerStep: (cpu.user + cpu.system) / steps,
      runMean: latencies.reduce((sum, latency) => sum + latency, 0) / latencies.length,
      runP50: percentile(latencies, 0.5),
      runP99: percentile(latencies, 0.99),
      commitsPerRun: commits / sequential,
      window,
    };
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Measures only when forked as a script (engine.bench.ts imports the constants above): the request
// comes as JSON in argv, the result goes back over IPC.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await measure(JSON.parse(process.argv[2] ?? '') as WorkloadRequest);
  // Exit once the parent has the result, even if some handle (a timer, the sandbox) lingers.
  process.send(result, () => process.exit(0));
}
