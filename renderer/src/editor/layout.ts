// Auto-layout with elkjs (layered, left to right), using the nodes' measured sizes.
import type { ELK } from 'elkjs/lib/elk-api.js';
import type { Workflow } from '../../../engine/api/index.js';
import type { Position } from './graph-edits.js';

// elkjs is large: loaded on the first layout, not with the app.
let elk: Promise<ELK> | undefined;
const loadElk = () => (elk ??= import('elkjs/lib/elk.bundled.js').then(({ default: ELK }) => new ELK()));

export async function layoutPositions(
  graph: Workflow,
  measured: Record<string, { width: number; height: number }>,
): Promise<Record<string, Position>> {
  const result = await (
    await loadElk()
  ).layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '80',
      'elk.spacing.nodeNode': '40',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: graph.nodes.map((node) => ({
      id: node.id,
      width: measured[node.id]?.width ?? 220,
      height: measured[node.id]?.height ?? 60,
    })),
    edges: graph.edges.map((edge) => ({ id: edge.id, sources: [edge.source], targets: [edge.target] })),
  });
  const positions: Record<string, Position> = {};
  for (const child of result.children ?? []) positions[child.id] = { x: child.x ?? 0, y: child.y ?? 0 };
  return positions;
}
