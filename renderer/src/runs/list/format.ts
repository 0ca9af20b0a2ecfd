// How the runs list shows times: "3 min ago" (the exact time on hover) and durations.
const UNITS: readonly [limit: number, size: number, unit: string][] = [
  [60_000, 1000, 's'],
  [3_600_000, 60_000, 'min'],
  [86_400_000, 3_600_000, 'h'],
  [Number.POSITIVE_INFINITY, 86_400_000, 'd'],
];

/** "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago". */
export function relativeTime(at: number, now: number): string {
  const ago = Math.max(0, now - at);
  if (ago < 2000) return 'just now';
  const [, size, unit] = UNITS.find(([limit]) => ago < limit) ?? UNITS[UNITS.length - 1]!;
  return `${Math.floor(ago / size)} ${unit} ago`;
}

// One formatter for every row: toLocaleString builds a new one per call, which a fast scroll feels.
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** The local date and time in full, for the hover title. */
export function absoluteTime(at: number): string {
  return Number.isFinite(at) ? DATE_TIME.format(at) : '—';
}

/** "850 ms", "12.4 s", "3 min 05 s", "2 h 07 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  const seconds = Math.floor(value / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
  const hours = Math.floor(minutes / 60);
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** A run status as people read it: `compensation_failed` → "compensation failed". */
export function statusLabel(status: string): string {
  return status.replace(/_/g, ' ');
}
