// Parent and child runs link each other in the run view, in Debian's Chromium against `stepwise
// serve`: the inspector of a `loop.map` node lists the child runs it started (item, status, a link
// to each); a child's header says whose child it is. The test clicks from the parent to a child
// and back.
import type { Page } from '@playwright/test';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_FORMAT, type Workflow } from '../../engine/api/index.js';
import { servedAppSuite } from '../support/e2e-suite.js';
import { edge, until } from '../support/harness.js';

const suite = servedAppSuite('stepwise-run-links-');
const api = () => suite.app().api;

const at = (x: number) => ({ x, y: 0 });

/** Child: trigger → output (its input). */
const child: Workflow = {
  format: WORKFLOW_FORMAT,
  id: 'links-child',
  name: 'Links child',
  nodes: [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: at(0), config: {} },
    { id: 'end', type: 'output', typeVersion: 1, position: at(300), config: {} },
  ],
  edges: [edge('start', 'end')],
};

/** Parent: trigger → loop.map of the child over `input.items`, two at a time → output. */
const parent: Workflow = {
  format: WORKFLOW_FORMAT,
  id: 'links-parent',
  name: 'Links parent',
  nodes: [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: at(0), config: {} },
    {
      id: 'map',
      type: 'loop.map',
      typeVersion: 1,
      name: 'Each item',
      position: at(300),
      config: { items: '{{ input.items }}', workflowId: 'links-child', concurrency: 2 },
    },
    { id: 'end', type: 'output', typeVersion: 1, position: at(600), config: {} },
  ],
  edges: [edge('start', 'map'), edge('map', 'end')],
};

async function openRun(runId: string): Promise<Page> {
  const context = await suite.app().browser.newContext({ viewport: { width: 1440, height: 900 } });
  suite.contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${suite.app().served.url}#/runs/${encodeURIComponent(runId)}`);
  await page.getByTestId('node-start').waitFor();
  return page;
}

describe('run links', () => {
  it('the loop.map inspector links each child run; a child links back to its parent', async () => {
    for (const flow of [child, parent]) await api().importWorkflow({ text: JSON.stringify(flow) });
    const { runId } = await api().startRun({ workflowId: 'links-parent', input: { items: ['a', 'b', 'c'] } });
    await until(async () => (await api().getRun({ runId })).status === 'completed', 'the parent completed', 30_000);
    const children = (await api().getRun({ runId })).children;
    expect(children.map((link) => [link.index, link.status])).toEqual([
      [0, 'completed'],
      [1, 'completed'],
      [2, 'completed'],
    ]);

    const page = await openRun(runId);
    // A run with no parent says nothing about one.
    expect(await page.getByTestId('parent-run-link').count()).toBe(0);
    await page.getByTestId('node-map').click();
    const links = page.getByTestId('child-run-link');
    await until(async () => (await links.count()) === 3, 'three child links');
    expect(await Promise.all((await links.all()).map((link) => link.getAttribute('data-run-id')))).toEqual(
      children.map((link) => link.runId),
    );
    expect(await page.getByTestId('child-run-status').allTextContents()).toEqual([
      'completed',
      'completed',
      'completed',
    ]);

    const second = children[1]?.runId ?? '';
    await page.locator(`[data-testid="child-run-link"][data-run-id="${second}"]`).click();
    await page.locator(`[data-testid="run-view"][data-run-id="${second}"]`).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/runs/${second}`);
    const back = page.getByTestId('parent-run-link');
    await back.waitFor();
    expect(await back.getAttribute('data-run-id')).toBe(runId);
    expect(await page.getByTestId('parent-run').textContent()).toBe(`child of run ${runId}`);

    await back.click();
    await page.locator(`[data-testid="run-view"][data-run-id="${runId}"]`).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/runs/${runId}`);
  }, 60_000);
});
