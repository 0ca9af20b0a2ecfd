// The run dialog, the collapsible layout and the dark theme in Debian's Chromium against
// `stepwise serve` (a real engine host and database). Each test has its own browser context and
// its own workflow; tests wait on conditions, never on time.
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_FORMAT, type EngineApi, type Workflow, type WorkflowNode } from '../../engine/api/index.js';
import type { ServedProcess } from '../support/browser.js';
import { servedAppSuite } from '../support/e2e-suite.js';

const suite = servedAppSuite('stepwise-e2e-dialog-');
const { shots: SHOTS, contexts } = suite;
let served: ServedProcess;
let browser: Browser;
let api: EngineApi;

beforeAll(() => {
  ({ served, browser, api } = suite.app());
});

// ── Fixtures ──────────────────────────────────────────────────────────────────────────────────

let named = 0;
function uniqueName(base: string): string {
  named += 1;
  return `${base} ${String(named).padStart(2, '0')}`;
}

/** The Refund approval template, as a new workflow of its own. */
async function refundWorkflow(): Promise<string> {
  const created = await api.createWorkflow({ name: uniqueName('Refund'), template: 'refund-approval.stepwise.json' });
  return created.id;
}

/** A 5-node chain laid out as the editor's auto-layout would: trigger → 3 code steps → output. */
async function fiveNodeFlow(): Promise<string> {
  const name = uniqueName('Five');
  const { id } = await api.createWorkflow({ name });
  const ids = ['start', 'a', 'b', 'c', 'end'];
  const types = ['trigger.manual', 'code', 'code', 'code', 'output'];
  const nodes = ids.map(
    (nodeId, index) =>
      ({
        id: nodeId,
        type: types[index] ?? 'code',
        typeVersion: 1,
        position: { x: index * 280, y: 0 },
        config: types[index] === 'code' ? { code: 'return input;' } : {},
      }) satisfies WorkflowNode,
  );
  const edges = ids.slice(1).map((target, index) => ({
    id: `e${index}`,
    source: ids[index] ?? 'start',
    sourceHandle: 'out',
    target,
    targetHandle: 'in',
  }));
  const draft: Workflow = { format: WORKFLOW_FORMAT, id, name, nodes, edges };
  await api.saveDraft({ workflowId: id, draft });
  return id;
}

async function openApp(
  workflowId: string,
  options: { colorScheme?: 'light' | 'dark'; init?: Record<string, string> } = {},
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  contexts.push(context);
  if (options.init) {
    const entries = options.init;
    // localStorage before the app reads it: the layout a returning user left.
    await context.addInitScript({
      content: `for (const [k, v] of Object.entries(${JSON.stringify(entries)})) localStorage.setItem(k, v);`,
    });
  }
  const page = await context.newPage();
  await page.goto(`${served.url}#/workflows/${encodeURIComponent(workflowId)}`);
  await page.getByTestId('editor').waitFor();
  await page.locator('.react-flow__node').first().waitFor();
  return page;
}

const dialog = (page: Page) => page.getByTestId('run-dialog');
const runButton = (page: Page) => dialog(page).getByRole('button', { name: 'Run', exact: true });

async function openRunDialog(page: Page): Promise<void> {
  await page.getByTestId('editor').getByRole('button', { name: 'Run', exact: true }).click();
  await dialog(page).waitFor();
  // Monaco is loaded on first use: wait for its text area.
  await dialog(page).locator('.monaco-editor textarea').waitFor();
}

/** Replaces the input's text by typing it (Monaco types over the brackets it closed itself). */
async function typeInput(page: Page, text: string): Promise<void> {
  await dialog(page).locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text, { delay: 5 });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

function runIdFromUrl(page: Page): string | null {
  const match = /#\/runs\/([^/?]+)$/.exec(new URL(page.url()).hash);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

// ── Tests ─────────────────────────────────────────────────────────────────────────────────────

describe('the run dialog', { timeout: 90_000 }, () => {
  it('runs with the typed input on Ctrl+Enter, opens the run, and offers that input next time', async () => {
    const workflowId = await refundWorkflow();
    const page = await openApp(workflowId);
    await openRunDialog(page);
    expect(await dialog(page).getByTestId('run-version-note').textContent()).toBe(
      'Running saves the draft as version 1 first.',
    );
    const input = { amount: 42, reason: 'arrived broken', customer: { id: 'c-7' } };
    await typeInput(page, JSON.stringify(input));
    await expect.poll(() => runButton(page).isEnabled()).toBe(true);
    await shot(page, 'run-dialog');
    // Focus is in Monaco: its own Ctrl+Enter command runs.
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => runIdFromUrl(page)).not.toBeNull();
    const runId = runIdFromUrl(page) ?? '';
    const run = await api.getRun({ runId });
    expect(run.input).toEqual(input);
    expect(run.version).toBe(1);
    expect(run.workflowId).toBe(workflowId);
    expect(await dialog(page).count()).toBe(0);

    await page.goBack();
    await page.getByTestId('editor').waitFor();
    await openRunDialog(page);
    const text = await dialog(page).locator('.monaco-editor .view-lines').innerText();
    expect(JSON.parse(text.replace(/\u00a0/g, ' '))).toEqual(input);
    const options = await dialog(page)
      .getByTestId('run-input-history')
      .locator('option:not([disabled])')
      .allTextContents();
    // One entry, summarised on one line.
    expect(options).toHaveLength(1);
    expect(options[0]).toMatch(/^\{"amount":42,"reason":"arrived broken"/);
    expect(await dialog(page).getByTestId('run-version-note').textContent()).toMatch(/^Runs version 1/);
  });

  it('keeps Run disabled while the input is not JSON, and says where', async () => {
    const workflowId = await refundWorkflow();
    const page = await openApp(workflowId);
    await openRunDialog(page);
    await typeInput(page, '{"amount": 10,, "x": 1}');
    const error = dialog(page).getByTestId('run-input-error');
    await expect.poll(() => error.textContent()).toMatch(/^Line 1, column 15: /);
    expect(await runButton(page).isDisabled()).toBe(true);
    // Ctrl+Enter does nothing either.
    await page.keyboard.press('Control+Enter');
    expect(await dialog(page).isVisible()).toBe(true);
    await typeInput(page, '{"amount": 10}');
    await expect.poll(() => error.textContent()).toBe('Valid JSON');
    expect(await runButton(page).isEnabled()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog(page).count()).toBe(0);
  });

  it('says that a changed draft is saved as the next version, and pins the run to it', async () => {
    const workflowId = await refundWorkflow();
    const first = await api.saveVersion({ workflowId });
    expect(first.version).toBe(1);
    const detail = await api.getWorkflow({ workflowId });
    await api.saveDraft({ workflowId, draft: { ...detail.draft, name: `${detail.draft.name} (edited)` } });
    const page = await openApp(workflowId);
    await openRunDialog(page);
    await expect
      .poll(() => dialog(page).getByTestId('run-version-note').textContent())
      .toBe('Running saves the draft as version 2 first.');
    await typeInput(page, '{"amount": 500}');
    await runButton(page).click();
    await expect.poll(() => runIdFromUrl(page)).not.toBeNull();
    const run = await api.getRun({ runId: runIdFromUrl(page) ?? '' });
    expect(run.version).toBe(2);
    expect(run.input).toEqual({ amount: 500 });
  });
});

// ── Layout and theme ──────────────────────────────────────────────────────────────────────────

/** The canvas's zoom, read from React Flow's viewport transform. */
async function zoomOf(page: Page): Promise<number> {
  const style = (await page.locator('.react-flow__viewport').getAttribute('style')) ?? '';
  const match = /scale\(([\d.]+)\)/.exec(style);
  return match ? Number(match[1]) : Number.NaN;
}

async function canvasWidth(page: Page): Promise<number> {
  return (await page.getByTestId('canvas').boundingBox())?.width ?? 0;
}

/** The relative luminance (0 black … 1 white) of an element's computed, opaque background. */
async function backgroundLuminance(page: Page, selector: string): Promise<number> {
  const colour = await page.evaluate<string>(
    `getComputedStyle(document.querySelector(${JSON.stringify(selector)})).backgroundColor`,
  );
  const [r = 0, g = 0, b = 0, alpha = 1] = (colour.match(/[\d.]+/g) ?? []).map(Number);
  // A transparent background says nothing about the theme.
  if (alpha === 0) return Number.NaN;
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

describe('the layout', { timeout: 90_000 }, () => {
  it('collapses the side panels, gives the canvas the width, and remembers it', async () => {
    const workflowId = await fiveNodeFlow();
    const page = await openApp(workflowId);
    const before = await canvasWidth(page);
    expect(before).toBeLessThan(800);
    await page.getByRole('button', { name: 'Hide workflows' }).click();
    await page.getByRole('button', { name: 'Hide palette' }).click();
    await page.getByRole('button', { name: 'Hide side panel' }).click();
    await expect.poll(() => canvasWidth(page)).toBeGreaterThan(1200);
    expect(await page.getByRole('complementary', { name: 'Node palette' }).count()).toBe(0);
    expect(await page.getByTestId('inspector').count()).toBe(0);

    // Fit to view, at the new width: a 5-node flow is readable.
    await page.getByTestId('editor').getByRole('button', { name: 'Zoom to fit' }).click();
    await expect.poll(() => zoomOf(page)).toBeGreaterThanOrEqual(0.75);
    expect(await zoomOf(page)).toBeLessThanOrEqual(1);
    await shot(page, 'layout-collapsed');

    // A reload keeps the layout, and the flow opens at a readable zoom straight away.
    await page.reload();
    await page.locator('.react-flow__node').first().waitFor();
    await expect.poll(() => canvasWidth(page)).toBeGreaterThan(1200);
    await expect.poll(() => zoomOf(page)).toBeGreaterThanOrEqual(0.75);
    expect(await page.getByRole('button', { name: 'Show workflows' }).isVisible()).toBe(true);

    // And everything comes back.
    await page.getByRole('button', { name: 'Show workflows' }).click();
    await page.getByRole('button', { name: 'Show palette' }).click();
    await page.getByRole('button', { name: 'Show side panel' }).click();
    await page.getByTestId('inspector').waitFor();
    await expect.poll(() => canvasWidth(page)).toBeLessThan(800);
  });

  it('opens a 5-node flow readable when the sidebar was left collapsed', async () => {
    const workflowId = await fiveNodeFlow();
    const page = await openApp(workflowId, {
      init: {
        'stepwise:layout:sidebar-hidden': 'true',
        'stepwise:layout:palette-hidden': 'true',
        'stepwise:layout:panel-hidden': 'true',
      },
    });
    await expect.poll(() => zoomOf(page)).toBeGreaterThanOrEqual(0.75);
    expect(await canvasWidth(page)).toBeGreaterThan(1200);
  });
});

describe('the theme', { timeout: 90_000 }, () => {
  it('follows the system preference: dark, then light', async () => {
    const workflowId = await refundWorkflow();
    const page = await openApp(workflowId, { colorScheme: 'dark' });
    expect(await backgroundLuminance(page, 'body')).toBeLessThan(0.2);
    expect(await backgroundLuminance(page, '.sidebar')).toBeLessThan(0.2);
    // React Flow follows too (its colorMode="system" marks the canvas dark).
    expect(await page.locator('.react-flow.dark').count()).toBe(1);
    await shot(page, 'theme-dark');
    await openRunDialog(page);
    // Monaco's theme follows as well.
    await dialog(page).locator('.monaco-editor.vs-dark').waitFor();
    await shot(page, 'run-dialog-dark');
    await page.keyboard.press('Escape');

    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => backgroundLuminance(page, 'body')).toBeGreaterThan(0.8);
    expect(await page.locator('.react-flow.light').count()).toBe(1);
    await shot(page, 'theme-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => backgroundLuminance(page, 'body')).toBeLessThan(0.2);
  });
});
