// The one node component: icon, name, type, ports and a problems badge, driven by the node type.
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { NodeType, WorkflowNode } from '../../../engine/api/index.js';
import { Icon } from '../ui/Icon.js';

export type DiffMark = 'added' | 'removed' | 'changed' | 'moved';

export type StepNodeData = {
  node: WorkflowNode;
  nodeType: NodeType | undefined;
  errors: string[];
  warnings: string[];
  diff: DiffMark | undefined;
};

export type StepFlowNode = Node<StepNodeData, 'step'>;

function StepNodeView({ data, selected }: NodeProps<StepFlowNode>) {
  const { node, nodeType, errors, warnings, diff } = data;
  const inputs = nodeType?.ports.in ?? ['in'];
  const outputs = nodeType?.ports.out ?? ['out'];
  const classes = [
    'step',
    selected ? 'selected' : '',
    diff ? `diff-${diff}` : '',
    errors.length > 0 ? 'has-errors' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <div className={classes} data-testid={`node-${node.id}`} data-node-id={node.id} data-diff={diff}>
      {inputs.map((port, index) => (
        <Handle
          key={port}
          type="target"
          position={Position.Left}
          id={port}
          style={{ top: 26 + index * 22 }}
          data-testid={`in-${node.id}-${port}`}
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
      {outputs.length > 1 && (
        <div className="step-ports">
          {outputs.map((port) => (
            <span key={port} className="port-label">
              {port}
            </span>
          ))}
        </div>
      )}
      {outputs.map((port, index) => (
        <Handle
          key={port}
          type="source"
          position={Position.Right}
          id={port}
          style={outputs.length > 1 ? { top: 62 + index * 20 } : { top: 26 }}
          data-testid={`out-${node.id}-${port}`}
          title={port}
        />
      ))}
    </div>
  );
}

export const StepNode = memo(StepNodeView);

/** Declared once at module scope, as React Flow requires. */
export const nodeTypes = { step: StepNode };
