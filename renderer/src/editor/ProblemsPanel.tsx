// Validation errors and warnings from the engine's validator; a click selects the node and shows it.
import { useReactFlow } from '@xyflow/react';
import type { Problem } from '../../../engine/api/index.js';
import { Icon } from '../ui/Icon.js';
import { useEditor } from './editor-context.js';

export function ProblemsPanel({
  problems,
  open,
  onToggle,
}: {
  problems: Problem[];
  open: boolean;
  onToggle: () => void;
}) {
  const { store } = useEditor();
  const flow = useReactFlow();
  const errors = problems.filter((problem) => problem.severity === 'error').length;
  const warnings = problems.length - errors;
  return (
    <section className={`problems ${open ? 'open' : ''}`} aria-label="Problems" data-testid="problems-panel">
      <button type="button" className="problems-head" onClick={onToggle} aria-expanded={open}>
        <Icon name="alert" /> Problems
        <span className={`count ${errors > 0 ? 'error' : ''}`} data-testid="problem-count">
          {errors} error{errors === 1 ? '' : 's'}
        </span>
        <span className="count">
          {warnings} warning{warnings === 1 ? '' : 's'}
        </span>
      </button>
      {open && (
        <ul className="problem-list">
          {problems.length === 0 && (
            <li className="muted">No problems: this workflow can be saved as a version and run.</li>
          )}
          {problems.map((problem, index) => (
            <li key={`${problem.code}-${problem.nodeId ?? ''}-${problem.edgeId ?? ''}-${problem.field ?? ''}-${index}`}>
              <button
                type="button"
                className={`problem ${problem.severity}`}
                data-testid="problem"
                onClick={() => {
                  const nodeId = problem.nodeId;
                  if (nodeId === undefined) return;
                  store.getState().select([nodeId], []);
                  void flow.fitView({ nodes: [{ id: nodeId }], duration: 200, maxZoom: 1.2 });
                }}
              >
                <span className="severity">{problem.severity}</span>
                <span>{problem.message}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
