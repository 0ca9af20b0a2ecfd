// The one node component, driven by the node type: icon, name, type, ports, a problems badge, and
// what each decoration provider says about the node (a version diff, a run's status at a step).
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { NodeType, WorkflowNode } from '../../../engine/api/index.js';
import { Icon } from '../ui/Icon.js';
import type { ShownDecoration } from './decorations.js';
import { stepLayout } from './step-layout.js';

export type StepNodeData = {
  node: WorkflowNode;
  nodeType: NodeType | undefined;
  errors: string[];
  warnings: string[];
  decorations: ShownDecoration[];
};

export type StepFlowNode = Node<StepNodeData, 'step'>;

function StepNodeView({ data, selected }: NodeProps<StepFlowNode>) {
  const { node, nodeType, errors, warnings, decorations } = data;
  const layout = stepLayout(nodeType, node.config);
  const classes = [
    'step',
    selected ? 'selected' : '',
    errors.length > 0 ? 'has-errors' : '',
    ...decorations.map((decoration) => `${decoration.kind}-${decoration.status}`),
  ]
    .filter(Boolean)
    .join(' ');
  // `data-diff="changed"`, `data-run-status="failed"`: one attribute per provider that marks this node.
  const statuses = Object.fromEntries(decorations.map((decoration) => [`data-${decoration.kind}`, decoration.status]));
  const tooltips = decorations.flatMap((decoration) => (decoration.tooltip ? [decoration.tooltip] : []));
  return (
    <div
      className={classes}
      data-testid={`node-${node.id}`}
      data-node-id={node.id}
      title={tooltips.length > 0 ? tooltips.join('\n') : undefined}
      {...statuses}
    >
      {layout.inputs.map(({ id, top }) => (
        <Handle
          key={id}
          type="target"
          position={Position.Left}
          id={id}
          style={{ top }}
          data-testid={`in-${node.id}-${id}`}
          title={id}
        />
      ))}
      <div className="step-head">
        <span className={`step-icon cat-${(nodeType?.category ?? 'unknown').toLowerCase()}`}>
          <Icon name={nodeType?.icon ?? 'alert'} />
        </span>
        <div className="step-titles">
          <span className="step-name">{node.name ?? node.id}</span>
          <span className="step-type">{nodeType?.title ?? `unknown type ${node.type}@${node.typeVersion}`}</span>
        </div>
        {decorations.map(
          (decoration) =>
            decoration.badge !== undefined && (
              <span
                key={decoration.kind}
                className={`badge badge-mark mark-${decoration.kind}`}
                data-testid={`${decoration.kind}-badge-${node.id}`}
              >
                {decoration.badge}
              </span>
            ),
        )}
        {(errors.length > 0 || warnings.length > 0) && (
          <span
            className={`badge ${errors.length > 0 ? 'badge-error' : 'badge-warning'}`}
            title={[...errors, ...warnings].join('\n')}
            data-testid={`badge-${node.id}`}
          >
            {errors.length > 0 ? errors.length : warnings.length}
          </span>
        )}
      </div>
      {(layout.labelledInputs || layout.labelledOutputs) && (
        <div className="step-ports">
          <PortLabels side="in" ports={layout.labelledInputs ? layout.inputs : []} />
          <PortLabels side="out" ports={layout.labelledOutputs ? layout.outputs : []} />
        </div>
      )}
      {decorations.map(
        (decoration) =>
          decoration.error !== undefined && (
            <p key={decoration.kind} className="step-error" data-testid={`${decoration.kind}-error-${node.id}`}>
              {decoration.error}
            </p>
          ),
      )}
      {layout.outputs.map(({ id, top }) => (
        <Handle
          key={id}
          type="source"
          position={Position.Right}
          id={id}
          style={{ top }}
          data-testid={`out-${node.id}-${id}`}
          title={id}
        />
      ))}
    </div>
  );
}

function PortLabels({ side, ports }: { side: 'in' | 'out'; ports: { id: string }[] }) {
  return (
    <div className={`port-labels port-labels-${side}`}>
      {ports.map(({ id }) => (
        <span key={id} className="port-label">
          {id}
        </span>
      ))}
    </div>
  );
}

export const StepNode = memo(StepNodeView);

/** Declared once at module scope, as React Flow requires. */
export const nodeTypes = { step: StepNode };
