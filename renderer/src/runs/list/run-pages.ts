// The runs of one filter as the list shows them: loaded page by page with listRuns' cursor as the
// user scrolls, kept up to date from runsChanged (rows updated in place, new runs put on top).
// Plain TypeScript with a subscribe/snapshot pair, so the view reads it with useSyncExternalStore
// and it can be driven without React.
import {
  runStatusSchema,
  type EngineApi,
  type RunChange,
  type RunStatus,
  type RunSummary,
} from '../../../../engine/api/index.js';
import type { RunsFilter } from '../../app/routes.js';

export const RUN_STATUSES: readonly RunStatus[] = runStatusSchema.options;

export interface RunPagesSnapshot {
  rows: readonly RunSummary[];
  /** By status, for the filter without its statuses (what the status chips show). */
  counts: Readonly<Record<RunStatus, number>> | null;
  /** Rows the list is tall enough for: every loaded row, plus those the counts say are further down. */
  total: number;
  /** No further page. */
  done: boolean;
  loading: boolean;
  error: string | null;
  /** Rows put on top so far: the view moves its scroll position by the difference to stay put. */
  prepended: number;
}

export interface RunPagesOptions {
  /** The first page: small, so the first rows show fast. */
  firstPage?: number;
  page?: number;
  /** Rows loaded beyond the last one the view asked for. */
  ahead?: number;
  /** At most this many changed rows off the head are re-read one by one per update. */
  rereads?: number;
}

type ListApi = Pick<EngineApi, 'listRuns'>;

/** Newest first, as listRuns orders: createdAt, then id, descending. */
function newer(a: RunSummary, b: RunSummary): boolean {
  return a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.runId > b.runId);
}

const HEAD_PAGES = 20;

export class RunPages {
  readonly #api: ListApi;
  readonly #filter: RunsFilter;
  readonly #options: Required<RunPagesOptions>;
  readonly #listeners = new Set<() => void>();
  #snapshot: RunPagesSnapshot = {
    rows: [],
    counts: null,
    total: 0,
    done: false,
    loading: false,
    error: null,
    prepended: 0,
  };
  #cursor: string | null = null;
  #wanted = 0;
  #loading = false;
  /** The page load under way: a refresh waits for it, so both never race for the top row. */
  #load: Promise<void> = Promise.resolve();
  /** Bumped when the list starts again from the top: a page of the old pass is dropped. */
  #generation = 0;
  #refreshing = false;
  #pendingChanges = new Map<string, RunChange>();
  #disposed = false;

  constructor(api: ListApi, filter: RunsFilter, options: RunPagesOptions = {}) {
    this.#api = api;
    this.#filter = filter;
    this.#options = { firstPage: 100, page: 1000, ahead: 300, rereads: 50, ...options };
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): RunPagesSnapshot => this.#snapshot;

  dispose(): void {
    this.#disposed = true;
    this.#listeners.clear();
  }

  /** The view shows rows up to `index`: load pages until `index + ahead` is loaded. */
  want(index: number): void {
    if (index <= this.#wanted && this.#snapshot.rows.length > 0) return;
    this.#wanted = Math.max(this.#wanted, index);
    this.#startLoading();
  }

  #startLoading(): void {
    if (this.#loading || this.#disposed) return;
    this.#load = this.#loadAhead();
  }

  /** The list may have missed changes (a lost connection): read it again from the top. */
  reload(): void {
    this.#set({ error: null });
    this.#reset();
  }

  /** After an error: read on from where the list stopped. */
  retry(): void {
    this.#set({ error: null });
    this.#startLoading();
  }

  /** Replaces rows in place with what an action returned. */
  replace(runs: readonly RunSummary[]): void {
    if (runs.length === 0) return;
    const fresh = new Map(runs.map((run) => [run.runId, run]));
    this.#set({ rows: this.#snapshot.rows.map((row) => fresh.get(row.runId) ?? row) });
  }

  /** Puts a run on top (an imported run, say) unless it is there already or older than the top. */
  add(run: RunSummary): void {
    const rows = this.#snapshot.rows;
    if (rows.some((row) => row.runId === run.runId)) return this.replace([run]);
    const index = rows.findIndex((row) => newer(run, row));
    if (index === -1 && !this.#snapshot.done) return;
    const at = index === -1 ? rows.length : index;
    this.#set({
      rows: [...rows.slice(0, at), run, ...rows.slice(at)],
      prepended: this.#snapshot.prepended + (at === 0 ? 1 : 0),
    });
  }

  /** Runs changed somewhere: update them in place and put new ones matching the filter on top. */
  changed(changes: readonly RunChange[]): void {
    for (const change of changes) this.#pendingChanges.set(change.runId, change);
    void this.#refresh();
  }

  async #loadAhead(): Promise<void> {
    const generation = this.#generation;
    this.#loading = true;
    this.#set({ loading: true });
    try {
      while (!this.#disposed) {
        const { rows, done } = this.#snapshot;
        const first = rows.length === 0 && !done;
        if (!first && (done || rows.length > this.#wanted + this.#options.ahead)) break;
        const page = await this.#api.listRuns({
          ...this.#params(),
          ...(this.#cursor !== null && { cursor: this.#cursor }),
          limit: first ? this.#options.firstPage : this.#options.page,
        });
        if (this.#disposed || generation !== this.#generation) return;
        this.#cursor = page.nextCursor;
        // A run can be on top already (prepended by a refresh) when its page comes: keep one.
        const known = new Set(this.#snapshot.rows.map((row) => row.runId));
        const fresh = page.runs.filter((run) => !known.has(run.runId));
        this.#set({
          rows: this.#snapshot.rows.concat(fresh),
          counts: page.counts,
          done: page.nextCursor === null,
          error: null,
        });
      }
    } catch (error) {
      if (generation === this.#generation) this.#set({ error: error instanceof Error ? error.message : String(error) });
    } finally {
      if (generation === this.#generation) {
        this.#loading = false;
        this.#set({ loading: false });
      }
    }
  }

  async #refresh(): Promise<void> {
    if (this.#refreshing || this.#disposed) return;
    this.#refreshing = true;
    try {
      while (this.#pendingChanges.size > 0 && !this.#disposed) {
        const changes = this.#pendingChanges;
        this.#pendingChanges = new Map();
        await this.#applyChanges(changes);
      }
    } catch (error) {
      this.#set({ error: error instanceof Error ? error.message : String(error) });
    } finally {
      this.#refreshing = false;
    }
  }

  async #applyChanges(changes: Map<string, RunChange>): Promise<void> {
    await this.#load;
    const top = this.#snapshot.rows[0];
    // Nothing shown yet: reading from the top again is the whole update.
    if (top === undefined) return this.#reset();
    // The head: runs newer than the top row are new (matching the filter, as listRuns says);
    // rows met there are read in full.
    const seen = new Map<string, RunSummary>();
    const added: RunSummary[] = [];
    let counts = this.#snapshot.counts;
    let cursor: string | null = null;
    let reachedKnown = false;
    for (let page = 0; page < HEAD_PAGES && !reachedKnown; page += 1) {
      const head = await this.#api.listRuns({
        ...this.#params(),
        ...(cursor !== null && { cursor }),
        limit: page === 0 ? 100 : this.#options.page,
      });
      if (this.#disposed) return;
      counts = head.counts;
      for (const run of head.runs) {
        if (newer(run, top)) added.push(run);
        else {
          seen.set(run.runId, run);
          reachedKnown = true;
        }
      }
      cursor = head.nextCursor;
      if (cursor === null) reachedKnown = true;
    }
    if (!reachedKnown) {
      // More new runs than a few head pages: start again from the top.
      this.#reset();
      return;
    }
    // Changed rows further down: patched from the change, and the finished ones re-read (their
    // error and end time are not in the change).
    const rows = this.#snapshot.rows;
    const indexOf = new Map(rows.map((row, index) => [row.runId, index]));
    const rereads: string[] = [];
    for (const change of changes.values()) {
      if (seen.has(change.runId)) continue;
      const index = indexOf.get(change.runId);
      const row = index === undefined ? undefined : rows[index];
      if (!row || row.lastSeq >= change.lastSeq) continue;
      seen.set(row.runId, { ...row, status: change.status, lastSeq: change.lastSeq, updatedAt: change.updatedAt });
      if (rereads.length < this.#options.rereads) rereads.push(row.runId);
    }
    const reread = await Promise.all(
      rereads.map((runId) =>
        this.#api.listRuns({ idPrefix: runId, limit: 1 }).then(
          (page) => page.runs.find((run) => run.runId === runId),
          () => undefined,
        ),
      ),
    );
    if (this.#disposed) return;
    for (const run of reread) if (run) seen.set(run.runId, run);

    const current = this.#snapshot.rows;
    const known = new Set(current.map((row) => row.runId));
    const fresh = added.filter((run) => !known.has(run.runId));
    const updated = seen.size === 0 ? current : current.map((row) => seen.get(row.runId) ?? row);
    this.#set({
      rows: fresh.length === 0 ? updated : fresh.concat(updated),
      counts,
      prepended: this.#snapshot.prepended + fresh.length,
    });
  }

  #reset(): void {
    this.#generation += 1;
    this.#loading = false;
    this.#cursor = null;
    this.#set({ rows: [], done: false, prepended: 0 });
    this.#startLoading();
  }

  #params() {
    const filter = this.#filter;
    return {
      ...(filter.workflowId !== undefined && { workflowId: filter.workflowId }),
      ...(filter.version !== undefined && { version: filter.version }),
      ...(filter.status !== undefined && filter.status.length > 0 && { status: filter.status }),
      ...(filter.idPrefix !== undefined && { idPrefix: filter.idPrefix }),
    };
  }

  #set(patch: Partial<RunPagesSnapshot>): void {
    const next = { ...this.#snapshot, ...patch };
    next.total = next.done ? next.rows.length : Math.max(next.rows.length, countTotal(next.counts, this.#filter));
    this.#snapshot = next;
    for (const listener of this.#listeners) listener();
  }
}

/** Runs the filter matches, by the counts (which ignore the status filter). */
export function countTotal(counts: Readonly<Record<RunStatus, number>> | null, filter: RunsFilter): number {
  if (!counts) return 0;
  const statuses = filter.status && filter.status.length > 0 ? filter.status : RUN_STATUSES;
  return statuses.reduce((sum, status) => sum + (counts[status] ?? 0), 0);
}
