// The one node component: icon, name, type, ports and a problems badge, driven by the node type.
import { Handle, Position, type Node, type NodeHandle, type NodeProps } from '@xyflow/react';
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

// Geometry shared by the component and by `stepGeometry` (styles.css sizes the node to match).
const WIDTH = 220;
const HEAD = 52;
const HANDLE = 10;
const INPUT_TOP = HEAD / 2;
const MULTI_OUTPUT_TOP = 62;
const OUTPUT_STEP = 20;

const outputTop = (outputs: readonly string[], index: number) =>
  outputs.length > 1 ? MULTI_OUTPUT_TOP + index * OUTPUT_STEP : INPUT_TOP;

/**
 * Size and handle positions known before the node is rendered, so React Flow can draw edges and
 * skip nodes off screen without first rendering all of them to measure.
 */
export function stepGeometry(nodeType: NodeType | undefined): { width: number; height: number; handles: NodeHandle[] } {
  const inputs = nodeType?.ports.in ?? ['in'];
  const outputs = nodeType?.ports.out ?? ['out'];
  const border = 1;
  const height = HEAD + 2 * border + (outputs.length > 1 ? outputs.length * OUTPUT_STEP + 8 : 0);
  const box = (top: number, left: number) => ({
    x: left - HANDLE / 2 + border,
    y: top - HANDLE / 2 + border,
    width: HANDLE,
    height: HANDLE,
  });
  return {
    width: WIDTH,
    height,
    handles: [
      ...inputs.map((id) => ({ id, type: 'target' as const, position: Position.Left, ...box(INPUT_TOP, 0) })),
      ...outputs.map((id, index) => ({
        id,
        type: 'source' as const,
        position: Position.Right,
        ...box(outputTop(outputs, index), WIDTH - 2 * border),
      })),
    ],
  };
}

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
          style={{ top: INPUT_TOP + index * OUTPUT_STEP }}
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
          style={{ top: outputTop(outputs, index) }}
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
