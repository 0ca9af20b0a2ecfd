// The run view (`#/runs/<runId>`): filled in by the run-view work.
import type { NodeType } from '../../../engine/api/index.js';

export function RunView({ runId, step }: { runId: string; step: number | undefined; nodeTypes: NodeType[] }) {
  return (
    <div data-testid="run-view">
      Run {runId} {step}
    </div>
  );
}
