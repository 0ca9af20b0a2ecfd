// The runs list (`#/runs`): filled in by the runs-list work.
import type { RunsFilter } from '../app/routes.js';

export function RunsList({ filter }: { filter: RunsFilter }) {
  return <div data-testid="runs-list">Runs {JSON.stringify(filter)}</div>;
}
