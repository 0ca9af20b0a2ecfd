// Signals to a `wait.signal` node over real HTTP on 127.0.0.1 against `stepwise serve` (a real
// engine host child process, a real SQLite file) and through the real CLI on the same file: the
// payload flows downstream; an invalid one is refused naming the field and the run stays parked;
// a run that does not wait for the name is 404; a short timeout takes the `timeout` port.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatWorkflowFile, type RunSummary } from '../../engine/api/index.js';
import { edge, node, runCli, until, workflow } from '../support/harness.js';
import { servedApi } from '../support/http-api.js';

const paidSchema = {
  type: 'object',
  properties: { amount: { type: 'number' }, reference: { type: 'string' } },
  required: ['amount'],
};

/** trigger → wait.signal "paid" (schema, optional timeout) → output; timeout → code → output. */
function paymentFlow(id: string, timeout?: string) {
  return workflow(
    id,
    [
      node('start', 'trigger.manual'),
      node('paid', 'wait.signal', { name: 'paid', schema: paidSchema, ...(timeout !== undefined && { timeout }) }),
      node('end', 'output'),
      node('late', 'code', { code: 'return { timedOut: true, order: input.order };' }),
      node('lateEnd', 'output'),
    ],
    [edge('start', 'paid'), edge('paid', 'end'), edge('paid:timeout', 'late'), edge('late', 'lateEnd')],
  );
}

const served = servedApi('stepwise-signals-', async (client) => {
  await client.api.importWorkflow({ text: formatWorkflowFile(paymentFlow('payment')) });
  await client.api.importWorkflow({ text: formatWorkflowFile(paymentFlow('hurry', '300ms')) });
});
const { post, dir } = served;
const api = () => served.client.api;

async function parkedRun(workflowId = 'payment'): Promise<string> {
  const run = await api().startRun({ workflowId, input: { order: 7 } });
  await status(run.runId, 'waiting');
  return run.runId;
}

function status(runId: string, wanted: RunSummary['status']): Promise<void> {
  return until(async () => (await api().getRun({ runId })).status === wanted, `${runId} ${wanted}`);
}

describe('POST /api/runs/<runId>/signals/<name>', () => {
  it('an invalid payload is 400 naming the field and the run stays parked; a valid one flows to the output', async () => {
    const runId = await parkedRun();
    const path = `/api/runs/${runId}/signals/paid`;
    const invalid = await post(path, { amount: 'lots' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ error: 'invalid-signal' });
    expect(invalid.body.message).toMatch(/payload\.amount: expected a number, got a string/);
    const missing = await post(path, { reference: 'r-1' });
    expect(missing.body.message).toMatch(/payload\.amount: is required/);
    expect((await post(path, '{not json')).status).toBe(400);
    expect((await post(path, 'x'.repeat(2 * 1024 * 1024))).status).toBe(413);
    // Nothing of that decided the wait.
    const parked = await api().getRun({ runId });
    expect(parked.status).toBe('waiting');
    expect(parked.settled).toBe('parked');

    const payload = { amount: 12.5, reference: 'r-1' };
    expect(await post(path, payload)).toEqual({ status: 200, body: { ok: true } });
    await status(runId, 'completed');
    const run = await api().getRun({ runId });
    expect(run.output).toEqual(payload);
    expect(run.activations.find((activation) => activation.nodeId === 'paid')?.port).toBe('out');
    const { events } = await api().getRunEvents({ runId });
    const received = events.filter((event) => event.type === 'SignalReceived');
    expect(received).toHaveLength(1);
    expect(received[0]?.data).toMatchObject({ signal: { wait: 'signal', name: 'paid', by: 'http', payload } });
  });

  it('404 when the run does not exist, waits for another name, or received the signal already', async () => {
    const ok = { amount: 1 };
    const unknown = await post('/api/runs/no-such-run/signals/paid', ok);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/no run "no-such-run"/);
    const runId = await parkedRun();
    const other = await post(`/api/runs/${runId}/signals/shipped`, ok);
    expect(other).toEqual({ status: 404, body: { error: `run ${runId} does not wait for signal "shipped"` } });
    expect((await api().getRun({ runId })).status).toBe('waiting');
    expect((await post(`/api/runs/${runId}/signals/paid`, ok)).status).toBe(200);
    const again = await post(`/api/runs/${runId}/signals/paid`, ok);
    expect(again.status).toBe(404);
    expect(again.body.error).toMatch(new RegExp(`^run ${runId} does not wait for signal "paid"`));
  });

  it('the same token rules as every /api/ route', async () => {
    const runId = await parkedRun();
    const path = `/api/runs/${runId}/signals/paid`;
    expect((await post(path, { amount: 1 }, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await post(path, { amount: 1 }, { authorization: '' })).status).toBe(401);
    expect((await post(path, { amount: 1 }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await api().getRun({ runId })).status).toBe('waiting');
  });

  it('a short timeout takes the timeout port', async () => {
    const run = await api().startRun({ workflowId: 'hurry', input: { order: 9 } });
    await status(run.runId, 'completed');
    const done = await api().getRun({ runId: run.runId });
    expect(done.output).toEqual({ timedOut: true, order: 9 });
    expect(done.activations.find((activation) => activation.nodeId === 'paid')?.port).toBe('timeout');
    expect(done.activations.find((activation) => activation.nodeId === 'end')?.status).toBe('skipped');
    const late = await post(`/api/runs/${run.runId}/signals/paid`, { amount: 1 });
    expect(late.status).toBe(404);
  });

  it('an invalid JSON Schema in the config is a problem named at validation time', async () => {
    const broken = paymentFlow('broken');
    const waitNode = broken.nodes.find((item) => item.id === 'paid');
    if (waitNode) waitNode.config = { name: 'paid', schema: { type: 'nope' } };
    const { problems } = await api().validate({ workflow: broken });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          severity: 'error',
          message: expect.stringMatching(
            /node "paid" \(wait\.signal\) config\.schema: not a usable JSON Schema/,
          ) as unknown,
        }),
      ]),
    );
  });
});

describe('stepwise signal', () => {
  const cli = (...args: string[]) => runCli(args, { db: dir.db });

  it('--data and --data-file deliver the payload; a bad payload or name is one line naming it, exit 1', async () => {
    const first = await parkedRun();
    const bad = await cli('signal', first, 'paid', '--data', '{"amount":"x"}');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/payload\.amount: expected a number, got a string/);
    const wrong = await cli('signal', first, 'shipped', '--data', '{}');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe(`stepwise: run ${first} does not wait for signal "shipped"`);
    expect((await api().getRun({ runId: first })).status).toBe('waiting');

    const sent = await cli('signal', first, 'paid', '--data', '{"amount":3}', '--by', 'ci');
    expect(sent.code, sent.stderr).toBe(0);
    await status(first, 'completed');
    expect((await api().getRun({ runId: first })).output).toEqual({ amount: 3 });

    const second = await parkedRun();
    const file = join(dir.path, 'payload.json');
    writeFileSync(file, JSON.stringify({ amount: 4, reference: 'from-file' }));
    const fromFile = await cli('signal', second, 'paid', '--data-file', file, '--json');
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ runId: second, signal: 'paid' });
    await status(second, 'completed');
    expect((await api().getRun({ runId: second })).output).toEqual({ amount: 4, reference: 'from-file' });
    const { events } = await api().getRunEvents({ runId: first });
    expect(events.find((event) => event.type === 'SignalReceived')?.data).toMatchObject({ signal: { by: 'ci' } });
  });
});
