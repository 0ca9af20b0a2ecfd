// Activations and their attempts on a time axis (retries and waits visible): filled in by the
// timeline work.
import type { ActivationState } from '../../../engine/api/index.js';

export interface GanttProps {
  /** The activations as of the current step, in creation order. */
  activations: readonly ActivationState[];
  /** The axis: from the run's start to the current step's time (or now, for a live run). */
  startedAt: number;
  endAt: number;
  nodeNames: ReadonlyMap<string, string>;
  selectedNodeId: string | null;
  onSelectNode: (nodeId: string) => void;
}

export function Gantt({ activations, onSelectNode }: GanttProps) {
  return (
    <ul className="gantt" data-testid="gantt">
      {activations.map((activation) => (
        <li key={activation.activationId}>
          <button type="button" onClick={() => onSelectNode(activation.nodeId)}>
            {activation.nodeId} {activation.status}
          </button>
        </li>
      ))}
    </ul>
  );
}
