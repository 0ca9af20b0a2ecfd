// `npm run bench` (engine table): throughput and sequential latency of this checkout's engine and
// of a base build's (BENCH_BASE, default HEAD~1) side by side, on a linear workflow of 10 trivial
// code nodes at synchronous=FULL and NORMAL. Every measurement is a fresh process
// (engine-workload.ts), and base and this alternate, so the machine's noise hits both alike.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { baseBuild, thisBuild, type Build } from './builds.js';
import { ACTIVATIONS_PER_RUN, CODE_NODES, type WorkloadRequest, type WorkloadResult } from './engine-workload.js';
import { median, printTable, signedChange } from './table.js';

function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return value;
}

const RUNS = envCount('BENCH_RUNS', 1000);
const IN_FLIGHT = 50;
const SEQUENTIAL = envCount('BENCH_SEQUENTIAL', 300);
const ROUNDS = envCount('BENCH_ROUNDS', 7);
const MODES = (process.env.BENCH_MODES ?? 'FULL,NORMAL')
  .split(',')
  .map((mode) => mode.trim())
  .filter((mode) => mode !== '');
const BASE_REF = process.env.BENCH_BASE || 'HEAD~1';
/** A hung child (an engine that never completes a run) must not hang `npm run bench`. */
const CHILD_TIMEOUT_MS = 10 * 60_000;
const WORKLOAD = fileURLToPath(new URL('./engine-workload.js', import.meta.url));

function measureIn(build: Build, mode: string): Promise<WorkloadResult> {
  const request: WorkloadRequest = {
    buildDir: build.dir,
    mode,
    runs: RUNS,
    inFlight: IN_FLIGHT,
    sequential: SEQUENTIAL,
  };
  return new Promise((resolve, reject) => {
    const child = fork(WORKLOAD, [JSON.stringify(request)], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      timeout: CHILD_TIMEOUT_MS,
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let result: WorkloadResult | undefined;
    child.on('message', (message) => (result = message as WorkloadResult));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result) resolve(result);
      else reject(new Error(`${build.label} at ${mode} exited with ${signal ?? code}: ${errorLine(output)}`));
    });
  });
}

/** Node prints an uncaught error as source excerpt, then "XError: message", then the stack. */
function errorLine(output: string): string {
  const lines = output.split('\n').map((line) => line.trim());
  return (
    lines.find((line) => /^[A-Za-z]*Error\b/.test(line)) ?? lines.filter((line) => line !== '').at(-1) ?? 'no output'
  );
}

// Other processes' load is the main source of noise on a shared machine: the header reports it.
const loadAtStart = loadavg()[0] ?? Number.NaN;
const current = thisBuild();
const base = baseBuild(BASE_REF);
console.log(base.note);
let builds = base.build ? [base.build, current] : [current];

const results = new Map<string, WorkloadResult[]>();
const key = (mode: string, build: Build): string => `${mode} ${build.role}`;
process.stderr.write(`measuring ${ROUNDS} rounds × ${MODES.length} modes × ${builds.length} builds `);
for (let round = 0; round < ROUNDS; round += 1) {
  for (const mode of MODES) {
    // Base then this, every round and mode: A B A B …, so drift in the machine's load is shared.
    for (const build of builds) {
      try {
        const result = await measureIn(build, mode);
        results.set(key(mode, build), [...(results.get(key(mode, build)) ?? []), result]);
        process.stderr.write('.');
      } catch (error) {
        if (build.role === 'this') throw error;
        // An old engine that no longer runs the workload still leaves this build's numbers.
        const message = error instanceof Error ? error.message : String(error);
        console.log(`\nbase: cannot compare — ${message}`);
        builds = [current];
      }
    }
  }
}
process.stderr.write('\n');
// Every round's numbers, for a closer look at the noise than the table's medians and range give.
if (process.env.BENCH_JSON)
  writeFileSync(
    process.env.BENCH_JSON,
    `${JSON.stringify({ builds, rounds: Object.fromEntries(results), request: { RUNS, SEQUENTIAL, IN_FLIGHT } }, null, 2)}\n`,
  );

const compared = builds.length === 2 ? base.build : undefined;
const ms = (value: number): string => `${value.toFixed(2)} ms`;
const metrics: readonly { read: (result: WorkloadResult) => number; format: (value: number) => string }[] = [
  { read: (result) => result.nodeCompletionsPerSecond, format: (value) => value.toFixed(0) },
  { read: (result) => result.runsPerSecond, format: (value) => value.toFixed(0) },
  { read: (result) => result.cpuPerNode, format: (value) => `${value.toFixed(0)} µs` },
  { read: (result) => result.runP50, format: ms },
  { read: (result) => result.runP99, format: ms },
  { read: (result) => result.commitsPerNode, format: (value) => value.toFixed(2) },
];
/** The widest spread of completions/s between one build's rounds, relative to its median. */
let noise = 0;
const table: string[][] = [
  [
    'synchronous',
    'build',
    'node completions/s',
    'runs/s',
    'CPU/node',
    'run p50',
    'run p99',
    'commits/node',
    'completions/s range',
  ],
];
for (const mode of MODES) {
  const medians = new Map<Build, number[]>();
  for (const build of builds) {
    const rounds = results.get(key(mode, build)) ?? [];
    const values = metrics.map((metric) => median(rounds.map(metric.read)));
    medians.set(build, values);
    // The spread over rounds: how large a change this machine's noise alone produces.
    const throughputs = rounds.map((result) => result.nodeCompletionsPerSecond);
    const range = `${Math.min(...throughputs).toFixed(0)}–${Math.max(...throughputs).toFixed(0)}`;
    noise = Math.max(noise, (Math.max(...throughputs) - Math.min(...throughputs)) / median(throughputs));
    table.push([mode, build.label, ...metrics.map((metric, index) => metric.format(values[index] ?? NaN)), range]);
  }
  if (compared) {
    const before = medians.get(compared) ?? [];
    const after = medians.get(current) ?? [];
    table.push([mode, 'change', ...after.map((value, index) => signedChange(value, before[index] ?? Number.NaN)), '']);
  }
}

console.log(
  `\nStepwise engine benchmark — ${CODE_NODES} code nodes + trigger + output = ${ACTIVATIONS_PER_RUN} activations per run.\n` +
    (compared
      ? `Compared: base = ${compared.ref} (${compared.sha}), this = ${current.ref} (${current.sha}).\n`
      : `This build only: ${current.ref} (${current.sha}).\n`) +
    `Each of ${ROUNDS} rounds measures every mode ${compared ? 'once per build, base then this' : 'once'}, each time in a fresh process: ` +
    `${RUNS} runs with ${IN_FLIGHT} in flight, then ${SEQUENTIAL} sequential runs. Medians over the rounds.\n` +
    `Load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at the end, on ${availableParallelism()} cores.\n`,
);
printTable(table);
if (compared)
  console.log(
    '\nchange = this / base − 1. Completions/s, runs/s: + is faster. CPU/node, run p50/p99: + is slower. ' +
      'Commits/node: + is more fsyncs.\nCPU/node (process CPU per node in the throughput phase) depends far less on ' +
      "other processes' load than completions/s: when the completions/s range is wide, judge the engine's cost by it.",
  );

// A threshold of 5 % means nothing when rounds of one build differ by several times that.
if (compared && noise > 0.1)
  console.log(
    `\nNoisy: completions/s of one build differed by up to ${(noise * 100).toFixed(0)} % of its median between rounds, ` +
      'so the change row cannot resolve a few per cent. Judge by CPU/node, raise BENCH_ROUNDS, or run on a quieter machine.',
  );
console.log(
  '\nTargets (2 cores): ≥ 10,000 node completions/s at FULL with 50 in flight; a sequential 10-node run < 2 ms at NORMAL; ≤ 1 commit (fsync) per node at FULL.',
);
