// The run dialog's input: parse errors with their position, and the inputs remembered per
// workflow (last used first, ten distinct, cleared on demand).
import { describe, expect, it } from 'vitest';
import {
  clearInputHistory,
  DEFAULT_INPUT,
  initialInput,
  inputSummary,
  parseInput,
  readInputHistory,
  rememberInput,
  versionNote,
  type StorageLike,
} from '../../renderer/src/editor/run-inputs.js';

function memoryStorage(): StorageLike & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

describe('parseInput', () => {
  it('accepts any JSON value', () => {
    expect(parseInput('{"amount": 5}')).toEqual({ ok: true, value: { amount: 5 } });
    expect(parseInput('null')).toEqual({ ok: true, value: null });
    expect(parseInput(' [1, 2] ')).toEqual({ ok: true, value: [1, 2] });
  });

  it('says where the text stops being JSON (1-based line and column)', () => {
    const result = parseInput('{\n  "a": 1,\n  b: 2\n}');
    expect(result).toMatchObject({ ok: false, line: 3, column: 3 });
    expect(result.ok ? '' : result.message).not.toMatch(/position/);
    expect(parseInput('{"a":')).toMatchObject({ ok: false, line: 1, column: 6 });
    expect(parseInput('  ')).toMatchObject({ ok: false, line: 1, column: 1 });
  });
});

describe('remembered inputs', () => {
  it('opens with {} first, then with the last input used', () => {
    const storage = memoryStorage();
    expect(initialInput(storage, 'wf')).toBe(DEFAULT_INPUT);
    // The trigger's example input comes before `{}`, after anything the user ran.
    expect(initialInput(storage, 'wf', { amount: 250 })).toBe(JSON.stringify({ amount: 250 }, null, 2));
    rememberInput(storage, 'wf', { amount: 1 });
    rememberInput(storage, 'wf', { amount: 2 });
    expect(initialInput(storage, 'wf')).toBe(JSON.stringify({ amount: 2 }, null, 2));
    expect(initialInput(storage, 'wf', { amount: 250 })).toBe(JSON.stringify({ amount: 2 }, null, 2));
    expect(initialInput(storage, 'other')).toBe(DEFAULT_INPUT);
  });

  it('keeps ten distinct inputs, most recent first; an equal input moves up', () => {
    const storage = memoryStorage();
    for (let i = 0; i < 12; i += 1) rememberInput(storage, 'wf', { i });
    rememberInput(storage, 'wf', { i: 5 });
    const history = readInputHistory(storage, 'wf');
    expect(history).toHaveLength(10);
    expect(history.map((text) => inputSummary(text))).toEqual(
      [5, 11, 10, 9, 8, 7, 6, 4, 3, 2].map((i) => JSON.stringify({ i })),
    );
  });

  it('clears, and survives a corrupt entry', () => {
    const storage = memoryStorage();
    rememberInput(storage, 'wf', 1);
    clearInputHistory(storage, 'wf');
    expect(readInputHistory(storage, 'wf')).toEqual([]);
    storage.setItem('stepwise:run-inputs:wf', '{not json');
    expect(readInputHistory(storage, 'wf')).toEqual([]);
    expect(rememberInput(storage, 'wf', 'x')).toEqual(['"x"']);
  });

  it('summarises long inputs on one line', () => {
    expect(inputSummary(JSON.stringify({ text: 'y'.repeat(100) }, null, 2), 20)).toBe('{"text":"yyyyyyyyyy…');
  });
});

describe('versionNote', () => {
  it('says plainly which version a run saves or uses', () => {
    expect(versionNote({ draftChanged: true, latestVersion: 3, draftVersion: null })).toBe(
      'Running saves the draft as version 4 first.',
    );
    expect(versionNote({ draftChanged: true, latestVersion: null, draftVersion: null })).toBe(
      'Running saves the draft as version 1 first.',
    );
    expect(versionNote({ draftChanged: false, latestVersion: 3, draftVersion: 3 })).toMatch(/^Runs version 3/);
    // A restored older version: the run is pinned to it, nothing is saved.
    expect(versionNote({ draftChanged: true, latestVersion: 3, draftVersion: 1 })).toMatch(/^Runs version 1:/);
  });
});
