// Waiting survives a crash: 100 runs parked at an approval in a real `stepwise serve` (a real
// engine host child process, a real SQLite file); the host and serve are killed with SIGKILL and a
// new `stepwise serve` starts on the same file; all 100 are then decided over
// POST /api/runs/<runId>/decisions → every run completes on the port its decision chose, each
// decision is journaled once, and deciding again is refused naming the first decision.
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { formatWorkflowFile, type EngineClient } from '../../engine/api/index.js';
import { startServe, type ServedProcess } from '../support/browser.js';
import { refundFlow, tempDir, until } from '../support/harness.js';
import { apiClient, postJson, type HttpAnswer } from '../support/http-api.js';
import { childPids, isGone } from '../support/processes.js';

const RUNS = 100;
const dir = tempDir('stepwise-parked-restart-');
const opened: { served: ServedProcess; client: EngineClient }[] = [];

afterAll(async () => {
  for (const { served, client } of opened) {
    client.stop();
    await served.stop();
  }
  dir.cleanup();
});

async function open(): Promise<{ served: ServedProcess; client: EngineClient }> {
  const served = await startServe(dir.db);
  const client = apiClient(served);
  opened.push({ served, client });
  return { served, client };
}

/** Even amounts are approved, odd ones rejected; each by its own person. */
const decisionFor = (amount: number) => ({
  decision: amount % 2 === 0 ? ('approved' as const) : ('rejected' as const),
  by: `approver-${amount}`,
  comment: `decided after the restart (${amount})`,
});

describe('100 runs parked at an approval survive the engine host being killed', () => {
  it('are all decided over HTTP after a restart, each once, each down its port', { timeout: 180_000 }, async () => {
    const first = await open();
    await first.client.api.importWorkflow({ text: formatWorkflowFile(refundFlow()) });
    const amounts = Array.from({ length: RUNS }, (_, index) => index + 1);
    const runOf = new Map<number, string>();
    await Promise.all(
      amounts.map(async (amount) => {
        const run = await first.client.api.startRun({ workflowId: 'refund', input: { amount } });
        runOf.set(amount, run.runId);
      }),
    );
    await until(
      async () => (await first.client.api.listRuns({ status: ['waiting'] })).counts.waiting === RUNS,
      `${RUNS} runs waiting`,
      60_000,
    );
    expect((await first.client.api.listInbox({})).total).toBe(RUNS);

    // SIGKILL the engine host, then serve itself before its supervisor could start another host:
    // nothing closes the database or says goodbye, as in a crash.
    const [hostPid, ...others] = childPids(first.served.pid);
    expect(hostPid).toBeDefined();
    expect(others).toEqual([]);
    process.kill(hostPid as number, 'SIGKILL');
    process.kill(first.served.pid, 'SIGKILL');
    first.client.stop();
    await first.served.exited;
    await until(() => isGone(hostPid as number), 'the killed engine host gone', 10_000);

    const second = await open();
    expect(second.served.pid).not.toBe(first.served.pid);
    const inbox = await second.client.api.listInbox({ limit: 1000 });
    expect(inbox.total).toBe(RUNS);
    expect(new Set(inbox.items.map((item) => item.runId))).toEqual(new Set(runOf.values()));

    // Ten clients at a time, as several people (or a script) deciding at once.
    const queue = [...amounts];
    const answers = new Map<number, HttpAnswer>();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let amount = queue.shift(); amount !== undefined; amount = queue.shift())
          answers.set(
            amount,
            await postJson(second.served, `/api/runs/${runOf.get(amount)}/decisions`, decisionFor(amount)),
          );
      }),
    );
    for (const amount of amounts)
      expect(answers.get(amount), `run ${amount}`).toEqual({ status: 200, body: { ok: true } });

    await until(
      async () => (await second.client.api.listRuns({})).counts.completed === RUNS,
      `${RUNS} runs completed`,
      60_000,
    );
    expect((await second.client.api.listInbox({})).total).toBe(0);

    for (const amount of amounts) {
      const runId = runOf.get(amount) as string;
      const { decision, by, comment } = decisionFor(amount);
      const run = await second.client.api.getRun({ runId });
      expect(run.status, runId).toBe('completed');
      expect(run.approvals).toHaveLength(1);
      expect(run.approvals[0]).toMatchObject({ status: 'decided', decision, decidedBy: by, comment });
      expect(run.activations.find((activation) => activation.nodeId === 'ok')?.port).toBe(decision);
      const pay = run.activations.find((activation) => activation.nodeId === 'pay');
      if (decision === 'approved') {
        expect(pay?.status).toBe('completed');
        expect(run.output).toEqual({ refunded: amount });
      } else {
        expect(pay?.status).toBe('skipped');
      }
      const { events, more } = await second.client.api.getRunEvents({ runId, limit: 5000 });
      expect(more).toBe(false);
      const signals = events.filter((event) => event.type === 'SignalReceived');
      expect(signals, runId).toHaveLength(1);
      expect(signals[0]?.data).toMatchObject({ signal: { decision, by, comment } });
    }

    // A second decision, however late, is refused naming the first.
    const late = runOf.get(RUNS) as string;
    const decidedAt = (await second.client.api.getRun({ runId: late })).approvals[0]?.decidedAt ?? 0;
    const again = await postJson(second.served, `/api/runs/${late}/decisions`, {
      decision: 'rejected',
      by: 'someone-else',
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      error: 'already-decided',
      first: { decision: 'approved', by: `approver-${RUNS}`, at: new Date(decidedAt).toISOString() },
    });

    // The file itself, after a clean stop: one SignalReceived per run, every run completed.
    second.client.stop();
    await second.served.stop();
    const db = new Database(dir.db, { readonly: true });
    try {
      const perRun = db
        .prepare("SELECT run_id AS runId, count(*) AS n FROM events WHERE type = 'SignalReceived' GROUP BY run_id")
        .all() as { runId: string; n: number }[];
      expect(perRun).toHaveLength(RUNS);
      expect(perRun.every((row) => row.n === 1)).toBe(true);
      expect(db.prepare("SELECT count(*) AS n FROM runs WHERE status = 'completed'").get()).toEqual({ n: RUNS });
    } finally {
      db.close();
    }
  });
});
