// Due timers for a worker: a hint (no timer is due before it, as far as this process knows) saves
// the query on most commits; timers this process sets lower it, and each poll re-reads it, which
// also sees timers other processes set.
import type { Store, TimerRecord } from '../store/index.js';

const TIMER_BATCH = 200;

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
