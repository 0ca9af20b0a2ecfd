// The one pure step of a run: apply an event, then the orchestrator's decisions. The journal
// writer, replay and the tests all go through here, so the three can never disagree.
import { isDecision, type JournalEvent, type NewEvent } from '../journal/events.js';
import { evolve, type RunState } from '../journal/state.js';
import type { CompiledWorkflow } from './compile.js';
import { decide } from './decide.js';

/** The state after `event`, and the decisions that follow it (none after a decision). */
export function step(
  workflow: CompiledWorkflow,
  state: RunState,
  event: JournalEvent,
): { state: RunState; decisions: NewEvent[] } {
  const next = evolve(state, event);
  return { state: next, decisions: isDecision(event) ? [] : decide(workflow, next, event) };
}

/**
 * Records a runtime event at `at`: gives it the next seq, steps, and appends the decisions that
 * follow (each folded in turn). Returns the new state and every event appended, in order.
 */
export function record(
  workflow: CompiledWorkflow,
  state: RunState,
  event: NewEvent,
  at: number,
): { state: RunState; appended: JournalEvent[] } {
  const first = { ...event, seq: state.lastSeq + 1, at };
  const stepped = step(workflow, state, first);
  let current = stepped.state;
  const appended = [first];
  for (const decision of stepped.decisions) {
    const next = decision as JournalEvent;
    // The decision objects are the orchestrator's own, made for this step: they take their place here.
    next.seq = current.lastSeq + 1;
    next.at = at;
    current = evolve(current, next);
    appended.push(next);
  }
  return { state: current, appended };
}
