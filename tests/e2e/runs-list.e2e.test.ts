// The runs list in Debian's Chromium against `stepwise serve` (a real engine host and database):
// runs started through the EngineApi and the CLI, live updates from another process, filters kept
// in the URL, cancel and redrive on a selection, import of an export, a list of thousands of runs
// windowed, and the editor's links into the list. Each test has its own workflows and browser
// context; tests wait on conditions, never on time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_FORMAT, type EngineApi, type Workflow } from '../../engine/api/index.js';
import type { ServedProcess } from '../support/browser.js';
import { servedAppSuite } from '../support/e2e-suite.js';
import { startScriptedServer, type ScriptedServer } from '../support/http-server.js';
import { runCli } from '../support/harness.js';

const suite = servedAppSuite('stepwise-e2e-runs-');
const { dir, shots: SHOTS, contexts } = suite;
let served: ServedProcess;
let browser: Browser;
let api: EngineApi;
/** Answers 400 (a terminal failure of the HTTP node) until a test fixes it. */
let server: ScriptedServer;
let serverBroken = true;

beforeAll(async () => {
  ({ served, browser, api } = suite.app());
  server = await startScriptedServer((_request, response) => {
    response.writeHead(serverBroken ? 400 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(serverBroken ? { error: 'refund service down' } : { ok: true }));
  });
});

afterAll(async () => {
  await server?.close();
});

// ── Fixtures ──────────────────────────────────────────────────────────────────────────────────

type Step = [id: string, type: string, config?: Record<string, unknown>];

/** A linear workflow: a manual trigger, then the steps, then an output. */
function chain(id: string, name: string, steps: readonly Step[]): Workflow {
  const all: Step[] = [['start', 'trigger.manual'], ...steps, ['end', 'output']];
  return {
    format: WORKFLOW_FORMAT,
    id,
    name,
    nodes: all.map(([nodeId, type, config], index) => ({
      id: nodeId,
      type,
      typeVersion: 1,
      position: { x: index * 300, y: 0 },
      config: config ?? {},
    })),
    edges: all.slice(1).map(([target], index) => ({
      id: `e${index}`,
      source: all[index]?.[0] ?? 'start',
      sourceHandle: 'out',
      target,
      targetHandle: 'in',
    })),
  };
}

const QUICK: Step[] = [['double', 'code', { code: 'return { n: 2 };' }]];
const PARKS: Step[] = [['pause', 'wait.timer', { duration: '1h' }]];
const CALLS = (): Step[] => [['call', 'http.request', { url: `${server.url}/refunds` }]];

let named = 0;
/** A workflow of its own (names never contain one another) with one version saved. */
async function createFlow(base: string, steps: readonly Step[]): Promise<{ id: string; name: string }> {
  named += 1;
  const name = `${base} ${String(named).padStart(2, '0')}`;
  const { id } = await api.createWorkflow({ name });
  await api.saveDraft({ workflowId: id, draft: chain(id, name, steps) });
  const saved = await api.saveVersion({ workflowId: id });
  expect(saved.problems).toEqual([]);
  return { id, name };
}

/** Starts a run and waits until it finished or parked. */
async function settled(workflowId: string, version?: number): Promise<string> {
  const { runId } = await api.startRun({ workflowId, ...(version !== undefined && { version }) });
  await expect.poll(async () => (await api.getRun({ runId })).status, { timeout: 20_000 }).not.toBe('running');
  return runId;
}

// ── The page ──────────────────────────────────────────────────────────────────────────────────

async function openApp(hash: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${served.url}${hash}`);
  await page.getByTestId('runs-list').or(page.getByTestId('editor')).first().waitFor();
  return page;
}

const row = (page: Page, runId: string) => page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
const rows = (page: Page) => page.getByTestId('run-row');
/** The run ids of the rows in the DOM, top to bottom. */
const idsShown = async (page: Page) =>
  Promise.all((await rows(page).all()).map((element) => element.getAttribute('data-run-id')));
const hashOf = (page: Page) => new URL(page.url()).hash;
const toastText = async (page: Page) => (await page.getByTestId('toast').last().textContent()) ?? '';

describe('runs list', () => {
  it('shows runs from the API and the CLI with status, version, failure reason; updates live from another process', async () => {
    const quick = await createFlow('Quick', QUICK);
    const parks = await createFlow('Parks', PARKS);
    const calls = await createFlow('Calls', CALLS());
    const completed = await settled(quick.id);
    const waiting = await settled(parks.id);
    const failed = await settled(calls.id);
    // The CLI, in its own process, pins a workflow file and runs it to the end.
    const file = join(dir.path, 'cli-flow.stepwise.json');
    writeFileSync(file, JSON.stringify(chain('cli-flow', 'From the CLI', QUICK)));
    const cli = await runCli(['run', file, '--json'], { db: dir.db });
    expect(cli.code, cli.stderr).toBe(0);
    const cliRun = (JSON.parse(cli.stdout) as { runId: string }).runId;

    const page = await openApp('#/runs');
    await expect.poll(() => row(page, completed).getAttribute('data-status')).toBe('completed');
    await expect.poll(() => row(page, waiting).getAttribute('data-status')).toBe('waiting');
    await expect.poll(() => row(page, failed).getAttribute('data-status')).toBe('failed');
    await expect.poll(() => row(page, cliRun).getAttribute('data-status')).toBe('completed');
    expect(await row(page, completed).locator('.cell-workflow').textContent()).toBe(quick.name);
    expect(await row(page, cliRun).locator('.cell-workflow').textContent()).toBe('From the CLI');
    expect(await row(page, completed).locator('.cell-version').textContent()).toBe('v1');
    const reason = (await row(page, failed).locator('.cell-failure').textContent()) ?? '';
    expect(reason).toContain('call');
    expect(reason).toContain('400');
    expect(await row(page, waiting).locator('.cell-failure').textContent()).toBe('');
    // Newest first.
    const order = await idsShown(page);
    expect(order.indexOf(cliRun)).toBeLessThan(order.indexOf(completed));

    // Another process starts a run and cancels it: the list follows without a reload.
    const parkFile = join(dir.path, 'cli-parks.stepwise.json');
    writeFileSync(parkFile, JSON.stringify(chain('cli-parks', 'Parks from the CLI', PARKS)));
    const started = await runCli(['start', parkFile, '--json'], { db: dir.db });
    expect(started.code, started.stderr).toBe(0);
    const live = (JSON.parse(started.stdout) as { runId: string }).runId;
    await expect
      .poll(() => row(page, live).getAttribute('data-status'), { timeout: 15_000 })
      .toMatch(/running|waiting/);
    expect(await rows(page).first().getAttribute('data-run-id')).toBe(live);
    // Its workflow was saved by the CLI: the list learns the name.
    await expect.poll(() => row(page, live).locator('.cell-workflow').textContent()).toBe('Parks from the CLI');
    const cancelled = await runCli(['cancel', live, '--json'], { db: dir.db });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    await expect.poll(() => row(page, live).getAttribute('data-status'), { timeout: 15_000 }).toBe('cancelled');
    await page.screenshot({ path: join(SHOTS, 'runs-list.png') });

    // Clicking a row opens the run.
    await row(page, failed).locator('.cell-version').click();
    await expect.poll(() => hashOf(page)).toBe(`#/runs/${failed}`);
  });

  it('filters by status, workflow, version and id prefix; the URL keeps them across a reload', async () => {
    const flow = await createFlow('Filtered', QUICK);
    const v1a = await settled(flow.id);
    const v1b = await settled(flow.id);
    await api.saveDraft({ workflowId: flow.id, draft: chain(flow.id, flow.name, PARKS) });
    expect((await api.saveVersion({ workflowId: flow.id })).version).toBe(2);
    const v2 = await settled(flow.id);

    const page = await openApp('#/runs');
    await page.getByLabel('Filter by workflow').selectOption(flow.id);
    await expect.poll(() => hashOf(page)).toBe(`#/runs?workflow=${flow.id}`);
    await expect.poll(() => rows(page).count()).toBe(3);
    await page.getByLabel('Filter by version').selectOption('1');
    await expect.poll(() => hashOf(page)).toBe(`#/runs?workflow=${flow.id}&version=1`);
    await expect.poll(() => rows(page).count()).toBe(2);
    await page.getByLabel('Filter by version').selectOption('');
    await expect.poll(() => rows(page).count()).toBe(3);

    // Status chips carry the counts for this workflow; one narrows to its runs.
    await expect.poll(() => page.getByTestId('status-chip-waiting').textContent()).toBe('waiting 1');
    await expect.poll(() => page.getByTestId('status-chip-completed').textContent()).toBe('completed 2');
    await page.getByTestId('status-chip-waiting').click();
    await expect.poll(() => hashOf(page)).toBe(`#/runs?workflow=${flow.id}&status=waiting`);
    await expect.poll(() => idsShown(page)).toEqual([v2]);
    await page.getByTestId('status-chip-waiting').click();

    // An id prefix (the whole id here: ids of one millisecond share their start).
    await page.getByLabel('Search by run id prefix').fill(v1a);
    await expect.poll(() => hashOf(page)).toBe(`#/runs?workflow=${flow.id}&id=${v1a}`);
    await expect.poll(() => idsShown(page)).toEqual([v1a]);

    // Reload: the same filter, the same rows, the controls showing it.
    await page.reload();
    await expect.poll(() => idsShown(page)).toEqual([v1a]);
    expect(await page.getByLabel('Filter by workflow').inputValue()).toBe(flow.id);
    expect(await page.getByLabel('Search by run id prefix').inputValue()).toBe(v1a);

    // A prefix nothing has: the empty state offers to clear the filters.
    await page.getByLabel('Search by run id prefix').fill('zzzz');
    await page.getByTestId('runs-empty').waitFor();
    expect(await page.getByTestId('runs-empty').textContent()).toContain('No runs match these filters');
    await page.getByTestId('runs-empty').getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => hashOf(page)).toBe('#/runs');
    await row(page, v1b).waitFor();
    // Back to the filtered list after opening a run from it: still filtered.
    await page.goto(`${served.url}#/runs?workflow=${flow.id}&version=1`);
    await row(page, v1b).click({ position: { x: 700, y: 10 } });
    await expect.poll(() => hashOf(page)).toBe(`#/runs/${v1b}`);
    await page.goBack();
    await expect.poll(() => rows(page).count()).toBe(2);
  });

  it('cancels and redrives a selection, with a confirmation and the result in a toast', async () => {
    const parks = await createFlow('Parked batch', PARKS);
    const calls = await createFlow('Refund calls', CALLS());
    const parked = [await settled(parks.id), await settled(parks.id), await settled(parks.id)];
    serverBroken = true;
    const failing = [await settled(calls.id), await settled(calls.id)];
    for (const runId of failing) expect((await api.getRun({ runId })).status).toBe('failed');

    const page = await openApp(`#/runs?workflow=${parks.id}`);
    await expect.poll(() => rows(page).count()).toBe(3);
    // Click the first, shift-click the last: the range is selected.
    await row(page, parked[2] ?? '')
      .getByRole('checkbox')
      .click();
    await row(page, parked[0] ?? '')
      .getByRole('checkbox')
      .click({ modifiers: ['Shift'] });
    await expect.poll(() => page.getByTestId('cancel-selected').textContent()).toBe('Cancel 3…');
    await page.getByTestId('cancel-selected').click();
    const dialog = page.getByRole('dialog', { name: 'Cancel 3 runs?' });
    await dialog.getByRole('button', { name: 'Cancel 3 runs' }).click();
    await expect.poll(() => toastText(page)).toBe('Cancelled 3 runs.');
    for (const runId of parked) await expect.poll(() => row(page, runId).getAttribute('data-status')).toBe('cancelled');
    // Nothing left to cancel; the row menu says why.
    await row(page, parked[0] ?? '')
      .getByLabel(`Actions for run ${parked[0]}`)
      .click();
    const cancelItem = row(page, parked[0] ?? '').getByRole('button', { name: 'Cancel…' });
    expect(await cancelItem.isDisabled()).toBe(true);
    expect(await cancelItem.getAttribute('title')).toContain('only running or waiting runs can be cancelled');

    // The refund service is fixed: redrive both failed runs from the list.
    serverBroken = false;
    await page.goto(`${served.url}#/runs?workflow=${calls.id}`);
    await expect.poll(() => rows(page).count()).toBe(2);
    await page.getByLabel('Select all loaded runs (2)').check();
    await expect.poll(() => page.getByTestId('redrive-selected').textContent()).toBe('Redrive 2');
    await page.getByTestId('redrive-selected').click();
    await expect.poll(() => toastText(page)).toBe('Redriven 2 runs.');
    for (const runId of failing)
      await expect.poll(() => row(page, runId).getAttribute('data-status'), { timeout: 20_000 }).toBe('completed');
    expect(
      await row(page, failing[0] ?? '')
        .locator('.cell-failure')
        .textContent(),
    ).toBe('');
  });

  it('imports a run export from another database: an imported row that cannot be cancelled or redriven', async () => {
    const other = join(dir.path, 'other.db');
    const file = join(dir.path, 'exported-flow.stepwise.json');
    writeFileSync(file, JSON.stringify(chain('exported-flow', 'Exported elsewhere', CALLS())));
    serverBroken = true;
    const ran = await runCli(['run', file, '--json'], { db: other });
    const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
    const exportFile = join(dir.path, 'run-export.json');
    const exported = await runCli(['export', runId, '--out', exportFile], { db: other });
    expect(exported.code, exported.stderr).toBe(0);

    const page = await openApp('#/runs');
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Import run…' }).click();
    await (await chooser).setFiles(exportFile);
    await expect.poll(() => hashOf(page)).toBe(`#/runs/${runId}`);
    await page.goBack();
    await expect.poll(() => row(page, runId).getAttribute('data-status')).toBe('failed');
    expect(await row(page, runId).locator('.run-marker.imported').textContent()).toBe('imported');
    await row(page, runId).getByLabel(`Actions for run ${runId}`).click();
    const redrive = row(page, runId).getByRole('button', { name: 'Redrive' });
    expect(await redrive.isDisabled()).toBe(true);
    expect(await redrive.getAttribute('title')).toContain('Imported runs are read-only');

    // A fork and a redriven run of it, made elsewhere meanwhile: after a reload all are listed,
    // the fork marked as one, the redriven run completed.
    serverBroken = true;
    const failed = { runId: await settled((await createFlow('Fails here', CALLS())).id) };
    expect((await api.getRun({ runId: failed.runId })).status).toBe('failed');
    const fork = await api.forkRun({ runId: failed.runId, seq: 1 });
    serverBroken = false;
    await api.redriveRun({ runId: failed.runId });
    await expect.poll(async () => (await api.getRun({ runId: failed.runId })).status).toBe('completed');
    await page.reload();
    await expect.poll(() => row(page, fork.runId).count()).toBe(1);
    expect(await row(page, fork.runId).locator('.run-marker.fork').count()).toBe(1);
    await expect.poll(() => row(page, failed.runId).getAttribute('data-status')).toBe('completed');
    expect(await row(page, runId).getAttribute('data-status')).toBe('failed');
  });

  it('links each version to its runs, opens a version from the URL, and the toolbar to the workflow runs', async () => {
    const flow = await createFlow('Versioned', QUICK);
    const first = await settled(flow.id);
    await api.saveDraft({
      workflowId: flow.id,
      draft: chain(flow.id, flow.name, [...QUICK, ...QUICK.map(([, t, c]): Step => ['again', t, c])]),
    });
    await api.saveVersion({ workflowId: flow.id });
    await settled(flow.id);

    const page = await openApp(`#/workflows/${flow.id}/versions/1`);
    const v1 = page.locator('[data-testid="version-item"][data-version="1"]');
    await expect.poll(() => v1.getAttribute('aria-current')).toBe('true');
    await page.getByTestId('version-banner').waitFor();
    // The canvas shows v1 (two steps fewer than v2): no node "again".
    await page.getByTestId('node-double').waitFor();
    expect(await page.getByTestId('node-again').count()).toBe(0);
    expect(await v1.getByTestId('version-runs').textContent()).toBe('1 run pinned');
    await v1.getByTestId('version-runs').click();
    await expect.poll(() => hashOf(page)).toBe(`#/runs?workflow=${flow.id}&version=1`);
    await expect.poll(() => idsShown(page)).toEqual([first]);

    await page.goto(`${served.url}#/workflows/${flow.id}`);
    await page.getByTestId('workflow-runs').click();
    await expect.poll(() => hashOf(page)).toBe(`#/runs?workflow=${flow.id}`);
    await expect.poll(() => rows(page).count()).toBe(2);
  });

  it('keeps thousands of runs windowed: a bounded number of rows in the DOM, the oldest reached by scrolling', async () => {
    const flow = await createFlow('Many', []);
    const RUNS = 2000;
    const ids: string[] = [];
    // Fifty starts in flight at a time over the WebSocket: the host group-commits them.
    let next = 0;
    const lane = async () => {
      while (next < RUNS) {
        next += 1;
        ids.push((await api.startRun({ workflowId: flow.id })).runId);
      }
    };
    await Promise.all(Array.from({ length: 50 }, lane));
    let cursor: string | undefined;
    let last = '';
    do {
      const page = await api.listRuns({ workflowId: flow.id, limit: 1000, ...(cursor && { cursor }) });
      last = page.runs.at(-1)?.runId ?? last;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);

    const page = await openApp(`#/runs?workflow=${flow.id}`);
    await rows(page).first().waitFor();
    await expect.poll(() => page.getByTestId('runs-total').textContent()).toBe(`${RUNS} runs`);
    const viewport = page.getByTestId('runs-viewport');
    const bound = async () => {
      const count = await page.locator('[data-testid="run-row"], [data-testid="run-row-placeholder"]').count();
      expect(count).toBeGreaterThan(10);
      expect(count).toBeLessThan(60);
    };
    await bound();
    // To the end, as far as the list is tall; pages load as the rows come into view.
    await expect
      .poll(
        async () => {
          await viewport.evaluate((element) => {
            // No DOM types in the tests' tsconfig: the two properties used.
            const scroller = element as unknown as { scrollTop: number; scrollHeight: number };
            scroller.scrollTop = scroller.scrollHeight;
          });
          return row(page, last).count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    await bound();

    // New runs while scrolled halfway: they go on top, the rows in view and the selection stay.
    const scrollTop = () => viewport.evaluate((element) => (element as unknown as { scrollTop: number }).scrollTop);
    await viewport.evaluate((element) => {
      (element as unknown as { scrollTop: number }).scrollTop = 36_000;
    });
    const atIndex = (index: number) => page.locator(`[data-testid="run-row"][aria-rowindex="${index + 2}"]`);
    await atIndex(1000).waitFor();
    const inView = (await atIndex(1000).getAttribute('data-run-id')) ?? '';
    await atIndex(1000).getByRole('checkbox').check();
    const before = await scrollTop();
    for (let index = 0; index < 3; index += 1) await api.startRun({ workflowId: flow.id });
    await expect.poll(() => page.getByTestId('runs-total').textContent()).toBe(`${RUNS + 3} runs`);
    await expect.poll(() => atIndex(1003).getAttribute('data-run-id')).toBe(inView);
    expect(await scrollTop()).toBe(before + 3 * 36);
    expect(await row(page, inView).getByRole('checkbox').isChecked()).toBe(true);

    // The keyboard: the focused row moves with the arrows and Enter opens it.
    await viewport.focus();
    await page.keyboard.press('End');
    await expect.poll(() => row(page, last).getAttribute('aria-current')).toBe('true');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => hashOf(page)).toBe(`#/runs/${last}`);
  }, 120_000);
});
