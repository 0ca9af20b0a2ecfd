// Human durations ("500ms", "2h", "1d12h") to milliseconds. Pure.

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;

/** Parses "500ms", "90s", "2h", "3d", "1h30m". Returns null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const source = text.trim();
  if (source === '') return null;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(source); match; match = PART.exec(source)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = PART.lastIndex;
    while (source[consumed] === ' ') consumed += 1;
    PART.lastIndex = consumed;
  }
  if (consumed !== source.length || !Number.isFinite(total)) return null;
  return Math.round(total);
}

/**
 * The longest duration a workflow may ask for (a wait, a timeout, a retry interval). Longer is a
 * typo, and far enough out it is no longer a time Date can represent.
 */
export const MAX_DURATION = { ms: 10 * 365 * 86_400_000, text: '10 years (3650d)' } as const;

/** Why `text` is not a duration a workflow may use, or null when it is one. */
export function durationProblem(text: string, example = '"500ms", "2h", "3d"'): string | null {
  const ms = parseDuration(text);
  if (ms === null) return `"${text}" is not a duration (e.g. ${example})`;
  if (ms > MAX_DURATION.ms) return `"${text}" is longer than the maximum of ${MAX_DURATION.text}`;
  return null;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  if (ms < 86_400_000) return `${+(ms / 3_600_000).toFixed(1)}h`;
  return `${+(ms / 86_400_000).toFixed(1)}d`;
}

/** A time as ISO 8601, or the raw number when it is outside what Date can show: never throws. */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
