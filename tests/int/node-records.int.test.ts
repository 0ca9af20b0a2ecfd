// Node records: what a node notes during an activation (a code node's console here) is journaled as
// `NodeNoted` in the commit that ends the activation, capped, redacted, and shown by `stepwise show`,
// exports, replay and the fold for time travel.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../engine/journal/events.js';
import { ActivationNotes, NOTES_LIMIT } from '../../engine/runtime/node-notes.js';
import { dbPathOf, runWorkflow, testEngine } from '../support/engine.js';
import { chain, node, runCli, tempDir } from '../support/harness.js';

const files = tempDir('stepwise-notes-');
afterAll(() => files.cleanup());

function notedOf(events: readonly JournalEvent[]): Extract<JournalEvent, { type: 'NodeNoted' }>[] {
  return events.filter((event): event is Extract<JournalEvent, { type: 'NodeNoted' }> => event.type === 'NodeNoted');
}

describe('node records', () => {
  it("journals a code node's console lines with its completion, and stepwise show prints them", async () => {
    const engine = testEngine();
    const run = await runWorkflow(
      engine,
      chain('console', [
        node('c', 'code', {
          code: "console.log('hello', 'world'); console.info({ a: 1 }, [2], 3, undefined); console.warn('careful'); console.error(new TypeError('bad')); return input + 1;",
        }),
      ]),
      41,
    );
    expect(run.status).toBe('completed');
    expect(run.output).toBe(42);
    const [noted, ...more] = notedOf(run.events);
    expect(more).toEqual([]);
    expect(noted?.nodeId).toBe('c');
    expect(noted?.data.notes.map(({ level, kind, message }) => ({ level, kind, message }))).toEqual([
      { level: 'info', kind: 'console', message: 'hello world' },
      { level: 'info', kind: 'console', message: '{"a":1} [2] 3 undefined' },
      { level: 'warn', kind: 'console', message: 'careful' },
      { level: 'error', kind: 'console', message: 'TypeError: bad' },
    ]);
    // Journaled right before the completion (the same commit: nothing of another activation between).
    const completed = run.events.find((event) => event.type === 'NodeCompleted' && event.nodeId === 'c');
    expect(completed?.seq).toBe((noted?.seq ?? 0) + 1);
    // Folded into the activation, for the run view's Log section and time travel.
    expect(run.activations.find((activation) => activation.nodeId === 'c')?.notes).toHaveLength(4);

    const shown = await runCli(['show', run.runId], { db: dbPathOf(engine) });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(
      /NodeNoted c 4 notes:\n\s+info {2}console: hello world\n\s+info {2}console: \{"a":1\} \[2\] 3 undefined\n\s+warn {2}console: careful\n\s+error console: TypeError: bad/,
    );

    // An export carries the notes, replay verifies the journal with them, and time travel folds them.
    const out = join(files.path, 'console.json');
    const exported = await runCli(['export', run.runId, '--out', out], { db: dbPathOf(engine) });
    expect(exported.code, exported.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('"hello world"');
    const replayed = await runCli(['replay', out]);
    expect(replayed.code, replayed.stdout + replayed.stderr).toBe(0);
    const state = await runCli(['state', run.runId, '--at', String(noted?.seq ?? 0), '--json'], {
      db: dbPathOf(engine),
    });
    expect(state.code, state.stderr).toBe(0);
    expect(JSON.parse(state.stdout)).toMatchObject({ nodes: { c: { status: 'running' } } });
  });

  it('keeps the lines printed before the code threw, and before it ran out of time', async () => {
    const engine = testEngine();
    const threw = await runWorkflow(
      engine,
      chain('throws', [
        node('c', 'code', { code: "console.log('step 1'); console.log('step 2'); throw new Error('boom');" }),
      ]),
    );
    expect(threw.status).toBe('failed');
    expect(notedOf(threw.events)[0]?.data.notes.map((note) => note.message)).toEqual(['step 1', 'step 2']);
    const failed = threw.events.find((event) => event.type === 'NodeFailed');
    expect(failed?.seq).toBe((notedOf(threw.events)[0]?.seq ?? 0) + 1);

    const looped = await runWorkflow(
      engine,
      chain('loops', [node('c', 'code', { code: "console.log('started'); while (true) {}", timeoutMs: 200 })]),
    );
    expect(looped.status).toBe('failed');
    expect(looped.activations.find((activation) => activation.nodeId === 'c')?.error?.kind).toBe('code.timeout');
    expect(notedOf(looped.events)[0]?.data.notes.map((note) => note.message)).toEqual(['started']);
  });

  it('keeps at most 200 notes per activation and says how many more were dropped', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('chatty', [
        node('c', 'code', { code: 'for (let i = 0; i < 500; i++) console.log(`line ${i}`); return 1;' }),
      ]),
    );
    expect(run.status).toBe('completed');
    const notes = notedOf(run.events)[0]?.data.notes ?? [];
    expect(notes).toHaveLength(NOTES_LIMIT.count + 1);
    expect(notes[0]?.message).toBe('line 0');
    expect(notes[NOTES_LIMIT.count - 1]?.message).toBe(`line ${NOTES_LIMIT.count - 1}`);
    expect(notes.at(-1)).toMatchObject({
      level: 'warn',
      kind: 'notes.dropped',
      message: expect.stringMatching(/^300 more notes dropped/),
    });
  });

  it('redacts URL user info a node prints, and the credential values it read', async () => {
    const run = await runWorkflow(
      testEngine(),
      chain('leaky', [
        node('c', 'code', { code: "console.log('calling https://alice:hunter2@api.example.com/v1'); return 1;" }),
      ]),
    );
    const [note] = notedOf(run.events)[0]?.data.notes ?? [];
    expect(note?.message).toBe('calling https://[redacted]@api.example.com/v1');
    expect(JSON.stringify(run.events)).not.toContain('hunter2');

    // A value read through ctx.credentials is taken out of every note, message and data, also of
    // notes made before it was read.
    let used: string[] = [];
    const notes = new ActivationNotes(
      () => 1,
      () => used,
    );
    notes.add({ kind: 'log', message: 'key sk-live-123 in use', data: { header: 'Bearer sk-live-123' } });
    used = ['sk-live-123'];
    expect(notes.drain()).toEqual([
      { at: 1, level: 'info', kind: 'log', message: 'key [redacted] in use', data: { header: 'Bearer [redacted]' } },
    ]);
  });
});
