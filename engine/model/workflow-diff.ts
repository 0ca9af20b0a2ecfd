// What changed between two workflow graphs: nodes and edges added / removed / changed, and a
// field-by-field diff of each changed node. Pure; the version diff view draws it on the canvas.
import { canonicalJson } from './canonical-json.js';
import type { Workflow, WorkflowEdge, WorkflowNode } from './workflow.js';

export interface FieldChange {
  /** Dotted path inside the node, e.g. "config.url", "name", "retry.maxAttempts". */
  path: string;
  before: unknown;
  after: unknown;
}

export interface NodeChange {
  nodeId: string;
  fields: FieldChange[];
}

export interface WorkflowDiff {
  nodes: { added: string[]; removed: string[]; changed: NodeChange[]; moved: string[] };
  /** Edge ids; an edge counts as the same when it joins the same ports, whatever its id. */
  edges: { added: string[]; removed: string[] };
  /** Workflow-level fields (name, description) that differ. */
  fields: FieldChange[];
}

export function diffWorkflows(before: Workflow, after: Workflow): WorkflowDiff {
  const beforeNodes = new Map(before.nodes.map((node) => [node.id, node]));
  const afterNodes = new Map(after.nodes.map((node) => [node.id, node]));
  const added = after.nodes.filter((node) => !beforeNodes.has(node.id)).map((node) => node.id);
  const removed = before.nodes.filter((node) => !afterNodes.has(node.id)).map((node) => node.id);
  const changed: NodeChange[] = [];
  const moved: string[] = [];
  for (const node of after.nodes) {
    const old = beforeNodes.get(node.id);
    if (!old) continue;
    const fields = diffValues(withoutPosition(old), withoutPosition(node), '');
    if (fields.length > 0) changed.push({ nodeId: node.id, fields });
    else if (old.position.x !== node.position.x || old.position.y !== node.position.y) moved.push(node.id);
  }
  const beforeEdges = new Set(before.edges.map(edgeKey));
  const afterEdges = new Set(after.edges.map(edgeKey));
  return {
    nodes: { added, removed, changed, moved },
    edges: {
      added: after.edges.filter((edge) => !beforeEdges.has(edgeKey(edge))).map((edge) => edge.id),
      removed: before.edges.filter((edge) => !afterEdges.has(edgeKey(edge))).map((edge) => edge.id),
    },
    fields: diffValues(
      { name: before.name, description: before.description },
      { name: after.name, description: after.description },
      '',
    ),
  };
}

export function isEmptyDiff(diff: WorkflowDiff): boolean {
  return (
    diff.nodes.added.length + diff.nodes.removed.length + diff.nodes.changed.length + diff.nodes.moved.length === 0 &&
    diff.edges.added.length + diff.edges.removed.length + diff.fields.length === 0
  );
}

function edgeKey(edge: WorkflowEdge): string {
  return `${edge.source}\u0000${edge.sourceHandle}\u0000${edge.target}\u0000${edge.targetHandle}`;
}

function withoutPosition(node: WorkflowNode): Record<string, unknown> {
  const { position: _position, ...rest } = node;
  return rest;
}

/** Recurses into plain objects; arrays and scalars are compared whole. */
function diffValues(before: unknown, after: unknown, path: string): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffValues(before[key], after[key], path === '' ? key : `${path}.${key}`));
  }
  if (before === undefined && after === undefined) return [];
  return canonicalJson(before ?? null) === canonicalJson(after ?? null) &&
    (before === undefined) === (after === undefined)
    ? []
    : [{ path, before, after }];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
