// People in the loop, in Debian's Chromium against `stepwise serve` (issue 9, "Deciding"): the
// inbox badge, the approvals page and its cards, the run view's card, decisions made elsewhere
// (the CLI, the API) showing up without a reload, and a second decision refused naming the first.
// Tests wait on conditions, never on time; each has its own browser context and workflow.
import type { Page } from '@playwright/test';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_FORMAT, type Workflow, type WorkflowNode } from '../../engine/api/index.js';
import { notified, recordNotifications, servedAppSuite } from '../support/e2e-suite.js';
import { runCli } from '../support/harness.js';

const suite = servedAppSuite('stepwise-approvals-');
const { dir, contexts } = suite;
const api = () => suite.app().api;

let made = 0;

/** start → approval "ok" → done (approved) / refused (rejected), versioned: its runs park at "ok". */
async function approvalWorkflow(): Promise<string> {
  made += 1;
  const name = `Refund ${made}`;
  const { id } = await api().createWorkflow({ name });
  const place = (nodeId: string, type: string, x: number, y = 0, config: Record<string, unknown> = {}) =>
    ({ id: nodeId, type, typeVersion: 1, position: { x, y }, config }) satisfies WorkflowNode;
  const draft: Workflow = {
    format: WORKFLOW_FORMAT,
    id,
    name,
    nodes: [
      place('start', 'trigger.manual', 0),
      place('ok', 'approval', 300, 0, {
        title: `Refund ${made}?`,
        instructions: 'Check the **amount** against `policy`.\n\n- the customer\n- the order',
      }),
      place('done', 'output', 600),
      place('refused', 'output', 600, 200),
    ],
    edges: [
      { id: 'e1', source: 'start', sourceHandle: 'out', target: 'ok', targetHandle: 'in' },
      { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'done', targetHandle: 'in' },
      { id: 'e3', source: 'ok', sourceHandle: 'rejected', target: 'refused', targetHandle: 'in' },
    ],
  };
  await api().saveDraft({ workflowId: id, draft });
  const saved = await api().saveVersion({ workflowId: id });
  expect(saved.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
  return id;
}

/** A run of the workflow, once it is parked at its approval. */
async function parkedRun(workflowId: string, input: unknown): Promise<string> {
  const { runId } = await api().startRun({ workflowId, input });
  await expect.poll(async () => (await api().getRun({ runId })).status, { timeout: 15_000 }).toBe('waiting');
  return runId;
}

async function openPage(hash: string): Promise<Page> {
  const context = await suite.app().browser.newContext({ viewport: { width: 1440, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${suite.app().served.url}${hash}`);
  return page;
}

/** The badge's text; exactly one badge is on the page. */
async function badge(page: Page): Promise<string> {
  const badges = page.getByTestId('inbox-count');
  expect(await badges.count()).toBe(1);
  return (await badges.textContent()) ?? '';
}

const open = async () => (await api().listInbox({})).items.length;
const item = (page: Page, runId: string) => page.locator(`[data-testid="approval-item"][data-run-id="${runId}"]`);
const activation = async (runId: string, nodeId: string) =>
  (await api().getRun({ runId })).activations.find((entry) => entry.nodeId === nodeId);

describe('approvals in the app', () => {
  it('a parked run is in the inbox; approving it from its card completes the run and records who and why', async () => {
    expect(await open()).toBe(0);
    const workflowId = await approvalWorkflow();
    const runId = await parkedRun(workflowId, { amount: 42 });
    const page = await openPage('#/approvals');
    await expect.poll(() => badge(page)).toBe('1');
    const entry = item(page, runId);
    await entry.waitFor();
    expect(await entry.getAttribute('data-node-id')).toBe('ok');
    expect(await entry.textContent()).toContain(`Refund ${made}`);
    // The input the approver is shown, before the card is opened.
    expect(JSON.parse((await entry.getByTestId('approval-input').textContent()) ?? 'null')).toEqual({ amount: 42 });

    await entry.getByRole('button', { name: `Refund ${made}?` }).click();
    const card = entry.getByTestId('approval-card');
    // Instructions as Markdown: elements, not asterisks.
    expect(await card.locator('.approval-instructions strong').textContent()).toBe('amount');
    expect(await card.locator('.approval-instructions li').count()).toBe(2);
    await card.getByTestId('approval-name').fill('alice');
    await card.getByTestId('approval-comment').fill('within policy');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();

    await expect.poll(async () => (await api().getRun({ runId })).status, { timeout: 15_000 }).toBe('completed');
    expect((await activation(runId, 'done'))?.status).toBe('completed');
    await expect.poll(() => badge(page)).toBe('0');
    await expect.poll(() => item(page, runId).count()).toBe(0);
    expect(await page.getByTestId('approvals-empty').count()).toBe(1);

    // The timeline tells the decision: who and the comment.
    await page.goto(`${suite.app().served.url}#/runs/${runId}`);
    const row = page.locator('.timeline-row', { hasText: 'SignalReceived' });
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('approved by alice');
    expect(text).toContain('within policy');
    // The name is remembered for the next card.
    expect(await page.evaluate("window.localStorage.getItem('stepwise.approver')")).toBe('alice');
  });

  it('rejected on the run view, the run follows the rejected port', async () => {
    const workflowId = await approvalWorkflow();
    const runId = await parkedRun(workflowId, { amount: 900 });
    const page = await openPage(`#/runs/${runId}`);
    const card = page.getByTestId('run-inspector').getByTestId('approval-card');
    await card.waitFor();
    expect(await card.getAttribute('data-node-id')).toBe('ok');
    await card.getByTestId('approval-comment').fill('too much');
    await card.getByRole('button', { name: 'Reject', exact: true }).click();
    // The run view moves on by itself.
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status')).toBe('completed');
    const ok = await activation(runId, 'ok');
    expect(ok?.port).toBe('rejected');
    expect(ok?.signal).toMatchObject({ decision: 'rejected', comment: 'too much' });
    expect((await activation(runId, 'refused'))?.status).toBe('completed');
    expect((await activation(runId, 'done'))?.status).toBe('skipped');
    await expect.poll(() => card.count()).toBe(0);
  });

  it('a decision made by the CLI while the inbox is open removes the item without a reload', async () => {
    const workflowId = await approvalWorkflow();
    const before = await open();
    const runId = await parkedRun(workflowId, { amount: 7 });
    const page = await openPage('#/approvals');
    await item(page, runId).waitFor();
    await expect.poll(() => badge(page)).toBe(String(before + 1));
    const approved = await runCli(['approve', runId, '--by', 'carol'], { db: dir.db });
    expect(approved.code, approved.stderr).toBe(0);
    await expect.poll(() => item(page, runId).count()).toBe(0);
    await expect.poll(() => badge(page)).toBe(String(before));
    expect((await activation(runId, 'ok'))?.signal).toMatchObject({ decision: 'approved', by: 'carol' });
  });

  it('a second decision is refused on the card, naming the first', async () => {
    const workflowId = await approvalWorkflow();
    const runId = await parkedRun(workflowId, { amount: 8 });
    const page = await openPage('#/approvals');
    const entry = item(page, runId);
    await entry.getByRole('button', { name: `Refund ${made}?` }).click();
    const approve = page.getByTestId('approval-card').getByRole('button', { name: 'Approve', exact: true });
    await approve.waitFor();
    await api().decide({ runId, decision: 'approved', by: 'alice' });
    // The item leaves the inbox; the card being read stays, outside the list.
    await expect.poll(() => entry.count()).toBe(0);
    await approve.click();
    const outcome = page.getByTestId('approval-outcome');
    await outcome.waitFor();
    expect(await outcome.textContent()).toMatch(/^Already approved by alice at /);
    expect((await activation(runId, 'ok'))?.signal).toMatchObject({ decision: 'approved', by: 'alice' });
  });

  it('announces approvals that arrive while the page is open, never those already there; the badge stays in the rail', async () => {
    const workflowId = await approvalWorkflow();
    const earlier = await parkedRun(workflowId, { amount: 1 });
    const context = await suite.app().browser.newContext({ viewport: { width: 1440, height: 900 } });
    contexts.push(context);
    await recordNotifications(context, suite.app().served.origin);
    const page = await context.newPage();
    await page.goto(`${suite.app().served.url}#/approvals`);
    await item(page, earlier).waitFor();
    // Allowed already: no button to ask, a word that they are on.
    expect(await page.getByRole('button', { name: 'Notify me of new approvals' }).count()).toBe(0);
    await page.getByText('Notifications are on').waitFor();
    const before = await open();

    const later = await parkedRun(workflowId, { amount: 2 });
    await item(page, later).waitFor();
    await expect.poll(async () => (await notified(page)).length).toBe(1);
    const [shown] = await notified(page);
    expect(shown?.title).toBe(`Approval: Refund ${made}?`);
    expect(shown?.body).toContain(later);

    // The collapsed sidebar keeps one badge, with the count.
    await page.getByRole('button', { name: 'Hide workflows' }).click();
    await expect.poll(() => badge(page)).toBe(String(before + 1));
    for (const runId of [earlier, later]) await api().decide({ runId, decision: 'approved', by: 'dana' });
    await expect.poll(() => badge(page)).toBe(String(before - 1));
    expect(await notified(page)).toHaveLength(1);
  });

  it('asks for notifications only when the person clicks', async () => {
    const page = await openPage('#/approvals');
    const ask = page.getByRole('button', { name: 'Notify me of new approvals' });
    await ask.waitFor();
    expect(await page.evaluate('Notification.permission')).toBe('default');
  });
});
