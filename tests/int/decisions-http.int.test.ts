// POST /api/runs/<runId>/decisions over real HTTP on 127.0.0.1 against `stepwise serve` (a real
// engine host child process, a real SQLite file): a decision resumes the run, and a wait is
// decided once, however the second call arrives (again, concurrently).
import { describe, expect, it } from 'vitest';
import { formatWorkflowFile, type RunSummary } from '../../engine/api/index.js';
import { edge, node, refundFlow, until, workflow } from '../support/harness.js';
import { servedApi } from '../support/http-api.js';

const served = servedApi('stepwise-decisions-http-', async (client) => {
  await client.api.importWorkflow({ text: formatWorkflowFile(refundFlow()) });
});
const { post } = served;
const client = {
  get api() {
    return served.client.api;
  },
};

async function parkedRun(amount: number): Promise<string> {
  const run = await client.api.startRun({ workflowId: 'refund', input: { amount } });
  await status(run.runId, 'waiting');
  return run.runId;
}

function status(runId: string, wanted: RunSummary['status']): Promise<void> {
  return until(async () => (await client.api.getRun({ runId })).status === wanted, `${runId} ${wanted}`);
}

describe('POST /api/runs/<runId>/decisions', () => {
  it('approves: 200 {ok:true} and the run completes; the same call again is 409 naming the first', async () => {
    const runId = await parkedRun(12);
    const body = { decision: 'approved', by: 'alice', comment: 'fine' };
    expect(await post(`/api/runs/${runId}/decisions`, body)).toEqual({ status: 200, body: { ok: true } });
    await status(runId, 'completed');
    const run = await client.api.getRun({ runId });
    expect(run.output).toEqual({ refunded: 12 });
    const decidedAt = run.approvals[0]?.decidedAt ?? 0;
    const again = await post(`/api/runs/${runId}/decisions`, { decision: 'rejected', by: 'bob' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      error: 'already-decided',
      first: { decision: 'approved', by: 'alice', at: new Date(decidedAt).toISOString() },
    });
  });

  it('two concurrent decisions: exactly one 200, the other 409 naming the winner', async () => {
    const runId = await parkedRun(3);
    const answers = await Promise.all([
      post(`/api/runs/${runId}/decisions`, { decision: 'approved', by: 'alice' }),
      post(`/api/runs/${runId}/decisions`, { decision: 'rejected', by: 'bob' }),
    ]);
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 409]);
    const loser = answers.find((answer) => answer.status === 409);
    const run = await client.api.getRun({ runId });
    const approval = run.approvals[0];
    expect(approval?.status).toBe('decided');
    expect(loser?.body).toMatchObject({
      error: 'already-decided',
      first: { decision: approval?.decision, by: approval?.decidedBy },
    });
  });

  it('rejects follow the rejected port (the run completes without paying)', async () => {
    const runId = await parkedRun(5);
    expect((await post(`/api/runs/${runId}/decisions`, { decision: 'rejected', by: 'carol' })).status).toBe(200);
    await until(async () => (await client.api.getRun({ runId })).settled === 'finished', 'finished');
    const run = await client.api.getRun({ runId });
    expect(run.activations.find((activation) => activation.nodeId === 'pay')?.status).toBe('skipped');
    expect(run.activations.find((activation) => activation.nodeId === 'ok')?.port).toBe('rejected');
    expect(run.approvals[0]).toMatchObject({ decision: 'rejected', decidedBy: 'carol' });
  });

  it('refuses: a wrong or missing token 401, another origin 403, an unknown run 404, a bad body 400 naming the field', async () => {
    const runId = await parkedRun(1);
    const path = `/api/runs/${runId}/decisions`;
    const ok = { decision: 'approved', by: 'alice' };
    expect((await post(path, ok, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await post(path, ok, { authorization: '' })).status).toBe(401);
    expect((await post(path, ok, { origin: 'http://evil.example' })).status).toBe(403);
    const unknown = await post('/api/runs/no-such-run/decisions', ok);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/no run "no-such-run"/);
    const bad = await post(path, { decision: '', by: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/decision:/);
    expect(bad.body.error).toMatch(/by:/);
    const unknownOutcome = await post(path, { decision: 'maybe', by: 'alice' });
    expect(unknownOutcome.status).toBe(400);
    expect(unknownOutcome.body.error).toMatch(/"maybe" is not an outcome of this approval \(approved, rejected\)/);
    expect((await post(path, { decision: 'approved' })).body.error).toMatch(/by: is required/);
    expect((await post(path, '{not json')).status).toBe(400);
    expect((await post(path, 'x'.repeat(2 * 1024 * 1024))).status).toBe(413);
    // None of the refusals decided anything.
    expect((await client.api.getRun({ runId })).status).toBe('waiting');
  });

  it('404 when the run does not wait on a person', async () => {
    const runId = await parkedRun(2);
    await client.api.cancelRun({ runId });
    const answer = await post(`/api/runs/${runId}/decisions`, { decision: 'approved', by: 'alice' });
    expect(answer).toMatchObject({
      status: 404,
      body: { error: `run ${runId} is cancelled; there is nothing to decide` },
    });
    const other = await parkedRun(4);
    const wrongNode = await post(`/api/runs/${other}/decisions`, { nodeId: 'pay', decision: 'approved', by: 'a' });
    expect(wrongNode).toMatchObject({
      status: 404,
      body: { error: expect.stringMatching(/no approval waiting at node "pay"/) as unknown },
    });
  });

  it('a quorum over HTTP: a second vote by the same person is 409 naming it, a stranger 403, the form values go downstream', async () => {
    const graph = workflow(
      'board',
      [
        node('start', 'trigger.manual'),
        node('ok', 'approval', {
          title: 'Board vote',
          assignees: ['alice', 'bob'],
          quorum: 2,
          form: [{ name: 'limit', label: 'Limit', type: 'number' }],
        }),
        node('end', 'output'),
      ],
      [edge('start', 'ok'), edge('ok:approved', 'end')],
    );
    await client.api.importWorkflow({ text: formatWorkflowFile(graph) });
    const run = await client.api.startRun({ workflowId: 'board', input: { amount: 1 } });
    await status(run.runId, 'waiting');
    const path = `/api/runs/${run.runId}/decisions`;
    const stranger = await post(path, { decision: 'approved', by: 'mallory' });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error).toMatch(/mallory may not decide this approval: it is assigned to alice, bob/);
    expect(await post(path, { decision: 'approved', by: 'alice', values: { limit: 5 } })).toEqual({
      status: 200,
      body: { ok: true },
    });
    const vote = (await client.api.getRun({ runId: run.runId })).approvals[0]?.votes[0];
    expect(vote).toMatchObject({ decision: 'approved', by: 'alice' });
    const twice = await post(path, { decision: 'approved', by: 'alice' });
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({
      error: 'already-decided',
      first: { decision: 'approved', by: 'alice', at: new Date(vote?.at ?? 0).toISOString() },
    });
    const badForm = await post(path, { decision: 'approved', by: 'bob', values: { limit: 'high' } });
    expect(badForm.status).toBe(400);
    expect(badForm.body.error).toMatch(/"Limit" must be a number/);
    expect(await post(path, { decision: 'approved', by: 'bob', values: { limit: 7 } })).toEqual({
      status: 200,
      body: { ok: true },
    });
    await status(run.runId, 'completed');
    // The deciding approval's values are the ones that flow on.
    expect((await client.api.getRun({ runId: run.runId })).output).toEqual({ amount: 1, form: { limit: 7 } });
  });
});
