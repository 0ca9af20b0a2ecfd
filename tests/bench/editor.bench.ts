// `npm run bench` (second table): the editor with a 1,000-node workflow, in served mode in Debian's
// Chromium — time to first render (navigation start → all nodes rendered and measured) and frame
// times while panning. Targets: first render < 1.5 s; panning at 60 fps (p95 frame ≤ 16.7 ms).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient, formatWorkflowFile, WebSocketConnection, type Workflow } from '../../engine/api/index.js';
import WebSocket from 'ws';
import { launchChromium, startServe } from '../support/browser.js';
import { percentile, printTable } from './table.js';

/** The page globals used here (this file is compiled without DOM types). */
interface Page {
  document: { querySelectorAll(selector: string): ArrayLike<{ style: { visibility: string } }> };
  performance: { now(): number; getEntriesByName(name: string): { startTime: number }[] };
  requestAnimationFrame(callback: (now: number) => void): void;
  benchFrames?: number[];
}

const NODES = Number(process.env.BENCH_EDITOR_NODES ?? 1000);
const COLUMNS = 40;
/** The canvas renders only the nodes on screen; first render = these are drawn and measured. */
const MIN_ON_SCREEN = 20;
const REPEATS = Number(process.env.BENCH_EDITOR_REPEATS ?? 3);

/** A trigger feeding rows of chained code nodes: `NODES` nodes in all, every one reachable. */
function bigWorkflow(): Workflow {
  const nodes: Workflow['nodes'] = [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: { x: -300, y: 0 }, config: {} },
  ];
  const edges: Workflow['edges'] = [];
  for (let index = 0; index < NODES - 1; index += 1) {
    const row = Math.floor(index / COLUMNS);
    const column = index % COLUMNS;
    const id = `n${index}`;
    nodes.push({
      id,
      type: 'code',
      typeVersion: 1,
      name: `Step ${index}`,
      position: { x: column * 280, y: row * 120 },
      config: { code: `return input + ${index};` },
    });
    const source = column === 0 ? 'start' : `n${index - 1}`;
    edges.push({ id: `e${index}`, source, sourceHandle: 'out', target: id, targetHandle: 'in' });
  }
  return { format: 'stepwise/workflow@1', id: 'bench-1000', name: `Benchmark: ${NODES} nodes`, nodes, edges };
}

const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-editor-'));
const served = await startServe(join(dir, 'bench.db'));
const browser = await launchChromium();
const rows: { firstRender: number; loaded: number; p50: number; p95: number; frames: number }[] = [];
try {
  const client = new EngineClient(
    new WebSocketConnection(`ws://127.0.0.1:${served.port}/api/ws?token=${served.token}`, (url) => new WebSocket(url)),
  );
  const imported = await client.api.importWorkflow({ text: formatWorkflowFile(bigWorkflow()) });
  client.stop();

  for (let repeat = 0; repeat < REPEATS; repeat += 1) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${served.url}#/workflows/${imported.workflow.id}`);
    await page.waitForFunction(
      (count) => {
        const nodes = Array.from((globalThis as unknown as Page).document.querySelectorAll('.react-flow__node'));
        return nodes.length >= count && nodes.every((node) => node.style.visibility !== 'hidden');
      },
      MIN_ON_SCREEN,
      { timeout: 60_000, polling: 'raf' },
    );
    const firstRender = await page.evaluate(() => (globalThis as unknown as Page).performance.now());
    const loaded = await page.evaluate(
      () =>
        (globalThis as unknown as Page).performance.getEntriesByName('stepwise:workflow-loaded')[0]?.startTime ?? NaN,
    );

    // Pan with the wheel (the canvas pans on scroll) while recording every frame's duration.
    await page.evaluate(() => {
      const window = globalThis as unknown as Page;
      const frames: number[] = (window.benchFrames = []);
      let last = window.performance.now();
      const tick = (now: number) => {
        frames.push(now - last);
        last = now;
        if (frames.length < 100_000) window.requestAnimationFrame(tick);
      };
      window.requestAnimationFrame(tick);
    });
    const box = await page.locator('.react-flow__pane').boundingBox();
    if (!box) throw new Error('no canvas');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let step = 0; step < 120; step += 1) await page.mouse.wheel(step < 60 ? 25 : -25, step % 2 === 0 ? 10 : -10);
    const frames = (await page.evaluate(() => (globalThis as unknown as Page).benchFrames ?? [])).slice(1);
    const sorted = [...frames].sort((a, b) => a - b);
    rows.push({
      firstRender,
      loaded,
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      frames: frames.length,
    });
    await context.close();
  }
} finally {
  await browser.close();
  await served.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nStepwise editor benchmark — a ${NODES}-node workflow in served mode, Chromium (headless, no GPU), ${REPEATS} page loads.\n`,
);
printTable([
  ['load', 'first render', 'of which: data loaded at', 'pan frame p50', 'pan frame p95', 'frames'],
  ...rows.map((row, index) => [
    String(index + 1),
    `${row.firstRender.toFixed(0)} ms`,
    `${row.loaded.toFixed(0)} ms`,
    `${row.p50.toFixed(1)} ms`,
    `${row.p95.toFixed(1)} ms`,
    String(row.frames),
  ]),
]);
console.log('\nTargets: first render < 1.5 s; panning at 60 fps (p95 frame ≤ 16.7 ms).');
