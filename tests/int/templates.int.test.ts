// Every template in assets/templates runs to completion: made into a workflow the way the app makes
// it (parts created and saved, mock URLs pointed at the service that really runs), started with its
// sample input, and driven through its waits (signals, decisions) as people would. The built-in
// mock service is real: a server on 127.0.0.1 on a free port.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EngineService } from '../../engine/host/service.js';
import { listTemplates } from '../../engine/host/templates.js';
import { templatesDir } from '../../engine/host/paths.js';
import { startMockService, type MockService } from '../../engine/mock-service/server.js';
import type { Engine } from '../../engine/runtime/engine.js';
import type { RunDetail } from '../../engine/runtime/run-queries.js';
import { dbPathOf, testEngine } from '../support/engine.js';

let mock: MockService;
let engine: Engine;
let service: EngineService;

beforeAll(async () => {
  mock = await startMockService(0);
});
// testEngine closes its engines after each test: each test makes its own.
beforeEach(() => {
  engine = testEngine();
  service = new EngineService({
    engine,
    dbPath: dbPathOf(engine),
    templatesDir,
    mockService: { origin: () => Promise.resolve(mock.origin) },
    emit: () => {},
  });
  engine.startWorker();
});
afterAll(async () => {
  await mock.close();
});

/** How a person moves a run of the template on while it is parked. */
interface Scenario {
  input?: (sample: unknown) => unknown;
  /** Called each time the run parks, with what it waits for; returns false when it does not know. */
  onParked?: (run: RunDetail) => Promise<void>;
  expectOutput: (output: unknown, run: RunDetail) => void;
  /** Mock endpoints the run must have called (method and path). */
  calls?: string[];
}

const waitingNodes = (run: RunDetail): string[] =>
  run.activations.filter((activation) => activation.status === 'waiting').map((activation) => activation.nodeId);

const decide = async (run: RunDetail, nodeId: string, by: string, values?: Record<string, unknown>) => {
  await service.decide({ runId: run.runId, nodeId, decision: 'approved', by, ...(values && { values }) });
};

const SCENARIOS: Record<string, Scenario> = {
  'hello.stepwise.json': { expectOutput: (output) => expect(output).not.toBeNull() },
  'refund-approval.stepwise.json': {
    onParked: (run) => decide(run, 'manager', 'manager@example.com'),
    expectOutput: (output) => expect(output).toMatchObject({ status: 201, body: { status: 'succeeded' } }),
    calls: ['POST /payments/refunds'],
  },
  'refund-agent.stepwise.json': {
    onParked: (run) => decide(run, 'manager', 'manager@example.com'),
    expectOutput: (output) => expect(output).toMatchObject({ refunded: true, amount: 320 }),
    calls: ['POST /v1/chat/completions', 'POST /payments/refunds'],
  },
  'document-pipeline.stepwise.json': {
    // The mock's third page is "handwritten, smudged": the model is unsure there, a person checks.
    onParked: (run) => decide(run, 'check', 'reviewer@example.com'),
    expectOutput: (output, run) => {
      expect(output).toMatchObject({ recordId: expect.stringMatching(/^rec_/), reviewed: true });
      // One model pass per chunk, each a child run on the part made with the template.
      expect(run.children.map((child) => child.status)).toEqual(['completed', 'completed', 'completed']);
    },
    calls: ['POST /documents/extract', 'POST /v1/chat/completions', 'POST /records'],
  },
  'signup-saga.stepwise.json': {
    expectOutput: (output) =>
      expect(output).toMatchObject({
        customerId: expect.stringMatching(/^cus_/),
        chargeId: expect.stringMatching(/^ch_/),
        workspaceId: expect.stringMatching(/^ws_/),
        welcomeEmailId: expect.stringMatching(/^em_/),
      }),
    calls: ['POST /crm/customers', 'POST /payments/charges', 'POST /provisioning/workspaces', 'POST /email/messages'],
  },
  'research-agent.stepwise.json': {
    expectOutput: (output, run) => {
      expect(output).toMatchObject({ answer: expect.stringContaining('[Stepwise mock model mock-writer]') });
      expect(run.children).toHaveLength(3);
    },
    calls: ['GET /search', 'POST /v1/chat/completions'],
  },
  'mortgage-origination.stepwise.json': {
    // Days of cooling-off are a second in a test: the period is an input of the application.
    input: (sample) => ({ ...(sample as object), coolingOff: '1s' }),
    async onParked(run) {
      const waiting = waitingNodes(run);
      if (waiting.includes('documents'))
        await service.sendSignal({
          runId: run.runId,
          name: 'documents-uploaded',
          payload: { documents: ['payslip.pdf', 'id.pdf'] },
        });
      else if (waiting.includes('underwriters')) {
        await decide(run, 'underwriters', 'alice', { rate: 4.25 });
        await decide(run, 'underwriters', 'bob', { rate: 4.25 });
      } else throw new Error(`mortgage parked on ${waiting.join(', ')}`);
    },
    expectOutput: (output) => expect(output).toMatchObject({ funded: true, rate: 4.25 }),
    calls: ['POST /credit/checks', 'POST /v1/chat/completions', 'POST /loans/fund'],
  },
};

/** Waiting on something only a person or a program outside can give (not on its own child runs). */
const parkedOnOutside = (run: RunDetail): boolean =>
  run.activations.some(
    (activation) =>
      activation.status === 'waiting' && activation.wait?.kind !== 'child' && activation.wait?.kind !== 'children',
  );

async function runToEnd(workflowId: string, input: unknown, scenario: Scenario): Promise<RunDetail> {
  const started = await service.startRun({ workflowId, input });
  const deadline = Date.now() + 45_000;
  let handled = -1;
  while (Date.now() < deadline) {
    const run = await engine.waitForRun(started.runId, { timeoutMs: 20_000 });
    if (run.settled === 'finished') return run;
    // Parked on its children: they run by themselves. Parked on the same step as last time: the
    // decision or signal given is not yet committed.
    if (parkedOnOutside(run) && run.lastSeq !== handled) {
      if (!scenario.onParked) throw new Error(`run parked on ${waitingNodes(run).join(', ')}`);
      await scenario.onParked(run);
      handled = run.lastSeq;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`run ${started.runId} did not finish in 45 s`);
}

describe('templates', () => {
  const templates = listTemplates(templatesDir);

  it('are five or more, each with a scenario here, and say when they call the mock service', () => {
    expect(templates.map((template) => template.file).sort()).toEqual(Object.keys(SCENARIOS).sort());
    for (const template of templates)
      expect(template.mockService, template.file).toBe(template.file !== 'hello.stepwise.json');
  });

  for (const file of Object.keys(SCENARIOS))
    it(`${file} runs to completion with its sample input`, { timeout: 60_000 }, async () => {
      const scenario = SCENARIOS[file] as Scenario;
      const created = await service.createWorkflow({ name: '', template: file });
      const detail = await service.getWorkflow({ workflowId: created.id });
      // No URL of the made workflow points at the default port: they point at the running service.
      if (mock.origin !== 'http://127.0.0.1:7476') expect(JSON.stringify(detail.draft)).not.toContain('127.0.0.1:7476');
      // The child workflows it runs were made with it, each with a saved version to run on.
      for (const child of detail.draft.nodes.flatMap((node) => {
        const id = (node.config as { workflowId?: unknown }).workflowId;
        return typeof id === 'string' ? [id] : [];
      })) {
        expect(child).not.toMatch(/^(document-page-pass|research-step)$/);
        expect(await service.listVersions({ workflowId: child })).toHaveLength(1);
      }
      await service.saveVersion({ workflowId: created.id });
      const trigger = detail.draft.nodes.find((node) => node.type === 'trigger.manual');
      const sample = (trigger?.config as { sampleInput?: unknown } | undefined)?.sampleInput ?? null;
      const before = mock.calls.length;
      const run = await runToEnd(created.id, scenario.input ? scenario.input(sample) : sample, scenario);
      expect(run.error, JSON.stringify(run.error)).toBeNull();
      expect(run.status).toBe('completed');
      scenario.expectOutput(run.output, run);
      const called = mock.calls.slice(before).map((call) => `${call.method} ${call.path}`);
      for (const call of scenario.calls ?? []) expect(called).toContain(call);
      // Every call the run made to the mock service succeeded.
      expect(mock.calls.slice(before).filter((call) => call.status >= 400)).toEqual([]);
    });

  it(
    'signup-saga.stepwise.json with the plan "fail": provisioning fails, the charge is refunded, then the customer deleted',
    {
      timeout: 60_000,
    },
    async () => {
      const created = await service.createWorkflow({ name: '', template: 'signup-saga.stepwise.json' });
      await service.saveVersion({ workflowId: created.id });
      const before = mock.calls.length;
      const started = await service.startRun({
        workflowId: created.id,
        input: { email: 'grace@example.com', name: 'Grace Hopper', plan: 'fail', amount: 49 },
      });
      const run = await engine.waitForRun(started.runId, { until: 'finished', timeoutMs: 30_000 });
      expect(run.status).toBe('compensated');
      expect(run.error?.nodeId).toBe('provision');
      const calls = mock.calls
        .slice(before)
        .map((call) => `${call.method} ${call.path.replace(/_[0-9a-f]+$/, '_…')} ${call.status}`);
      expect(calls).toEqual([
        'POST /crm/customers 201',
        'POST /payments/charges 201',
        'POST /provisioning/workspaces 422',
        'POST /payments/refunds 201',
        'DELETE /crm/customers/cus_… 200',
      ]);
    },
  );
});
