// `stepwise state` (a run as of one event) and `stepwise import` (an exported run, read-only, in
// another database), through the real CLI on real database files.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { edge, node, refundFlow, runCli, tempDir, workflow } from '../support/harness.js';

const dir = tempDir('stepwise-state-');
afterAll(() => dir.cleanup());
const origin = join(dir.path, 'origin.db');
const cli = (db: string, ...args: string[]) => runCli(args, { db });

interface Event {
  seq: number;
  type: string;
  nodeId: string | null;
}
interface NodeState {
  status: string;
  output: unknown;
  error: { message: string } | null;
  attempts: number;
}
interface State {
  runId: string;
  seq: number;
  status: string;
  nodes: Record<string, NodeState>;
}

function file(name: string, content: unknown): string {
  const path = join(dir.path, name);
  writeFileSync(path, JSON.stringify(content, null, 2));
  return path;
}

async function json<T>(db: string, ...args: string[]): Promise<T> {
  const result = await cli(db, ...args, '--json');
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

async function stateAt(db: string, runId: string, seq?: number): Promise<State> {
  return json<State>(db, 'state', runId, ...(seq === undefined ? [] : ['--at', String(seq)]));
}

function seqOf(events: Event[], type: string, nodeId: string | null): number {
  const event = events.find((item) => item.type === type && item.nodeId === nodeId);
  if (!event) throw new Error(`no ${type} of ${nodeId}`);
  return event.seq;
}

// trigger → code "a" → fail "b" (the third node fails).
const failing = workflow(
  'fails-third',
  [
    node('start', 'trigger.manual'),
    node('a', 'code', { code: 'return { x: 1 };' }),
    node('b', 'fail', { message: 'no stock' }),
  ],
  [edge('start', 'a'), edge('a', 'b')],
);

async function failedRun(): Promise<{ runId: string; events: Event[] }> {
  const run = await cli(origin, 'run', file('fails.json', failing), '--json');
  expect(run.code, run.stderr).toBe(1);
  const { runId } = JSON.parse(run.stdout) as { runId: string };
  const shown = await json<{ events: Event[] }>(origin, 'show', runId);
  return { runId, events: shown.events };
}

describe('stepwise state', () => {
  it('gives every node as of an event: pending before, completed at its NodeCompleted, failed after its failure', async () => {
    const { runId, events } = await failedRun();
    expect(events[0]).toMatchObject({ seq: 1, type: 'RunStarted', nodeId: null });

    const first = await stateAt(origin, runId, 1);
    expect(first).toMatchObject({ runId, seq: 1, status: 'running' });
    expect(Object.keys(first.nodes).sort()).toEqual(['a', 'b', 'start']);
    for (const nodeState of Object.values(first.nodes))
      expect(nodeState).toEqual({ status: 'pending', output: null, error: null, attempts: 0 });

    const aScheduled = seqOf(events, 'NodeScheduled', 'a');
    expect((await stateAt(origin, runId, aScheduled - 1)).nodes.a?.status).toBe('pending');
    expect((await stateAt(origin, runId, aScheduled)).nodes.a?.status).toBe('scheduled');

    const aCompleted = seqOf(events, 'NodeCompleted', 'a');
    const before = await stateAt(origin, runId, aCompleted - 1);
    expect(before.nodes.a).toMatchObject({ status: 'running', output: null, attempts: 1 });
    const at = await stateAt(origin, runId, aCompleted);
    expect(at.nodes.a).toEqual({ status: 'completed', output: { x: 1 }, error: null, attempts: 1 });
    expect(at.nodes.b?.status).toBe('pending');

    const bFailed = seqOf(events, 'NodeFailed', 'b');
    const failed = await stateAt(origin, runId, bFailed);
    expect(failed.nodes.b).toMatchObject({ status: 'failed', error: { message: 'no stock' }, attempts: 1 });

    const latest = await stateAt(origin, runId);
    expect(latest).toMatchObject({ seq: events.length, status: 'failed' });
    expect(latest.nodes.a?.status).toBe('completed');
  });

  it('shows a node waiting at an approval', async () => {
    const run = await cli(origin, 'run', file('refund.json', refundFlow()), '--input', '{"amount":5}', '--json');
    expect(run.code, run.stderr).toBe(3);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const latest = await stateAt(origin, runId);
    expect(latest.status).toBe('waiting');
    expect(latest.nodes.ok?.status).toBe('waiting');
    expect(latest.nodes.pay?.status).toBe('pending');
  });

  it('refuses an event outside the journal (exit 1) and a --at that is not a number (exit 2)', async () => {
    const { runId, events } = await failedRun();
    for (const seq of [0, events.length + 1]) {
      const result = await cli(origin, 'state', runId, '--at', String(seq));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`has no event #${seq}: its journal runs from #1 to #${events.length}`);
    }
    expect((await cli(origin, 'state', runId, '--at', 'two')).code).toBe(2);
  });
});

describe('stepwise import', () => {
  it('stores an exported run read-only in a fresh database: same steps, imported: true, never executed', async () => {
    const { runId, events } = await failedRun();
    const exported = join(dir.path, `${runId}.json`);
    expect((await cli(origin, 'export', runId, '--out', exported)).code).toBe(0);

    const fresh = join(dir.path, 'fresh.db');
    expect(await json<{ runId: string }>(fresh, 'import', exported)).toEqual({ runId });

    const shown = await json<{ imported: boolean; status: string; events: Event[] }>(fresh, 'show', runId);
    expect(shown).toMatchObject({ imported: true, status: 'failed' });
    expect(shown.events.map(({ seq, type, nodeId }) => ({ seq, type, nodeId }))).toEqual(
      events.map(({ seq, type, nodeId }) => ({ seq, type, nodeId })),
    );
    for (const seq of [1, seqOf(events, 'NodeCompleted', 'a'), events.length])
      expect(await stateAt(fresh, runId, seq)).toEqual(await stateAt(origin, runId, seq));

    const { runs } = await json<{ runs: { runId: string; imported: boolean }[] }>(fresh, 'runs');
    expect(runs).toEqual([expect.objectContaining({ runId, imported: true })]);
    const originRuns = await json<{ runs: { imported: boolean }[] }>(origin, 'runs');
    expect(originRuns.runs.every((run) => !run.imported)).toBe(true);

    // The same export again: refused, naming the run already there.
    const again = await cli(fresh, 'import', exported);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`run ${runId} is already in this database`);
  });

  it('a parked imported run is left alone by a worker; approve, cancel and redrive are refused', async () => {
    const run = await cli(origin, 'run', file('refund2.json', refundFlow()), '--input', '{"amount":7}', '--json');
    expect(run.code, run.stderr).toBe(3);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const exported = join(dir.path, `${runId}.json`);
    expect((await cli(origin, 'export', runId, '--out', exported)).code).toBe(0);

    const fresh = join(dir.path, 'parked.db');
    expect((await cli(fresh, 'import', exported)).code).toBe(0);
    const before = await json<{ lastSeq: number; status: string }>(fresh, 'show', runId);
    expect(before.status).toBe('waiting');

    for (const command of ['approve', 'cancel', 'redrive']) {
      const refused = await cli(fresh, command, runId);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`run ${runId} was imported: it is read-only`);
    }
    expect((await cli(fresh, 'worker', '--until-idle')).code).toBe(0);
    const after = await json<{ events: Event[]; status: string; approvals: unknown[] }>(fresh, 'show', runId);
    expect(after.status).toBe('waiting');
    expect(after.events).toHaveLength((await json<{ events: Event[] }>(origin, 'show', runId)).events.length);
    expect(after.approvals).toEqual([]);
  });

  it('refuses a tampered export and imports an unchained (@1) one with a warning', async () => {
    const { runId } = await failedRun();
    const exported = join(dir.path, `${runId}.json`);
    expect((await cli(origin, 'export', runId, '--out', exported)).code).toBe(0);
    const original = JSON.parse(readFileSync(exported, 'utf8')) as {
      format: string;
      chain?: unknown;
      events: { type: string; data: { output?: unknown } }[];
    };

    const tampered = structuredClone(original);
    const completed = tampered.events.find((event) => event.type === 'NodeCompleted');
    if (completed) completed.data.output = { x: 2 };
    const fresh = join(dir.path, 'tampered.db');
    const refused = await cli(fresh, 'import', file('tampered.json', tampered));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/import refused: event #\d+ \(NodeCompleted\) was altered/);
    expect((await json<{ runs: unknown[] }>(fresh, 'runs')).runs).toEqual([]);

    const { chain: _chain, ...unchained } = { ...original, format: 'stepwise/run-export@1' };
    const imported = await cli(fresh, 'import', file('unchained.json', unchained), '--json');
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/warning: .*no hash chain/);
    expect(JSON.parse(imported.stdout)).toEqual({ runId });
  });
});
