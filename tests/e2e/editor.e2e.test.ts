// The editor in Debian's Chromium against `stepwise serve` (a real engine host and database):
// one story, step by step, on one page — as a user would build, version and recover a workflow.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dragBetween, launchChromium, startServe, type ServedProcess } from '../support/browser.js';
import { ROOT, sleep, tempDir } from '../support/harness.js';

const dir = tempDir('stepwise-e2e-');
const SHOTS = process.env.STEPWISE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'images') : join(dir.path, 'shots');
let served: ServedProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const NAME = 'Refund check';

beforeAll(async () => {
  served = await startServe(dir.db);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  await page.goto(served.url);
  mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  dir.cleanup();
});

const node = (id: string) => page.getByTestId(`node-${id}`);
const edges = () => page.locator('.react-flow__edge');
const toast = () => page.getByTestId('toast').last();

async function waitSaved(): Promise<void> {
  await page.locator('[data-testid="save-state"][data-state="saved"]').waitFor({ timeout: 15_000 });
}

async function health(): Promise<{ ok: boolean; hostPid: number | null }> {
  const response = await page.request.get(`${served.origin}/api/health?token=${served.token}`);
  return (await response.json()) as { ok: boolean; hostPid: number | null };
}

async function exportOpenWorkflow(name = NAME): Promise<string> {
  await page.getByLabel(`Actions for ${name}`).click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export' }).click(),
  ]);
  await page.getByLabel(`Actions for ${name}`).click();
  return readFileSync(await download.path(), 'utf8');
}

async function importFile(path: string): Promise<void> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Import' }).click(),
  ]);
  await chooser.setFiles(path);
  await expect.poll(async () => (await toast().textContent()) ?? '').toMatch(/^Imported/);
}

async function typeInMonaco(testId: string, text: string): Promise<void> {
  await page.locator(`[data-testid="${testId}"] .view-lines`).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text, { delay: 5 });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

describe('the editor in a real browser', { timeout: 90_000 }, () => {
  it('refuses the API without the token, and says how to get in', async () => {
    expect((await page.request.get(`${served.origin}/api/health`)).status()).toBe(401);
    expect((await health()).ok).toBe(true);
    const stranger = await context.newPage();
    await stranger.goto(`${served.origin}/`);
    await expect.poll(() => stranger.textContent('body')).toMatch(/carries the access token/);
    await stranger.close();
  });

  it('builds a 5-node flow by dragging node types from the palette and connecting their ports', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await page.getByRole('dialog').getByRole('textbox').fill(NAME);
    await page.getByRole('button', { name: 'Create' }).click();
    await node('start').waitFor();
    const pane = page.locator('.react-flow__pane');
    const drops: [string, number, number][] = [
      ['code', 160, 150],
      ['http.request', 480, 150],
      ['wait.timer', 160, 460],
      ['output', 480, 460],
    ];
    for (const [type, x, y] of drops)
      await page.getByTestId(`palette-${type}`).dragTo(pane, { targetPosition: { x, y } });
    for (const id of ['code', 'http-request', 'wait', 'output']) await node(id).waitFor();

    await dragBetween(page, '[data-testid="out-start-out"]', '[data-testid="in-code-in"]');
    await dragBetween(page, '[data-testid="out-code-out"]', '[data-testid="in-http-request-in"]');
    await dragBetween(page, '[data-testid="out-http-request-out"]', '[data-testid="in-wait-in"]');
    await dragBetween(page, '[data-testid="out-wait-out"]', '[data-testid="in-output-in"]');
    await expect.poll(() => edges().count()).toBe(4);
  });

  it('configures the HTTP URL and the code (typed in Monaco) through the inspector', async () => {
    await node('http-request').click();
    await page.locator('#http-request-url').fill('https://api.example.com/refunds');
    await node('code').click();
    await page.locator('[data-testid="monaco-code-code"] .view-lines').waitFor();
    await typeInMonaco('monaco-code-code', 'return { amount: input.amount * 2 };');
    await node('wait').click();
    await page.locator('#wait-duration').fill('2s');
    await waitSaved();
    // The engine's validator agrees: no errors left (only the unused error ports are fine).
    await expect.poll(() => page.getByTestId('problem-count').textContent()).toBe('0 errors');
    await shot('editor');
  });

  it('saves a version; a reload shows the identical workflow', async () => {
    await page.getByRole('button', { name: 'Save version' }).first().click();
    await page.getByRole('dialog').getByRole('textbox').fill('First cut: doubles the amount');
    await page.getByRole('dialog').getByRole('button', { name: 'Save version' }).click();
    await expect.poll(async () => (await toast().textContent()) ?? '').toBe('Saved version 1');
    const before = await exportOpenWorkflow();
    await page.reload();
    await node('start').waitFor();
    expect(await exportOpenWorkflow()).toBe(before);
    const graph = JSON.parse(before) as { nodes: { id: string; config: Record<string, unknown> }[]; edges: unknown[] };
    expect(graph.nodes.map((item) => item.id)).toEqual(['start', 'code', 'http-request', 'wait', 'output']);
    expect(graph.edges).toHaveLength(4);
    expect(graph.nodes[1]?.config).toEqual({ code: 'return { amount: input.amount * 2 };' });
    expect(graph.nodes[2]?.config).toEqual({ url: 'https://api.example.com/refunds' });
  });

  it('undoes and redoes a deletion with the keyboard', async () => {
    await node('wait').click();
    await page.keyboard.press('Delete');
    await expect.poll(() => node('wait').count()).toBe(0);
    await expect.poll(() => edges().count()).toBe(2);
    await page.keyboard.press('Control+Z');
    await expect.poll(() => edges().count()).toBe(4);
    await node('wait').waitFor();
    await page.keyboard.press('Control+Shift+Z');
    await expect.poll(() => node('wait').count()).toBe(0);
    await page.keyboard.press('Control+Z');
    await node('wait').waitFor();
    await expect.poll(() => edges().count()).toBe(4);
    await waitSaved();
  });

  it('refuses an invalid connection and says why', async () => {
    await dragBetween(page, '[data-testid="out-wait-out"]', '[data-testid="in-code-in"]');
    await expect
      .poll(async () => (await toast().textContent()) ?? '')
      .toMatch(/Connection refused: .*would make a cycle/);
    expect(await edges().count()).toBe(4);
  });

  it('shows an invalid config in the problems panel; a click selects the node', async () => {
    await node('http-request').click();
    await page.locator('#http-request-url').fill('not a url');
    const problem = page.getByTestId('problem').filter({ hasText: 'config.url' });
    await expect.poll(() => problem.textContent()).toMatch(/config\.url: must be an http\(s\) URL/);
    await page.getByTestId('badge-http-request').waitFor();
    await node('start').click();
    await problem.click();
    await expect.poll(() => page.getByTestId('inspector').textContent()).toMatch(/HTTP request/);
    await shot('problems');
    await page.locator('#http-request-url').fill('https://api.example.com/refunds');
    await expect.poll(() => page.getByTestId('problem-count').textContent()).toBe('0 errors');
  });

  it('highlights the changed node in a diff between two versions, field by field', async () => {
    // The problem click zoomed onto its node: zoom to fit again (the "1" shortcut) from the canvas.
    await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
    await page.keyboard.press('1');
    await sleep(400);
    await node('code').click();
    await typeInMonaco('monaco-code-code', 'return { amount: input.amount * 3 };');
    await waitSaved();
    await page.getByRole('button', { name: 'Save version' }).first().click();
    await page.getByRole('dialog').getByRole('textbox').fill('Triple it');
    await page.getByRole('dialog').getByRole('button', { name: 'Save version' }).click();
    await expect.poll(async () => (await toast().textContent()) ?? '').toBe('Saved version 2');

    await page.getByRole('button', { name: 'Versions', exact: true }).click();
    await expect.poll(() => page.getByTestId('version-item').count()).toBe(2);
    await page.getByLabel('Compare from').selectOption('1');
    await page.getByLabel('Compare with').selectOption('2');
    await page.getByRole('button', { name: 'Show diff' }).click();
    await expect.poll(() => node('code').getAttribute('data-diff')).toBe('changed');
    expect(await node('http-request').getAttribute('data-diff')).toBeNull();
    const table = page.getByTestId('field-diff');
    await expect.poll(() => table.textContent()).toMatch(/config\.code.*input\.amount \* 2.*input\.amount \* 3/s);
    await shot('version-diff');
    await page.getByRole('button', { name: 'Close diff' }).click();
    await page.getByRole('button', { name: 'Versions', exact: true }).click();
  });

  it('round-trips import and export byte for byte', async () => {
    const exported = await exportOpenWorkflow();
    const file = join(dir.path, 'refund.stepwise.json');
    writeFileSync(file, exported);
    await importFile(file);
    expect(await exportOpenWorkflow()).toBe(exported);

    const template = join(ROOT, 'assets', 'templates', 'hello.stepwise.json');
    await importFile(template);
    await node('greet').waitFor();
    expect(await exportOpenWorkflow('Hello, Stepwise')).toBe(readFileSync(template, 'utf8'));
  });

  it('copies nodes from one workflow to another, and lays the graph out', async () => {
    // "Hello, Stepwise" is open after the import above.
    await node('greet').click();
    await page.keyboard.press('Control+C');
    await page.getByTestId('workflow-item').filter({ hasText: NAME }).click();
    await node('start').waitFor();
    await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
    await page.keyboard.press('Control+V');
    await node('greet').waitFor();
    expect(await node('greet').textContent()).toMatch(/Code/);

    const before = await node('output').boundingBox();
    await page.keyboard.press('Shift+L');
    await expect.poll(async () => JSON.stringify(await node('output').boundingBox())).not.toBe(JSON.stringify(before));
    await page.keyboard.press('Control+Z'); // the layout
    await page.keyboard.press('Control+Z'); // the paste
    await expect.poll(() => node('greet').count()).toBe(0);
    await waitSaved();
  });

  it('keeps editing through an engine host crash: reconnects without a reload, loses nothing', async () => {
    await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
    await page.keyboard.press('1');
    await node('code').click();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    const { hostPid } = await health();
    if (hostPid === null) throw new Error('no engine host');
    process.kill(hostPid, 'SIGKILL');
    await page.getByTestId('connection-banner').waitFor();
    await page.getByLabel('Node name').fill('Compute refund');
    await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 20_000 });
    await waitSaved();
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    expect((await health()).hostPid).not.toBe(hostPid);
    await page.reload();
    await expect.poll(() => node('code').textContent()).toMatch(/Compute refund/);
  });

  it('keeps what was typed when the page reloads before the autosave', async () => {
    await node('http-request').click();
    await page.getByLabel('Node name').fill('Pay the refund');
    await page.reload(); // at once: the engine has not been sent this edit yet
    await expect.poll(() => node('http-request').textContent()).toMatch(/Pay the refund/);
    await waitSaved();
  });

  it('box-selects with a drag on the canvas, deletes the selection, and undoes it as one step', async () => {
    await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
    await page.keyboard.press('1');
    await sleep(400);
    const wait = await node('wait').boundingBox();
    const output = await node('output').boundingBox();
    if (!wait || !output) throw new Error('nodes not visible');
    // From empty canvas below-left of "wait" to above-right of "output": both fully inside.
    await page.mouse.move(wait.x - 30, wait.y + wait.height + 30);
    await page.mouse.down();
    await page.mouse.move(output.x + output.width + 15, output.y - 4, { steps: 10 });
    await page.mouse.up();
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await node('wait').count()) + (await node('output').count())).toBe(0);
    await page.keyboard.press('Control+Z');
    await expect.poll(async () => (await node('wait').count()) + (await node('output').count())).toBe(2);
    await expect.poll(() => edges().count()).toBe(4);
  });

  it('shows the keyboard shortcuts with ?', async () => {
    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await page.keyboard.press('Shift+?');
    await page.getByTestId('shortcuts-help').waitFor();
    await shot('shortcuts');
    await page.keyboard.press('Escape');
    await sleep(100);
    expect(await page.getByTestId('shortcuts-help').count()).toBe(0);
  });
});
