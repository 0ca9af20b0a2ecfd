// Prints a Markdown table (the format docs/benchmarks.md keeps).
export function printTable(table: readonly (readonly string[])[]): void {
  const widths = table[0]?.map((_, column) => Math.max(...table.map((line) => (line[column] ?? '').length))) ?? [];
  for (const [index, line] of table.entries()) {
    console.log(`| ${line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`);
    if (index === 0) console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

/** `value / base − 1` as a signed percentage: "+3.1 %", "-0.4 %". */
export function signedChange(value: number, base: number): string {
  // Rounded before the sign is chosen, so a tiny loss prints "+0.0 %", not "-0.0 %".
  const change = Math.round((value / base - 1) * 1000) / 10 || 0;
  if (!Number.isFinite(change)) return 'n/a';
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)} %`;
}
