// Cron expressions (5 fields, names, @macros) and their fire times in an IANA time zone. Pure: the
// zone's offsets come from Intl.DateTimeFormat. The search walks local wall-clock time, so a rule
// means what it says on the zone's clock whatever its offset that day. Daylight-saving changes:
// - a wall time that does not exist that day (02:30 when clocks jump 02:00 → 03:00) fires shifted
//   by the jump, at 03:30, as java.time and JS Temporal ("compatible") resolve it; fires inside
//   the gap that land on a time that also matches (every 15 minutes: 02:15 → 03:15) fire once;
// - a wall time that happens twice (clocks fall back 03:00 → 02:00) fires once, at its first
//   occurrence: the search never goes back on the wall clock.

export interface CronSpec {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday (7 is read as 0 too). */
  weekdays: ReadonlySet<number>;
  /** Day of month and day of week both restricted: either matches (as in Vixie cron). */
  dayOr: boolean;
}

export class CronError extends Error {}

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule {
  name: string;
  min: number;
  max: number;
  /** Names for values, from `min`. */
  names?: readonly string[];
}

const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 7 is Sunday as well as 0.
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES },
];

/** Parses "m h dom mon dow" or a macro; throws CronError naming the field and what is wrong. */
export function parseCron(expression: string): CronSpec {
  const text = expression.trim();
  const expanded = MACROS[text.toLowerCase()] ?? text;
  if (expanded.startsWith('@'))
    throw new CronError(`unknown macro "${text}" (use @hourly, @daily, @weekly, @monthly or @yearly)`);
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5)
    throw new CronError(`expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const [minutes, hours, days, months, weekdaysRaw] = parts.map((part, index) =>
    parseField(part, FIELDS[index] as FieldRule),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const weekdays = new Set([...weekdaysRaw].map((day) => day % 7));
  const dayOr = !(parts[2] as string).startsWith('*') && !(parts[4] as string).startsWith('*');
  return { minutes, hours, days, months, weekdays, dayOr };
}

/** The problem with an expression, or null when it parses and fires at least once. */
export function cronProblem(expression: string): string | null {
  try {
    const spec = parseCron(expression);
    // Feb 30 parses but never comes: refuse it rather than never firing.
    if (nextFireTime(spec, 'UTC', Date.UTC(2000, 0, 1)) === null) return 'this schedule never fires';
    return null;
  } catch (error) {
    if (error instanceof CronError) return error.message;
    throw error;
  }
}

function parseField(text: string, rule: FieldRule): Set<number> {
  const values = new Set<number>();
  if (text === '') throw new CronError(`${rule.name}: empty`);
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '')
      throw new CronError(`${rule.name}: "${item}" is not a value, range or step`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || !/^\d+$/.test(stepText ?? '1'))
      throw new CronError(`${rule.name}: step "${stepText ?? ''}" must be a whole number of at least 1`);
    let low: number;
    let high: number;
    if (range === '*') {
      low = rule.min;
      high = rule.name === 'day of week' ? 6 : rule.max;
    } else {
      const [first, last, more] = range.split('-');
      if (more !== undefined || first === undefined) throw new CronError(`${rule.name}: "${range}" is not a range`);
      low = value(first, rule);
      // "a/n" means from a to the end, stepping n.
      high = last !== undefined ? value(last, rule) : stepText !== undefined ? rule.max : low;
      if (low > high) throw new CronError(`${rule.name}: range "${range}" goes backwards`);
    }
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return values;
}

function value(text: string, rule: FieldRule): number {
  const index = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index >= 0) return index + rule.min;
  if (!/^\d+$/.test(text))
    throw new CronError(`${rule.name}: "${text}" is not a number${rule.names ? ' or name' : ''}`);
  const n = Number(text);
  if (n < rule.min || n > rule.max) throw new CronError(`${rule.name}: ${n} is outside ${rule.min}-${rule.max}`);
  return n;
}

// ── Time zones ───────────────────────────────────────────────────────────────────────────────

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, found);
  }
  return found;
}

/** The problem with a time zone name, or null when this runtime knows it. */
export function timeZoneProblem(timeZone: string): string | null {
  try {
    formatter(timeZone);
    return null;
  } catch {
    return `"${timeZone}" is not a time zone this system knows (an IANA name, e.g. "Europe/Berlin")`;
  }
}

/** This machine's time zone (IANA name). */
export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** The zone's wall-clock time at `instant`, as milliseconds of a UTC date with the same fields. */
export function wallTime(timeZone: string, instant: number): number {
  const fields: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant)))
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = fields;
  return Date.UTC(year, month - 1, day, hour, minute, second) + (((instant % 1000) + 1000) % 1000);
}

function offsetAt(timeZone: string, instant: number): number {
  return wallTime(timeZone, instant) - instant;
}

/**
 * The instants whose wall time is `wall`, earliest first: one normally, two in a fall-back hour;
 * in a spring-forward gap, the one instant shifted forward by the gap.
 */
function instantsOf(timeZone: string, wall: number): number[] {
  // Offsets on either side of any transition near `wall` (transitions are months apart).
  const before = offsetAt(timeZone, wall - 86_400_000);
  const after = offsetAt(timeZone, wall + 86_400_000);
  const found = [...new Set([before, after])]
    .map((offset) => wall - offset)
    .filter((instant) => wallTime(timeZone, instant) === wall)
    .sort((a, b) => a - b);
  // A gap: read the wall time with the offset before the jump, which lands after it by as much.
  return found.length > 0 ? found : [wall - before];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A rule that matches nothing within this many years never fires (Feb 30). */
const SEARCH_YEARS = 8;

/** The first fire time strictly after `after` (ms since the epoch) in `timeZone`; null if none. */
export function nextFireTime(spec: CronSpec, timeZone: string, after: number): number | null {
  const startWall = wallTime(timeZone, after);
  let wall = Math.floor(startWall / MINUTE) * MINUTE + MINUTE;
  const limitYear = new Date(wall).getUTCFullYear() + SEARCH_YEARS;
  while (new Date(wall).getUTCFullYear() <= limitYear) {
    const date = new Date(wall);
    if (!spec.months.has(date.getUTCMonth() + 1)) {
      wall = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
      continue;
    }
    if (!dayMatches(spec, date)) {
      wall = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
      continue;
    }
    if (!spec.hours.has(date.getUTCHours())) {
      wall = Math.floor(wall / HOUR) * HOUR + HOUR;
      continue;
    }
    if (!spec.minutes.has(date.getUTCMinutes())) {
      wall += MINUTE;
      continue;
    }
    // The first instant after `after` with this wall time: an earlier one of a fall-back hour
    // may be past already when the search starts inside the repeated hour.
    const instant = instantsOf(timeZone, wall).find((candidate) => candidate > after);
    if (instant !== undefined) return instant;
    wall += MINUTE;
  }
  return null;
}

function dayMatches(spec: CronSpec, date: Date): boolean {
  const day = spec.days.has(date.getUTCDate());
  const weekday = spec.weekdays.has(date.getUTCDay());
  return spec.dayOr ? day || weekday : day && weekday;
}

/** Fire times in (after, until], at most `limit` of the latest ones, oldest first. */
export function fireTimesBetween(
  spec: CronSpec,
  timeZone: string,
  after: number,
  until: number,
  limit: number,
): number[] {
  if (limit <= 0) return [];
  // Look back from `until` in windows that double, so a long gap (a year of minutes) costs about
  // as much as the `limit` fires it keeps, not one step per missed fire.
  for (let span = HOUR; ; span *= 2) {
    const from = Math.max(after, until - span);
    const times: number[] = [];
    for (let t = nextFireTime(spec, timeZone, from); t !== null && t <= until; t = nextFireTime(spec, timeZone, t)) {
      times.push(t);
      if (times.length > limit) times.shift();
    }
    if (times.length >= limit || from === after) return times;
  }
}

// ── Schedules ────────────────────────────────────────────────────────────────────────────────

export const scheduleMisfirePolicies = ['once', 'skip', 'all'] as const;
export type ScheduleMisfire = (typeof scheduleMisfirePolicies)[number];

/** What a schedule trigger declares: when it fires, and what to do with fires missed while nothing ran. */
export interface Schedule {
  cron: string;
  /** IANA name, resolved (a trigger without one gets the machine's when it is scheduled). */
  timeZone: string;
  misfire: ScheduleMisfire;
  /** For 'all': at most this many runs for the missed fires (the latest ones). */
  maxCatchUp: number;
  /** A fire this late or less is on time, not missed. */
  graceMs: number;
}
