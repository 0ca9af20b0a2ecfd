// Timers that came due while nothing ran (issue 9, "Timers"), against real `stepwise serve`
// processes on one real SQLite file: runs park on wait.timer, the server stops, the timers come
// due, a new server starts and each timer follows its node's misfire policy — fire late (the
// lateness recorded), skip (the `missed` port), ask (an inbox item) — while a v1 timer behaves as
// v1 always did; the server says at start-up which timers were late, and `lateTimers` lists them.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  EngineClient,
  formatWorkflowFile,
  WebSocketConnection,
  type EngineApi,
  type LateTimer,
  type RunDetail,
} from '../../engine/api/index.js';
import { edge, node, runCli, sleep, spawnCli, tempDir, until, workflow } from '../support/harness.js';

const dir = tempDir('stepwise-misfire-');
const WAIT_MS = 4000;
/** How long the timers stay due with no server running. */
const CLOSED_PAST_DUE_MS = 2500;

interface Served {
  child: ChildProcess;
  client: EngineClient;
  api: EngineApi;
  stderr: () => string;
  stop(): Promise<void>;
}

async function startServe(): Promise<Served> {
  const child = spawnCli(['serve', '--port', '0', '--json'], { db: dir.db });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const info = await new Promise<{ port: number; token: string }>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) resolve(JSON.parse(line) as { port: number; token: string });
    });
    child.once('exit', (code) => reject(new Error(`stepwise serve exited ${code}: ${stderr}`)));
  });
  const client = new EngineClient(
    new WebSocketConnection(`ws://127.0.0.1:${info.port}/api/ws?token=${info.token}`, (url) => new WebSocket(url)),
  );
  return {
    child,
    client,
    api: client.api,
    stderr: () => stderr,
    stop: async () => {
      client.stop();
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** start → wait (wait.timer) → out: "fired", missed: "skipped" (v2 only), each an output. */
function timerFlow(id: string, typeVersion: number, config: Record<string, unknown>) {
  const v2 = typeVersion === 2;
  return workflow(
    id,
    [
      node('start', 'trigger.manual'),
      node('wait', 'wait.timer', { duration: `${WAIT_MS}ms`, ...config }, { typeVersion }),
      node('fired', 'code', { code: 'return { took: "out", input };' }),
      ...(v2 ? [node('skipped', 'code', { code: 'return { took: "missed", missed: input };' })] : []),
      node('end', 'output'),
    ],
    [
      edge('start', 'wait'),
      edge('wait', 'fired'),
      edge('fired', 'end'),
      ...(v2 ? [edge('wait:missed', 'skipped'), edge('skipped', 'end')] : []),
    ],
  );
}

const runs: Record<'fire' | 'skip' | 'ask' | 'askReject' | 'v1', string> = {
  fire: '',
  skip: '',
  ask: '',
  askReject: '',
  v1: '',
};
let dueAt = 0;
let stoppedAt = 0;
let second: Served;

function waitNode(run: RunDetail) {
  return run.activations.find((activation) => activation.nodeId === 'wait');
}

async function settledRun(runId: string, status: RunDetail['status']): Promise<RunDetail> {
  await until(async () => (await second.api.getRun({ runId })).status === status, `${runId} ${status}`, 30_000);
  return second.api.getRun({ runId });
}

beforeAll(async () => {
  const first = await startServe();
  const flows = {
    fire: timerFlow('late-fire', 2, { misfireGrace: '500ms' }),
    skip: timerFlow('late-skip', 2, { misfire: 'skip', misfireGrace: '500ms' }),
    ask: timerFlow('late-ask', 2, { misfire: 'ask', misfireGrace: '500ms' }),
    askReject: timerFlow('late-ask-reject', 2, { misfire: 'ask', misfireGrace: '500ms' }),
    v1: timerFlow('late-v1', 1, {}),
  };
  for (const [key, flow] of Object.entries(flows)) {
    await first.api.importWorkflow({ text: formatWorkflowFile(flow) });
    runs[key as keyof typeof runs] = (await first.api.startRun({ workflowId: flow.id, input: { key } })).runId;
  }
  for (const runId of Object.values(runs))
    await until(async () => (await first.api.getRun({ runId })).status === 'waiting', `${runId} parked`);
  const waits = await Promise.all(
    Object.values(runs).map(async (runId) => waitNode(await first.api.getRun({ runId }))),
  );
  dueAt = Math.max(...waits.map((activation) => (activation?.wait?.kind === 'timer' ? activation.wait.dueAt : 0)));
  await first.stop();
  stoppedAt = Date.now();
  // The timers must come due while no server runs, so that they fire late at the next start.
  expect(stoppedAt).toBeLessThan(dueAt);
  await sleep(dueAt - Date.now() + CLOSED_PAST_DUE_MS);
  second = await startServe();
}, 90_000);

afterAll(async () => {
  await second?.stop();
  dir.cleanup();
});

describe('timers that came due while nothing ran', () => {
  it('misfire "fire" (the default): fires late on start, its lateness recorded in the journal, show and export', async () => {
    const run = await settledRun(runs.fire, 'completed');
    expect(run.output).toMatchObject({ took: 'out' });
    const { events } = await second.api.getRunEvents({ runId: runs.fire });
    const fired = events.find((event) => event.type === 'TimerFired');
    if (fired?.type !== 'TimerFired') throw new Error('no TimerFired');
    // At least the time it stayed due with nothing running.
    expect(fired.data.lateMs).toBeGreaterThanOrEqual(CLOSED_PAST_DUE_MS);
    expect(fired.data.lateMs).toBe(fired.data.firedAt - fired.data.dueAt);
    const shown = await runCli(['show', runs.fire], { db: dir.db });
    expect(shown.stdout).toMatch(/TimerFired.*\(wait\) late by \d+(\.\d)?s/);
    const exported = await second.api.exportRun({ runId: runs.fire });
    expect(exported.text).toMatch(new RegExp(`"lateMs":\\s*${fired.data.lateMs}\\b`));
  });

  it('misfire "skip": does not take `out` but `missed`, with when it was due, fired and how late', async () => {
    const run = await settledRun(runs.skip, 'completed');
    const wait = waitNode(run);
    expect(wait?.port).toBe('missed');
    // Downstream of `out`, nothing ran.
    expect(run.activations.find((activation) => activation.nodeId === 'fired')?.status ?? 'skipped').toBe('skipped');
    const missed = (run.output as { took: string; missed: { dueAt: number; firedAt: number; lateMs: number } }).missed;
    expect(run.output).toMatchObject({ took: 'missed' });
    expect(missed.lateMs).toBe(missed.firedAt - missed.dueAt);
    expect(missed.lateMs).toBeGreaterThanOrEqual(CLOSED_PAST_DUE_MS);
  });

  it('misfire "ask": one open inbox row; Approve takes `out`, Reject takes `missed`', async () => {
    await settledRun(runs.ask, 'waiting');
    await settledRun(runs.askReject, 'waiting');
    const inbox = await second.api.listInbox({});
    const asked = inbox.items.filter((item) => item.runId === runs.ask);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({
      nodeId: 'wait',
      title: 'Timer came due while Stepwise was closed: fire now?',
    });
    await second.api.decide({ runId: runs.ask, decision: 'approved', by: 'alice' });
    const approved = await settledRun(runs.ask, 'completed');
    expect(waitNode(approved)?.port).toBe('out');
    expect(approved.output).toMatchObject({ took: 'out', input: { key: 'ask' } });
    expect((await second.api.listInbox({})).items.some((item) => item.runId === runs.ask)).toBe(false);

    await second.api.decide({ runId: runs.askReject, decision: 'rejected', by: 'bob' });
    const rejected = await settledRun(runs.askReject, 'completed');
    expect(waitNode(rejected)?.port).toBe('missed');
    const missed = (rejected.output as { missed: { dueAt: number; firedAt: number; lateMs: number } }).missed;
    expect(missed.lateMs).toBeGreaterThanOrEqual(CLOSED_PAST_DUE_MS);
    expect(missed.lateMs).toBe(missed.firedAt - missed.dueAt);
    // A second wait on one activation (timer, then approval) replays as recorded.
    expect(await second.api.verifyReplay({ runId: runs.askReject })).toMatchObject({ ok: true, divergence: null });
  });

  it('a pinned wait.timer v1 still fires late on `out` (no misfire policy, no missed port)', async () => {
    const run = await settledRun(runs.v1, 'completed');
    expect(waitNode(run)?.port).toBe('out');
    expect(run.output).toMatchObject({ took: 'out', input: { key: 'v1' } });
    // v1's config has no misfire field: a version asking for one is refused, as before.
    const refused = await second.api.validate({
      workflow: timerFlow('v1-misfire', 1, { misfire: 'skip' }),
    });
    expect(refused.problems.some((problem) => problem.nodeId === 'wait' && problem.severity === 'error')).toBe(true);
  });

  it('the start-up report: lateTimers lists the late ones and serve printed a line for each', async () => {
    const report = await second.api.lateTimers({});
    expect(report.swept).toBe(true);
    const byRun = new Map(report.timers.map((timer: LateTimer) => [timer.runId, timer]));
    expect(byRun.get(runs.fire)).toMatchObject({ nodeId: 'wait', purpose: 'wait', policy: 'fire', outcome: 'fired' });
    expect(byRun.get(runs.skip)).toMatchObject({ policy: 'skip', outcome: 'skipped' });
    expect(byRun.get(runs.ask)).toMatchObject({ policy: 'ask', outcome: 'asked' });
    expect(byRun.get(runs.fire)?.lateMs).toBeGreaterThanOrEqual(CLOSED_PAST_DUE_MS);
    // v1 has no grace of its own: a few seconds late is under the minute that counts as late.
    expect(byRun.has(runs.v1)).toBe(false);
    for (const key of ['fire', 'skip', 'ask', 'askReject'] as const)
      await until(() => second.stderr().includes(`late timer: run ${runs[key]} node "wait"`), `serve printing ${key}`);
    expect(second.stderr()).not.toContain(runs.v1);
  });
});
