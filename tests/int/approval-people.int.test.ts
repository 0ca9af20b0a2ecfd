// Who decides an approval: one person is one person whatever the case, spacing or Unicode form of
// their name (quorums, assignees, "not the starter"), a blank name is refused, two processes
// deciding at once record one end, and form values are checked to the day and the tick.
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/runtime/engine.js';
import { EngineError } from '../../engine/runtime/errors.js';
import { dbPathOf, testEngine } from '../support/engine.js';
import { approvalFlow } from '../support/harness.js';

async function parked(engine: Engine, graph: ReturnType<typeof approvalFlow>, by?: string) {
  const { workflowId } = await engine.saveWorkflow(graph);
  const run = await engine.startRun(workflowId, { input: { amount: 5 }, ...(by !== undefined && { by }) });
  engine.startWorker();
  const detail = await engine.waitForRun(run.runId, { timeoutMs: 15_000 });
  expect(detail.status).toBe('waiting');
  return run.runId;
}

async function outcome(promise: Promise<unknown>): Promise<EngineError | null> {
  return promise.then(
    () => null,
    (caught: unknown) => {
      if (caught instanceof EngineError) return caught;
      throw caught;
    },
  );
}

describe('who decides an approval', () => {
  it('quorum 2-of-2: the same person with different case does not count twice', async () => {
    const engine = testEngine();
    const runId = await parked(engine, approvalFlow('q-case', { quorum: 2 }));
    await engine.commands.decide(runId, 'approved', { by: 'alice' });
    const second = await outcome(engine.commands.decide(runId, 'approved', { by: 'Alice' }));
    const detail = (await engine.queries.get(runId))!;
    // Either refused as already voted, or at least the run still waits for a second person.
    expect(second?.code ?? null).toBe('already-decided');
    expect(detail.status).toBe('waiting');
  });

  it('quorum 2-of-2: the same person with surrounding whitespace does not count twice', async () => {
    const engine = testEngine();
    const runId = await parked(engine, approvalFlow('q-space', { quorum: 2 }));
    await engine.commands.decide(runId, 'approved', { by: 'alice' });
    const second = await outcome(engine.commands.decide(runId, 'approved', { by: ' alice ' }));
    expect(second?.code ?? null).toBe('already-decided');
    expect((await engine.queries.get(runId))!.status).toBe('waiting');
  });

  it('excludeStarter: the starter with different case may not decide', async () => {
    const engine = testEngine();
    const runId = await parked(engine, approvalFlow('starter-case', { excludeStarter: true }), 'alice');
    const refused = await outcome(engine.commands.decide(runId, 'approved', { by: 'Alice' }));
    expect(refused?.code ?? null).toBe('not-allowed');
  });

  it('excludeStarter: a starter name given with whitespace (CLI --by " alice") still excludes alice', async () => {
    const engine = testEngine();
    // The CLI passes --by to commands.start untrimmed (engine/cli/main.ts pinAndStart).
    const runId = await parked(engine, approvalFlow('starter-space', { excludeStarter: true }), 'alice ');
    const refused = await outcome(engine.commands.decide(runId, 'approved', { by: 'alice' }));
    expect(refused?.code ?? null).toBe('not-allowed');
  });

  it('assignees: a name in different case is the same assignee', async () => {
    const engine = testEngine();
    const runId = await parked(engine, approvalFlow('assignee-case', { assignees: ['Alice'] }));
    const answer = await outcome(engine.commands.decide(runId, 'approved', { by: 'alice' }));
    expect(answer).toBeNull();
  });

  it('a blank name (whitespace only) is refused rather than journaled as by ""', async () => {
    const engine = testEngine();
    const runId = await parked(engine, approvalFlow('blank-by', {}));
    const answer = await outcome(engine.commands.decide(runId, 'approved', { by: '   ' }));
    const detail = (await engine.queries.get(runId))!;
    const decidedBy = detail.approvals[0]?.decidedBy ?? null;
    expect({ refused: answer?.code ?? null, decidedBy }).toEqual({ refused: 'invalid', decidedBy: null });
  });
});

describe('decisions racing between processes', () => {
  it('two engines on one file: a quorum-2 approval and a rejection racing record exactly one end', async () => {
    const first = testEngine();
    const runId = await parked(first, approvalFlow('race', { quorum: 2 }));
    await first.commands.decide(runId, 'approved', { by: 'alice' });
    const second = testEngine({ dbPath: dbPathOf(first) });
    const answers = await Promise.allSettled([
      first.commands.decide(runId, 'approved', { by: 'bob' }),
      second.commands.decide(runId, 'rejected', { by: 'carol' }),
    ]);
    const ok = answers.filter((answer) => answer.status === 'fulfilled').length;
    const events = await first.queries.events(runId);
    const ends = events.filter((event) => event.type === 'SignalReceived' && event.data.pending !== true);
    expect({ ok, ends: ends.length }).toEqual({ ok: 1, ends: 1 });
  });

  it('two engines on one file: the same person voting twice at once counts once', async () => {
    const first = testEngine();
    const runId = await parked(first, approvalFlow('race-vote', { quorum: 3 }));
    const second = testEngine({ dbPath: dbPathOf(first) });
    await Promise.allSettled([
      first.commands.decide(runId, 'approved', { by: 'alice' }),
      second.commands.decide(runId, 'approved', { by: 'alice' }),
    ]);
    const events = await first.queries.events(runId);
    expect(events.filter((event) => event.type === 'SignalReceived').length).toBe(1);
  });
});

describe('form values', () => {
  it('a date field refuses a day that does not exist (2023-02-30)', async () => {
    const engine = testEngine();
    const form = [{ name: 'when', label: 'Pay on', type: 'date', required: true }];
    const runId = await parked(engine, approvalFlow('form-date', { form }));
    const answer = await outcome(
      engine.commands.decide(runId, 'approved', { by: 'bob', values: { when: '2023-02-30' } }),
    );
    expect(answer?.code ?? null).toBe('invalid');
  });

  it('a required boolean is not satisfied by false (the card always sends false for an unticked box)', async () => {
    const engine = testEngine();
    const form = [{ name: 'checked', label: 'I checked the receipt', type: 'boolean', required: true }];
    const runId = await parked(engine, approvalFlow('form-bool', { form }));
    const answer = await outcome(engine.commands.decide(runId, 'approved', { by: 'bob', values: { checked: false } }));
    expect(answer?.code ?? null).toBe('invalid');
  });
});
