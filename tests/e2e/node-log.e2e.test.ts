// A node's log in the run view (Debian's Chromium against `stepwise serve`): a code node's
// console.log lines are journaled with its end and shown in the inspector's Log section; a fork
// started from the fork dialog with "Playback" checked is journaled as a playback run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from '@playwright/test';
import { WORKFLOW_FORMAT, type Workflow } from '../../engine/api/index.js';
import { servedAppSuite } from '../support/e2e-suite.js';
import { edge, until } from '../support/harness.js';
import { start, type MockLlm } from '../support/mock-llm.js';

const suite = servedAppSuite('stepwise-node-log-');
const api = () => suite.app().api;
let mock: MockLlm;

beforeAll(async () => {
  mock = await start();
});
afterAll(() => mock.close());

function flow(id: string, middle: Workflow['nodes']): Workflow {
  const ids = ['start', ...middle.map((node) => node.id), 'end'];
  return {
    format: WORKFLOW_FORMAT,
    id,
    name: id,
    nodes: [
      { id: 'start', type: 'trigger.manual', typeVersion: 1, name: 'Start', position: { x: 0, y: 0 }, config: {} },
      ...middle,
      { id: 'end', type: 'output', typeVersion: 1, name: 'End', position: { x: 300 * ids.length, y: 0 }, config: {} },
    ],
    edges: ids.slice(1).map((to, index) => edge(ids[index] as string, to)),
  };
}

async function runOf(graph: Workflow, input: unknown): Promise<string> {
  const imported = await api().importWorkflow({ text: JSON.stringify(graph) });
  const run = await api().startRun({ workflowId: imported.workflow.id, input });
  await until(async () => (await api().getRun({ runId: run.runId })).status === 'completed', 'the run', 30_000);
  return run.runId;
}

async function openRun(runId: string): Promise<Page> {
  const context = await suite.app().browser.newContext({ viewport: { width: 1440, height: 900 } });
  suite.contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${suite.app().served.url}#/runs/${encodeURIComponent(runId)}`);
  await page.getByTestId('step-position').waitFor();
  return page;
}

describe('the node log in the run view', () => {
  it("shows a code node's console.log lines in the inspector's Log section", { timeout: 60_000 }, async () => {
    const runId = await runOf(
      flow('console-log', [
        {
          id: 'compute',
          type: 'code',
          typeVersion: 1,
          name: 'Compute',
          position: { x: 300, y: 0 },
          config: {
            code: "console.log('total is', input.a + input.b); console.warn({ late: true }); return input.a + input.b;",
          },
        },
      ]),
      { a: 2, b: 3 },
    );
    const page = await openRun(runId);
    await page.getByTestId('node-compute').click();
    const log = page.getByTestId('node-log');
    await log.getByText('total is 5').waitFor();
    expect(await log.locator('li').allTextContents()).toEqual([
      expect.stringMatching(/console total is 5$/),
      expect.stringMatching(/console \{"late":true\}$/),
    ]);
    expect(await log.locator('li.run-log-warn').count()).toBe(1);
    // A node that noted nothing says so.
    await page.getByTestId('node-start').click();
    await page.getByTestId('node-log').getByText('Nothing logged.').waitFor();
  });

  it(
    'runs from the editor with "Playback" checked: journaled as a playback run, no model call',
    { timeout: 90_000 },
    async () => {
      const graph = flow('playback-run', [
        {
          id: 'ask',
          type: 'llm.chat',
          typeVersion: 1,
          name: 'Ask',
          position: { x: 300, y: 0 },
          config: { providers: [{ kind: 'openai', baseUrl: `${mock.url}/v1`, model: 'tagger' }] },
        },
      ]);
      // A run with the input the dialog sends by default (null) records the answer.
      await runOf(graph, null);
      const calls = mock.requests.length;
      const context = await suite.app().browser.newContext({ viewport: { width: 1440, height: 900 } });
      suite.contexts.push(context);
      const page = await context.newPage();
      await page.goto(`${suite.app().served.url}#/workflows/${encodeURIComponent(graph.id)}`);
      await page.getByTestId('editor').waitFor();
      await page.getByTestId('editor').getByRole('button', { name: 'Run', exact: true }).click();
      const dialog = page.getByTestId('run-dialog');
      await dialog.locator('.monaco-editor textarea').waitFor();
      await dialog.locator('.monaco-editor .view-lines').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.type('null', { delay: 5 });
      await dialog.getByTestId('run-playback').check();
      await dialog.getByRole('button', { name: 'Run', exact: true }).click();
      await page.waitForURL(/#\/runs\/[^/]+$/);
      const runId = decodeURIComponent(/#\/runs\/([^/]+)$/.exec(page.url())?.[1] ?? '');
      await until(async () => (await api().getRun({ runId })).status === 'completed', 'the run', 30_000);
      const { events } = await api().getRunEvents({ runId, limit: 1000 });
      expect(events[0]).toMatchObject({ type: 'RunStarted', data: { playback: true } });
      expect(mock.requests).toHaveLength(calls);
    },
  );

  it('forks with "Playback" checked: the fork answers the model from the record', { timeout: 60_000 }, async () => {
    const calls = mock.requests.length;
    const runId = await runOf(
      flow('playback-fork', [
        {
          id: 'ask',
          type: 'llm.chat',
          typeVersion: 1,
          name: 'Ask',
          position: { x: 300, y: 0 },
          config: { providers: [{ kind: 'openai', baseUrl: `${mock.url}/v1`, model: 'classifier' }] },
        },
      ]),
      { order: 9 },
    );
    expect(mock.requests).toHaveLength(calls + 1);
    const page = await openRun(runId);
    // Step 1 (the run started): the model's node runs again in the fork.
    await page.goto(`${suite.app().served.url}#/runs/${encodeURIComponent(runId)}/step/1`);
    await page
      .getByTestId('step-position')
      .filter({ hasText: /^Step 1 of / })
      .waitFor();
    await page.getByTestId('fork-button').click();
    const dialog = page.getByTestId('fork-dialog');
    await dialog.getByTestId('fork-playback').check();
    await dialog.getByRole('button', { name: 'Fork', exact: true }).click();
    await page.waitForURL((url) => !url.hash.includes(runId));
    const forkId = decodeURIComponent(/#\/runs\/([^/]+)/.exec(page.url())?.[1] ?? '');
    await until(async () => (await api().getRun({ runId: forkId })).status === 'completed', 'the fork', 30_000);
    const { events } = await api().getRunEvents({ runId: forkId, limit: 1000 });
    expect(events[0]).toMatchObject({ type: 'RunStarted', data: { playback: true } });
    expect(mock.requests).toHaveLength(calls + 1);
    await page.getByTestId('node-ask').click();
    await page
      .getByTestId('node-log')
      .getByText(/recorded answer \(playback, not sent\)/)
      .waitFor();
  });
});
