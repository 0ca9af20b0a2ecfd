// The code node's editor in Debian's Chromium against `stepwise serve`: TypeScript checking with
// `input` typed from the node's input in the last run, and Monaco's workers from the app's origin.
import type { Browser, Page, Request, Worker } from '@playwright/test';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_FORMAT, type EngineApi, type WorkflowNode } from '../../engine/api/index.js';
import type { ServedProcess } from '../support/browser.js';
import { servedAppSuite } from '../support/e2e-suite.js';

const suite = servedAppSuite('stepwise-code-editor-');
const { contexts } = suite;
let served: ServedProcess;
let browser: Browser;
let api: EngineApi;

beforeAll(() => {
  ({ served, browser, api } = suite.app());
});

/** start → code → end, run once with `{ amount: 42 }` so the code node has a last input. */
async function ranCodeFlow(): Promise<string> {
  const { id } = await api.createWorkflow({ name: 'Typed input' });
  const place = (nodeId: string, type: string, x: number, config: Record<string, unknown> = {}) =>
    ({ id: nodeId, type, typeVersion: 1, position: { x, y: 0 }, config }) satisfies WorkflowNode;
  await api.saveDraft({
    workflowId: id,
    draft: {
      format: WORKFLOW_FORMAT,
      id,
      name: 'Typed input',
      nodes: [
        place('start', 'trigger.manual', 0),
        place('code', 'code', 300, { code: 'return { doubled: input.amount * 2 };' }),
        place('end', 'output', 600),
      ],
      edges: [
        { id: 'e1', source: 'start', sourceHandle: 'out', target: 'code', targetHandle: 'in' },
        { id: 'e2', source: 'code', sourceHandle: 'out', target: 'end', targetHandle: 'in' },
      ],
    },
  });
  const { run } = await api.runDraft({ workflowId: id, input: { amount: 42, currency: 'EUR' } });
  await expect.poll(async () => (await api.getRun({ runId: run.runId })).status, { timeout: 20_000 }).toBe('completed');
  return id;
}

async function typeInMonaco(page: Page, testId: string, text: string): Promise<void> {
  await page.locator(`[data-testid="${testId}"] .view-lines`).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text, { delay: 5 });
}

describe('the code editor', { timeout: 90_000 }, () => {
  it('flags a misspelt field of the last input, not the right one; workers come from the app', async () => {
    const workflowId = await ranCodeFlow();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    contexts.push(context);
    const requests: string[] = [];
    context.on('request', (request: Request) => requests.push(request.url()));
    const page = await context.newPage();
    const workers: string[] = [];
    page.on('worker', (worker: Worker) => workers.push(worker.url()));
    await page.goto(`${served.url}#/workflows/${encodeURIComponent(workflowId)}`);
    await page.getByTestId('node-code').click();
    const editor = '[data-testid="monaco-code-code"]';
    await page.locator(`${editor} .view-lines`).waitFor();
    const problems = page.getByTestId('code-problems');

    await typeInMonaco(page, 'monaco-code-code', 'return input.amout;');
    await expect.poll(() => problems.textContent(), { timeout: 20_000 }).toBe('1 problem');
    await page.locator(`${editor} .squiggly-error`).first().waitFor();
    await expect.poll(() => page.locator(`${editor} .squiggly-error`).count()).toBe(1);

    await typeInMonaco(page, 'monaco-code-code', 'return input.amount + $math.sum([1, 2]);');
    await expect.poll(() => problems.textContent(), { timeout: 20_000 }).toBe('No problems');
    await expect.poll(() => page.locator(`${editor} .squiggly-error`).count()).toBe(0);

    // A browser global the sandbox does not have is a problem too.
    await typeInMonaco(page, 'monaco-code-code', 'return fetch("https://example.com");');
    await expect.poll(() => problems.textContent(), { timeout: 20_000 }).toBe('1 problem');

    // The TypeScript worker ran, loaded from the app's own origin, and nothing went elsewhere.
    const origin = new URL(served.url).origin;
    expect(workers.some((url) => url.startsWith(origin) && /ts\.worker/.test(url))).toBe(true);
    const elsewhere = requests.filter((url) => !url.startsWith(origin) && !/^(data|blob):/.test(url));
    expect(elsewhere).toEqual([]);
  });
});
