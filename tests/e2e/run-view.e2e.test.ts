// The run view and time travel in Debian's Chromium against `stepwise serve` (issue 8's Proof):
// live statuses, stepping with the keyboard and the inspector's input/output at each step, the
// step in the URL, fork with an edited output, redrive, export → import elsewhere, verify replay.
// A local HTTP server counts the requests per path: that is how "not executed again" is proven.
// Tests wait on conditions, never on time; each has its own browser context and workflow.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_FORMAT, type JournalEvent, type RunStatus, type Workflow } from '../../engine/api/index.js';
import { startServe, type ServedProcess } from '../support/browser.js';
import { servedAppSuite } from '../support/e2e-suite.js';
import { edge, runCli, tempDir, until } from '../support/harness.js';
import { startScriptedServer, type RecordedRequest, type ScriptedServer } from '../support/http-server.js';

const suite = servedAppSuite('stepwise-run-view-');
const { dir, contexts } = suite;
const SHOTS = suite.shots;
const api = () => suite.app().api;
let server: ScriptedServer;

// ── The outside world: a server with a counter per path ──────────────────────────────────────

/** Paths answered 500 while listed here (a service that is down). */
const down = new Set<string>();
/** Responses held until the test releases them (a slow service), by path. */
const held = new Map<string, ServerResponse[]>();
const holding = new Set<string>();

function answer(request: RecordedRequest, response: ServerResponse): void {
  const path = request.path;
  const json = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  if (holding.has(path)) {
    held.set(path, [...(held.get(path) ?? []), response]);
    return;
  }
  if (down.has(path)) return json(500, { error: 'service down' });
  if (path.startsWith('/lookup/')) return json(200, { amount: path.endsWith('/big') ? 500 : 50 });
  if (path.startsWith('/charge')) {
    // The card limit: a charge over 100 is refused (500, retried, then the node fails).
    const sent = JSON.parse(request.body || 'null') as { body?: { amount?: number } } | null;
    const amount = sent?.body?.amount ?? 0;
    return amount > 100 ? json(500, { error: `amount ${amount} over the limit` }) : json(200, { charged: amount });
  }
  json(404, { error: 'no such path' });
}

function release(path: string): void {
  holding.delete(path);
  for (const response of held.get(path) ?? []) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ amount: 50, slow: true }));
  }
  held.delete(path);
}

const hits = (path: string) => server.requests.filter((request) => request.path === path).length;

// The HTTP server is this file's own; serve, Chromium and the API client are the suite's.
beforeAll(async () => {
  server = await startScriptedServer(answer);
});

afterAll(async () => {
  for (const path of [...holding]) release(path);
  await server?.close();
});

// ── Fixtures ──────────────────────────────────────────────────────────────────────────────────

let made = 0;

/** start (manual trigger) → lookup (GET the amount) → charge (POST it; 2 attempts 50 ms apart). */
function chargeFlow(lookupPath: string, chargePath: string): Workflow {
  made += 1;
  const id = `charge-${made}`;
  return {
    format: WORKFLOW_FORMAT,
    id,
    name: `Charge ${made}`,
    nodes: [
      { id: 'start', type: 'trigger.manual', typeVersion: 1, name: 'Start', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'lookup',
        type: 'http.request',
        typeVersion: 1,
        name: 'Look up amount',
        position: { x: 300, y: 0 },
        config: { method: 'GET', url: `${server.url}${lookupPath}` },
      },
      {
        id: 'charge',
        type: 'http.request',
        typeVersion: 1,
        name: 'Charge card',
        position: { x: 600, y: 0 },
        config: { method: 'POST', url: `${server.url}${chargePath}` },
        retry: { maxAttempts: 2, initialIntervalMs: 50, maxIntervalMs: 50, jitter: 0 },
      },
    ],
    edges: [edge('start', 'lookup'), edge('lookup', 'charge')],
  };
}

/** start → pause-1 (timer) → lookup → pause-2 (timer) → charge: two waits before the charge's failures. */
function waitingChargeFlow(lookupPath: string, chargePath: string): Workflow {
  const flow = chargeFlow(lookupPath, chargePath);
  const pause = (id: string, x: number) => ({
    id,
    type: 'wait.timer',
    typeVersion: 1,
    name: `Pause ${id.slice(-1)}`,
    position: { x, y: 150 },
    config: { duration: '20ms' },
  });
  return {
    ...flow,
    nodes: [...flow.nodes, pause('pause-1', 150), pause('pause-2', 450)],
    edges: [edge('start', 'pause-1'), edge('pause-1', 'lookup'), edge('lookup', 'pause-2'), edge('pause-2', 'charge')],
  };
}

/** Imports the flow as a version and starts a run of it with an input. */
async function startFlow(flow: Workflow, input: unknown = { order: 'A-1' }): Promise<string> {
  const imported = await api().importWorkflow({ text: JSON.stringify(flow) });
  expect(imported.version).not.toBeNull();
  const run = await api().startRun({ workflowId: imported.workflow.id, input });
  return run.runId;
}

async function settled(runId: string, status: RunStatus): Promise<void> {
  await until(async () => (await api().getRun({ runId })).status === status, `run ${runId} ${status}`, 30_000);
}

async function eventsOf(runId: string): Promise<JournalEvent[]> {
  return (await api().getRunEvents({ runId, limit: 5000 })).events;
}

function seqOf(events: JournalEvent[], type: JournalEvent['type'], nodeId: string | null, nth = 0): number {
  const found = events.filter((event) => event.type === type && (nodeId === null || event.nodeId === nodeId));
  const event = found[nth];
  if (!event) throw new Error(`no ${type} of ${nodeId ?? 'the run'} (#${nth})`);
  return event.seq;
}

// ── The page ──────────────────────────────────────────────────────────────────────────────────

async function openRun(runId: string, step?: number, origin: ServedProcess = suite.app().served): Promise<Page> {
  const context = await suite
    .app()
    .browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${origin.url}#/runs/${encodeURIComponent(runId)}${step === undefined ? '' : `/step/${step}`}`);
  await page.getByTestId('step-position').waitFor();
  await page.getByTestId('node-start').waitFor();
  return page;
}

const node = (page: Page, id: string) => page.getByTestId(`node-${id}`);
const position = async (page: Page) => (await page.getByTestId('step-position').textContent()) ?? '';
const json = async (page: Page, testId: 'step-input' | 'step-output'): Promise<unknown> =>
  JSON.parse((await page.getByTestId(testId).textContent()) ?? '') as unknown;

async function atStep(page: Page, seq: number): Promise<void> {
  await page
    .getByTestId('step-position')
    .filter({ hasText: new RegExp(`^Step ${seq} of `) })
    .waitFor();
}

/** Presses → or ← until the step is `seq`. */
async function stepTo(page: Page, seq: number): Promise<void> {
  for (;;) {
    const at = Number(/^Step (\d+)/.exec(await position(page))?.[1]);
    if (at === seq) return;
    await page.keyboard.press(at < seq ? 'ArrowRight' : 'ArrowLeft');
    await atStep(page, at < seq ? at + 1 : at - 1);
  }
}

/** Waits until the timeline's row of `seq` is inside the list's visible box. */
async function rowInView(page: Page, seq: number): Promise<void> {
  await until(async () => {
    const outer = await page.getByTestId('timeline').boundingBox();
    const row = page.locator(`[id="timeline-event-${seq}"]`);
    const inner = (await row.count()) > 0 ? await row.boundingBox() : null;
    return (
      outer !== null && inner !== null && inner.y >= outer.y - 1 && inner.y + inner.height <= outer.y + outer.height + 1
    );
  }, `timeline row ${seq} in view`);
}

async function statusesOn(page: Page): Promise<Record<string, string | null>> {
  const result: Record<string, string | null> = {};
  for (const id of ['start', 'lookup', 'charge']) result[id] = await node(page, id).getAttribute('data-run-status');
  return result;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

// ── Tests ─────────────────────────────────────────────────────────────────────────────────────

describe('run view', () => {
  it('shows statuses change live, without a reload, and keeps an earlier step while new events arrive', async () => {
    holding.add('/lookup/slow');
    holding.add('/charge-slow');
    const runId = await startFlow(chargeFlow('/lookup/slow', '/charge-slow'));
    const page = await openRun(runId);
    await page.evaluate('window.marker = 42');

    await node(page, 'lookup').and(page.locator('[data-run-status="running"]')).waitFor();
    expect(await node(page, 'charge').getAttribute('data-run-status')).toBe('pending');
    await until(() => held.has('/lookup/slow'), 'the lookup request held');
    release('/lookup/slow');
    await node(page, 'lookup').and(page.locator('[data-run-status="completed"]')).waitFor();
    await node(page, 'charge').and(page.locator('[data-run-status="running"]')).waitFor();

    // Looking at the first step: new events are announced, the step is kept.
    await page.keyboard.press('Home');
    await atStep(page, 1);
    await until(() => held.has('/charge-slow'), 'the charge request held');
    release('/charge-slow');
    await settled(runId, 'completed');
    await page.getByTestId('new-events').waitFor();
    await atStep(page, 1);
    expect(await node(page, 'lookup').getAttribute('data-run-status')).toBe('pending');

    await page.getByTestId('new-events').click();
    await node(page, 'charge').and(page.locator('[data-run-status="completed"]')).waitFor();
    await page.getByTestId('run-status').and(page.locator('[data-status="completed"]')).waitFor();
    expect(await page.evaluate('window.marker')).toBe(42);
  });

  it('steps through a failed run with the keyboard: statuses, input and output at each step, the URL, jumps', async () => {
    const runId = await startFlow(chargeFlow('/lookup/big', '/charge'), { order: 'B-7' });
    await settled(runId, 'failed');
    const events = await eventsOf(runId);
    const lastSeq = events.at(-1)?.seq ?? 0;
    const lookupScheduled = seqOf(events, 'NodeScheduled', 'lookup');
    const lookupCompleted = seqOf(events, 'NodeCompleted', 'lookup');
    const chargeFailed = seqOf(events, 'NodeFailed', 'charge', 1);

    const page = await openRun(runId);
    await atStep(page, lastSeq);
    expect(await node(page, 'charge').getAttribute('data-run-status')).toBe('failed');
    await page.getByTestId('run-status-error-charge').waitFor();
    expect(await page.getByTestId('run-status-error-charge').textContent()).toContain('after 2 attempts');
    expect(await page.getByTestId('run-failure').textContent()).toContain('charge');

    await page.keyboard.press('Home');
    await atStep(page, 1);
    expect(await position(page)).toContain('RunStarted');
    expect(await statusesOn(page)).toEqual({ start: 'pending', lookup: 'pending', charge: 'pending' });

    // At the lookup's scheduling: its input is the trigger's output (the run input); no output yet.
    await stepTo(page, lookupScheduled);
    expect(await node(page, 'lookup').getAttribute('data-run-status')).toBe('scheduled');
    expect(await json(page, 'step-input')).toEqual({ order: 'B-7' });
    expect(await json(page, 'step-output')).toBeNull();

    await stepTo(page, lookupCompleted);
    expect(await node(page, 'lookup').getAttribute('data-run-status')).toBe('completed');
    expect(await json(page, 'step-output')).toMatchObject({ status: 200, body: { amount: 500 } });
    // What this step changed: on the canvas the lookup only; in the inspector its status, output
    // and attempts (the attempt finished), not its input.
    expect(await node(page, 'lookup').getAttribute('data-run-step')).toBe('changed');
    expect(await node(page, 'start').getAttribute('data-run-step')).toBeNull();
    expect(await node(page, 'charge').getAttribute('data-run-step')).toBeNull();
    const inspector = page.getByTestId('run-inspector');
    const changedParts = async () => ({
      status: await page.getByTestId('inspector-status').getAttribute('data-changed'),
      ...Object.fromEntries(
        await Promise.all(
          ['input', 'output', 'attempts'].map(
            async (part) =>
              [part, await inspector.locator(`[data-part="${part}"]`).getAttribute('data-changed')] as const,
          ),
        ),
      ),
    });
    expect(await changedParts()).toEqual({ status: 'true', input: 'false', output: 'true', attempts: 'true' });
    // Sections say it in words (the status pill is outlined).
    expect(await inspector.getByText('changed at this step').count()).toBe(2);
    await page.getByTestId('run-inspector').screenshot({ path: join(SHOTS, 'run-view-inspector.png') });
    // The canvas agrees with the engine's state at every step checked (`stepwise state --at`).
    for (const seq of [lookupScheduled, lookupCompleted]) {
      await stepTo(page, seq);
      const state = await api().getRunState({ runId, seq });
      expect(await statusesOn(page)).toEqual(
        Object.fromEntries(Object.entries(state.nodes).map(([id, value]) => [id, value.status])),
      );
    }

    // A node clicked on the canvas stays inspected; before it is reached, it says so.
    await node(page, 'charge').click();
    await page.getByTestId('not-reached').waitFor();
    expect(await json(page, 'step-input')).toBeNull();
    await page.getByRole('button', { name: 'Follow the step' }).click();

    // The step is in the URL; End goes to the latest (no step in the URL).
    await page.waitForURL(new RegExp(`#/runs/${runId}/step/${lookupCompleted}$`));
    await page.keyboard.press('End');
    await atStep(page, lastSeq);
    await page.waitForURL(new RegExp(`#/runs/${runId}$`));
    // The timeline scrolled its current row into view (and back at Home).
    await rowInView(page, lastSeq);
    await page.keyboard.press('Home');
    await rowInView(page, 1);
    await page.keyboard.press('End');
    await rowInView(page, lastSeq);

    // Jumps between failures: the first attempt's failure, then the second's.
    await page.keyboard.press('Home');
    await page.getByTestId('next-failure').click();
    await atStep(page, seqOf(events, 'NodeFailed', 'charge', 0));
    await page.getByTestId('next-failure').click();
    await atStep(page, chargeFailed);
    expect(await page.getByTestId('step-error').textContent()).toContain('500');
    await shot(page, 'run-view-failure');
    await page.getByRole('tab', { name: 'Gantt' }).click();
    await page.getByTestId('gantt').waitFor();
    await shot(page, 'run-view-gantt');
    await page.getByRole('tab', { name: 'Timeline' }).click();
    await page.getByTestId('timeline').waitFor();

    // Typing in a field does not step.
    // A text field on the view (as the run dialog's or a search box would be): keys type, not step.
    await page.evaluate(
      `document.querySelector('[data-testid="run-header"]').append(Object.assign(document.createElement('input'), { id: 'typing' }))`,
    );
    await page.locator('#typing').focus();
    await page.keyboard.press('ArrowLeft');
    await atStep(page, chargeFailed);

    // A shared link opens at its step, in a fresh page.
    const shared = await openRun(runId, lookupCompleted);
    await atStep(shared, lookupCompleted);
    expect(await json(shared, 'step-output')).toMatchObject({ body: { amount: 500 } });
    expect(await statusesOn(shared)).toEqual({ start: 'completed', lookup: 'completed', charge: 'pending' });
  });

  it('jumps to the previous and next failure and wait, and disables a jump with nowhere to go', async () => {
    const runId = await startFlow(waitingChargeFlow('/lookup/big', '/charge'), { order: 'W-2' });
    await settled(runId, 'failed');
    const events = await eventsOf(runId);
    const failures = events.filter((event) => event.type === 'NodeFailed' || event.type === 'RunFailed');
    const waits = events.filter((event) => event.type === 'WaitCreated').map((event) => event.seq);
    const [firstFailure, secondFailure, runFailed] = failures.map((event) => event.seq);
    expect(failures.map((event) => event.type)).toEqual(['NodeFailed', 'NodeFailed', 'RunFailed']);
    expect(waits).toHaveLength(2);
    const [firstWait, secondWait] = waits as [number, number];
    const lastSeq = events.at(-1)?.seq ?? 0;

    const page = await openRun(runId);
    const button = (testId: string) => page.getByTestId(testId);
    await page.keyboard.press('Home');
    await atStep(page, 1);
    expect(await button('previous-wait').isDisabled()).toBe(true);
    expect(await button('previous-failure').isDisabled()).toBe(true);

    await button('next-wait').click();
    await atStep(page, firstWait);
    expect(await position(page)).toContain('WaitCreated');
    expect(await node(page, 'pause-1').getAttribute('data-run-status')).toBe('waiting');
    await button('next-wait').click();
    await atStep(page, secondWait);
    expect(await node(page, 'pause-2').getAttribute('data-run-status')).toBe('waiting');
    expect(await button('next-wait').isDisabled()).toBe(true);
    await button('previous-wait').click();
    await atStep(page, firstWait);
    expect(await button('previous-wait').isDisabled()).toBe(true);

    // From the end: back through the run's failure and both attempts' failures, then forward again.
    await page.keyboard.press('End');
    await atStep(page, lastSeq);
    if (runFailed !== lastSeq) {
      await button('previous-failure').click();
      await atStep(page, runFailed as number);
    }
    await button('previous-failure').click();
    await atStep(page, secondFailure as number);
    await button('previous-failure').click();
    await atStep(page, firstFailure as number);
    expect(await button('previous-failure').isDisabled()).toBe(true);
    // Between the failures the previous wait is the second pause.
    await button('previous-wait').click();
    await atStep(page, secondWait);
    await button('next-failure').click();
    await atStep(page, firstFailure as number);
    await button('next-failure').click();
    await atStep(page, secondFailure as number);
  });

  it('forks from the failed step with a corrected output: the fork completes, nodes 1–2 not executed again', async () => {
    const runId = await startFlow(chargeFlow('/lookup/big', '/charge'), { order: 'C-3' });
    await settled(runId, 'failed');
    const lookupHits = hits('/lookup/big');
    const chargeHits = hits('/charge');
    const events = await eventsOf(runId);
    const failedAt = seqOf(events, 'NodeFailed', 'charge', 1);

    const page = await openRun(runId);
    await page.keyboard.press('Home');
    await page.getByTestId('next-failure').click();
    await page.getByTestId('next-failure').click();
    await atStep(page, failedAt);
    await page.getByTestId('fork-button').click();
    const dialog = page.getByTestId('fork-dialog');
    await dialog.waitFor();
    // Keys typed in the dialog do not step the run behind it.
    await page.keyboard.press('ArrowLeft');
    await atStep(page, failedAt);

    await dialog.getByTestId('fork-edit-node').selectOption('lookup');
    await page.locator('[data-testid="monaco-fork-output-lookup"] .view-lines').waitFor();
    await page.locator('[data-testid="monaco-fork-output-lookup"] .view-lines').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{"status": 200, "body": {"amount": 50', { delay: 5 });
    await shot(page, 'run-view-fork-dialog');
    await dialog.getByRole('button', { name: 'Fork', exact: true }).click();

    await page.waitForURL((url) => !url.hash.includes(runId));
    const forkId = decodeURIComponent(/#\/runs\/([^/]+)/.exec(page.url())?.[1] ?? '');
    expect(forkId).not.toBe('');
    await page.getByTestId('run-status').and(page.locator('[data-status="completed"]')).waitFor({ timeout: 20_000 });
    await node(page, 'charge').and(page.locator('[data-run-status="completed"]')).waitFor();
    expect(await page.getByTestId('fork-of').textContent()).toContain(`${runId} at step ${failedAt}`);
    // Inherited, not executed again: no new lookup; one charge, with the corrected amount.
    expect(hits('/lookup/big')).toBe(lookupHits);
    expect(hits('/charge')).toBe(chargeHits + 1);
    expect(JSON.parse(server.requests.at(-1)?.body ?? 'null')).toMatchObject({ body: { amount: 50 } });
    const fork = await api().getRun({ runId: forkId });
    expect(fork.forkOf).toEqual({ runId, seq: failedAt });

    // An inherited node ran in the origin, under the origin's idempotency key; the fork's own
    // steps use the fork's.
    await node(page, 'lookup').click();
    await page.getByTestId('inherited-from').waitFor();
    expect(await page.getByTestId('idempotency-key').textContent()).toBe(`${runId}:lookup`);
    expect((await page.getByTestId('inherited-from').textContent())?.trim()).toBe(
      `(inherited from ${runId} step ${failedAt})`,
    );
    await node(page, 'charge').click();
    await page
      .getByTestId('idempotency-key')
      .filter({ hasText: `${forkId}:charge` })
      .waitFor();
    expect(await page.getByTestId('inherited-from').count()).toBe(0);

    // The origin lists its fork.
    const origin = await openRun(runId);
    expect(await origin.getByTestId('forks').textContent()).toContain(forkId);
  });

  it('refuses a fork on a version that lacks inherited nodes, naming them, in the dialog', async () => {
    const flow = chargeFlow('/lookup/big', '/charge');
    const runId = await startFlow(flow);
    await settled(runId, 'failed');
    // v2 of the workflow drops "lookup".
    const v2: Workflow = {
      ...flow,
      nodes: flow.nodes.filter((item) => item.id !== 'lookup'),
      edges: [edge('start', 'charge')],
    };
    expect((await api().importWorkflow({ text: JSON.stringify(v2) })).version).toBe(2);

    const page = await openRun(runId);
    await page.getByTestId('newer-versions').waitFor();
    await page.getByTestId('fork-button').click();
    await page.getByRole('radio', { name: /latest version/ }).check();
    await page.getByTestId('fork-dialog').getByRole('button', { name: 'Fork', exact: true }).click();
    await page.getByTestId('fork-refusal').waitFor();
    expect(await page.getByTestId('fork-refusal').textContent()).toContain('lookup');
  });

  it('redrives a failed run after the service is fixed: it continues, earlier nodes not executed again', async () => {
    down.add('/charge-flaky');
    const runId = await startFlow(chargeFlow('/lookup/small', '/charge-flaky'));
    await settled(runId, 'failed');
    const lookupHits = hits('/lookup/small');
    const page = await openRun(runId);
    expect(await node(page, 'charge').getAttribute('data-run-status')).toBe('failed');

    down.delete('/charge-flaky');
    await page.getByRole('button', { name: 'Redrive' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Redrive' }).click();
    await page.getByTestId('run-status').and(page.locator('[data-status="completed"]')).waitFor({ timeout: 20_000 });
    await node(page, 'charge').and(page.locator('[data-run-status="completed"]')).waitFor();
    expect(await position(page)).toContain('RunCompleted');
    expect(hits('/lookup/small')).toBe(lookupHits);
    const redriven = (await eventsOf(runId)).find((event) => event.type === 'RunRedriven');
    expect(redriven?.nodeId).toBeNull();
    // The redrive event is about no node, yet it changed the charge's status: the charge is marked.
    const atRedrive = await openRun(runId, redriven?.seq);
    expect(await node(atRedrive, 'charge').getAttribute('data-run-status')).toBe('scheduled');
    expect(await node(atRedrive, 'charge').getAttribute('data-run-step')).toBe('changed');
    expect(await node(atRedrive, 'lookup').getAttribute('data-run-step')).toBeNull();
  });

  // A second `stepwise serve` (host, database, UI) starts inside this test: more than the default
  // 30 s when the machine runs the whole suite.
  it(
    'exports from the UI; imported into a fresh database, another serve shows the same steps; replay matches',
    { timeout: 90_000 },
    async () => {
      const runId = await startFlow(chargeFlow('/lookup/big', '/charge'), { order: 'E-1' });
      await settled(runId, 'failed');
      const events = await eventsOf(runId);
      const k = seqOf(events, 'NodeCompleted', 'lookup');

      const page = await openRun(runId, k);
      await page.getByRole('button', { name: 'Verify replay' }).click();
      await page.getByTestId('verify-result').waitFor();
      expect(await page.getByTestId('verify-result').textContent()).toContain(
        `Replay matches (${events.length} events)`,
      );

      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Export' }).click();
      const file = join(dir.path, 'export.json');
      await (await download).saveAs(file);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toBeTruthy();

      const other = tempDir('stepwise-run-view-import-');
      let second: ServedProcess | undefined;
      try {
        const imported = await runCli(['import', file, '--json'], { db: other.db });
        expect(imported.code, imported.stderr).toBe(0);
        const importedId = (JSON.parse(imported.stdout) as { runId: string }).runId;
        second = await startServe(other.db);
        const there = await openRun(importedId, k, second);
        await there.getByTestId('run-imported').waitFor();
        expect(await position(there)).toBe(await position(page));
        expect(await json(there, 'step-output')).toEqual(await json(page, 'step-output'));
        expect(await json(there, 'step-input')).toEqual(await json(page, 'step-input'));
        expect(await statusesOn(there)).toEqual(await statusesOn(page));
        // Read-only: neither redrive nor fork is offered.
        expect(await there.getByRole('button', { name: 'Redrive' }).count()).toBe(0);
        expect(await there.getByTestId('fork-button').count()).toBe(0);
      } finally {
        await second?.stop();
        other.cleanup();
      }
    },
  );

  it('verify replay of an older export of a changed graph names the divergence, goes to its step, marks its node', async () => {
    const flow = chargeFlow('/lookup/small', '/charge');
    const runId = await startFlow(flow, { order: 'V-1' });
    await settled(runId, 'completed');
    const file = await api().exportRun({ runId });

    // An older, unchained export (format 1) of another graph: start → lookup → check → charge,
    // where the run went lookup → charge. Replayed, the orchestrator schedules "check" after the
    // lookup; the journal says "charge".
    const older = JSON.parse(file.text) as {
      format: string;
      chain?: unknown;
      version: { graph: Workflow };
      run: { runId: string };
    };
    older.format = 'stepwise/run-export@1';
    delete older.chain;
    older.run.runId = `${runId}-older`;
    const graph = older.version.graph;
    graph.id = `${flow.id}-elsewhere`;
    graph.nodes.push({
      id: 'check',
      type: 'code',
      typeVersion: 1,
      name: 'Check amount',
      // Below, between the two: the canvas keeps the run's layout clear of the minimap.
      position: { x: 450, y: 150 },
      config: { code: 'return input;' },
    });
    graph.edges = graph.edges.map((item) => (item.target === 'charge' ? { ...item, target: 'check' } : item));
    graph.edges.push({
      id: 'check-charge',
      source: 'check',
      sourceHandle: 'out',
      target: 'charge',
      targetHandle: 'in',
    });
    const imported = await api().importRun({ text: JSON.stringify(older) });
    expect(imported.warnings.join('\n')).toMatch(/no hash chain/);
    const copyId = imported.run.runId;
    const scheduledCharge = seqOf(await eventsOf(copyId), 'NodeScheduled', 'charge');

    const page = await openRun(copyId);
    expect(await node(page, 'charge').getAttribute('data-run-step')).not.toBe('diverged');
    await page.getByRole('button', { name: 'Verify replay' }).click();
    const result = page.getByTestId('verify-result');
    await result.waitFor();
    const text = (await result.textContent()) ?? '';
    expect(text).toContain(`Replay diverges at step ${scheduledCharge} (node “charge”)`);
    expect(text).toContain('NodeScheduled of "check"');
    await atStep(page, scheduledCharge);
    await node(page, 'charge').and(page.locator('[data-run-step="diverged"]')).waitFor();
    expect(await node(page, 'charge').getAttribute('class')).toContain('run-step-diverged');
    await shot(page, 'run-view-divergence');
  });
});
