// `npm run bench -- profile` (or BENCH_PROFILE=1 with the engine bench): the W10 throughput phase
// (1,000 workflows, 50 in flight, synchronous=FULL) once, in a fresh process under node's own CPU
// profiler (`--cpu-prof`, one profile per thread), and where its time went: the self time of the
// samples taken during that phase, in issue 11's buckets (profile-buckets.ts), per thread kind.
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { thisBuild } from './builds.js';
import type { WorkloadRequest, WorkloadResult } from './engine-workload.js';
import { BUCKETS, bucketProfile, type Bucket, type CpuProfile } from './profile-buckets.js';
import { printTable } from './table.js';

const WORKLOAD = fileURLToPath(new URL('./engine-workload.js', import.meta.url));
const MODE = process.env.BENCH_PROFILE_MODE ?? 'FULL';
const KEEP = process.env.BENCH_PROFILE_DIR;

function profiled(request: WorkloadRequest, dir: string): Promise<WorkloadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKLOAD, [JSON.stringify(request)], {
      execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      timeout: 10 * 60_000,
    });
    let result: WorkloadResult | undefined;
    child.on('message', (message) => (result = message as WorkloadResult));
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      result ? resolve(result) : reject(new Error(`the profiled workload exited with ${signal ?? code}`)),
    );
  });
}

const loadAtStart = loadavg()[0] ?? Number.NaN;
const build = thisBuild();
const dir = KEEP ?? mkdtempSync(join(tmpdir(), 'stepwise-profile-'));
try {
  const result = await profiled(
    { buildDir: build.dir, mode: MODE, runs: 1000, inFlight: 50, sequential: 0, profile: true },
    dir,
  );
  // Node names each file CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile; thread 0 is the main one.
  const threads = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => {
      const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
      const totals = bucketProfile(profile, result.window);
      const main = name.split('.').at(-3) === '0';
      // The sandbox threads run QuickJS; any other worker (the heartbeat thread) is counted apart.
      const kind = main ? 'engine' : (totals.get('QuickJS') ?? 0) > 0 ? 'sandbox' : 'other';
      return { kind, totals };
    });
  const sum = (kind: string, bucket: Bucket): number =>
    threads
      .filter((thread) => thread.kind === kind)
      .reduce((total, thread) => total + (thread.totals.get(bucket) ?? 0), 0);
  const whole = (kind: string): number => BUCKETS.reduce((total, bucket) => total + sum(kind, bucket), 0);
  const engineAll = whole('engine');
  const engineBusy = engineAll - sum('engine', 'idle');
  const sandboxes = threads.filter((thread) => thread.kind === 'sandbox').length;
  const table: string[][] = [['bucket', 'engine thread', '% of its busy time', `sandbox threads (${sandboxes})`]];
  for (const bucket of BUCKETS) {
    const engine = sum('engine', bucket);
    const sandbox = sum('sandbox', bucket);
    if (engine === 0 && sandbox === 0) continue;
    table.push([
      bucket,
      `${(engine / 1000).toFixed(0)} ms`,
      bucket === 'idle' ? '' : `${((engine / engineBusy) * 100).toFixed(1)} %`,
      `${(sandbox / 1000).toFixed(0)} ms`,
    ]);
  }
  console.log(
    `\nW10 profile — the throughput phase (1,000 workflows, 50 in flight, synchronous=${MODE}) of ${build.label} under --cpu-prof, ` +
      `${((result.window.to - result.window.from) / 1000).toFixed(0)} ms (${result.stepsPerSecond.toFixed(0)} steps/s with the profiler on).\n` +
      `Self time of the samples in that phase, by bucket; the engine thread was busy ${((engineBusy / engineAll) * 100).toFixed(1)} % of it.\n` +
      `Load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at the end, on ${availableParallelism()} cores.\n`,
  );
  printTable(table);
  if (KEEP) console.log(`\nThe profiles are in ${dir} (open them in Chrome DevTools).`);
} finally {
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
}
