// `stepwise inbox` as a real child process on a real database file: what waits on a person,
// newest first, as JSON (the contract's fields) and as a table; a decided wait leaves it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { approvalFlow, edge, node, refundFlow, runCli, sleep, tempDir, workflow } from '../support/harness.js';

const dir = tempDir('stepwise-inbox-cli-');
afterAll(() => dir.cleanup());
const db = join(dir.path, 'inbox.db');
const cli = (...args: string[]) => runCli(args, { db });

interface InboxItem {
  runId: string;
  nodeId: string;
  title: string;
  since: string;
  outcomes: string[];
}

describe('stepwise inbox', () => {
  it('lists every open approval newest first, with its outcomes; a decided one leaves the list', async () => {
    const empty = await cli('inbox', '--json');
    expect(empty.code, empty.stderr).toBe(0);
    expect(JSON.parse(empty.stdout)).toEqual([]);
    expect((await cli('inbox')).stdout).toMatch(/nothing waits on a person/);

    const flow = join(dir.path, 'refund.json');
    writeFileSync(flow, JSON.stringify(refundFlow()));
    const runIds: string[] = [];
    for (const amount of [1, 2, 3]) {
      const parked = await cli('run', flow, '--input', JSON.stringify({ amount }), '--json');
      expect(parked.code, parked.stderr).toBe(3);
      runIds.push((JSON.parse(parked.stdout) as { runId: string }).runId);
      // Distinct creation times, so that "newest first" is a fact the test can see.
      await sleep(5);
    }

    const listed = await cli('inbox', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const items = JSON.parse(listed.stdout) as InboxItem[];
    expect(items.map((item) => item.runId)).toEqual([...runIds].reverse());
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['nodeId', 'outcomes', 'runId', 'since', 'title']);
      expect(item).toMatchObject({ nodeId: 'ok', title: 'Refund?', outcomes: ['approved', 'rejected'] });
      expect(new Date(item.since).toISOString()).toBe(item.since);
    }
    const since = items.map((item) => Date.parse(item.since));
    expect(since).toEqual([...since].sort((a, b) => b - a));

    const table = (await cli('inbox')).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^RUN\s+NODE\s+TITLE\s+SINCE\s+OUTCOMES$/);
    expect(table).toHaveLength(4);
    expect(table[1]).toContain(runIds[2]);
    expect(table[1]).toMatch(/ok\s+Refund\?\s+\S+Z\s+approved \/ rejected$/);

    const limited = await cli('inbox', '--limit', '1');
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(limited.stderr).toMatch(/the newest 1 shown/);

    expect((await cli('approve', runIds[1] as string, '--by', 'alice')).code).toBe(0);
    const after = JSON.parse((await cli('inbox', '--json')).stdout) as InboxItem[];
    expect(after.map((item) => item.runId)).toEqual([runIds[2], runIds[0]]);
  });

  it('lists custom outcomes; `stepwise decide` takes one with the form values (`--set`), refusing a bad form by name', async () => {
    const flow = join(dir.path, 'escalate.json');
    const graph = workflow(
      'escalation',
      [
        node('start', 'trigger.manual'),
        node('ok', 'approval', {
          title: 'Big refund?',
          outcomes: [{ port: 'escalate', label: 'Escalate' }],
          form: [{ name: 'to', label: 'Escalate to', type: 'text', required: true }],
        }),
        node('end', 'output'),
      ],
      [edge('start', 'ok'), edge('ok:escalate', 'end')],
    );
    writeFileSync(flow, JSON.stringify(graph));
    const parked = await cli('run', flow, '--input', '{"amount":900}', '--by', 'alice', '--json');
    expect(parked.code, parked.stderr).toBe(3);
    const { runId } = JSON.parse(parked.stdout) as { runId: string };
    const items = JSON.parse((await cli('inbox', '--json')).stdout) as InboxItem[];
    expect(items.find((item) => item.runId === runId)?.outcomes).toEqual(['approved', 'rejected', 'escalate']);

    const missing = await cli('decide', runId, 'escalate', '--by', 'bob');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/invalid form: "Escalate to" is required/);
    const badJson = await cli('decide', runId, 'escalate', '--by', 'bob', '--set', 'to=carol');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/--set to: not JSON/);

    const decided = await cli('decide', runId, 'escalate', '--by', 'bob', '--set', 'to="carol"', '--json');
    expect(decided.code, decided.stderr).toBe(0);
    expect(JSON.parse(decided.stdout)).toMatchObject({ runId, decision: 'escalate' });
    const worked = await cli('worker', '--until-idle');
    expect(worked.code, worked.stderr).toBe(0);
    const shown = JSON.parse((await cli('show', runId, '--json')).stdout) as {
      status: string;
      output: unknown;
      events: { type: string; data: { startedBy?: string } }[];
    };
    expect(shown).toMatchObject({ status: 'completed', output: { amount: 900, form: { to: 'carol' } } });
    // `--by` on run names who started it.
    expect(shown.events.find((event) => event.type === 'RunStarted')?.data.startedBy).toBe('alice');
  });

  it('`stepwise approve` under a quorum says the approval was a vote and the run still waits', async () => {
    const flow = join(dir.path, 'quorum.json');
    writeFileSync(flow, JSON.stringify(approvalFlow('quorum-cli', { quorum: 2 })));
    const parked = await cli('run', flow, '--json');
    expect(parked.code, parked.stderr).toBe(3);
    const { runId } = JSON.parse(parked.stdout) as { runId: string };
    const first = await cli('approve', runId, '--by', 'alice');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/recorded as a vote; run \S+ waits for more approvals/);
    const second = await cli('approve', runId, '--by', 'bob');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/approved — run \S+ continues/);
  });
});
