// `npm run bench -- runs-list`: the runs list over 100,000 runs, in served mode in Debian's
// Chromium — time to the first rendered row, then frame times while the list scrolls through
// 20,000 rows (pages read with listRuns' cursor as they come into view), and how many rows the
// DOM holds meanwhile. Targets: first row < 1 s; scrolling at 60 fps (p95 frame ≤ 16.7 ms).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../engine/runtime/engine.js';
import { launchChromium, startServe } from '../support/browser.js';
import { percentile, printTable } from './table.js';

/** The page globals used here (this file is compiled without DOM types). */
interface PageScroller {
  scrollTop: number;
  scrollHeight: number;
}
interface PageWindow {
  document: {
    querySelector(selector: string): PageScroller | null;
    querySelectorAll(selector: string): ArrayLike<unknown>;
  };
  performance: { now(): number };
  requestAnimationFrame(callback: (now: number) => void): void;
}

const RUNS = Number(process.env.BENCH_RUNS_LIST_RUNS ?? 100_000);
const SCROLL_ROWS = Number(process.env.BENCH_RUNS_LIST_SCROLL ?? 20_000);
/** Rows passed per frame: 20,000 rows in about 14 s at 60 fps, faster than anyone reads. */
const ROWS_PER_FRAME = 24;
const REPEATS = Number(process.env.BENCH_RUNS_LIST_REPEATS ?? 3);
const ROW_HEIGHT = 36;
const ROWS_SELECTOR = '[data-testid="run-row"], [data-testid="run-row-placeholder"]';

/** A real engine on a real SQLite file: trigger → output runs, 200 starts in flight. */
async function createRuns(dbPath: string): Promise<number> {
  const started = performance.now();
  const engine = Engine.open({ dbPath, synchronous: 'NORMAL' });
  try {
    const saved = await engine.saveWorkflow({
      format: 'stepwise/workflow@1',
      id: 'bench-runs',
      name: 'Benchmark: many runs',
      nodes: [
        { id: 'start', type: 'trigger.manual', typeVersion: 1, position: { x: 0, y: 0 }, config: {} },
        { id: 'end', type: 'output', typeVersion: 1, position: { x: 300, y: 0 }, config: {} },
      ],
      edges: [{ id: 'e', source: 'start', sourceHandle: 'out', target: 'end', targetHandle: 'in' }],
    });
    engine.startWorker();
    let next = 0;
    const lane = async () => {
      while (next < RUNS) {
        next += 1;
        await engine.startRun(saved.workflowId, { input: { n: next } });
      }
    };
    await Promise.all(Array.from({ length: 200 }, lane));
    for (;;) {
      const counts = await engine.queries.counts({});
      if (counts.running === 0 && counts.waiting === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await engine.close();
  }
  return performance.now() - started;
}

const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-runs-'));
const dbPath = join(dir, 'bench.db');
const createMs = await createRuns(dbPath);
const served = await startServe(dbPath);
const browser = await launchChromium();
const rows: {
  firstRow: number;
  p50: number;
  p95: number;
  max: number;
  frames: number;
  domRows: number;
  blankFrames: number;
}[] = [];
try {
  for (let repeat = 0; repeat < REPEATS; repeat += 1) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${served.url}#/runs`);
    await page.waitForFunction(
      () => (globalThis as unknown as PageWindow).document.querySelectorAll('[data-testid="run-row"]').length > 0,
      undefined,
      { timeout: 60_000, polling: 'raf' },
    );
    // performance.now() counts from the navigation's start.
    const firstRow = await page.evaluate(() => (globalThis as unknown as PageWindow).performance.now());

    // Scroll by a fixed number of rows each frame, recording every frame's duration and the rows
    // in the DOM; a frame showing rows not loaded yet ("Loading…") is counted too.
    const scroll = await page.evaluate(
      ({ rowsPerFrame, until, rowHeight, selector }) =>
        new Promise<{ frames: number[]; domRows: number; blankFrames: number }>((resolve) => {
          const window = globalThis as unknown as PageWindow;
          const viewport = window.document.querySelector('[data-testid="runs-viewport"]');
          if (!viewport) throw new Error('no runs list');
          const frames: number[] = [];
          let domRows = 0;
          let blankFrames = 0;
          let last = window.performance.now();
          const tick = (now: number) => {
            frames.push(now - last);
            last = now;
            domRows = Math.max(domRows, window.document.querySelectorAll(selector).length);
            if (window.document.querySelectorAll('[data-testid="run-row-placeholder"]').length > 0) blankFrames += 1;
            if (viewport.scrollTop >= until * rowHeight) return resolve({ frames, domRows, blankFrames });
            viewport.scrollTop += rowsPerFrame * rowHeight;
            window.requestAnimationFrame(tick);
          };
          window.requestAnimationFrame(tick);
        }),
      { rowsPerFrame: ROWS_PER_FRAME, until: SCROLL_ROWS, rowHeight: ROW_HEIGHT, selector: ROWS_SELECTOR },
    );
    const frames = scroll.frames.slice(1);
    const sorted = [...frames].sort((a, b) => a - b);
    rows.push({
      firstRow,
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      max: sorted.at(-1) ?? Number.NaN,
      frames: frames.length,
      domRows: scroll.domRows,
      blankFrames: scroll.blankFrames,
    });
    await context.close();
  }
} finally {
  await browser.close();
  await served.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nStepwise runs list benchmark — ${RUNS.toLocaleString('en')} runs (made in ${(createMs / 1000).toFixed(1)} s by a real engine), served mode, Chromium (headless, no GPU), ${REPEATS} page loads, each scrolling through ${SCROLL_ROWS.toLocaleString('en')} rows at ${ROWS_PER_FRAME} rows a frame.\n`,
);
printTable([
  [
    'load',
    'first row',
    'scroll frame p50',
    'scroll frame p95',
    'slowest frame',
    'frames',
    'rows in the DOM (max)',
    'frames with rows loading',
  ],
  ...rows.map((row, index) => [
    String(index + 1),
    `${row.firstRow.toFixed(0)} ms`,
    `${row.p50.toFixed(1)} ms`,
    `${row.p95.toFixed(1)} ms`,
    `${row.max.toFixed(1)} ms`,
    String(row.frames),
    String(row.domRows),
    String(row.blankFrames),
  ]),
]);
console.log('\nTargets: first row < 1 s; scrolling at 60 fps (p95 frame ≤ 16.7 ms); rows in the DOM bounded.');
