// The version diff as a decoration provider: added, changed and moved nodes of the newer graph,
// removed nodes and connections as ghosts.
import type { Workflow, WorkflowDiff } from '../../../engine/api/index.js';
import type { DecorationProvider, EdgeDecoration, NodeDecoration } from './decorations.js';

export interface DiffView {
  from: number;
  to: number | 'draft';
  before: Workflow;
  after: Workflow;
  diff: WorkflowDiff;
}

export function diffDecorations(view: DiffView): DecorationProvider {
  const { diff, before, after } = view;
  const nodes = new Map<string, NodeDecoration>();
  for (const id of diff.nodes.added) nodes.set(id, { status: 'added', tooltip: 'Added' });
  for (const change of diff.nodes.changed)
    nodes.set(change.nodeId, {
      status: 'changed',
      tooltip: `Changed: ${change.fields.map((field) => field.path).join(', ')}`,
    });
  for (const id of diff.nodes.moved) nodes.set(id, { status: 'moved', tooltip: 'Moved' });
  for (const id of diff.nodes.removed) nodes.set(id, { status: 'removed', tooltip: 'Removed' });

  const edges = new Map<string, EdgeDecoration>();
  for (const id of diff.edges.added) edges.set(id, { status: 'added' });
  const removedNodes = new Set(diff.nodes.removed);
  const removedEdges = new Set(diff.edges.removed);
  // React Flow keys edges by id: no ghost for a removed edge whose id the newer graph reuses.
  const ghostEdges = before.edges.filter(
    (edge) => removedEdges.has(edge.id) && !after.edges.some((other) => other.id === edge.id),
  );
  for (const edge of ghostEdges) edges.set(edge.id, { status: 'removed' });
  return {
    kind: 'diff',
    nodes,
    edges,
    ghosts: { nodes: before.nodes.filter((node) => removedNodes.has(node.id)), edges: ghostEdges },
  };
}
