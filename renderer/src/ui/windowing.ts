// Windowing of long lists with a fixed row height (the runs list, the timeline, the Gantt): a
// row's place is index × height, so 100,000 rows cost what the visible few cost.

export interface RowRange {
  /** First rendered row (inclusive). */
  start: number;
  /** Past the last rendered row (exclusive). */
  end: number;
}

/** The rows to render for a scroll position: the visible ones plus `overscan` on each side. */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  count: number,
  overscan = 8,
): RowRange {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(0, viewport)) / rowHeight);
  return { start: Math.max(0, first - overscan), end: Math.min(count, last + overscan) };
}

/** The scrollTop that brings row `index` fully into view with the least movement (unchanged if it is). */
export function scrollToKeep(index: number, scrollTop: number, viewport: number, rowHeight: number): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewport) return Math.max(0, top + rowHeight - viewport);
  return scrollTop;
}
