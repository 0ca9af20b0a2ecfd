// What can be done to a run from the list, and why not: one place that the row menu, the
// selection bar and their tooltips all read.
import type { RunSummary } from '../../../../engine/api/index.js';

export type RunAction = 'cancel' | 'redrive';

export const ACTION_LABELS: Record<RunAction, { verb: string; done: string }> = {
  cancel: { verb: 'Cancel', done: 'Cancelled' },
  redrive: { verb: 'Redrive', done: 'Redriven' },
};

/** Null when the action applies to the run; otherwise the reason, shown as the button's tooltip. */
export function actionRefusal(action: RunAction, run: RunSummary): string | null {
  if (run.imported)
    return `Imported runs are read-only: they never execute, so they cannot be ${action === 'cancel' ? 'cancelled' : 'redriven'}.`;
  if (action === 'cancel')
    return run.status === 'running' || run.status === 'waiting'
      ? null
      : `The run is ${run.status}: only running or waiting runs can be cancelled.`;
  return run.status === 'failed' ? null : `The run is ${run.status}: only failed runs can be redriven.`;
}

export function eligible(action: RunAction, runs: readonly RunSummary[]): RunSummary[] {
  return runs.filter((run) => actionRefusal(action, run) === null);
}

export interface ActionOutcome {
  done: RunSummary[];
  failed: { runId: string; message: string }[];
}

/** Applies the action to each run (a few at a time: a selection may hold thousands). */
export async function applyAction(
  runs: readonly RunSummary[],
  call: (runId: string) => Promise<RunSummary>,
  parallel = 8,
): Promise<ActionOutcome> {
  const outcome: ActionOutcome = { done: [], failed: [] };
  let next = 0;
  const lane = async () => {
    while (next < runs.length) {
      const run = runs[next++]!;
      try {
        outcome.done.push(await call(run.runId));
      } catch (error) {
        outcome.failed.push({ runId: run.runId, message: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, runs.length) }, lane));
  return outcome;
}

/** The toast after an action: how many, and each failure named (the first few). */
export function outcomeText(action: RunAction, outcome: ActionOutcome): string {
  const { done: verb } = ACTION_LABELS[action];
  const total = outcome.done.length + outcome.failed.length;
  const noun = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  if (outcome.failed.length === 0) return `${verb} ${noun(total)}.`;
  const named = outcome.failed
    .slice(0, 3)
    .map((failure) => `${failure.runId}: ${failure.message}`)
    .join('; ');
  const more = outcome.failed.length > 3 ? ` (and ${outcome.failed.length - 3} more)` : '';
  return `${verb} ${outcome.done.length} of ${noun(total)}; ${outcome.failed.length} refused — ${named}${more}`;
}
