// A run's states at every step of its journal, for stepping through it (time travel): states are
// computed forward once, on demand, and kept (they share structure, so keeping all is cheap);
// stepping back is a lookup.
import type { JournalEvent } from './events.js';
import { evolve, initialState, type RunState } from './state.js';

export class RunTimeline {
  readonly #events: readonly JournalEvent[];
  readonly #states: RunState[];

  constructor(runId: string, events: readonly JournalEvent[]) {
    this.#events = events;
    this.#states = [initialState(runId)];
  }

  /** Steps in the journal: `at(length)` is the latest state. */
  get length(): number {
    return this.#events.length;
  }

  /** The state after the first `k` events (clamped to 0…length). */
  at(k: number): RunState {
    const step = Math.max(0, Math.min(this.#events.length, Math.trunc(k)));
    for (let index = this.#states.length; index <= step; index += 1)
      this.#states.push(evolve(this.#states[index - 1] as RunState, this.#events[index - 1] as JournalEvent));
    return this.#states[step] as RunState;
  }
}
