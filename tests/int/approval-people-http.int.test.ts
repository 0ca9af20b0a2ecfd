// The contract's statuses in edge cases, over real HTTP (stepwise serve, a real engine host
// child): one person retyping their name is a second decision (409), and a signal name no node
// can have is 404.
import { describe, expect, it } from 'vitest';
import { formatWorkflowFile, type RunSummary } from '../../engine/api/index.js';
import { edge, node, until, workflow } from '../support/harness.js';
import { servedApi } from '../support/http-api.js';

function quorumFlow(id: string) {
  return workflow(
    id,
    [node('start', 'trigger.manual'), node('ok', 'approval', { title: 'Refund?', quorum: 2 }), node('end', 'output')],
    [edge('start', 'ok'), edge('ok:approved', 'end')],
  );
}

function signalFlow(id: string) {
  return workflow(
    id,
    [node('start', 'trigger.manual'), node('paid', 'wait.signal', { name: 'paid' }), node('end', 'output')],
    [edge('start', 'paid'), edge('paid', 'end')],
  );
}

const served = servedApi('stepwise-approval-people-', async (client) => {
  await client.api.importWorkflow({ text: formatWorkflowFile(quorumFlow('quorum')) });
  await client.api.importWorkflow({ text: formatWorkflowFile(signalFlow('signal')) });
});
const { post } = served;
const api = () => served.client.api;

async function parkedRun(workflowId: string): Promise<string> {
  const run = await api().startRun({ workflowId, input: { order: 7 } });
  await status(run.runId, 'waiting');
  return run.runId;
}

function status(runId: string, wanted: RunSummary['status']): Promise<void> {
  return until(async () => (await api().getRun({ runId })).status === wanted, `${runId} ${wanted}`);
}

describe('decisions and signals in edge cases over HTTP', () => {
  it('quorum 2-of-2: "Alice" after "alice" is 409 already-decided, not a second approval', async () => {
    const runId = await parkedRun('quorum');
    const path = `/api/runs/${runId}/decisions`;
    expect((await post(path, { decision: 'approved', by: 'alice' })).status).toBe(200);
    const second = await post(path, { decision: 'approved', by: 'Alice' });
    expect(second.status).toBe(409);
    expect((await api().getRun({ runId })).status).toBe('waiting');
  });

  it('a signal name the run does not wait for is 404 even when it is not a valid signal name', async () => {
    const runId = await parkedRun('signal');
    const answer = await post(`/api/runs/${runId}/signals/no%20such`, { amount: 1 });
    expect(answer.status).toBe(404);
    expect((await api().getRun({ runId })).status).toBe('waiting');
  });
});
