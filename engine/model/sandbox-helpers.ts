// The helpers user code finds in the sandbox (`$date`, `$text`, `$math`, `$data`) and their
// TypeScript declarations for the editor. Pure; the sandbox installs them, the renderer (through
// engine/api) shows their declarations. One definition: `installHelpers` is shipped into QuickJS as
// its source text, so it must stay self-contained (no imports, no outside names) and plain ES2022.

/** The global names the helpers are installed under, frozen with every other intrinsic. */
export const HELPER_NAMESPACES = ['$date', '$text', '$math', '$data'] as const;

type DateLike = string | number;

/**
 * Builds the helpers. `activationTime` answers the activation's time (ms) or throws: the only clock
 * any helper reads, so the same activation gets the same answers on a retry or after a crash.
 */
export function installHelpers(activationTime: () => number) {
  const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 };
  const fail = (message: string): never => {
    throw new TypeError(message);
  };
  const millis = (value: DateLike, what: string): number => {
    const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (!Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime()))
      fail(`${what}: ${JSON.stringify(value)} is not a date (an ISO 8601 string or milliseconds)`);
    return ms;
  };
  const iso = (ms: number): string => new Date(ms).toISOString();
  /** "3d", "2h30m", "-90s": the grammar of durations elsewhere in a workflow, with a sign. */
  const duration = (text: string | number, what: string): number => {
    if (typeof text === 'number' && Number.isFinite(text)) return text;
    const source = typeof text === 'string' ? text.trim() : '';
    const match = /^(-?)\s*((?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+)$/.exec(source);
    if (!match) return fail(`${what}: ${JSON.stringify(text)} is not a duration (e.g. "500ms", "2h", "3d", "1h30m")`);
    let total = 0;
    for (const part of (match[2] ?? '').matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/g))
      total += Number(part[1]) * (UNIT_MS[part[2] ?? ''] ?? Number.NaN);
    return match[1] === '-' ? -total : total;
  };
  const numbers = (values: unknown, what: string): number[] => {
    if (!Array.isArray(values)) return fail(`${what}: expects an array of numbers`);
    return values.map((value, index) =>
      typeof value === 'number' && Number.isFinite(value)
        ? value
        : fail(`${what}: item ${index} (${JSON.stringify(value)}) is not a finite number`),
    );
  };
  const round = (value: number, decimals = 0): number => {
    if (!Number.isFinite(value)) return value;
    // Through the decimal exponent, so 1.005 rounds to 1.01 as written, half away from zero.
    const shifted = Math.round(Number(`${Math.abs(value)}e${decimals}`));
    return Math.sign(value) * Number(`${shifted}e${-decimals}`);
  };
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  const stable = (value: unknown, seen: unknown[]): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (seen.includes(value)) fail('$data.stringify: the value contains a cycle');
    const inner = [...seen, value];
    if (Array.isArray(value)) return value.map((item) => stable(item, inner));
    const record = value as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) sorted[key] = stable(record[key], inner);
    return sorted;
  };

  const $date = {
    now: (): string => iso(activationTime()),
    parse: (value: DateLike): string | null => {
      const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
      return Number.isFinite(ms) && !Number.isNaN(new Date(ms).getTime()) ? iso(ms) : null;
    },
    toMillis: (value: DateLike): number => millis(value, '$date.toMillis'),
    add: (value: DateLike, amount: string | number): string =>
      iso(millis(value, '$date.add') + duration(amount, '$date.add')),
    subtract: (value: DateLike, amount: string | number): string =>
      iso(millis(value, '$date.subtract') - duration(amount, '$date.subtract')),
    diff: (later: DateLike, earlier: DateLike, unit: 'ms' | 's' | 'm' | 'h' | 'd' | 'w' = 'ms'): number => {
      const per = UNIT_MS[unit] ?? fail(`$date.diff: unknown unit ${JSON.stringify(unit)} (ms, s, m, h, d or w)`);
      return (millis(later, '$date.diff') - millis(earlier, '$date.diff')) / per;
    },
    startOfDay: (value: DateLike): string => {
      const date = new Date(millis(value, '$date.startOfDay'));
      return iso(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
    },
    format: (value: DateLike, pattern: string): string => {
      const date = new Date(millis(value, '$date.format'));
      const tokens: Record<string, string> = {
        yyyy: pad(date.getUTCFullYear(), 4),
        MM: pad(date.getUTCMonth() + 1, 2),
        dd: pad(date.getUTCDate(), 2),
        HH: pad(date.getUTCHours(), 2),
        mm: pad(date.getUTCMinutes(), 2),
        ss: pad(date.getUTCSeconds(), 2),
        SSS: pad(date.getUTCMilliseconds(), 3),
      };
      return String(pattern).replace(/yyyy|MM|dd|HH|mm|ss|SSS/g, (token) => tokens[token] ?? token);
    },
  };

  const $text = {
    slugify: (text: string): string =>
      String(text)
        .normalize('NFKD')
        .replace(/[\u0300-\u036f]/g, '')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, ''),
    truncate: (text: string, maxLength: number, ellipsis = '…'): string => {
      const source = String(text);
      if (source.length <= maxLength) return source;
      return source.slice(0, Math.max(0, maxLength - ellipsis.length)) + ellipsis;
    },
    words: (text: string): string[] => String(text).match(/[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu) ?? [],
    capitalize: (text: string): string => {
      const source = String(text);
      return source.charAt(0).toUpperCase() + source.slice(1);
    },
    titleCase: (text: string): string =>
      String(text).replace(
        /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu,
        (word) => word.charAt(0).toUpperCase() + word.slice(1),
      ),
    normalizeWhitespace: (text: string): string => String(text).replace(/\s+/g, ' ').trim(),
  };

  const $math = {
    round,
    sum: (values: number[]): number => numbers(values, '$math.sum').reduce((total, value) => total + value, 0),
    avg: (values: number[]): number | null => {
      const list = numbers(values, '$math.avg');
      return list.length === 0 ? null : list.reduce((total, value) => total + value, 0) / list.length;
    },
    min: (values: number[]): number | null => {
      const list = numbers(values, '$math.min');
      return list.length === 0 ? null : Math.min(...list);
    },
    max: (values: number[]): number | null => {
      const list = numbers(values, '$math.max');
      return list.length === 0 ? null : Math.max(...list);
    },
    clamp: (value: number, min: number, max: number): number => Math.min(Math.max(value, min), max),
    percent: (part: number, total: number, decimals = 2): number | null =>
      total === 0 ? null : round((part / total) * 100, decimals),
  };

  const $data = {
    parse: (text: string, fallback: unknown = null): unknown => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return fallback;
      }
    },
    stringify: (value: unknown, indent?: number): string => JSON.stringify(stable(value, []), null, indent) ?? 'null',
    get: (value: unknown, path: string, fallback: unknown = null): unknown => {
      let current = value;
      for (const key of String(path).match(/[^.[\]]+/g) ?? []) {
        if (typeof current !== 'object' || current === null || !Object.prototype.hasOwnProperty.call(current, key))
          return fallback;
        current = (current as Record<string, unknown>)[key];
      }
      return current === undefined ? fallback : current;
    },
  };

  return { $date, $text, $math, $data };
}

export type SandboxHelpers = ReturnType<typeof installHelpers>;

/**
 * Every helper's declaration, one per helper: the compiler refuses a helper without one or a
 * declaration without a helper (and a unit test checks the same against the sandbox itself).
 */
export const HELPER_DECLARATIONS: { [N in keyof SandboxHelpers]: { [F in keyof SandboxHelpers[N]]: string } } = {
  $date: {
    now: `/** The activation's time as ISO 8601 (UTC): the same on a retry or after a crash. */\nnow(): string;`,
    parse: `/** ISO 8601 (UTC) of a date string or milliseconds; null when it is not a date. */\nparse(value: string | number): string | null;`,
    toMillis: `/** Milliseconds since 1970 of a date. */\ntoMillis(value: string | number): number;`,
    add: `/** The date plus a duration ("3d", "2h30m", "500ms") or milliseconds, as ISO 8601. */\nadd(value: string | number, duration: string | number): string;`,
    subtract: `/** The date minus a duration ("3d", "2h30m") or milliseconds, as ISO 8601. */\nsubtract(value: string | number, duration: string | number): string;`,
    diff: `/** later − earlier in a unit (default ms); fractional. */\ndiff(later: string | number, earlier: string | number, unit?: 'ms' | 's' | 'm' | 'h' | 'd' | 'w'): number;`,
    startOfDay: `/** Midnight UTC of the date's day, as ISO 8601. */\nstartOfDay(value: string | number): string;`,
    format: `/** The date in UTC with yyyy, MM, dd, HH, mm, ss, SSS replaced, e.g. "yyyy-MM-dd HH:mm". */\nformat(value: string | number, pattern: string): string;`,
  },
  $text: {
    slugify: `/** "Crème Brûlée!" → "creme-brulee". */\nslugify(text: string): string;`,
    truncate: `/** At most maxLength characters, ending with the ellipsis (default "…") when cut. */\ntruncate(text: string, maxLength: number, ellipsis?: string): string;`,
    words: `/** The words of a text (letters and digits; apostrophes kept inside). */\nwords(text: string): string[];`,
    capitalize: `/** The first character upper-cased. */\ncapitalize(text: string): string;`,
    titleCase: `/** Every word's first letter upper-cased. */\ntitleCase(text: string): string;`,
    normalizeWhitespace: `/** Runs of whitespace as one space, trimmed. */\nnormalizeWhitespace(text: string): string;`,
  },
  $math: {
    round: `/** Rounded to a number of decimals (default 0), half away from zero. */\nround(value: number, decimals?: number): number;`,
    sum: `/** The sum of an array of numbers (0 when empty). */\nsum(values: number[]): number;`,
    avg: `/** The mean of an array of numbers; null when empty. */\navg(values: number[]): number | null;`,
    min: `/** The smallest of an array of numbers; null when empty. */\nmin(values: number[]): number | null;`,
    max: `/** The largest of an array of numbers; null when empty. */\nmax(values: number[]): number | null;`,
    clamp: `/** The value kept within [min, max]. */\nclamp(value: number, min: number, max: number): number;`,
    percent: `/** part / total × 100, rounded to decimals (default 2); null when total is 0. */\npercent(part: number, total: number, decimals?: number): number | null;`,
  },
  $data: {
    parse: `/** JSON.parse, or the fallback (default null) when the text is not JSON. */\nparse(text: string, fallback?: unknown): any;`,
    stringify: `/** JSON with object keys sorted at every level: equal values give equal text. */\nstringify(value: unknown, indent?: number): string;`,
    get: `/** The value at a path ("a.b[0].c"), or the fallback (default null) when any step is missing. */\nget(value: unknown, path: string, fallback?: unknown): any;`,
  },
};

/** The helpers as an ambient declaration file (for the editor's TypeScript checking). */
export function helperDeclarations(): string {
  return Object.entries(HELPER_DECLARATIONS)
    .map(([namespace, members]) => {
      const body = Object.values(members as Record<string, string>)
        .map((declaration) =>
          declaration
            .split('\n')
            .map((line) => `  ${line}`)
            .join('\n'),
        )
        .join('\n');
      return `declare const ${namespace}: Readonly<{\n${body}\n}>;`;
    })
    .join('\n');
}
