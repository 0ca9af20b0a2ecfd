import { describe, expect, it } from 'vitest';
import {
  cronProblem,
  fireTimesBetween,
  nextFireTime,
  parseCron,
  timeZoneProblem,
  type Schedule,
} from '../../engine/model/cron.js';
import { planFire } from '../../engine/runtime/schedules.js';

/** The next `count` fire times after `from`, as ISO strings (UTC). */
function fires(cron: string, timeZone: string, from: string, count = 3): string[] {
  const spec = parseCron(cron);
  const out: string[] = [];
  let at = Date.parse(from);
  for (let i = 0; i < count; i += 1) {
    const next = nextFireTime(spec, timeZone, at);
    if (next === null) break;
    out.push(new Date(next).toISOString());
    at = next;
  }
  return out;
}

const z = (text: string): string => `${text}:00.000Z`;

describe('cron fields', () => {
  it('* and steps', () => {
    expect(fires('*/15 * * * *', 'UTC', '2026-01-01T00:07:00Z', 4)).toEqual(
      ['2026-01-01T00:15', '2026-01-01T00:30', '2026-01-01T00:45', '2026-01-01T01:00'].map(z),
    );
    expect(fires('* * * * *', 'UTC', '2026-01-01T00:07:30Z', 2)).toEqual(
      ['2026-01-01T00:08', '2026-01-01T00:09'].map(z),
    );
  });

  it('lists and ranges', () => {
    expect(fires('0,30 9,17 * * *', 'UTC', '2026-01-01T10:00:00Z', 4)).toEqual(
      ['2026-01-01T17:00', '2026-01-01T17:30', '2026-01-02T09:00', '2026-01-02T09:30'].map(z),
    );
    expect(fires('0 9-11 * * *', 'UTC', '2026-01-01T09:00:00Z', 3)).toEqual(
      ['2026-01-01T10:00', '2026-01-01T11:00', '2026-01-02T09:00'].map(z),
    );
  });

  it('steps over a range and from a start', () => {
    expect(fires('10-40/15 * * * *', 'UTC', '2026-01-01T00:00:00Z', 4)).toEqual(
      ['2026-01-01T00:10', '2026-01-01T00:25', '2026-01-01T00:40', '2026-01-01T01:10'].map(z),
    );
    expect(fires('50/5 * * * *', 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual(
      ['2026-01-01T00:50', '2026-01-01T00:55', '2026-01-01T01:50'].map(z),
    );
  });

  it('month and day names, in any case', () => {
    // 2026-01-01 is a Thursday; 2026-07-01 a Wednesday.
    expect(fires('0 9 * jan,JUL MON-FRI', 'UTC', '2026-01-01T10:00:00Z', 2)).toEqual(
      ['2026-01-02T09:00', '2026-01-05T09:00'].map(z),
    );
    expect(fires('0 9 * JAN,JUL MON-FRI', 'UTC', '2026-01-31T10:00:00Z', 1)).toEqual(['2026-07-01T09:00'].map(z));
  });

  it('7 is Sunday as well as 0', () => {
    expect(fires('0 0 * * 7', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual(
      ['2026-01-04T00:00', '2026-01-11T00:00'].map(z),
    );
    expect(fires('0 0 * * SUN', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-04T00:00'].map(z));
  });

  it('day of month OR day of week when both are restricted', () => {
    expect(fires('0 0 13 * FRI', 'UTC', '2026-01-01T00:00:00Z', 3)).toEqual(
      ['2026-01-02T00:00', '2026-01-09T00:00', '2026-01-13T00:00'].map(z),
    );
    // Day of month alone: only the 13th.
    expect(fires('0 0 13 * *', 'UTC', '2026-01-01T00:00:00Z', 2)).toEqual(
      ['2026-01-13T00:00', '2026-02-13T00:00'].map(z),
    );
  });

  it('macros', () => {
    const from = '2026-01-01T10:20:00Z';
    expect(fires('@hourly', 'UTC', from, 1)).toEqual(['2026-01-01T11:00'].map(z));
    expect(fires('@daily', 'UTC', from, 1)).toEqual(['2026-01-02T00:00'].map(z));
    expect(fires('@weekly', 'UTC', from, 1)).toEqual(['2026-01-04T00:00'].map(z));
    expect(fires('@monthly', 'UTC', from, 1)).toEqual(['2026-02-01T00:00'].map(z));
    expect(fires('@yearly', 'UTC', from, 1)).toEqual(['2027-01-01T00:00'].map(z));
  });

  it('February 29 comes in leap years', () => {
    expect(fires('0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00'].map(z));
  });

  it.each([
    ['61 * * * *', 'minute: 61 is outside 0-59'],
    ['* 24 * * *', 'hour: 24 is outside 0-23'],
    ['* * 0 * *', 'day of month: 0 is outside 1-31'],
    ['* * * FOO *', 'month: "FOO" is not a number or name'],
    ['* * * * MONDAY', 'day of week: "MONDAY" is not a number or name'],
    ['*/0 * * * *', 'minute: step "0" must be a whole number of at least 1'],
    ['30-10 * * * *', 'minute: range "30-10" goes backwards'],
    ['* *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 2'],
    ['@often', 'unknown macro "@often" (use @hourly, @daily, @weekly, @monthly or @yearly)'],
    ['0 0 30 2 *', 'this schedule never fires'],
  ])('refuses %j naming the field', (cron, message) => expect(cronProblem(cron)).toBe(message));

  it('knows IANA zones and refuses others', () => {
    expect(timeZoneProblem('Europe/Berlin')).toBeNull();
    expect(timeZoneProblem('Mars/Olympus_Mons')).toMatch(/not a time zone/);
  });
});

describe('time zones and daylight saving', () => {
  it('reads the rule on the zone’s clock', () => {
    expect(fires('0 9 * * *', 'Europe/Berlin', '2026-01-10T00:00:00Z', 1)).toEqual(['2026-01-10T08:00'].map(z));
    expect(fires('0 9 * * *', 'Europe/Berlin', '2026-07-10T00:00:00Z', 1)).toEqual(['2026-07-10T07:00'].map(z));
    expect(fires('0 9 * * *', 'Asia/Kolkata', '2026-07-10T00:00:00Z', 1)).toEqual(['2026-07-10T03:30'].map(z));
  });

  it('Berlin, spring forward (2026-03-29, 02:00 → 03:00): a 02:30 fire runs at 03:30 CEST', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 2)).toEqual(
      // 03:30 CEST, then 02:30 CEST the next day.
      ['2026-03-29T01:30', '2026-03-30T00:30'].map(z),
    );
  });

  it('Berlin, spring forward: hourly fires once per real hour, none twice', () => {
    expect(fires('0 * * * *', 'Europe/Berlin', '2026-03-28T23:30:00Z', 3)).toEqual(
      // 01:00 CET, 03:00 CEST (the missing 02:00 lands on it), 04:00 CEST.
      ['2026-03-29T00:00', '2026-03-29T01:00', '2026-03-29T02:00'].map(z),
    );
  });

  it('Berlin, fall back (2026-10-25, 03:00 → 02:00): the repeated hour fires once', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2)).toEqual(
      // 02:30 CEST (the first), then 02:30 CET the next day: not 02:30 CET on the 25th.
      ['2026-10-25T00:30', '2026-10-26T01:30'].map(z),
    );
    expect(fires('*/30 * * * *', 'Europe/Berlin', '2026-10-24T23:45:00Z', 3)).toEqual(
      // 02:00 and 02:30 CEST, then 03:00 CET: 02:00 and 02:30 CET are not fired again.
      ['2026-10-25T00:00', '2026-10-25T00:30', '2026-10-25T02:00'].map(z),
    );
  });

  it('New York, spring forward (2026-03-08) and fall back (2026-11-01)', () => {
    expect(fires('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 2)).toEqual(
      // 03:30 EDT, then 02:30 EDT.
      ['2026-03-08T07:30', '2026-03-09T06:30'].map(z),
    );
    expect(fires('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2)).toEqual(
      // 01:30 EDT (the first of two), then 01:30 EST the next day.
      ['2026-11-01T05:30', '2026-11-02T06:30'].map(z),
    );
  });

  it('starting inside a repeated hour, the next fire is still in the future', () => {
    // 01:10 EST, the second 01:xx of the night: 01:30 EDT is past, 01:30 EST is next.
    expect(fires('*/30 * * * *', 'America/New_York', '2026-11-01T06:10:00Z', 2)).toEqual(
      ['2026-11-01T06:30', '2026-11-01T07:00'].map(z),
    );
  });
});

describe('missed fires', () => {
  it('keeps the latest ones of a long gap without walking every fire', () => {
    const spec = parseCron('* * * * *');
    const started = Date.now();
    const times = fireTimesBetween(
      spec,
      'UTC',
      Date.parse('2020-01-01T00:00:00Z'),
      Date.parse('2026-01-01T00:00:00Z'),
      3,
    );
    expect(times.map((t) => new Date(t).toISOString())).toEqual(
      ['2025-12-31T23:58', '2025-12-31T23:59', '2026-01-01T00:00'].map(z),
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  const schedule = (misfire: Schedule['misfire'], maxCatchUp = 100): Schedule => ({
    cron: '0 * * * *',
    timeZone: 'UTC',
    misfire,
    maxCatchUp,
    graceMs: 60_000,
  });
  const due = Date.parse('2026-01-01T01:00:00Z');
  // Closed from before 01:00 until 04:00:30: 01:00, 02:00, 03:00 were missed, 04:00 is on time.
  const now = Date.parse('2026-01-01T04:00:30Z');
  const next = Date.parse('2026-01-01T05:00:00Z');
  const iso = (times: number[]): string[] => times.map((t) => new Date(t).toISOString());

  it('once: one run for the latest', () => {
    expect(planFire(schedule('once'), due, now)).toEqual({ fires: [Date.parse('2026-01-01T04:00:00Z')], nextAt: next });
    const late = Date.parse('2026-01-01T04:30:00Z');
    expect(iso(planFire(schedule('once'), due, late).fires)).toEqual(['2026-01-01T04:00'].map(z));
  });

  it('skip: only on-time fires', () => {
    expect(iso(planFire(schedule('skip'), due, now).fires)).toEqual(['2026-01-01T04:00'].map(z));
    expect(planFire(schedule('skip'), due, Date.parse('2026-01-01T04:30:00Z'))).toEqual({ fires: [], nextAt: next });
  });

  it('all: every one, at most maxCatchUp (the latest)', () => {
    expect(iso(planFire(schedule('all'), due, now).fires)).toEqual(
      ['2026-01-01T01:00', '2026-01-01T02:00', '2026-01-01T03:00', '2026-01-01T04:00'].map(z),
    );
    expect(iso(planFire(schedule('all', 2), due, now).fires)).toEqual(['2026-01-01T03:00', '2026-01-01T04:00'].map(z));
  });
});
