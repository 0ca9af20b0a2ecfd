// The approval node, completed, on real database files: custom outcomes as ports, fields computed
// from the input, a form whose values flow downstream, assignees, a quorum of distinct people,
// "not the person who started the run", reminders and a timeout — each refusal named, each
// decision and vote in the journal and the inbox row.
import { describe, expect, it } from 'vitest';
import { ManualClock, type Engine } from '../../engine/runtime/engine.js';
import { EngineError } from '../../engine/runtime/errors.js';
import { validateWorkflow } from '../../engine/validate/index.js';
import { testEngine } from '../support/engine.js';
import { approvalFlow } from '../support/harness.js';

async function parked(engine: Engine, graph: ReturnType<typeof approvalFlow>, input: unknown, by?: string) {
  const { workflowId } = await engine.saveWorkflow(graph);
  const run = await engine.startRun(workflowId, { input, ...(by !== undefined && { by }) });
  engine.startWorker();
  const detail = await engine.waitForRun(run.runId, { timeoutMs: 15_000 });
  expect(detail.status).toBe('waiting');
  return run.runId;
}

async function refusal(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof EngineError)) throw new Error(`expected an EngineError, got ${String(error)}`);
  return error;
}

describe('the approval node', () => {
  it('a custom outcome is its own port; an outcome the node does not have is refused', async () => {
    const engine = testEngine();
    const graph = approvalFlow('escalation', { outcomes: [{ port: 'escalate', label: 'Escalate' }] }, [
      'approved',
      'escalate',
    ]);
    const runId = await parked(engine, graph, { amount: 5 });
    const [row] = await engine.queries.inbox();
    expect(row?.card.outcomes).toEqual([
      { port: 'approved', label: 'Approve' },
      { port: 'rejected', label: 'Reject' },
      { port: 'escalate', label: 'Escalate' },
    ]);
    const wrong = await refusal(engine.commands.decide(runId, 'maybe', { by: 'bob' }));
    expect(wrong.code).toBe('invalid');
    expect(wrong.message).toMatch(/"maybe" is not an outcome of this approval \(approved, rejected, escalate\)/);
    await engine.commands.decide(runId, 'escalate', { by: 'bob', comment: 'over my limit' });
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done).toMatchObject({ status: 'completed', output: { via: 'escalate' } });
    expect(done.activations.find((activation) => activation.nodeId === 'ok')?.port).toBe('escalate');
    expect(done.approvals[0]).toMatchObject({ status: 'decided', decision: 'escalate', decidedBy: 'bob' });
  });

  it('validation names a custom outcome that clashes, an edge from a port the node does not have, a bad quorum', () => {
    const engine = testEngine();
    const problems = (graph: ReturnType<typeof approvalFlow>) =>
      validateWorkflow(graph, engine.registry)
        .problems.map((problem) => problem.message)
        .join('\n');
    const clash = approvalFlow('clash', { outcomes: [{ port: 'rejected', label: 'No' }] });
    expect(problems(clash)).toMatch(/"rejected" is a port every approval has/);
    const noPort = approvalFlow('no-port', {}, ['approved', 'escalate']);
    expect(problems(noPort)).toMatch(
      /node "ok" \(approval\) has no output port "escalate" \(ports: "approved", "rejected", "timeout"\)/,
    );
    // With the outcome declared, the same edge is fine.
    const declared = approvalFlow('declared', { outcomes: [{ port: 'escalate', label: 'Escalate' }] }, ['escalate']);
    expect(problems(declared)).toBe('');
    const quorum = approvalFlow('quorum', { assignees: ['alice'], quorum: 2 });
    expect(problems(quorum)).toMatch(/2 approvals are needed but only 1 person is assigned/);
  });

  it('shows fields computed from the input; the form is checked, and its values flow downstream and into the journal', async () => {
    const engine = testEngine();
    const graph = approvalFlow('form', {
      fields: [
        { label: 'Amount in cents', value: 'input.amount * 100' },
        { label: 'Customer', value: 'input.customer' },
      ],
      form: [
        { name: 'approvedAmount', label: 'Approved amount', type: 'number', required: true },
        { name: 'reason', label: 'Reason', type: 'select', options: ['goodwill', 'defect'] },
      ],
    });
    const runId = await parked(engine, graph, { amount: 5, customer: { name: 'Ada' } });
    const [row] = await engine.queries.inbox();
    expect(row?.card.fields).toEqual([
      { label: 'Amount in cents', value: 500 },
      { label: 'Customer', value: { name: 'Ada' } },
    ]);
    expect(row?.card.form.map((field) => field.name)).toEqual(['approvedAmount', 'reason']);

    const missing = await refusal(engine.commands.decide(runId, 'approved', { by: 'bob' }));
    expect(missing.message).toMatch(/invalid form: "Approved amount" is required/);
    const wrongType = await refusal(
      engine.commands.decide(runId, 'approved', { by: 'bob', values: { approvedAmount: 'four' } }),
    );
    expect(wrongType.message).toMatch(/"Approved amount" must be a number/);
    const notAnOption = await refusal(
      engine.commands.decide(runId, 'approved', { by: 'bob', values: { approvedAmount: 4, reason: 'whim' } }),
    );
    expect(notAnOption.message).toMatch(/"Reason" must be one of "goodwill", "defect"/);
    const unknownField = await refusal(engine.commands.decide(runId, 'approved', { by: 'bob', values: { x: 1 } }));
    expect(unknownField.message).toMatch(/the form has no field "x"/);
    expect((await engine.queries.get(runId))?.status).toBe('waiting');

    await engine.commands.decide(runId, 'approved', {
      by: 'bob',
      comment: 'partial refund',
      values: { approvedAmount: 4, reason: 'defect' },
    });
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done.output).toEqual({
      via: 'approved',
      input: { amount: 5, customer: { name: 'Ada' }, form: { approvedAmount: 4, reason: 'defect' } },
    });
    const signals = done.events.filter((event) => event.type === 'SignalReceived');
    expect(signals).toHaveLength(1);
    expect(signals[0]?.type === 'SignalReceived' && signals[0].data).toEqual({
      signal: {
        wait: 'approval',
        decision: 'approved',
        by: 'bob',
        comment: 'partial refund',
        values: { approvedAmount: 4, reason: 'defect' },
        fields: [
          { label: 'Amount in cents', value: 500 },
          { label: 'Customer', value: { name: 'Ada' } },
        ],
      },
      shownInput: { amount: 5, customer: { name: 'Ada' } },
    });
    // The export carries the decision with what was shown.
    const exported = JSON.stringify(await engine.queries.export(runId));
    expect(exported).toContain('"approvedAmount":4');
    expect(exported).toContain('"Amount in cents"');
  });

  it('a card field whose expression throws fails the node, naming the field, before anyone is asked', async () => {
    const engine = testEngine();
    const graph = approvalFlow('bad-field', {
      fields: [
        { label: 'Amount', value: 'input.amount' },
        { label: 'City', value: 'input.customer.city' },
      ],
    });
    const { workflowId } = await engine.saveWorkflow(graph);
    const run = await engine.startRun(workflowId, { input: { amount: 5 } });
    engine.startWorker();
    const done = await engine.waitForRun(run.runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ nodeId: 'ok', kind: 'node.config' });
    expect(done.error?.message).toMatch(/^fields\.1 \("City"\): .*city/);
    expect(await engine.queries.inbox()).toEqual([]);
  });

  it('rejecting needs no form', async () => {
    const engine = testEngine();
    const graph = approvalFlow('reject-form', {
      form: [{ name: 'amount', label: 'Amount', type: 'number', required: true }],
    });
    const runId = await parked(engine, graph, { amount: 5 });
    await engine.commands.decide(runId, 'rejected', { by: 'bob' });
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done.output).toEqual({ via: 'rejected', input: { amount: 5, form: {} } });
  });

  it('a quorum of 2 of the assignees: votes are recorded until two different people approved; others are refused', async () => {
    const engine = testEngine();
    const graph = approvalFlow('quorum', { assignees: ['alice', 'bob', 'carol'], quorum: 2 });
    const runId = await parked(engine, graph, { amount: 5 });

    const stranger = await refusal(engine.commands.decide(runId, 'approved', { by: 'dan' }));
    expect(stranger.code).toBe('not-allowed');
    expect(stranger.message).toMatch(/dan may not decide this approval: it is assigned to alice, bob, carol/);

    await engine.commands.decide(runId, 'approved', { by: 'alice', comment: 'fine by me' });
    const voted = await engine.queries.get(runId);
    expect(voted?.status).toBe('waiting');
    expect(voted?.approvals[0]).toMatchObject({
      status: 'open',
      votes: [{ decision: 'approved', by: 'alice', comment: 'fine by me', at: expect.any(Number) as unknown }],
    });
    expect((await engine.queries.inbox())[0]?.votes.map((vote) => vote.by)).toEqual(['alice']);

    const again = await refusal(engine.commands.decide(runId, 'approved', { by: 'alice' }));
    expect(again.code).toBe('already-decided');
    expect(again.message).toMatch(/alice already approved at .*; 2 different people must approve/);

    await engine.commands.decide(runId, 'approved', { by: 'bob' });
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done).toMatchObject({ status: 'completed', output: { via: 'approved' } });
    const signals = done.events.flatMap((event) =>
      event.type === 'SignalReceived' ? [[event.data.signal.by, event.data.pending ?? false]] : [],
    );
    expect(signals).toEqual([
      ['alice', true],
      ['bob', false],
    ]);
    expect(done.approvals[0]).toMatchObject({ status: 'decided', decision: 'approved', decidedBy: 'bob' });
    const late = await refusal(engine.commands.decide(runId, 'rejected', { by: 'carol' }));
    expect(late.message).toMatch(/already decided: approved by bob/);
  });

  it('one rejection is enough to stop a quorum', async () => {
    const engine = testEngine();
    const runId = await parked(engine, approvalFlow('veto', { quorum: 3 }), { amount: 5 });
    await engine.commands.decide(runId, 'approved', { by: 'alice' });
    await engine.commands.decide(runId, 'rejected', { by: 'bob', comment: 'no receipt' });
    const done = await engine.waitForRun(runId, { timeoutMs: 15_000 });
    expect(done.output).toMatchObject({ via: 'rejected' });
  });

  it('the person who started the run may not decide it when the node says so', async () => {
    const engine = testEngine();
    const runId = await parked(engine, approvalFlow('four-eyes', { excludeStarter: true }), { amount: 5 }, 'alice');
    const own = await refusal(engine.commands.decide(runId, 'approved', { by: 'alice' }));
    expect(own.code).toBe('not-allowed');
    expect(own.message).toMatch(/alice started this run and may not decide its approval/);
    await engine.commands.decide(runId, 'approved', { by: 'bob' });
    expect((await engine.waitForRun(runId, { timeoutMs: 15_000 })).output).toMatchObject({ via: 'approved' });
  });

  it('a reminder time is on the card; a timeout with the quorum half met takes the timeout port', async () => {
    const clock = new ManualClock();
    const engine = testEngine({ clock });
    const graph = approvalFlow('slow', { quorum: 2, remindAfter: '1h', timeout: '1d' }, ['approved', 'timeout']);
    const opened = clock.now();
    const runId = await parked(engine, graph, { amount: 5 });
    expect((await engine.queries.inbox())[0]?.card).toMatchObject({ quorum: 2, remindAt: opened + 3_600_000 });
    await engine.commands.decide(runId, 'approved', { by: 'alice' });
    clock.advance(86_400_000 + 1000);
    const done = await engine.waitForRun(runId, { until: 'finished', timeoutMs: 15_000 });
    expect(done.output).toMatchObject({ via: 'timeout' });
    expect(done.approvals[0]).toMatchObject({ status: 'decided', decision: 'timeout', decidedBy: 'system' });
  });
});
