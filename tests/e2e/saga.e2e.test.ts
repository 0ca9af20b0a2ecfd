// Saga compensation in Debian's Chromium against `stepwise serve`: an undo edge is drawn dashed
// on the canvas (editor and run view), a compensated run shows its status in the run view and the
// runs list, and a failed compensation shows a loud banner naming the compensation and what it
// was undoing. A local HTTP server stands in for the payments service.
import type { ServerResponse } from 'node:http';
import type { Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_FORMAT, type RunStatus, type Workflow } from '../../engine/api/index.js';
import { servedAppSuite } from '../support/e2e-suite.js';
import { edge, until } from '../support/harness.js';
import { startScriptedServer, type RecordedRequest, type ScriptedServer } from '../support/http-server.js';

const suite = servedAppSuite('stepwise-saga-');
const api = () => suite.app().api;
let server: ScriptedServer;

/** Provisioning is refused (400: not retried); a refund at /refund-broken is down (500). */
function answer(request: RecordedRequest, response: ServerResponse): void {
  const status = request.path === '/provision' ? 400 : request.path === '/refund-broken' ? 500 : 200;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(status === 200 ? { id: `${request.path.slice(1)}-1` } : { error: 'refused' }));
}

beforeAll(async () => {
  server = await startScriptedServer(answer);
});
afterAll(async () => {
  await server?.close();
});

/** start → charge → provision, with charge's undo edge into refund. */
function signup(id: string, refundPath: string): Workflow {
  const call = (nodeId: string, name: string, path: string, x: number, y = 0) => ({
    id: nodeId,
    type: 'http.request',
    typeVersion: 1,
    name,
    position: { x, y },
    config: { method: 'POST', url: `${server.url}${path}` },
    retry: { maxAttempts: 1 },
  });
  return {
    format: WORKFLOW_FORMAT,
    id,
    name: `Signup ${id}`,
    nodes: [
      { id: 'start', type: 'trigger.manual', typeVersion: 1, name: 'Start', position: { x: 0, y: 0 }, config: {} },
      call('charge', 'Charge card', '/charge', 300),
      call('provision', 'Provision', '/provision', 600),
      call('refund', 'Refund', refundPath, 300, 220),
    ],
    edges: [edge('start', 'charge'), edge('charge', 'provision'), edge('charge:undo', 'refund')],
  };
}

async function runTo(flow: Workflow, status: RunStatus): Promise<string> {
  const imported = await api().importWorkflow({ text: JSON.stringify(flow) });
  const run = await api().startRun({ workflowId: imported.workflow.id, input: { plan: 'pro' } });
  await until(async () => (await api().getRun({ runId: run.runId })).status === status, `run ${status}`, 30_000);
  return run.runId;
}

async function open(hash: string): Promise<Page> {
  const context = await suite.app().browser.newContext({ viewport: { width: 1440, height: 900 } });
  suite.contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${suite.app().served.url}${hash}`);
  return page;
}

/** The undo edge's path is dashed, and the normal edges are not. */
async function expectDashedUndoEdge(page: Page): Promise<void> {
  const undo = page.locator('.react-flow__edge[data-edge-kind="undo"]');
  await undo.waitFor();
  expect(await undo.count()).toBe(1);
  const dash = (selector: string): Promise<unknown> =>
    page.evaluate(
      `getComputedStyle(document.querySelector(${JSON.stringify(`${selector} .react-flow__edge-path`)})).strokeDasharray`,
    );
  expect(await dash('.react-flow__edge[data-edge-kind="undo"]')).toMatch(/^6(px)?,? 4(px)?$/);
  expect(await dash('.react-flow__edge:not([data-edge-kind="undo"])')).toBe('none');
}

describe('saga compensation in the UI', () => {
  it('draws the undo edge dashed in the editor', async () => {
    const imported = await api().importWorkflow({ text: JSON.stringify(signup('saga-editor', '/refund')) });
    const page = await open(`#/workflows/${encodeURIComponent(imported.workflow.id)}`);
    await expectDashedUndoEdge(page);
  }, 60_000);

  it('a compensated run shows its status in the run view and in the runs list', async () => {
    const runId = await runTo(signup('saga-ok', '/refund'), 'compensated');
    expect(server.requests.map((request) => request.path).slice(-3)).toEqual(['/charge', '/provision', '/refund']);
    const page = await open(`#/runs/${encodeURIComponent(runId)}`);
    const status = page.getByTestId('run-status');
    await status.and(page.locator('[data-status="compensated"]')).waitFor();
    expect(await status.textContent()).toBe('compensated');
    expect(await page.getByTestId('run-compensation').textContent()).toMatch(/was undone/);
    expect(await page.getByTestId('compensation-failed').count()).toBe(0);
    await expectDashedUndoEdge(page);
    await page.getByTestId('node-refund').and(page.locator('[data-run-status="completed"]')).waitFor();

    const list = await open('#/runs');
    const row = list.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('compensated');
    expect(await row.locator('.run-pill').textContent()).toBe('compensated');
  }, 60_000);

  it('a failed compensation shows a banner naming it and what it was undoing', async () => {
    const runId = await runTo(signup('saga-broken', '/refund-broken'), 'compensation_failed');
    const page = await open(`#/runs/${encodeURIComponent(runId)}`);
    const banner = page.getByTestId('compensation-failed');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/Compensation failed: “refund”, undoing “charge”, did not finish/);
    expect(await page.getByTestId('run-status').textContent()).toBe('compensation failed');
    const list = await open('#/runs');
    const row = list.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('compensation_failed');
  }, 60_000);
});
