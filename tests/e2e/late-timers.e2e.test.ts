// The start-up report in the app (issue 9, "Timers"), in Debian's Chromium: a run parks on a
// wait.timer, `stepwise serve` stops, the timer comes due while nothing runs, a new serve starts
// on the same database; the page shows a notice naming the late timer with a link to its run,
// and dismissing it keeps it dismissed across a reload.
import type { Browser } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EngineClient, formatWorkflowFile, WebSocketConnection } from '../../engine/api/index.js';
import { launchChromium, startServe, type ServedProcess } from '../support/browser.js';
import { edge, node, sleep, tempDir, until, workflow } from '../support/harness.js';

const dir = tempDir('stepwise-late-timers-');
let served: ServedProcess | undefined;
let browser: Browser | undefined;
let runId = '';

function clientOf(app: ServedProcess): EngineClient {
  return new EngineClient(
    new WebSocketConnection(`ws://127.0.0.1:${app.port}/api/ws?token=${app.token}`, (url) => new WebSocket(url)),
  );
}

beforeAll(async () => {
  const first = await startServe(dir.db);
  const client = clientOf(first);
  const flow = workflow(
    'nightly',
    [
      node('start', 'trigger.manual'),
      node('wait', 'wait.timer', { duration: '3s', misfireGrace: '500ms' }, { typeVersion: 2 }),
      node('end', 'output'),
    ],
    [edge('start', 'wait'), edge('wait', 'end')],
    'Nightly report',
  );
  await client.api.importWorkflow({ text: formatWorkflowFile(flow) });
  runId = (await client.api.startRun({ workflowId: 'nightly', input: {} })).runId;
  await until(async () => (await client.api.getRun({ runId })).status === 'waiting', 'the run parked');
  const wait = (await client.api.getRun({ runId })).activations.find((activation) => activation.nodeId === 'wait');
  const dueAt = wait?.wait?.kind === 'timer' ? wait.wait.dueAt : Date.now();
  client.stop();
  await first.stop();
  // Due while nothing runs: the next serve fires it about 1.5 s late, past its 500 ms grace.
  await sleep(Math.max(0, dueAt - Date.now()) + 1500);
  served = await startServe(dir.db);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  dir.cleanup();
});

describe('the start-up notice of late timers', () => {
  it('names the timer that came due while serve was stopped, links to its run, and stays dismissed', async () => {
    if (!served || !browser) throw new Error('not started');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(served.url);
      const notice = page.getByTestId('late-timers-notice');
      await expect.poll(() => notice.isVisible()).toBe(true);
      expect(await notice.textContent()).toContain('came due while Stepwise was closed');
      const item = notice.locator(`[data-testid="late-timer"][data-run-id="${runId}"]`);
      expect(await item.count()).toBe(1);
      expect(await item.textContent()).toMatch(/"wait"|“wait”/);
      expect(await item.textContent()).toContain('fired late');

      await item.getByRole('link').click();
      await expect.poll(() => new URL(page.url()).hash).toBe(`#/runs/${runId}`);

      await notice.getByRole('button', { name: 'Dismiss' }).click();
      await expect.poll(() => page.getByTestId('late-timers-notice').count()).toBe(0);
      await page.reload();
      // The app is up again (the inbox badge shows) and the dismissed notice stays away.
      await expect.poll(() => page.getByTestId('inbox-count').count()).toBe(1);
      await page.waitForTimeout(1500);
      expect(await page.getByTestId('late-timers-notice').count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 60_000);
});
