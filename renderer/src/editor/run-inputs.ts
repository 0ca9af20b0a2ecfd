// A run's input as the run dialog handles it: parsing with the error's line and column, and the
// inputs remembered per workflow in localStorage (the last used first, ten distinct at most).
// Pure over a Storage-like object, so it is tested without a browser.

/** What is used of localStorage (declared here: the Node-side tests have no DOM types). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const INPUT_HISTORY_LIMIT = 10;
/** The first input offered for a workflow never run from this dialog. */
export const DEFAULT_INPUT = '{}';

export type ParsedInput = { ok: true; value: unknown } | { ok: false; message: string; line: number; column: number };

/** The text as a JSON value, or what is wrong and where (1-based line and column). */
export function parseInput(text: string): ParsedInput {
  if (text.trim() === '') return { ok: false, message: 'Enter a JSON value (null for no input)', line: 1, column: 1 };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const at = /at position (\d+)/.exec(raw);
    const offset = at ? Number(at[1]) : /end of JSON input/i.test(raw) ? text.length : 0;
    const { line, column } = lineColumn(text, offset);
    const message = raw.replace(/\s*in JSON at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '');
    return { ok: false, message, line, column };
  }
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

function key(workflowId: string): string {
  return `stepwise:run-inputs:${workflowId}`;
}

/** The remembered inputs, most recent first (pretty-printed JSON texts). */
export function readInputHistory(storage: StorageLike, workflowId: string): string[] {
  try {
    const stored: unknown = JSON.parse(storage.getItem(key(workflowId)) ?? '[]');
    return Array.isArray(stored)
      ? stored.filter((entry): entry is string => typeof entry === 'string').slice(0, INPUT_HISTORY_LIMIT)
      : [];
  } catch {
    // A corrupt entry is worth less than a working dialog: start over.
    return [];
  }
}

/** Puts `value` first in the workflow's history (an equal value moves up) and keeps ten. */
export function rememberInput(storage: StorageLike, workflowId: string, value: unknown): string[] {
  const text = JSON.stringify(value, null, 2);
  const same = JSON.stringify(value);
  const rest = readInputHistory(storage, workflowId).filter((entry) => compact(entry) !== same);
  const history = [text, ...rest].slice(0, INPUT_HISTORY_LIMIT);
  try {
    storage.setItem(key(workflowId), JSON.stringify(history));
  } catch {
    // Storage full or denied: the run still starts; only the convenience is lost.
  }
  return history;
}

export function clearInputHistory(storage: StorageLike, workflowId: string): void {
  storage.removeItem(key(workflowId));
}

/** The text the dialog opens with: the last input used, else the default. */
/** The last input used; else the trigger's example input (`sampleInput`); else `{}`. */
export function initialInput(storage: StorageLike, workflowId: string, sampleInput?: unknown): string {
  return (
    readInputHistory(storage, workflowId)[0] ??
    (sampleInput === undefined ? DEFAULT_INPUT : JSON.stringify(sampleInput, null, 2))
  );
}

/** One line for the history menu. */
export function inputSummary(text: string, max = 60): string {
  const line = compact(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function compact(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

/** The version a run of the draft would be pinned to: the latest, or a new one saved first. */
export interface DraftVersionInfo {
  latestVersion: number | null;
  draftChanged: boolean;
  /** The version with the draft's content, when one has it (a restored older version). */
  draftVersion: number | null;
}

/** What the dialog says about the version a run will be pinned to. */
export function versionNote({ draftChanged, latestVersion, draftVersion }: DraftVersionInfo): string {
  // A draft with a version's content is pinned to that version: versions are content-addressed.
  if (draftVersion !== null && draftVersion !== latestVersion)
    return `Runs version ${draftVersion}: the draft has its content (no new version is saved).`;
  if (latestVersion === null) return 'Running saves the draft as version 1 first.';
  if (draftChanged) return `Running saves the draft as version ${latestVersion + 1} first.`;
  return `Runs version ${latestVersion} (the draft has not changed since).`;
}
