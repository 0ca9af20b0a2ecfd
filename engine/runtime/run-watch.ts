// Follows every change to runs, whoever made it: this process's commits at once, and commits of
// other processes (the CLI, another worker) by polling the store's change feed. Each change is
// reported once per new journal position.
import type { ChangeCursor, Store } from '../store/index.js';
import type { Clock } from './clock.js';
import type { GroupCommit, RunChange } from './group-commit.js';

/** How many runs' last reported position to remember (older ones may be reported again). */
const REMEMBERED = 50_000;

export function watchRuns(
  store: Store,
  commits: GroupCommit,
  clock: Clock,
  listener: (changes: RunChange[]) => void,
  pollMs: number,
): () => void {
  const reported = new Map<string, number>();
  const fresh = (changes: readonly RunChange[]): RunChange[] =>
    changes.filter((change) => {
      if ((reported.get(change.runId) ?? -1) >= change.lastSeq) return false;
      reported.delete(change.runId);
      reported.set(change.runId, change.lastSeq);
      if (reported.size > REMEMBERED) reported.delete(reported.keys().next().value as string);
      return true;
    });
  const emit = (changes: readonly RunChange[]): void => {
    const news = fresh(changes);
    if (news.length > 0) listener(news);
  };
  const unsubscribe = commits.onCommit(emit);
  let cursor: ChangeCursor | null = null;
  let stopped = false;
  let cancel = (): void => {};
  const poll = async (): Promise<void> => {
    try {
      for (;;) {
        const page = await store.changesSince(cursor, 1000);
        cursor = page.cursor;
        emit(page.changes);
        if (page.changes.length < 1000) break;
      }
    } catch {
      // The store is busy or closing: the next poll reads from the same cursor.
    }
    if (!stopped) cancel = clock.after(pollMs, () => void poll());
  };
  void poll();
  return () => {
    stopped = true;
    cancel();
    unsubscribe();
  };
}
