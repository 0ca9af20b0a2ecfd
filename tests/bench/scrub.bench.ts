// `npm run bench` (scrub): the run view on a real 10,000-event run, in served mode in Debian's
// Chromium. The run: a trigger fanning out to HTTP nodes against a local server that answers 500
// to each call until its 100th attempt (retries: started, failed, retry scheduled, timer fired).
// Measured: time to first render (navigation start → every event loaded, the canvas drawn with
// run statuses) and, in the page, each of 500 → presses from keydown to the animation frame after
// the step position shows the new step. Targets: per-step p95 < 16 ms. BENCH_SCRUB_PROFILE=<file>
// adds one page load whose presses run under the CPU profiler (CDP), not counted in the table: the
// profile is written to <file> (open it in Chromium's DevTools) and its top self times printed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { EngineClient, formatWorkflowFile, WebSocketConnection, type Workflow } from '../../engine/api/index.js';
import { launchChromium, startServe } from '../support/browser.js';
import { until } from '../support/harness.js';
import { startScriptedServer, type RecordedRequest } from '../support/http-server.js';
import { percentile, printTable } from './table.js';

/** The page globals used here (this file is compiled without DOM types). */
interface PageGlobals {
  document: {
    querySelector(selector: string): { textContent: string | null } | null;
    body: { dispatchEvent(event: unknown): boolean; getBoundingClientRect(): unknown };
    querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }>;
  };
  KeyboardEvent: new (type: string, init: { key: string; bubbles: boolean }) => unknown;
  MutationObserver: new (callback: () => void) => {
    observe(target: unknown, options: { childList: boolean; subtree: boolean; characterData: boolean }): void;
    disconnect(): void;
  };
  performance: { now(): number };
  requestAnimationFrame(callback: (now: number) => void): void;
}

const NODES = Number(process.env.BENCH_SCRUB_NODES ?? 26);
const ATTEMPTS = 100;
const PRESSES = Number(process.env.BENCH_SCRUB_PRESSES ?? 500);
const REPEATS = Number(process.env.BENCH_SCRUB_REPEATS ?? 3);
const PROFILE = process.env.BENCH_SCRUB_PROFILE;

/** The part of a CDP `Profiler.Profile` read here. */
interface CpuProfile {
  nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
}

/** Self time per function (samples × interval), highest first. */
function topSelfTimes(profile: CpuProfile, count: number): string[][] {
  const samples = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const perSample = samples > 0 ? (profile.endTime - profile.startTime) / 1000 / samples : 0;
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split('/').at(-1) ?? '';
    const name = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + (node.hitCount ?? 0) * perSample);
  }
  const total = (profile.endTime - profile.startTime) / 1000;
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => [name, `${ms.toFixed(0)} ms`, `${((ms / total) * 100).toFixed(1)} %`]);
}

const calls = new Map<string, number>();
function answer(request: RecordedRequest, response: ServerResponse): void {
  const key = String(request.headers['idempotency-key'] ?? request.path);
  const count = (calls.get(key) ?? 0) + 1;
  calls.set(key, count);
  response.writeHead(count < ATTEMPTS ? 500 : 200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ attempt: count }));
}

function retryingWorkflow(url: string): Workflow {
  const nodes: Workflow['nodes'] = [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, name: 'Start', position: { x: 0, y: 0 }, config: {} },
  ];
  const edges: Workflow['edges'] = [];
  for (let index = 0; index < NODES; index += 1) {
    const id = `call${index}`;
    nodes.push({
      id,
      type: 'http.request',
      typeVersion: 1,
      name: `Call ${index}`,
      position: { x: 320 + (index % 2) * 260, y: index * 70 - NODES * 35 },
      config: { method: 'GET', url: `${url}/flaky/${index}` },
      retry: { maxAttempts: ATTEMPTS, initialIntervalMs: 0, maxIntervalMs: 0, backoffCoefficient: 1, jitter: 0 },
    });
    edges.push({ id: `e${index}`, source: 'start', sourceHandle: 'out', target: id, targetHandle: 'in' });
  }
  return { format: 'stepwise/workflow@1', id: 'bench-scrub', name: 'Benchmark: retries', nodes, edges };
}

const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-scrub-'));
const sink = await startScriptedServer(answer);
const served = await startServe(join(dir, 'bench.db'));
const browser = await launchChromium();
const rows: { firstRender: number; p50: number; p95: number; max: number; frameP95: number }[] = [];
let events = 0;
try {
  const client = new EngineClient(
    new WebSocketConnection(`ws://127.0.0.1:${served.port}/api/ws?token=${served.token}`, (url) => new WebSocket(url)),
  );
  const imported = await client.api.importWorkflow({ text: formatWorkflowFile(retryingWorkflow(sink.url)) });
  const run = await client.api.startRun({ workflowId: imported.workflow.id, input: { bench: true } });
  await until(
    async () => (await client.api.getRun({ runId: run.runId })).status === 'completed',
    'the benchmark run to complete',
    300_000,
  );
  events = (await client.api.getRun({ runId: run.runId })).lastSeq;
  client.stop();

  for (let repeat = 0; repeat < REPEATS + (PROFILE ? 1 : 0); repeat += 1) {
    const profiling = repeat === REPEATS;
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${served.url}#/runs/${run.runId}`);
    await page.waitForFunction(
      ({ count, last }) => {
        const window = globalThis as unknown as PageGlobals;
        const nodes = Array.from(window.document.querySelectorAll('[data-run-status]'));
        const position = window.document.querySelector('[data-testid="step-position"]')?.textContent ?? '';
        return nodes.length >= count && position.startsWith(`Step ${last} of ${last}`);
      },
      { count: NODES + 1, last: events },
      { timeout: 60_000, polling: 'raf' },
    );
    const firstRender = await page.evaluate(() => (globalThis as unknown as PageGlobals).performance.now());
    const cdp = profiling ? await page.context().newCDPSession(page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      await cdp.send('Profiler.start');
    }

    const times = await page.evaluate(async (presses) => {
      const window = globalThis as unknown as PageGlobals;
      const frame = () =>
        new Promise<number>((resolve) => window.requestAnimationFrame(() => resolve(window.performance.now())));
      const key = (name: string) =>
        window.document.body.dispatchEvent(new window.KeyboardEvent('keydown', { key: name, bubbles: true }));
      const position = window.document.querySelector('[data-testid="step-position"]');
      const shows = (step: number) => (position?.textContent ?? '').startsWith(`Step ${step} of`);
      key('Home');
      while (!shows(1)) await frame();
      await frame();
      const measured: { dom: number; frame: number }[] = [];
      for (let step = 2; step <= presses + 1; step += 1) {
        // Starts at the top of a frame, as a key press lands between frames.
        const start = window.performance.now();
        const committed = new Promise<void>((resolve) => {
          const observer = new window.MutationObserver(() => {
            if (!shows(step)) return;
            observer.disconnect();
            resolve();
          });
          observer.observe(position, { childList: true, subtree: true, characterData: true });
        });
        key('ArrowRight');
        await committed;
        // The layout of the new step is part of its cost: forced here, before the frame is painted.
        window.document.body.getBoundingClientRect();
        const dom = window.performance.now() - start;
        const painted = await frame();
        measured.push({ dom, frame: painted - start });
      }
      return measured;
    }, PRESSES);
    if (cdp && PROFILE) {
      const { profile } = await cdp.send('Profiler.stop');
      writeFileSync(PROFILE, JSON.stringify(profile));
      console.log(`\nCPU profile of ${PRESSES} steps (${PROFILE}), top self times:\n`);
      printTable([['function', 'self', 'of the profile'], ...topSelfTimes(profile, 20)]);
      await context.close();
      continue;
    }
    const dom = times.map((time) => time.dom).sort((a, b) => a - b);
    const frames = times.map((time) => time.frame).sort((a, b) => a - b);
    rows.push({
      firstRender,
      p50: percentile(dom, 0.5),
      p95: percentile(dom, 0.95),
      max: dom.at(-1) ?? Number.NaN,
      frameP95: percentile(frames, 0.95),
    });
    await context.close();
  }
} finally {
  await browser.close();
  await served.stop();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nStepwise run view benchmark — a ${events}-event run (${NODES} HTTP nodes × ${ATTEMPTS} attempts) in served mode, Chromium (headless, no GPU), ${REPEATS} page loads, ${PRESSES} → presses each.\n`,
);
printTable([
  ['load', 'first render', 'step p50', 'step p95', 'step max', 'next frame p95'],
  ...rows.map((row, index) => [
    String(index + 1),
    `${row.firstRender.toFixed(0)} ms`,
    `${row.p50.toFixed(1)} ms`,
    `${row.p95.toFixed(1)} ms`,
    `${row.max.toFixed(1)} ms`,
    `${row.frameP95.toFixed(1)} ms`,
  ]),
]);
console.log(
  '\nStep: keydown → the step position shows the new step, laid out (React render + commit + layout). Next frame: keydown at the top of a frame → the next animation frame (one frame, ≈16.7 ms, means none was dropped). Target: step p95 < 16 ms.',
);
