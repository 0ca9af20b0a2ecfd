// The editor in Debian's Chromium against `stepwise serve` (a real engine host and database).
// Every test has its own browser context and its own workflow, made through the UI or the
// EngineApi; tests wait on conditions, never on time, and each runs alone (`-t`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_FORMAT, type EngineApi, type Workflow, type WorkflowNode } from '../../engine/api/index.js';
import { dragBetween, type ServedProcess } from '../support/browser.js';
import { servedAppSuite } from '../support/e2e-suite.js';
import { Engine } from '../../engine/runtime/engine.js';
import { ROOT, runCli } from '../support/harness.js';

const suite = servedAppSuite('stepwise-e2e-');
const { dir, shots: SHOTS, contexts } = suite;
let served: ServedProcess;
let browser: Browser;
let api: EngineApi;

beforeAll(() => {
  ({ served, browser, api } = suite.app());
});

// ── Fixtures ──────────────────────────────────────────────────────────────────────────────────

let named = 0;
/** A workflow name no other test uses, nor contains (the list's locators match substrings). */
function uniqueName(base: string): string {
  named += 1;
  return `${base} ${String(named).padStart(2, '0')}`;
}

const CODE = 'return { amount: input.amount * 2 };';
const URL_CONFIG = 'https://api.example.com/refunds';

/** What "builds a 5-node flow" makes by hand: start → code → HTTP request → wait → output. */
function refundFlow(id: string, name: string, configured: boolean): Workflow {
  const step = (nodeId: string, type: string, title: string, x: number, y: number, config: Record<string, unknown>) =>
    ({
      id: nodeId,
      type,
      typeVersion: 1,
      name: title,
      position: { x, y },
      config: configured ? config : {},
    }) satisfies WorkflowNode;
  const link = (source: string, target: string) => ({
    id: `${source}.out-${target}.in`,
    source,
    sourceHandle: 'out',
    target,
    targetHandle: 'in',
  });
  return {
    format: WORKFLOW_FORMAT,
    id,
    name,
    nodes: [
      step('start', 'trigger.manual', 'Start', 0, 150, {}),
      step('code', 'code', 'Code', 300, 0, { code: CODE }),
      step('http-request', 'http.request', 'HTTP request', 640, 0, { url: URL_CONFIG }),
      step('wait', 'wait.timer', 'Wait', 300, 300, { duration: '2s' }),
      step('output', 'output', 'Output', 640, 300, {}),
    ],
    edges: [link('start', 'code'), link('code', 'http-request'), link('http-request', 'wait'), link('wait', 'output')],
  };
}

/** A new workflow holding the refund flow as its draft (configured: valid, ready to version). */
async function createRefundFlow(options: { configured: boolean }): Promise<{ id: string; name: string }> {
  const name = uniqueName('Refund check');
  const { id } = await api.createWorkflow({ name });
  await api.saveDraft({ workflowId: id, draft: refundFlow(id, name, options.configured) });
  return { id, name };
}

// ── The page ──────────────────────────────────────────────────────────────────────────────────

/** A fresh browser context (own storage, own clipboard) on the app, or on a workflow in the editor. */
/** start → approval "ok" → end (on approved), saved as a draft: its runs park at the approval. */
async function approvalFlow(base: string): Promise<string> {
  const name = uniqueName(base);
  const { id } = await api.createWorkflow({ name });
  const place = (nodeId: string, type: string, x: number) =>
    ({ id: nodeId, type, typeVersion: 1, position: { x, y: 0 }, config: {} }) satisfies WorkflowNode;
  await api.saveDraft({
    workflowId: id,
    draft: {
      format: WORKFLOW_FORMAT,
      id,
      name,
      nodes: [place('start', 'trigger.manual', 0), place('ok', 'approval', 300), place('end', 'output', 600)],
      edges: [
        { id: 'e1', source: 'start', sourceHandle: 'out', target: 'ok', targetHandle: 'in' },
        { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'end', targetHandle: 'in' },
      ],
    },
  });
  return id;
}

async function openApp(workflowId?: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(workflowId === undefined ? served.url : `${served.url}#/workflows/${encodeURIComponent(workflowId)}`);
  if (workflowId !== undefined) {
    await node(page, 'start').waitFor();
    await viewportSettled(page);
  }
  return page;
}

const node = (page: Page, id: string) => page.getByTestId(`node-${id}`);
const edges = (page: Page) => page.locator('.react-flow__edge');
const toast = (page: Page) => page.getByTestId('toast').last();
const toastText = async (page: Page) => (await toast(page).textContent()) ?? '';
const paneCorner = (page: Page, at = 10) => page.locator('.react-flow__pane').click({ position: { x: at, y: at } });

/** Until the canvas stops moving (a zoom animation has ended): its transform unchanged for 3 polls. */
async function viewportSettled(page: Page): Promise<void> {
  const viewport = page.locator('.react-flow__viewport');
  const seen: (string | null)[] = [];
  await expect
    .poll(async () => {
      seen.push(await viewport.getAttribute('style'));
      return seen.length >= 3 && seen.slice(-3).every((style) => style === seen.at(-1));
    })
    .toBe(true);
}

async function waitSaved(page: Page): Promise<void> {
  await page.locator('[data-testid="save-state"][data-state="saved"]').waitFor({ timeout: 15_000 });
}

async function health(page: Page): Promise<{ ok: boolean; hostPid: number | null }> {
  const response = await page.request.get(`${served.origin}/api/health?token=${served.token}`);
  return (await response.json()) as { ok: boolean; hostPid: number | null };
}

async function exportWorkflow(page: Page, name: string): Promise<string> {
  await page.getByLabel(`Actions for ${name}`).click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  await page.getByLabel(`Actions for ${name}`).click();
  return readFileSync(await download.path(), 'utf8');
}

async function importFile(page: Page, path: string): Promise<void> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Import' }).click(),
  ]);
  await chooser.setFiles(path);
  await expect.poll(() => toastText(page)).toMatch(/^Imported/);
}

async function typeInMonaco(page: Page, testId: string, text: string): Promise<void> {
  await page.locator(`[data-testid="${testId}"] .view-lines`).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text, { delay: 5 });
}

async function saveVersion(page: Page, note: string): Promise<void> {
  await page.getByRole('button', { name: 'Save version' }).first().click();
  await page.getByRole('dialog').getByRole('textbox').fill(note);
  await page.getByRole('dialog').getByRole('button', { name: 'Save version' }).click();
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

// ── Tests ─────────────────────────────────────────────────────────────────────────────────────

describe('the editor in a real browser', { timeout: 90_000 }, () => {
  it('refuses the API without the token, and says how to get in', async () => {
    const page = await openApp();
    expect((await page.request.get(`${served.origin}/api/health`)).status()).toBe(401);
    expect((await health(page)).ok).toBe(true);
    const stranger = await page.context().newPage();
    await stranger.goto(`${served.origin}/`);
    await expect.poll(() => stranger.textContent('body')).toMatch(/carries the access token/);
  });

  it('builds a 5-node flow by dragging node types from the palette and connecting their ports', async () => {
    const page = await openApp();
    const name = uniqueName('Refund check');
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await page.getByRole('dialog').getByRole('textbox').fill(name);
    await page.getByRole('button', { name: 'Create' }).click();
    await node(page, 'start').waitFor();
    await viewportSettled(page);
    const pane = page.locator('.react-flow__pane');
    const drops: [string, number, number][] = [
      ['code', 160, 150],
      ['http.request', 480, 150],
      ['wait.timer', 160, 460],
      ['output', 480, 460],
    ];
    for (const [type, x, y] of drops)
      await page.getByTestId(`palette-${type}`).dragTo(pane, { targetPosition: { x, y } });
    for (const id of ['code', 'http-request', 'wait', 'output']) await node(page, id).waitFor();

    await dragBetween(page, '[data-testid="out-start-out"]', '[data-testid="in-code-in"]');
    await dragBetween(page, '[data-testid="out-code-out"]', '[data-testid="in-http-request-in"]');
    await dragBetween(page, '[data-testid="out-http-request-out"]', '[data-testid="in-wait-in"]');
    await dragBetween(page, '[data-testid="out-wait-out"]', '[data-testid="in-output-in"]');
    await expect.poll(() => edges(page).count()).toBe(4);

    // The engine has the flow the other tests start from (they make it through the API).
    await waitSaved(page);
    const graph = JSON.parse(await exportWorkflow(page, name)) as Workflow;
    const fixture = refundFlow(graph.id, name, false);
    expect(graph.nodes.map((item) => [item.id, item.type, item.name])).toEqual(
      fixture.nodes.map((item) => [item.id, item.type, item.name]),
    );
    expect(graph.edges.map((item) => item.id).sort()).toEqual(fixture.edges.map((item) => item.id).sort());
  });

  it('configures the HTTP URL and the code (typed in Monaco) through the inspector', async () => {
    const flow = await createRefundFlow({ configured: false });
    const page = await openApp(flow.id);
    await node(page, 'http-request').click();
    await page.locator('#http-request-url').fill(URL_CONFIG);
    await node(page, 'code').click();
    await page.locator('[data-testid="monaco-code-code"] .view-lines').waitFor();
    await typeInMonaco(page, 'monaco-code-code', CODE);
    await node(page, 'wait').click();
    await page.locator('#wait-duration').fill('2s');
    await waitSaved(page);
    // The engine's validator agrees: no errors left (only the unused error ports are fine).
    await expect.poll(() => page.getByTestId('problem-count').textContent()).toBe('0 errors');
    const { draft } = await api.getWorkflow({ workflowId: flow.id });
    expect(draft.nodes.map((item) => item.config)).toEqual(
      refundFlow(flow.id, flow.name, true).nodes.map((item) => item.config),
    );
    await shot(page, 'editor');
  });

  it('saves a version; a reload shows the identical workflow', async () => {
    const flow = await createRefundFlow({ configured: true });
    const page = await openApp(flow.id);
    await saveVersion(page, 'First cut: doubles the amount');
    await expect.poll(() => toastText(page)).toBe('Saved version 1');
    const before = await exportWorkflow(page, flow.name);
    await page.reload();
    await node(page, 'start').waitFor();
    expect(await exportWorkflow(page, flow.name)).toBe(before);
    const graph = JSON.parse(before) as { nodes: { id: string; config: Record<string, unknown> }[]; edges: unknown[] };
    expect(graph.nodes.map((item) => item.id)).toEqual(['start', 'code', 'http-request', 'wait', 'output']);
    expect(graph.edges).toHaveLength(4);
    expect(graph.nodes[1]?.config).toEqual({ code: 'return { amount: input.amount * 2 };' });
    expect(graph.nodes[2]?.config).toEqual({ url: 'https://api.example.com/refunds' });
  });

  it('undoes and redoes a deletion with the keyboard', async () => {
    const flow = await createRefundFlow({ configured: true });
    const page = await openApp(flow.id);
    await node(page, 'wait').click();
    await page.keyboard.press('Delete');
    await expect.poll(() => node(page, 'wait').count()).toBe(0);
    await expect.poll(() => edges(page).count()).toBe(2);
    await page.keyboard.press('Control+Z');
    await expect.poll(() => edges(page).count()).toBe(4);
    await node(page, 'wait').waitFor();
    await page.keyboard.press('Control+Shift+Z');
    await expect.poll(() => node(page, 'wait').count()).toBe(0);
    await page.keyboard.press('Control+Z');
    await node(page, 'wait').waitFor();
    await expect.poll(() => edges(page).count()).toBe(4);
    await waitSaved(page);
  });

  it('refuses an invalid connection and says why', async () => {
    const flow = await createRefundFlow({ configured: true });
    const page = await openApp(flow.id);
    await expect.poll(() => edges(page).count()).toBe(4);
    await dragBetween(page, '[data-testid="out-wait-out"]', '[data-testid="in-code-in"]');
    await expect.poll(() => toastText(page)).toMatch(/Connection refused: .*would make a cycle/);
    expect(await edges(page).count()).toBe(4);
  });

  it('shows an invalid config in the problems panel; a click selects the node', async () => {
    const flow = await createRefundFlow({ configured: true });
    const page = await openApp(flow.id);
    await node(page, 'http-request').click();
    await page.locator('#http-request-url').fill('not a url');
    const problem = page.getByTestId('problem').filter({ hasText: 'config.url' });
    await expect.poll(() => problem.textContent()).toMatch(/config\.url: must be an http\(s\) URL/);
    await page.getByTestId('badge-http-request').waitFor();
    await node(page, 'start').click();
    await problem.click();
    await expect.poll(() => page.getByTestId('inspector').textContent()).toMatch(/HTTP request/);
    await shot(page, 'problems');
    await page.locator('#http-request-url').fill('https://api.example.com/refunds');
    await expect.poll(() => page.getByTestId('problem-count').textContent()).toBe('0 errors');
  });

  it('highlights the changed node in a diff between two versions, field by field', async () => {
    const flow = await createRefundFlow({ configured: true });
    await api.saveVersion({ workflowId: flow.id, note: 'First cut: doubles the amount' });
    const page = await openApp(flow.id);
    await node(page, 'code').click();
    await typeInMonaco(page, 'monaco-code-code', 'return { amount: input.amount * 3 };');
    await waitSaved(page);
    await saveVersion(page, 'Triple it');
    await expect.poll(() => toastText(page)).toBe('Saved version 2');

    await page.getByRole('button', { name: 'Versions', exact: true }).click();
    await expect.poll(() => page.getByTestId('version-item').count()).toBe(2);
    await page.getByLabel('Compare from').selectOption('1');
    await page.getByLabel('Compare with').selectOption('2');
    await page.getByRole('button', { name: 'Show diff' }).click();
    await expect.poll(() => node(page, 'code').getAttribute('data-diff')).toBe('changed');
    expect(await node(page, 'http-request').getAttribute('data-diff')).toBeNull();
    const table = page.getByTestId('field-diff');
    await expect.poll(() => table.textContent()).toMatch(/config\.code.*input\.amount \* 2.*input\.amount \* 3/s);
    await shot(page, 'version-diff');
    await page.getByRole('button', { name: 'Close diff' }).click();
    await expect.poll(() => node(page, 'code').getAttribute('data-diff')).toBeNull();
    await page.getByRole('button', { name: 'Versions', exact: true }).click();
    await page.getByTestId('inspector').waitFor();
  });

  it('round-trips import and export byte for byte', async () => {
    const flow = await createRefundFlow({ configured: true });
    const page = await openApp(flow.id);
    const exported = await exportWorkflow(page, flow.name);
    const file = join(dir.path, 'refund.stepwise.json');
    writeFileSync(file, exported);
    await importFile(page, file);
    expect(await exportWorkflow(page, flow.name)).toBe(exported);

    const template = join(ROOT, 'assets', 'templates', 'hello.stepwise.json');
    await importFile(page, template);
    await node(page, 'greet').waitFor();
    expect(await exportWorkflow(page, 'Hello, Stepwise')).toBe(readFileSync(template, 'utf8'));
  });

  it('copies nodes from one workflow to another, and lays the graph out', async () => {
    const source = await api.createWorkflow({ name: uniqueName('Greeting'), template: 'hello.stepwise.json' });
    const target = await createRefundFlow({ configured: true });
    const page = await openApp(source.id);
    await node(page, 'greet').click();
    await page.keyboard.press('Control+C');
    await page.getByTestId('workflow-item').filter({ hasText: target.name }).click();
    await node(page, 'start').waitFor();
    await paneCorner(page);
    await page.keyboard.press('Control+V');
    await node(page, 'greet').waitFor();
    expect(await node(page, 'greet').textContent()).toMatch(/Code/);

    const before = await node(page, 'output').boundingBox();
    await page.keyboard.press('Shift+L');
    await expect
      .poll(async () => JSON.stringify(await node(page, 'output').boundingBox()))
      .not.toBe(JSON.stringify(before));
    await page.keyboard.press('Control+Z'); // the layout
    await page.keyboard.press('Control+Z'); // the paste
    await expect.poll(() => node(page, 'greet').count()).toBe(0);
    await waitSaved(page);
  });

  it('keeps editing through an engine host crash: reconnects without a reload, loses nothing', async () => {
    const flow = await createRefundFlow({ configured: true });
    const page = await openApp(flow.id);
    await node(page, 'code').click();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    const { hostPid } = await health(page);
    if (hostPid === null) throw new Error('no engine host');
    process.kill(hostPid, 'SIGKILL');
    await page.getByTestId('connection-banner').waitFor();
    await page.getByLabel('Node name').fill('Compute refund');
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 20_000 });
    await waitSaved(page);
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    expect((await health(page)).hostPid).not.toBe(hostPid);
    await page.reload();
    await expect.poll(() => node(page, 'code').textContent()).toMatch(/Compute refund/);
  });

  it('after an engine host crash, the run view and the runs list read what changed while it was down', async () => {
    const id = await approvalFlow('Parked');
    const { run } = await api.runDraft({ workflowId: id, input: {} });
    await expect.poll(async () => (await api.getRun({ runId: run.runId })).status).toBe('waiting');
    const view = await openApp();
    await view.goto(`${served.url}#/runs/${run.runId}`);
    await expect.poll(() => view.getByTestId('run-status').getAttribute('data-status')).toBe('waiting');
    const list = await view.context().newPage();
    await list.goto(`${served.url}#/runs?workflow=${encodeURIComponent(id)}`);
    const row = list.locator(`[data-testid="run-row"][data-run-id="${run.runId}"]`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('waiting');

    // Another process cancels the run while the host is down: no host sees that commit happen,
    // so nothing is pushed for it; only reading again after the reconnect can show it.
    const other = Engine.open({ dbPath: dir.db });
    try {
      const { hostPid } = await health(view);
      if (hostPid === null) throw new Error('no engine host');
      process.kill(hostPid, 'SIGKILL');
      await other.commands.cancel(run.runId, { reason: 'while the host was down' });
    } finally {
      await other.close();
    }
    await expect
      .poll(() => view.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('cancelled');
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 20_000 }).toBe('cancelled');
  });

  it('keeps what was typed when the page reloads before the autosave', async () => {
    const flow = await createRefundFlow({ configured: true });
    const page = await openApp(flow.id);
    await node(page, 'http-request').click();
    await page.getByLabel('Node name').fill('Pay the refund');
    await page.reload(); // at once: the engine has not been sent this edit yet
    await expect.poll(() => node(page, 'http-request').textContent()).toMatch(/Pay the refund/);
    await waitSaved(page);
  });

  it('box-selects with a drag on the canvas, deletes the selection, and undoes it as one step', async () => {
    const flow = await createRefundFlow({ configured: true });
    const page = await openApp(flow.id);
    await paneCorner(page);
    await page.keyboard.press('1');
    await viewportSettled(page);
    const wait = await node(page, 'wait').boundingBox();
    const output = await node(page, 'output').boundingBox();
    if (!wait || !output) throw new Error('nodes not visible');
    // From empty canvas below-left of "wait" to above-right of "output": both fully inside.
    await page.mouse.move(wait.x - 30, wait.y + wait.height + 30);
    await page.mouse.down();
    await page.mouse.move(output.x + output.width + 15, output.y - 4, { steps: 10 });
    await page.mouse.up();
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await node(page, 'wait').count()) + (await node(page, 'output').count())).toBe(0);
    await page.keyboard.press('Control+Z');
    await expect.poll(async () => (await node(page, 'wait').count()) + (await node(page, 'output').count())).toBe(2);
    await expect.poll(() => edges(page).count()).toBe(4);
  });

  it('shows the keyboard shortcuts with ?', async () => {
    const flow = await createRefundFlow({ configured: true });
    const page = await openApp(flow.id);
    await paneCorner(page, 20);
    await page.keyboard.press('Shift+?');
    await page.getByTestId('shortcuts-help').waitFor();
    await shot(page, 'shortcuts');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('shortcuts-help').count()).toBe(0);
  });

  it('the run view follows a decision another process made (the CLI rejects the run)', async () => {
    const id = await approvalFlow('Approval');
    const page = await openApp(id);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const dialog = page.getByTestId('run-dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForURL(/#\/runs\/[^/]+$/);
    const runId = decodeURIComponent(/#\/runs\/([^/]+)$/.exec(page.url())?.[1] ?? '');
    const status = page.getByTestId('run-status');
    await expect.poll(() => status.getAttribute('data-status')).toBe('waiting');
    await expect.poll(() => page.getByTestId('node-ok').getAttribute('data-run-status')).toBe('waiting');
    const rejected = await runCli(['reject', runId, '--by', 'carol'], { db: dir.db });
    expect(rejected.code, rejected.stderr).toBe(0);
    // Pushed from the other process's commit: no reload.
    await expect.poll(() => status.getAttribute('data-status')).toBe('completed');
    await expect.poll(() => page.getByTestId('node-ok').getAttribute('data-run-status')).toBe('completed');
  });
});
