// The proof of issue 10 in the app, in Debian's Chromium against `stepwise serve`: the refund
// template's flow built by hand from the palette — a model triages the request (an llm.chat node
// pointed at the built-in mock service), a manager approves in the inbox, the refund is paid over
// HTTP — run from the run dialog, approved in the inbox, and seen to complete.
import type { Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockService, type MockService } from '../../engine/mock-service/server.js';
import { servedAppSuite } from '../support/e2e-suite.js';

const suite = servedAppSuite('stepwise-refund-agent-');
const { contexts } = suite;
let mock: MockService;

beforeAll(async () => {
  mock = await startMockService(0);
});
afterAll(async () => {
  await mock.close();
});

const node = (page: Page, id: string) => page.getByTestId(`node-${id}`);

/** Drags from one handle to another with the mouse, as a person connects two ports. */
async function connect(page: Page, from: string, to: string): Promise<void> {
  const source = await page.getByTestId(from).boundingBox();
  const target = await page.getByTestId(to).boundingBox();
  if (!source || !target) throw new Error(`no handle ${source ? to : from}`);
  await page.mouse.move(source.x + source.width / 2, source.y + source.height / 2);
  await page.mouse.down();
  await page.mouse.move(target.x + target.width / 2, target.y + target.height / 2, { steps: 12 });
  await page.mouse.up();
}

/** Replaces a Monaco field's text (inserted as a paste is: Monaco closes no brackets of its own). */
async function setMonaco(page: Page, testId: string, text: string): Promise<void> {
  await page.locator(`[data-testid="${testId}"] .view-lines`).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

const TRIAGE_SCHEMA = {
  type: 'object',
  required: ['category', 'refundable', 'summary'],
  properties: {
    category: { type: 'string', enum: ['damaged', 'late', 'wrong-item', 'other'] },
    refundable: { type: 'boolean' },
    summary: { type: 'string' },
  },
};

describe('the refund agent, built from the palette', { timeout: 120_000 }, () => {
  it('triages with llm.chat against the mock service, parks in the inbox, and completes once approved', async () => {
    const { browser, served, api } = suite.app();
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(served.url);

    // A new workflow; its trigger is there already.
    const name = 'Refund agent by hand';
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await page.getByRole('dialog').getByRole('textbox').fill(name);
    await page.getByRole('button', { name: 'Create' }).click();
    await node(page, 'start').waitFor();
    const pane = page.locator('.react-flow__pane');
    const drops: [string, number, number][] = [
      ['llm.chat', 380, 120],
      ['approval', 700, 120],
      ['http.request', 380, 480],
      ['output', 700, 480],
    ];
    for (const [type, x, y] of drops)
      await page.getByTestId(`palette-${type}`).dragTo(pane, { targetPosition: { x, y } });
    for (const id of ['llm-chat', 'approval', 'http-request', 'output']) await node(page, id).waitFor();

    await connect(page, 'out-start-out', 'in-llm-chat-in');
    await connect(page, 'out-llm-chat-out', 'in-approval-in');
    await connect(page, 'out-approval-approved', 'in-http-request-in');
    await connect(page, 'out-http-request-out', 'in-output-in');
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(4);

    // Configure in the inspector: the model, the card, the payment call.
    await node(page, 'llm-chat').click();
    await setMonaco(
      page,
      'monaco-llm-chat-providers',
      JSON.stringify([{ kind: 'openai', baseUrl: `${mock.origin}/v1`, model: 'mock-triage' }]),
    );
    await page.locator('#llm-chat-system').fill('You triage refund requests. Answer JSON.');
    await setMonaco(page, 'monaco-llm-chat-outputSchema', JSON.stringify(TRIAGE_SCHEMA));
    await node(page, 'approval').click();
    await page.locator('#approval-title').fill('Refund this order?');
    await setMonaco(
      page,
      'monaco-approval-fields',
      JSON.stringify([
        { label: 'Category (model)', value: 'input.json.category' },
        { label: 'Summary (model)', value: 'input.json.summary' },
      ]),
    );
    await node(page, 'http-request').click();
    await page.locator('#http-request-method').selectOption('POST');
    await page.locator('#http-request-url').fill(`${mock.origin}/payments/refunds`);
    await page.locator('[data-testid="save-state"][data-state="saved"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId('problem-count').textContent()).toBe('0 errors');

    // Run it from the run dialog: the run view opens.
    await page.getByTestId('editor').getByRole('button', { name: 'Run', exact: true }).click();
    const dialog = page.getByTestId('run-dialog');
    await dialog.locator('.monaco-editor textarea').waitFor();
    await dialog.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(
      JSON.stringify({ orderId: 'A-2087', amount: 320, reason: 'The blender arrived damaged: the jug is cracked.' }),
    );
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => /#\/runs\/([^/?]+)$/.exec(new URL(page.url()).hash)?.[1] ?? null).not.toBeNull();
    const runId = decodeURIComponent(/#\/runs\/([^/?]+)$/.exec(new URL(page.url()).hash)?.[1] ?? '');
    await expect
      .poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('waiting');
    // The model was called once, through the OpenAI format, and its triage is on the card.
    expect(mock.calls.filter((call) => call.path === '/v1/chat/completions')).toHaveLength(1);

    // Approve in the inbox.
    await page.goto(`${served.url}#/approvals`);
    const item = page.locator(`[data-testid="approval-item"][data-run-id="${runId}"]`);
    await item.waitFor();
    await item.getByRole('button', { name: 'Refund this order?' }).click();
    const card = item.getByTestId('approval-card');
    expect(await card.textContent()).toContain('damaged');
    await card.getByTestId('approval-name').fill('manager');
    await card.getByTestId('approval-comment').fill('damaged on arrival: refund');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();

    // It completes: the run view says so, the payment went to the mock service once.
    await page.goto(`${served.url}#/runs/${encodeURIComponent(runId)}`);
    await expect
      .poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('completed');
    await expect.poll(() => node(page, 'output').getAttribute('data-run-status')).toBe('completed');
    const refunds = mock.calls.filter((call) => call.path === '/payments/refunds');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]?.idempotencyKey).toBe(`${runId}:http-request`);
    const run = await api.getRun({ runId });
    expect(run.status).toBe('completed');
    expect(run.output).toMatchObject({ status: 201, body: { status: 'succeeded' } });
  });
});
