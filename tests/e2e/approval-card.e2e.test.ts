// The completed approval card in Debian's Chromium against `stepwise serve` (issue 9, "The approval
// node, completed"): a quorum of two people, a custom outcome taking its port, a form whose values
// flow downstream (and a missing required field refused before anything is sent), a timeout,
// a decision over HTTP updating an open run view, the run's starter refused, a reminder coming due.
// Tests wait on conditions, never on time; each has its own browser context and workflow.
import type { BrowserContext, Page } from '@playwright/test';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_FORMAT, type Workflow, type WorkflowNode } from '../../engine/api/index.js';
import { notified, recordNotifications, servedAppSuite } from '../support/e2e-suite.js';

const suite = servedAppSuite('stepwise-approval-card-');
const { contexts } = suite;
const api = () => suite.app().api;

let made = 0;

/**
 * start → approval "ok" (with `config`) → an output node "to-<port>" on each of `ports`, versioned:
 * its runs park at "ok". Returns the workflow id and the approval's title.
 */
async function approvalFlow(
  config: Record<string, unknown>,
  ports: string[] = ['approved', 'rejected', 'timeout'],
): Promise<{ workflowId: string; title: string }> {
  made += 1;
  const name = `Card ${made}`;
  const title = `Decide ${made}?`;
  const { id } = await api().createWorkflow({ name });
  const place = (nodeId: string, type: string, x: number, y = 0, nodeConfig: Record<string, unknown> = {}) =>
    ({ id: nodeId, type, typeVersion: 1, position: { x, y }, config: nodeConfig }) satisfies WorkflowNode;
  const draft: Workflow = {
    format: WORKFLOW_FORMAT,
    id,
    name,
    nodes: [
      place('start', 'trigger.manual', 0),
      place('ok', 'approval', 300, 0, { title, ...config }),
      ...ports.map((port, index) => place(`to-${port}`, 'output', 600, index * 150)),
    ],
    edges: [
      { id: 'e-start', source: 'start', sourceHandle: 'out', target: 'ok', targetHandle: 'in' },
      ...ports.map((port) => ({
        id: `e-${port}`,
        source: 'ok',
        sourceHandle: port,
        target: `to-${port}`,
        targetHandle: 'in',
      })),
    ],
  };
  await api().saveDraft({ workflowId: id, draft });
  const saved = await api().saveVersion({ workflowId: id });
  expect(saved.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
  return { workflowId: id, title };
}

/** A run of the workflow, once it is parked at its approval. */
async function parkedRun(workflowId: string, input: unknown): Promise<string> {
  const { runId } = await api().startRun({ workflowId, input });
  await expect.poll(async () => (await api().getRun({ runId })).status, { timeout: 15_000 }).toBe('waiting');
  return runId;
}

async function newContext(approver?: string): Promise<BrowserContext> {
  const context = await suite.app().browser.newContext({ viewport: { width: 1440, height: 900 } });
  contexts.push(context);
  // The name the approver gave before, as a returning user has it.
  if (approver !== undefined)
    await context.addInitScript({ content: `localStorage.setItem('stepwise.approver', ${JSON.stringify(approver)});` });
  return context;
}

async function openPage(hash: string, approver?: string): Promise<Page> {
  const page = await (await newContext(approver)).newPage();
  await page.goto(`${suite.app().served.url}${hash}`);
  return page;
}

const badge = async (page: Page) => (await page.getByTestId('inbox-count').textContent()) ?? '';
const openCount = async () => (await api().listInbox({})).total;
const item = (page: Page, runId: string) => page.locator(`[data-testid="approval-item"][data-run-id="${runId}"]`);
const activation = async (runId: string, nodeId: string) =>
  (await api().getRun({ runId })).activations.find((entry) => entry.nodeId === nodeId);
const runStatus = async (runId: string) => (await api().getRun({ runId })).status;
const outcomeText = async (page: Page) => (await page.getByTestId('approval-outcome').textContent()) ?? '';
/** The run view's approval card (in its inspector). */
const runViewCard = (page: Page) => page.getByTestId('run-inspector').getByTestId('approval-card');

/** Switches the card's approver to `name` (the "change" link when a name is known). */
async function decideAs(card: ReturnType<Page['getByTestId']>, name: string): Promise<void> {
  const change = card.getByRole('button', { name: 'change' });
  if ((await change.count()) > 0) await change.click();
  await card.getByTestId('approval-name').fill(name);
}

describe('the completed approval card', { timeout: 90_000 }, () => {
  it('a quorum of 2: alice approves (a vote, still waiting), her second approval is refused naming her first, bob completes it', async () => {
    const { workflowId, title } = await approvalFlow({ quorum: 2 });
    const runId = await parkedRun(workflowId, { amount: 10 });
    const before = await openCount();
    const page = await openPage('#/approvals');
    const entry = item(page, runId);
    await entry.waitFor();
    await expect.poll(() => badge(page)).toBe(String(before));
    expect(await entry.getByTestId('approval-item-who').textContent()).toBe('0 of 2 approvals');

    await entry.getByRole('button', { name: title }).click();
    const card = entry.getByTestId('approval-card');
    expect(await card.getByTestId('approval-who').textContent()).toBe('Needs 2 approvals — none so far');
    await decideAs(card, 'alice');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => outcomeText(page)).toBe('Your approval is recorded — 1 of 2.');
    // A vote: the run still waits, the item stays (with its progress), the badge is unchanged.
    await expect.poll(() => entry.getByTestId('approval-item-who').textContent()).toBe('1 of 2 approvals: alice');
    expect(await card.getByTestId('approval-who').textContent()).toBe('Needs 2 approvals — 1 so far: alice');
    expect(await runStatus(runId)).toBe('waiting');
    expect(await badge(page)).toBe(String(before));
    expect((await api().getRun({ runId })).approvals[0]?.votes).toMatchObject([{ decision: 'approved', by: 'alice' }]);

    // alice again: refused, naming her first approval; the card stays for someone else.
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => outcomeText(page)).toMatch(/^Already approved by alice at /);
    expect(await runStatus(runId)).toBe('waiting');

    await decideAs(card, 'bob');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => runStatus(runId), { timeout: 15_000 }).toBe('completed');
    expect((await activation(runId, 'ok'))?.signal).toMatchObject({ decision: 'approved', by: 'bob' });
    expect((await activation(runId, 'to-approved'))?.status).toBe('completed');
    await expect.poll(() => entry.count()).toBe(0);
    await expect.poll(() => badge(page)).toBe(String(before - 1));
  });

  it('a custom outcome has its own button and takes its port', async () => {
    const { workflowId } = await approvalFlow({ outcomes: [{ port: 'escalate', label: 'Escalate' }] }, [
      'approved',
      'rejected',
      'escalate',
    ]);
    const runId = await parkedRun(workflowId, { amount: 5000 });
    const page = await openPage(`#/runs/${runId}`, 'bob');
    const card = runViewCard(page);
    await card.waitFor();
    const buttons = await card.locator('.approval-actions button').allTextContents();
    expect(buttons).toEqual(['Approve', 'Reject', 'Escalate']);
    await card.getByRole('button', { name: 'Escalate', exact: true }).click();
    // The card goes as the run moves on; the run view says what was decided here.
    await expect.poll(() => outcomeText(page)).toBe('“Escalate” chosen by bob. The run goes on.');
    await expect.poll(() => card.count()).toBe(0);
    await expect.poll(() => runStatus(runId), { timeout: 15_000 }).toBe('completed');
    const ok = await activation(runId, 'ok');
    expect(ok?.port).toBe('escalate');
    expect(ok?.signal).toMatchObject({ decision: 'escalate', by: 'bob' });
    expect((await activation(runId, 'to-escalate'))?.status).toBe('completed');
    expect((await activation(runId, 'to-approved'))?.status).toBe('skipped');
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status')).toBe('completed');
  });

  it('a form: the fields are shown, a missing required field is refused inline without a call, the values go downstream typed', async () => {
    const { workflowId, title } = await approvalFlow({
      fields: [
        { label: 'Customer', value: 'input.customer' },
        { label: 'Requested', value: 'input.amount' },
      ],
      form: [
        { name: 'amount', label: 'Approved amount', type: 'number', required: true },
        { name: 'urgent', label: 'Urgent', type: 'boolean' },
        { name: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] },
        { name: 'note', label: 'Note', type: 'textarea' },
      ],
    });
    const runId = await parkedRun(workflowId, { amount: 150, customer: { id: 'c-7', name: 'Ada' } });
    const page = await openPage('#/approvals', 'carol');
    // Every decide request the page sends over its WebSocket.
    const sent: string[] = [];
    page.on('websocket', (socket) =>
      socket.on('framesent', (frame) => {
        if (typeof frame.payload === 'string' && frame.payload.includes('"decide"')) sent.push(frame.payload);
      }),
    );
    await page.reload();
    const entry = item(page, runId);
    await entry.getByRole('button', { name: title }).click();
    const card = entry.getByTestId('approval-card');
    // Fields: label and value; an object through the JSON view.
    const fields = card.getByTestId('approval-fields');
    expect(await fields.locator('dt').allTextContents()).toEqual(['Customer', 'Requested']);
    expect(await fields.locator('dd').nth(1).textContent()).toBe('150');
    expect(
      JSON.parse((await fields.locator('dd').nth(0).getByTestId('approval-field-value').textContent()) ?? 'null'),
    ).toEqual({
      id: 'c-7',
      name: 'Ada',
    });
    // Labelled inputs, the required one marked.
    const amount = card.getByLabel('Approved amount');
    expect(await amount.getAttribute('type')).toBe('number');
    expect(await amount.getAttribute('required')).not.toBeNull();
    expect(await card.locator('label', { hasText: 'Approved amount' }).textContent()).toContain('*');

    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    expect(await card.getByTestId('approval-form-problem').textContent()).toBe('"Approved amount" is required');
    expect(await amount.getAttribute('aria-invalid')).toBe('true');
    expect(await card.getByTestId('approval-outcome').count()).toBe(0);
    expect(sent).toEqual([]);
    expect(await runStatus(runId)).toBe('waiting');

    await amount.fill('120.5');
    expect(await card.getByTestId('approval-form-problem').count()).toBe(0);
    await card.getByLabel('Urgent').check();
    await card.getByLabel('Tier').selectOption('gold');
    await card.getByLabel('Note').fill('partial refund');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => runStatus(runId), { timeout: 15_000 }).toBe('completed');
    expect(sent).toHaveLength(1);
    const form = { amount: 120.5, urgent: true, tier: 'gold', note: 'partial refund' };
    expect((await activation(runId, 'ok'))?.signal).toMatchObject({ decision: 'approved', by: 'carol', values: form });
    expect((await activation(runId, 'to-approved'))?.output).toEqual({
      amount: 150,
      customer: { id: 'c-7', name: 'Ada' },
      form,
    });
  });

  it('a short timeout takes the timeout port: the card and the inbox item go away, the run view moves on', async () => {
    // Long enough for the page to open under load before it passes.
    const { workflowId } = await approvalFlow({ timeout: '6s' });
    const runId = await parkedRun(workflowId, { amount: 1 });
    expect((await api().listInbox({})).items.some((entry) => entry.runId === runId)).toBe(true);
    const page = await openPage(`#/runs/${runId}`, 'dana');
    const card = runViewCard(page);
    await card.waitFor();
    await expect.poll(() => card.count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status')).toBe('completed');
    const ok = await activation(runId, 'ok');
    expect(ok?.port).toBe('timeout');
    expect(ok?.signal).toMatchObject({ decision: 'timeout', by: 'system' });
    expect((await activation(runId, 'to-timeout'))?.status).toBe('completed');
    expect((await api().listInbox({})).items.some((entry) => entry.runId === runId)).toBe(false);
  });

  it('a decision made over HTTP while the run view is open updates the page without a reload', async () => {
    const { workflowId } = await approvalFlow({});
    const runId = await parkedRun(workflowId, { amount: 2 });
    const page = await openPage(`#/runs/${runId}`, 'erin');
    const card = runViewCard(page);
    await card.waitFor();
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    const { origin, token } = suite.app().served;
    const post = () =>
      fetch(`${origin}/api/runs/${runId}/decisions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'rejected', by: 'frank', comment: 'over http' }),
      });
    const answer = await post();
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ ok: true });
    await expect.poll(() => card.count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('run-status').getAttribute('data-status')).toBe('completed');
    const row = page.locator('.timeline-row', { hasText: 'SignalReceived' });
    await row.waitFor();
    expect(await row.textContent()).toContain('rejected by frank');
    expect(loads).toEqual([]);
    expect((await activation(runId, 'to-rejected'))?.status).toBe('completed');
    const again = await post();
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      error: 'already-decided',
      first: { decision: 'rejected', by: 'frank' },
    });
  });

  it('"the person who started the run may not decide": a run alice started in the app is refused to alice, bob approves it', async () => {
    const { workflowId, title } = await approvalFlow({ excludeStarter: true });
    const page = await openPage(`#/workflows/${encodeURIComponent(workflowId)}`, 'alice');
    await page.getByTestId('editor').getByRole('button', { name: 'Run', exact: true }).click();
    const dialog = page.getByTestId('run-dialog');
    await dialog.locator('.monaco-editor textarea').waitFor();
    const run = dialog.getByRole('button', { name: 'Run', exact: true });
    await expect.poll(() => run.isEnabled()).toBe(true);
    await run.click();
    await expect.poll(() => /#\/runs\/([^/?]+)$/.exec(new URL(page.url()).hash)?.[1] ?? null).not.toBeNull();
    const runId = decodeURIComponent(/#\/runs\/([^/?]+)$/.exec(new URL(page.url()).hash)?.[1] ?? '');
    await expect.poll(() => runStatus(runId), { timeout: 15_000 }).toBe('waiting');

    const card = runViewCard(page);
    await card.waitFor();
    expect(await card.getAttribute('aria-label')).toBe(`Approval: ${title}`);
    expect(await card.getByTestId('approval-who').textContent()).toBe('The person who started the run may not decide');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => outcomeText(page)).toMatch(/^Not allowed: /);
    expect(await outcomeText(page)).toContain('alice started this run and may not decide its approval');
    expect(await runStatus(runId)).toBe('waiting');

    await decideAs(card, 'bob');
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => runStatus(runId), { timeout: 15_000 }).toBe('completed');
    expect((await activation(runId, 'ok'))?.signal).toMatchObject({ decision: 'approved', by: 'bob' });
  });

  it('an item is highlighted when its reminder comes due, and announced once', async () => {
    const { workflowId, title } = await approvalFlow({ remindAfter: '4s', assignees: ['gina', 'hal'] });
    const context = await newContext();
    await recordNotifications(context, suite.app().served.origin);
    const page = await context.newPage();
    await page.goto(`${suite.app().served.url}#/approvals`);
    await page.getByTestId('approvals-view').waitFor();
    // Only what arrives after the first read of the inbox is announced: park the run after it
    // (on a loaded machine the view shows "Loading…" for a while).
    await page.locator('[data-testid="approvals-empty"], .approval-list').first().waitFor();
    const runId = await parkedRun(workflowId, { amount: 3 });
    const entry = item(page, runId);
    await entry.waitFor();
    const remindAt = (await api().listInbox({})).items.find((open) => open.runId === runId)?.card.remindAt ?? 0;
    // The check below means something only while the reminder is still ahead.
    expect(Date.now()).toBeLessThan(remindAt);
    expect(await entry.getAttribute('data-reminder')).toBeNull();
    expect(await entry.getByTestId('approval-item-who').textContent()).toBe('Assigned to gina, hal');

    await expect.poll(() => entry.getAttribute('data-reminder'), { timeout: 15_000 }).toBe('due');
    expect(await entry.getByTestId('approval-item-who').textContent()).toBe(
      'Reminder: still waiting · Assigned to gina, hal',
    );
    await expect
      .poll(async () => (await notified(page)).map((shown) => shown.title))
      .toEqual([`Approval: ${title}`, `Reminder: ${title}`]);
    // Another read of the inbox does not announce it again.
    await api().startRun({ workflowId: (await approvalFlow({})).workflowId, input: {} });
    await expect.poll(async () => (await notified(page)).length).toBe(3);
    expect((await notified(page)).filter((shown) => shown.title === `Reminder: ${title}`)).toHaveLength(1);
  });
});
