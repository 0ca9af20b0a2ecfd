// Where a step node's ports sit, computed once from its node type: StepNode places its handles
// with it and `stepGeometry` gives React Flow the same boxes before the node is rendered, so edges
// end where the handles are drawn. styles.css sizes the node to match these numbers.
import { Position, type NodeHandle } from '@xyflow/react';
import { outputPorts, type NodeType } from '../../../engine/api/index.js';

const WIDTH = 220;
const HEAD = 52;
const BORDER = 1;
const HANDLE = 10;
/** A port row under the head (the row's label is `PORT_ROW` tall; its handle sits at its middle). */
const PORT_ROW = 20;
const PORTS_PADDING = 8;

export interface PortPlace {
  id: string;
  /** Centre of the handle, from the top of the node's content box (what the handle's `top` style takes). */
  top: number;
}

export interface StepLayout {
  width: number;
  height: number;
  inputs: PortPlace[];
  outputs: PortPlace[];
  /** Ports are listed by name under the head when a side has more than one. */
  labelledInputs: boolean;
  labelledOutputs: boolean;
}

/**
 * The one place port positions come from; an unknown type gets one input and one output. Some
 * output ports are named by the node's config (an approval's custom outcomes).
 */
export function stepLayout(nodeType: Pick<NodeType, 'ports'> | undefined, config: unknown): StepLayout {
  const inputs = nodeType?.ports.in ?? ['in'];
  const outputs = nodeType ? outputPorts(nodeType.ports, config) : ['out'];
  const labelledInputs = inputs.length > 1;
  const labelledOutputs = outputs.length > 1;
  const rows = Math.max(labelledInputs ? inputs.length : 0, labelledOutputs ? outputs.length : 0);
  // A single port faces the head's middle; several get one labelled row each, below the head.
  const place = (ports: string[], labelled: boolean): PortPlace[] =>
    ports.map((id, index) => ({ id, top: labelled ? HEAD + PORT_ROW / 2 + index * PORT_ROW : HEAD / 2 }));
  return {
    width: WIDTH,
    height: HEAD + 2 * BORDER + (rows > 0 ? rows * PORT_ROW + PORTS_PADDING : 0),
    inputs: place(inputs, labelledInputs),
    outputs: place(outputs, labelledOutputs),
    labelledInputs,
    labelledOutputs,
  };
}

/**
 * Size and handle boxes known before the node is rendered, so React Flow can draw edges and skip
 * nodes off screen without first rendering all of them to measure.
 */
export function stepGeometry(
  nodeType: Pick<NodeType, 'ports'> | undefined,
  config: unknown,
): {
  width: number;
  height: number;
  handles: NodeHandle[];
} {
  const layout = stepLayout(nodeType, config);
  // Handle boxes are relative to the node's border box; `top` is relative to its content box.
  const box = (top: number, left: number) => ({
    x: left - HANDLE / 2 + BORDER,
    y: top - HANDLE / 2 + BORDER,
    width: HANDLE,
    height: HANDLE,
  });
  return {
    width: layout.width,
    height: layout.height,
    handles: [
      ...layout.inputs.map(({ id, top }) => ({ id, type: 'target' as const, position: Position.Left, ...box(top, 0) })),
      ...layout.outputs.map(({ id, top }) => ({
        id,
        type: 'source' as const,
        position: Position.Right,
        ...box(top, layout.width - 2 * BORDER),
      })),
    ],
  };
}
