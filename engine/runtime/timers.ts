// Due timers for a worker: a hint (no timer is due before it, as far as this process knows) saves
// the query on most commits; timers this process sets lower it, and each poll re-reads it, which
// also sees timers other processes set.
// Also the report of timers fired late (`LateTimers`).
import { formatDuration, isoTime } from '../model/duration.js';
import type { Store, TimerRecord } from '../store/index.js';
import type { FiredTimer } from './waits.js';

export const TIMER_BATCH = 200;

export class DueTimers {
  readonly #store: Store;
  readonly #runId: string | undefined;
  #hint = 0;

  constructor(store: Store, runId: string | undefined) {
    this.#store = store;
    this.#runId = runId;
  }

  due(now: number): boolean {
    return now >= this.#hint;
  }

  /** Timers due at `now` (a page of them); the hint moves to the next one after. */
  async take(now: number): Promise<TimerRecord[]> {
    if (now < this.#hint) return [];
    const due = await this.#store.dueTimers(now, TIMER_BATCH, this.#runId);
    this.#hint =
      due.length === TIMER_BATCH
        ? now
        : ((await this.#store.nextTimerDue(now, this.#runId)) ?? Number.POSITIVE_INFINITY);
    return due;
  }

  lower(dueAt: number): void {
    this.#hint = Math.min(this.#hint, dueAt);
  }

  async refresh(): Promise<void> {
    this.#hint = (await this.#store.nextTimerDue(Number.NEGATIVE_INFINITY, this.#runId)) ?? Number.POSITIVE_INFINITY;
  }
}

/** Reported as late without a misfire grace of its own (v1 timers, retries, approval timeouts). */
export const LATE_REPORT_MS = 60_000;

/**
 * Timers a worker fired late: those it found due when it started (they came due while nothing
 * ran) and any later one (a machine asleep). Late means past the wait's misfire grace, else past
 * `LATE_REPORT_MS`; a timer that missed and was skipped or asked about is always listed.
 * `swept` settles once every timer due at the worker's start has fired and been committed.
 */
export class LateTimers {
  /** When the worker started. */
  readonly since: number;
  readonly #timers: FiredTimer[] = [];
  /** Start-up timers taken and not yet settled. */
  #open = 0;
  /** Every timer due at the start was taken (a page short of full had the rest). */
  #taken = false;
  #swept = false;
  #resolveSwept: () => void = () => {};
  readonly swept = new Promise<void>((resolve) => (this.#resolveSwept = resolve));

  constructor(since: number) {
    this.since = since;
  }

  get list(): readonly FiredTimer[] {
    return this.#timers;
  }

  get isSwept(): boolean {
    return this.#swept;
  }

  /** `count` timers were taken in a page, `full` or not; true when they are start-up timers. */
  taken(count: number, full: boolean): boolean {
    if (this.#taken) return false;
    this.#open += count;
    if (!full) this.#taken = true;
    this.#check();
    return true;
  }

  /** A taken timer's item settled: `fired` is what a durable commit fired (null: dropped or refused). */
  settled(fired: FiredTimer | null, startup: boolean): void {
    if (fired && isLate(fired)) this.#timers.push(fired);
    if (startup) {
      this.#open -= 1;
      this.#check();
    }
  }

  /** The worker stopped: nothing more will be swept. */
  stopped(): void {
    this.#taken = true;
    this.#open = 0;
    this.#check();
  }

  #check(): void {
    if (this.#swept || !this.#taken || this.#open > 0) return;
    this.#swept = true;
    this.#resolveSwept();
  }
}

function isLate(fired: FiredTimer): boolean {
  if (fired.outcome === 'skipped' || fired.outcome === 'asked') return true;
  return fired.lateMs > (fired.graceMs ?? LATE_REPORT_MS);
}

/** One line for people about a late timer (the CLI's `serve` and `worker` print these at start-up). */
export function lateTimerLine(timer: FiredTimer): string {
  const what = timer.purpose === 'retry' ? 'retry timer' : timer.purpose === 'wait-timeout' ? 'timeout' : 'timer';
  return `late ${what}: run ${timer.runId} node "${timer.nodeId}" was due ${isoTime(timer.dueAt)}, fired ${formatDuration(timer.lateMs)} late (misfire: ${timer.policy}; ${timer.outcome})`;
}
