import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../engine/model/duration.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['2h', 7_200_000],
    ['3d', 259_200_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['1.5s', 1500],
    ['2w', 1_209_600_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '5', '5 parsecs', 'h', '1h-', '-1s'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeNull(),
  );

  it('formats', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(7_200_000)).toBe('2h');
  });
});
