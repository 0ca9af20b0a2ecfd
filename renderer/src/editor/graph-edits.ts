// Canvas edits as plain data, applied by a pure function. Undo/redo keeps the graphs before each
// edit; autosave sends the graph after it. Nothing here touches React or the engine.
import {
  outputPorts,
  slugId,
  type NodeType,
  type Workflow,
  type WorkflowEdge,
  type WorkflowNode,
} from '../../../engine/api/index.js';

export type Position = { x: number; y: number };

export type GraphEdit =
  | { type: 'add'; nodes: WorkflowNode[]; edges: WorkflowEdge[] }
  /** Removes the nodes, the edges, and every edge touching a removed node. */
  | { type: 'remove'; nodeIds: string[]; edgeIds: string[] }
  | { type: 'move'; positions: Record<string, Position> }
  | { type: 'connect'; edge: WorkflowEdge }
  /** Sets (or, with `undefined`, removes) node fields other than id, type and position. */
  | {
      type: 'update-node';
      nodeId: string;
      patch: Partial<Pick<WorkflowNode, 'name' | 'notes' | 'retry' | 'timeoutMs' | 'maxOutputBytes'>>;
    }
  /** Sets one config field; `undefined` removes it (the type's default applies). */
  | { type: 'set-config'; nodeId: string; field: string; value: unknown }
  | { type: 'rename-workflow'; name: string }
  | { type: 'replace'; graph: Workflow };

export function applyEdit(graph: Workflow, edit: GraphEdit): Workflow {
  switch (edit.type) {
    case 'add':
      return { ...graph, nodes: [...graph.nodes, ...edit.nodes], edges: [...graph.edges, ...edit.edges] };
    case 'remove': {
      const nodeIds = new Set(edit.nodeIds);
      const edgeIds = new Set(edit.edgeIds);
      return {
        ...graph,
        nodes: graph.nodes.filter((node) => !nodeIds.has(node.id)),
        edges: graph.edges.filter(
          (edge) => !edgeIds.has(edge.id) && !nodeIds.has(edge.source) && !nodeIds.has(edge.target),
        ),
      };
    }
    case 'move':
      return {
        ...graph,
        nodes: graph.nodes.map((node) => {
          const position = edit.positions[node.id];
          return position ? { ...node, position: { x: Math.round(position.x), y: Math.round(position.y) } } : node;
        }),
      };
    case 'connect':
      return { ...graph, edges: [...graph.edges, edit.edge] };
    case 'update-node':
      return mapNode(graph, edit.nodeId, (node) => withoutUndefined({ ...node, ...edit.patch }));
    case 'set-config':
      return mapNode(graph, edit.nodeId, (node) => ({
        ...node,
        config: withoutUndefined({ ...node.config, [edit.field]: edit.value }),
      }));
    case 'rename-workflow':
      return { ...graph, name: edit.name };
    case 'replace':
      return edit.graph;
  }
}

function mapNode(graph: Workflow, nodeId: string, update: (node: WorkflowNode) => WorkflowNode): Workflow {
  return { ...graph, nodes: graph.nodes.map((node) => (node.id === nodeId ? update(node) : node)) };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

/** A node id not yet used in the graph, derived from `base` ("http-request", "http-request-2", …). */
export function freshNodeId(taken: ReadonlySet<string>, base: string): string {
  const stem = slugId(base, 40, 'node');
  if (!taken.has(stem)) return stem;
  for (let n = 2; ; n += 1) if (!taken.has(`${stem}-${n}`)) return `${stem}-${n}`;
}

export function edgeId(source: string, sourceHandle: string, target: string, targetHandle: string): string {
  return `${source}.${sourceHandle}-${target}.${targetHandle}`.slice(0, 128);
}

export function newNode(graph: Workflow, type: NodeType, position: Position): WorkflowNode {
  const id = freshNodeId(new Set(graph.nodes.map((node) => node.id)), type.title);
  return {
    id,
    type: type.type,
    typeVersion: type.typeVersion,
    name: uniqueName(graph, type.title),
    position,
    config: {},
  };
}

function uniqueName(graph: Workflow, title: string): string {
  const names = new Set(graph.nodes.map((node) => node.name));
  if (!names.has(title)) return title;
  for (let n = 2; ; n += 1) if (!names.has(`${title} ${n}`)) return `${title} ${n}`;
}

export interface ConnectionAttempt {
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
}

/** Why a connection is refused, or null when it is allowed. */
export function connectionProblem(
  graph: Workflow,
  typeOf: (node: WorkflowNode) => NodeType | undefined,
  attempt: ConnectionAttempt,
): string | null {
  const source = graph.nodes.find((node) => node.id === attempt.source);
  const target = graph.nodes.find((node) => node.id === attempt.target);
  if (!source || !target) return 'one end of the connection is not a node';
  if (source.id === target.id) return 'a node cannot connect to itself';
  const sourceType = typeOf(source);
  const targetType = typeOf(target);
  if (sourceType && !outputPorts(sourceType.ports, source.config).includes(attempt.sourceHandle))
    return `${label(source)} has no output "${attempt.sourceHandle}"`;
  if (targetType && !targetType.ports.in.includes(attempt.targetHandle))
    return targetType.ports.in.length === 0
      ? `${label(target)} (${targetType.title}) takes no input`
      : `${label(target)} has no input "${attempt.targetHandle}"`;
  if (
    graph.edges.some(
      (edge) =>
        edge.source === attempt.source &&
        edge.sourceHandle === attempt.sourceHandle &&
        edge.target === attempt.target &&
        edge.targetHandle === attempt.targetHandle,
    )
  )
    return 'these ports are already connected';
  if (reaches(graph, attempt.target, attempt.source))
    return `connecting ${label(source)} → ${label(target)} would make a cycle (workflows run forward only)`;
  return null;
}

function reaches(graph: Workflow, from: string, to: string): boolean {
  const next = new Map<string, string[]>();
  for (const edge of graph.edges) next.set(edge.source, [...(next.get(edge.source) ?? []), edge.target]);
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}

function label(node: WorkflowNode): string {
  return `"${node.name ?? node.id}"`;
}

/** What copy puts on the clipboard: nodes and the edges between them. */
export interface Clip {
  format: 'stepwise/clip@1';
  nodes: WorkflowNode[];
  edges: WorkflowEdge[];
}

export function copySelection(graph: Workflow, nodeIds: readonly string[]): Clip {
  const ids = new Set(nodeIds);
  return {
    format: 'stepwise/clip@1',
    nodes: graph.nodes.filter((node) => ids.has(node.id)),
    edges: graph.edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target)),
  };
}

/** The clip's nodes with fresh ids and names, moved by `offset`; edges remapped. */
export function pasteClip(
  graph: Workflow,
  clip: Clip,
  offset: Position,
): { nodes: WorkflowNode[]; edges: WorkflowEdge[] } {
  const taken = new Set(graph.nodes.map((node) => node.id));
  const ids = new Map<string, string>();
  const nodes = clip.nodes.map((node) => {
    const id = freshNodeId(taken, node.id.replace(/-\d+$/, ''));
    taken.add(id);
    ids.set(node.id, id);
    return { ...node, id, position: { x: node.position.x + offset.x, y: node.position.y + offset.y } };
  });
  const edges = clip.edges.flatMap((edge) => {
    const source = ids.get(edge.source);
    const target = ids.get(edge.target);
    return source && target
      ? [{ ...edge, id: edgeId(source, edge.sourceHandle, target, edge.targetHandle), source, target }]
      : [];
  });
  return { nodes, edges };
}

export function parseClip(text: string | null): Clip | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<Clip>;
    return value.format === 'stepwise/clip@1' && Array.isArray(value.nodes) && Array.isArray(value.edges)
      ? (value as Clip)
      : null;
  } catch {
    return null;
  }
}
